"""The public side: report form, follow-up mailbox, JSON API for client-encrypted reports."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from core.app import csrf
    from intake.api import api
    from intake.mailbox import mailbox
    from intake.pages import pages
    from intake.vendor import register as register_vendor

    # The report and receipt forms carry single-use tickets instead (no cookie exists to bind a
    # CSRF token to); the API takes no cookies at all. See intake/tickets.py.
    csrf.exempt(api)
    csrf.exempt(pages)
    csrf.exempt("intake.mailbox.login")
    # File forms are checked in the view, after the encrypting upload sink is in place: the
    # global check would parse (and spool) the files before that.
    csrf.exempt("intake.mailbox.add_files")
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(mailbox)
    register_vendor(app)
