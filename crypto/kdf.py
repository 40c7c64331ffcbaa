"""Argon2id with explicit, bounded cost parameters.

Everything Probity derives from something a human types (a staff passphrase,
a recovery key, a reporter's receipt) goes through Argon2id, so that each guess
costs an attacker real time and memory. The cost is always stated explicitly:
PyNaCl's own default asks for 1 GiB per call, which would let a handful of
concurrent logins exhaust the server.

Limits travel inside stored blobs so they can be raised later, which means they
are attacker-controlled on the way back in; ``KdfLimits`` refuses anything above
a ceiling (1 GiB, 20 passes) so a tampered blob cannot exhaust memory or CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.pwhash.argon2id as argon2id

from .errors import MalformedInput

SALT_SIZE = argon2id.SALTBYTES  # 16
MAX_OPSLIMIT = 20
MAX_MEMLIMIT = 1 << 30  # 1 GiB


@dataclass(frozen=True)
class KdfLimits:
    """Argon2id cost: passes over memory (``opslimit``) and memory in bytes (``memlimit``)."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        for name in ("opslimit", "memlimit"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise MalformedInput(f"{name} must be an integer")
        if not argon2id.OPSLIMIT_MIN <= self.opslimit <= MAX_OPSLIMIT:
            raise MalformedInput(
                f"opslimit {self.opslimit} outside {argon2id.OPSLIMIT_MIN}..{MAX_OPSLIMIT}"
            )
        if not argon2id.MEMLIMIT_MIN <= self.memlimit <= MAX_MEMLIMIT:
            raise MalformedInput(
                f"memlimit {self.memlimit} outside {argon2id.MEMLIMIT_MIN}..{MAX_MEMLIMIT}"
            )


# The cheapest setting Argon2id accepts (1 pass, 8 KiB). It exists so the test
# suite runs in seconds; production code never passes it.
TEST_LIMITS = KdfLimits(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)


def derive(size: int, secret: bytes, salt: bytes, limits: KdfLimits) -> bytes:
    """Return ``size`` bytes of Argon2id(secret, salt) at the given cost."""
    if len(salt) != SALT_SIZE:
        raise MalformedInput(f"salt must be {SALT_SIZE} bytes, got {len(salt)}")
    return argon2id.kdf(
        size, bytes(secret), bytes(salt), opslimit=limits.opslimit, memlimit=limits.memlimit
    )
