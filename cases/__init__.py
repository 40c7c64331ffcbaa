"""The investigator workspace: staff auth, case queue, case view, workflow, audit, statistics."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from cases.cli import register_cli
    from cases.web import load_views

    register_cli(app)
    blueprint = load_views()
    from core.app import csrf

    # Upload forms are checked in the view, after the encrypting upload sink is in place: the
    # global check would parse (and spool) the files first.
    csrf.exempt("cases.web.dialogue.upload_files")
    app.register_blueprint(blueprint)
