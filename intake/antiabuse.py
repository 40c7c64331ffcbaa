"""Proof-of-work tokens for the JSON API: each request that stores something costs the sender CPU.

Behind an onion service every request comes from 127.0.0.1, so limits per address do nothing. The
API instead asks for work: `GET /api/v1/pow?purpose=report|file` hands out a challenge; the client
finds a nonce such that SHA-512(challenge || nonce as 8 bytes big-endian) starts with
`difficulty_bits` zero bits (crypto/proofofwork.py) and sends `<challenge, base64>:<nonce, decimal>`
in the `X-Probity-Proof` header (a report may carry it as the envelope's `"pow"` member instead).
One proof buys one request of the purpose it was issued for.

A challenge is stateless until it is spent, so handing them out costs the server nothing and a
flood of `GET /api/v1/pow` cannot fill Redis:

    version (1) | expires, unix seconds (8, big-endian) | difficulty bits (1) | purpose (1)
    | random (16) | HMAC-SHA256(key derived from the app secret, "pow|" || the 27 bytes before)[:16]

A valid proof is spent with one `SET NX` in Redis that lives until the challenge expires: a replay
is refused even when two copies arrive at once. Only spent challenges occupy Redis, and each of
those cost its sender the work, which bounds the memory an attacker can make us use.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass

import redis

from crypto import proofofwork
from intake.errors import IntakeError

HEADER = "X-Probity-Proof"
JSON_FIELD = "pow"
VERSION = 1
RANDOM_SIZE = 16
MAC_SIZE = 16
_SIGNED_SIZE = 1 + 8 + 1 + 1 + RANDOM_SIZE
CHALLENGE_SIZE = _SIGNED_SIZE + MAC_SIZE
SPENT_PREFIX = "probity:pow:spent:"
MAX_DIFFICULTY = 40  # 2**40 hashes is days of work for a browser: anything above is a mistake
_DECIMAL = re.compile(r"[0-9]{1,20}")

log = logging.getLogger("probity.intake")


class Purpose(enum.IntEnum):
    """What a proof may be spent on."""

    REPORT = 1
    FILE = 2

    @classmethod
    def named(cls, name: str) -> "Purpose":
        try:
            return cls[name.upper()]
        except KeyError:
            raise IntakeError("purpose must be 'report' or 'file'.", code="bad_purpose") from None


class ProofRefused(IntakeError):
    code = "pow_invalid"
    status = 403


@dataclass(frozen=True)
class Challenge:
    """What `GET /api/v1/pow` returns."""

    challenge: bytes
    difficulty_bits: int
    expires: int
    purpose: Purpose

    def as_json(self) -> dict[str, object]:
        return {"challenge": base64.b64encode(self.challenge).decode(), "difficulty_bits": self.difficulty_bits,
                "expires": self.expires, "purpose": self.purpose.name.lower()}


@dataclass(frozen=True)
class Proof:
    """A checked proof, not yet spent."""

    challenge: bytes
    expires: int

    @property
    def spent_key(self) -> str:
        return SPENT_PREFIX + self.challenge[11:_SIGNED_SIZE].hex()


class ProofOfWork:
    """Issues challenges, checks proofs and spends each exactly once."""

    def __init__(self, connection: redis.Redis, secret: bytes, difficulty_bits: int, lifetime_seconds: int) -> None:
        if not 1 <= difficulty_bits <= MAX_DIFFICULTY:
            raise ValueError(f"proof-of-work difficulty must be 1..{MAX_DIFFICULTY} bits, got {difficulty_bits}")
        self.redis = connection
        self.key = hmac.new(secret, b"probity proof-of-work key", hashlib.sha256).digest()
        self.difficulty_bits = difficulty_bits
        self.lifetime = lifetime_seconds

    def _mac(self, signed: bytes) -> bytes:
        return hmac.new(self.key, b"pow|" + signed, hashlib.sha256).digest()[:MAC_SIZE]

    def issue(self, purpose: Purpose, now: float | None = None) -> Challenge:
        expires = int(now if now is not None else time.time()) + self.lifetime
        signed = (bytes([VERSION]) + expires.to_bytes(8, "big") + bytes([self.difficulty_bits, purpose])
                  + secrets.token_bytes(RANDOM_SIZE))
        return Challenge(signed + self._mac(signed), self.difficulty_bits, expires, purpose)

    def check(self, token: object, purpose: Purpose, now: float | None = None) -> Proof:
        """Check a proof's form, signature, age, purpose, difficulty and work; raise ProofRefused if any fails."""
        if not isinstance(token, str) or not token:
            raise ProofRefused(f"This request needs a proof of work: get a challenge from "
                               f"GET /api/v1/pow?purpose={purpose.name.lower()}, solve it and send it in the "
                               f"{HEADER} header.", code="pow_required", status=428)
        challenge, nonce = _parse(token)
        if challenge[0] != VERSION or not hmac.compare_digest(challenge[_SIGNED_SIZE:],
                                                              self._mac(challenge[:_SIGNED_SIZE])):
            raise ProofRefused("The proof of work is for a challenge this server did not issue.")
        expires = int.from_bytes(challenge[1:9], "big")
        if expires < (now if now is not None else time.time()):
            raise ProofRefused("The proof-of-work challenge has expired; get a new one from GET /api/v1/pow.",
                               code="pow_expired")
        bits, issued_for = challenge[9], challenge[10]
        if issued_for != purpose:
            raise ProofRefused(f"This proof of work was issued for another purpose; ask for "
                               f"GET /api/v1/pow?purpose={purpose.name.lower()}.")
        if bits < self.difficulty_bits:
            raise ProofRefused("The proof-of-work challenge is easier than this server now asks; get a new one.",
                               code="pow_expired")
        if not proofofwork.verify(challenge, nonce, bits):
            raise ProofRefused("The nonce does not solve the proof-of-work challenge.")
        return Proof(challenge, expires)

    def spend(self, proof: Proof, now: float | None = None) -> None:
        """Mark a checked proof as used; raise ProofRefused if it already was."""
        ttl = max(1, proof.expires - int(now if now is not None else time.time()) + 1)
        try:
            fresh = self.redis.set(proof.spent_key, b"1", nx=True, ex=ttl)
        except redis.RedisError:
            # Redis is down: accept a valid proof without the replay check rather than lose a report.
            log.warning("redis unreachable: proof of work accepted without its replay check")
            return
        if not fresh:
            raise ProofRefused("This proof of work was already used; solve a new challenge.",
                               code="pow_replayed", status=409)

    def redeem(self, token: object, purpose: Purpose) -> None:
        """Check and spend in one go."""
        self.spend(self.check(token, purpose))


def _parse(token: str) -> tuple[bytes, int]:
    encoded, _, nonce_text = token.strip().partition(":")
    try:
        challenge = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        challenge = b""
    if len(challenge) != CHALLENGE_SIZE or not _DECIMAL.fullmatch(nonce_text):
        raise ProofRefused("A proof of work must be '<challenge, base64>:<nonce, decimal>'.")
    return challenge, int(nonce_text)
