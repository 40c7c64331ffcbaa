"""Proof of work that makes bulk report submission cost the sender CPU time.

The server hands out a random challenge; the client must find a nonce such
that SHA-512(challenge || nonce as 8-byte big-endian) starts with at least
``difficulty_bits`` zero bits, about 2**difficulty_bits hashes of work, while
checking it costs the server one hash. SHA-512 because it is the hash tweetnacl
already ships (``nacl.hash``), so the browser needs no further library. This
slows floods down; it does not authenticate anyone and it is not a secret.
"""

from __future__ import annotations

import hashlib

NONCE_SIZE = 8
DIGEST_BITS = 512
_NONCE_LIMIT = 1 << (8 * NONCE_SIZE)


def verify(challenge: bytes, nonce: int, difficulty_bits: int) -> bool:
    """Return whether ``nonce`` solves ``challenge`` at ``difficulty_bits``."""
    _check_difficulty(difficulty_bits)
    if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce < _NONCE_LIMIT:
        return False
    return _leading_zero_bits(challenge, nonce) >= difficulty_bits


def solve(challenge: bytes, difficulty_bits: int) -> int:
    """Return the smallest nonce that solves ``challenge`` at ``difficulty_bits``."""
    _check_difficulty(difficulty_bits)
    for nonce in range(_NONCE_LIMIT):
        if _leading_zero_bits(challenge, nonce) >= difficulty_bits:
            return nonce
    raise ValueError("no nonce solves this challenge")  # pragma: no cover


def _leading_zero_bits(challenge: bytes, nonce: int) -> int:
    digest = hashlib.sha512(bytes(challenge) + nonce.to_bytes(NONCE_SIZE, "big")).digest()
    return DIGEST_BITS - int.from_bytes(digest, "big").bit_length()


def _check_difficulty(difficulty_bits: int) -> None:
    if not 0 <= difficulty_bits <= DIGEST_BITS:
        raise ValueError(f"difficulty must be 0..{DIGEST_BITS} bits, got {difficulty_bits}")
