"""Rate limits whose keys never contain a client address.

Flask-Limiter needs a key per client. We key on an HMAC of the connection's address under a random
key that lives only in Redis and expires after a day: once it is gone, nobody (operator included)
can link a counter to an address. Behind an onion service every address is the same, which is why
Probity also limits globally and uses proof-of-work (see intake/antiabuse.py).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, Response, request
from flask_limiter import Limiter

from core.redis import limiter_storage_uri, redis_connection

DAILY_KEY = "probity:limits:daily-key"

limiter = Limiter(key_func=lambda: client_token(), default_limits=[], headers_enabled=False,
                  strategy="moving-window")


def _daily_key() -> bytes:
    connection = redis_connection()
    connection.set(DAILY_KEY, secrets.token_bytes(32), nx=True, ex=86400)
    key = connection.get(DAILY_KEY)
    assert key is not None
    return bytes(key)


def client_token() -> str:
    """An opaque, day-scoped stand-in for the client's connection."""
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(_daily_key(), address, hashlib.sha256).hexdigest()[:32]


def global_token() -> str:
    """One bucket shared by everyone: the last line against a flood from many addresses."""
    return "everyone"


def stored(response: Response) -> bool:
    """Count a submission against the shared limits only once it was accepted: junk that fails a
    cheap check (proof of work, form ticket, envelope shape) must not use up everyone's quota."""
    return response.status_code == 201


def receipt_tried(response: Response) -> bool:
    """Count a mailbox login only when a receipt was actually checked (the slow Argon2id step ran):
    a request refused for its form ticket or a malformed code costs nothing and counts nothing."""
    return response.status_code in (303, 403, 429)


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(app.extensions["probity.redis"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "probity:limits")
    limiter.init_app(app)
