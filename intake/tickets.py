"""Form tickets: single-use tokens that stand in for CSRF protection on cookie-less public forms.

A reporter gets no cookie before the mailbox, so a session-bound CSRF token is impossible on the
report form and the receipt form. Instead each rendered form carries a ticket: HMAC-signed, issued
at a known time, and spent on use. A forged, replayed, stale or too-fast (scripted) submission is
refused, which also slows a flood from a script that does not render pages.

Issuing a ticket stores nothing: only a spent ticket is recorded in Redis (with `SET NX`, until the
ticket would have expired anyway), so a flood of page views cannot fill Redis with outstanding
tickets, and spending is bounded by the global submission limit (docs/anti-abuse.md).
"""
from __future__ import annotations

import hashlib
import logging
import hmac
import secrets
import time

import redis

from intake.errors import TicketRefused
from flask_babel import gettext as _

log = logging.getLogger("probity.intake")

PREFIX = "probity:ticket:"


class FormTickets:
    def __init__(self, connection: redis.Redis, secret: bytes, ttl_seconds: int = 4 * 3600,
                 min_age_seconds: float = 3) -> None:
        self.redis = connection
        self.secret = secret
        self.ttl = ttl_seconds
        self.min_age = min_age_seconds

    def _sign(self, purpose: str, nonce: str, issued: int) -> str:
        message = f"{purpose}|{nonce}|{issued}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, purpose: str) -> str:
        nonce = secrets.token_hex(16)
        issued = int(time.time())
        return f"{nonce}.{issued}.{self._sign(purpose, nonce, issued)}"

    def _spend(self, nonce: str, remaining: float) -> bool:
        """Record the ticket as used; False if it already was (also when two copies race).

        While Redis is unreachable a signed, fresh ticket is accepted without the replay check: a
        reporter's report must not be lost to a queue outage (it is stored, and triaged later).
        """
        try:
            return bool(self.redis.set(PREFIX + nonce, b"1", nx=True, ex=max(1, int(remaining) + 1)))
        except redis.RedisError:
            log.warning("redis unreachable: form ticket accepted without its replay check")
            return True

    def redeem(self, purpose: str, ticket: str | None) -> None:
        """Consume a ticket or raise TicketRefused with a message the reporter can act on."""
        try:
            nonce, issued_text, signature = (ticket or "").split(".")
            issued = int(issued_text)
        except ValueError:
            raise TicketRefused(_("The form's security token is missing or damaged. Nothing was stored; "
                                  "please send the form again.")) from None
        if not hmac.compare_digest(signature.encode(), self._sign(purpose, nonce, issued).encode()):
            raise TicketRefused(_("The form's security token is not valid. Nothing was stored; please send the form again."))
        age = time.time() - issued
        if age < self.min_age:
            raise TicketRefused(_("The form was sent too quickly after it was opened. Nothing was stored; "
                                  "please check it and send it again."))
        if age > self.ttl or not self._spend(nonce, remaining=self.ttl - age):
            raise TicketRefused(_("This form has expired or was already sent. Nothing was stored; "
                                  "please send it again."))
