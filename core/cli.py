"""Instance commands: `flask --app wsgi db upgrade` and `flask --app wsgi init` (used by make run)."""
from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from cases.accounts import create_staff
from store.migrate import upgrade
from store.models import Role, StaffMember
from triage.servicekey import init_service_key

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (Alembic) to DATABASE_URL."""
    upgrade(current_app.config["PROBITY"].database_url)
    click.echo("Database is at the latest schema.")


@click.command("init")
@click.option("--admin-email", default="admin@probity.invalid", show_default=True)
@click.option("--investigator-email", default="investigator@probity.invalid", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def init_instance(admin_email: str, investigator_email: str, as_json: bool) -> None:
    """Prepare an instance: schema, intake service key, and (first time only) two accounts.

    The first run creates an admin (manages staff) and an investigator (reads and handles cases:
    an admin is never a recipient of reports), so a newcomer can try the whole flow at once.
    """
    settings = current_app.config["PROBITY"]
    upgrade(settings.database_url)
    with current_app.extensions["probity.db"].session_scope() as session:
        init_service_key(session, settings.service_key_file)
        if session.scalar(select(func.count()).select_from(StaffMember)):
            return
        accounts = [create_staff(session, admin_email, Role.ADMIN.value, settings.staff_limits),
                    create_staff(session, investigator_email, Role.INVESTIGATOR.value, settings.staff_limits)]
    if as_json:
        click.echo(json.dumps({a.role: {"email": a.email, "password": a.password, "totp_secret": a.totp_secret,
                                        "recovery_key": a.recovery_key} for a in accounts}))
        return
    click.echo("First run: two bootstrap accounts were created. They are shown only this once.")
    for account in accounts:
        click.echo(f"  {account.role}:")
        click.echo(f"    email:        {account.email}")
        click.echo(f"    password:     {account.password}")
        click.echo(f"    TOTP secret:  {account.totp_secret}  (add it to an authenticator app)")
        click.echo(f"    recovery key: {account.recovery_key}")


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(init_instance)
