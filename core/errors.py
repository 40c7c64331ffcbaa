"""Error pages: a clear sentence for every failure, in the page's language, never a stack trace."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _messages(code: int) -> str:
    return {
        400: _("The request could not be understood. Nothing was stored; please go back and try again."),
        403: _("You are not allowed to see this page."),
        404: _("There is nothing at this address."),
        405: _("This page cannot be used this way."),
        413: _("What you sent is larger than this service accepts. Nothing was stored."),
        429: _("Too many requests in a short time. Please wait a few minutes and try again."),
    }.get(code, _("Something went wrong on our side. Nothing you sent was shown to anyone; please try again later."))


def _page(code: int, message: str) -> tuple[str, int]:
    return render_template("error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        return _page(400, _("The form's security token is missing or expired. Nothing was stored; "
                            "please go back, reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> object:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            return jsonify({"error": exc.name.lower().replace(" ", "_"), "message": exc.description}), code
        return _page(code, _messages(code))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        if app.testing:
            raise exc
        # The type only: an exception's message or traceback could quote what a reporter sent.
        app.logger.error("unhandled %s in %s", type(exc).__name__, request.endpoint)
        return _page(500, _messages(500))
