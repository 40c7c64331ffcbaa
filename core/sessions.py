"""Cookies: none at all on the public pages, and one narrowly scoped cookie per audience.

A reporter gets no cookie while reading the landing page or filing a report. Only the follow-up
mailbox (after the receipt is entered) and the staff workspace have sessions, each with its own
cookie name and path, so the two audiences share no session state.
"""
from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface

# (URL prefix, cookie name): the only places a cookie may ever be set.
SCOPES = (("/staff", "probity_staff"), ("/followup", "probity_mailbox"))


def _scope(path: str) -> tuple[str, str] | None:
    for prefix, name in SCOPES:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix, name
    return None


class ScopedSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        scope = _scope(request.path)
        if scope is None:
            # Writing to this raises: code on a public page cannot set a cookie by accident.
            return NullSession()
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(scope[1])
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            return self.session_class(serializer.loads(value, max_age=max_age))
        except Exception:
            return self.session_class()

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        from flask import request

        scope = _scope(request.path)
        if scope is None or isinstance(session, NullSession):
            return
        prefix, name = scope
        secure = app.config["SESSION_COOKIE_SECURE"]
        if not session:
            if session.modified:
                response.delete_cookie(name, path=prefix, secure=secure, httponly=True, samesite="Strict")
            return
        if not session.modified and not session.accessed:
            return
        serializer = self.get_signing_serializer(app)
        assert serializer is not None
        # No Expires/Max-Age: a session-only cookie, gone when the browser closes.
        response.set_cookie(
            name, serializer.dumps(dict(session)), path=prefix, secure=secure, httponly=True,
            samesite="Strict",
        )
        response.vary.add("Cookie")
