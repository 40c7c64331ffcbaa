"""Operator commands for keys: `flask --app wsgi keys init`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from triage.servicekey import init_service_key

keys_cli = AppGroup("keys", help="Manage the intake service key.")


@keys_cli.command("init")
def keys_init() -> None:
    """Create the intake service key pair (private half 0600, outside anything served)."""
    settings = current_app.config["PROBITY"]
    with current_app.extensions["probity.db"].session_scope() as session:
        row, created = init_service_key(session, settings.service_key_file)
    verb = "Created" if created else "Found existing"
    click.echo(f"{verb} intake service key {row.key_id}; private half at {settings.service_key_file}")


def register(app: Flask) -> None:
    app.cli.add_command(keys_cli)
