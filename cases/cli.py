"""Operator commands for staff and cases: `flask --app wsgi staff ...` and `cases ...`."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from cases import audit
from cases.accounts import AccountError, create_staff
from cases.listing import case_rows
from store.models import Role

staff_cli = AppGroup("staff", help="Manage staff accounts.")
CLI_ACTOR = "operator (command line)"


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
        audit.record(session, "staff.added", actor_label=CLI_ACTOR, email=account.email, role=role)
    if as_json:
        click.echo(json.dumps({"email": account.email, "password": account.password,
                               "totp_secret": account.totp_secret, "recovery_key": account.recovery_key}))
        return
    click.echo(f"Added {account.role} {account.email}")
    click.echo(f"  password:     {account.password}")
    click.echo(f"  TOTP secret:  {account.totp_secret}   (enter it in an authenticator app)")
    click.echo(f"  recovery key: {account.recovery_key}   (store offline; shown only now)")


cases_cli = AppGroup("cases", help="Case metadata (never content).")
audit_cli = AppGroup("audit", help="The hash-chained audit trail.")


@cases_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per case.")
def list_cases(as_json: bool) -> None:
    """List every case's metadata: status, triage state, category, flags, confidence."""
    database = current_app.extensions["probity.db"]
    with database.session_scope() as session:
        audit.record(session, "cases.listed", actor_label=CLI_ACTOR)
        session.commit()
        for row in case_rows(session):
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(f"{row['report']}  {row['received_at'][:16]}  {row['status']:<13} "
                           f"{row['triage_state']:<11} {row['category'] or '-':<24} {','.join(row['flags'])}")


@audit_cli.command("verify")
@click.option("--head", "expected_head", default=None,
              help="A head hash noted earlier: fail unless it is still in the trail.")
def verify(expected_head: str | None) -> None:
    """Recompute the hash chain; name the first entry that does not fit and exit 1."""
    database = current_app.extensions["probity.db"]
    with database.session_scope() as session:
        result = audit.verify_chain(session)
        anchored = expected_head is None or audit.contains_hash(session, expected_head)
    if not result.intact:
        click.echo(f"Audit trail BROKEN at entry id={result.broken_at}: {result.problem}.", err=True)
        click.echo(f"{result.entries} entries before it verified.", err=True)
        sys.exit(1)
    if not anchored:
        click.echo(f"Audit trail BROKEN: the noted head {expected_head} is no longer in the trail "
                   "(entries were removed from its end).", err=True)
        sys.exit(1)
    span = f", {result.first_at:%Y-%m-%d %H:%M} to {result.last_at:%Y-%m-%d %H:%M} UTC" if result.first_at else ""
    click.echo(f"Audit trail intact: {result.entries} entries{span}.")
    click.echo(f"Head hash: {result.head}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(staff_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(audit_cli)
