"""Operator commands for staff and cases: `flask --app wsgi staff ...` and `cases ...`."""
from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from cases.accounts import AccountError, create_staff
from store.models import Role

staff_cli = AppGroup("staff", help="Manage staff accounts.")


@staff_cli.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", default=None, help="Generated when not given (recommended).")
@click.option("--json", "as_json", is_flag=True, help="Print the new account as one JSON object.")
def add_staff(email: str, role: str, password: str | None, as_json: bool) -> None:
    """Add a staff member with a key pair, TOTP secret and one-time recovery key."""
    settings = current_app.config["PROBITY"]
    database = current_app.extensions["probity.db"]
    with database.session_scope() as session:
        try:
            account = create_staff(session, email, role, settings.staff_limits, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"email": account.email, "password": account.password,
                               "totp_secret": account.totp_secret, "recovery_key": account.recovery_key}))
        return
    click.echo(f"Added {account.role} {account.email}")
    click.echo(f"  password:     {account.password}")
    click.echo(f"  TOTP secret:  {account.totp_secret}   (enter it in an authenticator app)")
    click.echo(f"  recovery key: {account.recovery_key}   (store offline; shown only now)")


def register_cli(app: Flask) -> None:
    app.cli.add_command(staff_cli)
