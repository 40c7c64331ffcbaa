"""Security headers, set in exactly this one place."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman

# Everything comes from our own origin: no CDN, no third party, no inline script or style,
# no eval, no WebAssembly.
CONTENT_SECURITY_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
}

PERMISSIONS_POLICY = {
    "camera": "()", "microphone": "()", "geolocation": "()", "interest-cohort": "()",
    "payment": "()", "usb": "()",
}


def init_app(app: Flask, force_https: bool) -> None:
    Talisman(
        app,
        force_https=force_https,
        strict_transport_security=force_https,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="no-referrer",
        permissions_policy=PERMISSIONS_POLICY,
        x_content_type_options=True,
    )
    app.after_request(_no_store)


def _no_store(response: Response) -> Response:
    # Nothing a reporter or investigator sees may be kept by a browser or proxy cache.
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store, max-age=0"
        response.headers["Pragma"] = "no-cache"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
