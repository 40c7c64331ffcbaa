"""Split-key sessions: an unwrapped private key that needs both the cookie and the server.

While a staff member (or a returning reporter) is logged in, their private key must be usable on
each request. It is kept in Redis only encrypted under a per-session key that exists solely in the
user's cookie. A stolen cookie alone finds nothing on the server without the record; a dump of
Redis alone holds only ciphertext. Logging out deletes the record, which makes the cookie useless.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass

import redis
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox


@dataclass(frozen=True)
class UnlockedSession:
    sid: str
    subject: str
    private_key: bytes
    created_at: float


class SplitKeySessions:
    """Server halves of split-key sessions for one audience (namespace)."""

    def __init__(self, connection: redis.Redis, namespace: str, idle_seconds: int,
                 absolute_seconds: int) -> None:
        self.redis = connection
        self.namespace = namespace
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    def _key(self, sid: str) -> str:
        return f"probity:{self.namespace}:session:{sid}"

    def _index(self, subject: str) -> str:
        return f"probity:{self.namespace}:subject:{subject}"

    def open(self, subject: str, private_key: bytes) -> tuple[str, bytes]:
        """Store the key sealed under a fresh cookie key; return (session id, cookie key)."""
        sid = secrets.token_urlsafe(24)
        cookie_key = secrets.token_bytes(SecretBox.KEY_SIZE)
        record = {
            "subject": subject,
            "created_at": time.time(),
            "sealed": SecretBox(cookie_key).encrypt(private_key).hex(),
        }
        pipe = self.redis.pipeline()
        pipe.set(self._key(sid), json.dumps(record), ex=self.idle_seconds)
        pipe.sadd(self._index(subject), sid)
        pipe.expire(self._index(subject), self.absolute_seconds)
        pipe.execute()
        return sid, cookie_key

    def unlock(self, sid: str, cookie_key: bytes) -> UnlockedSession | None:
        """The session's key, or None when expired (idle or absolute), destroyed or forged."""
        raw = self.redis.get(self._key(sid))
        if raw is None:
            return None
        record = json.loads(raw)
        if time.time() - record["created_at"] > self.absolute_seconds:
            self.destroy(sid)
            return None
        try:
            private_key = SecretBox(cookie_key).decrypt(bytes.fromhex(record["sealed"]))
        except (CryptoError, ValueError, TypeError):
            return None
        self.redis.expire(self._key(sid), self.idle_seconds)  # sliding idle timeout
        return UnlockedSession(sid, record["subject"], private_key, record["created_at"])

    def destroy(self, sid: str) -> None:
        raw = self.redis.getdel(self._key(sid))
        if raw is not None:
            self.redis.srem(self._index(json.loads(raw)["subject"]), sid)

    def destroy_all(self, subject: str) -> None:
        """End every session of a subject (account disabled, password changed)."""
        sids = self.redis.smembers(self._index(subject))
        if sids:
            self.redis.delete(*(self._key(s.decode()) for s in sids))
        self.redis.delete(self._index(subject))


# The cookie half. Flask's signed session cookie carries the session id and the cookie key; which
# cookie (staff or mailbox) is decided by core/sessions.py from the request path.

def open_in_cookie(sessions: SplitKeySessions, subject: str, private_key: bytes) -> None:
    """Start a split-key session and put its cookie half in a fresh cookie."""
    from flask import session

    sid, cookie_key = sessions.open(subject, private_key)
    session.clear()  # nothing from before sign-in carries over
    session["sid"] = sid
    session["k"] = base64.b64encode(cookie_key).decode()


def unlock_from_cookie(sessions: SplitKeySessions) -> UnlockedSession | None:
    """The session this request's cookie opens, or None (no cookie, expired, forged, destroyed)."""
    from flask import session

    sid, encoded = session.get("sid"), session.get("k")
    if not isinstance(sid, str) or not isinstance(encoded, str):
        return None
    try:
        cookie_key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return sessions.unlock(sid, cookie_key)


def close_cookie_session(sessions: SplitKeySessions) -> None:
    """Destroy the server half (the cookie becomes useless) and clear the cookie."""
    from flask import session

    sid = session.get("sid")
    if isinstance(sid, str):
        sessions.destroy(sid)
    session.clear()
