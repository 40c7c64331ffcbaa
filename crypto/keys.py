"""X25519 key pairs of recipients and reporters, and their short fingerprints.

Every recipient of a report (each investigator, the intake service key) and
every returning reporter holds an X25519 key pair; data keys are sealed to the
public half. This module keeps private keys out of logs (``KeyPair`` never
prints its private half) and gives each public key a stable short id, which the
wire protocol uses as the recipient "id" in ``GET /api/v1/keys`` and as the key
of the ``keys`` map in ``POST /api/v1/reports``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey

from .errors import MalformedInput

KEY_SIZE = 32
KEY_ID_SIZE = 8


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair as raw 32-byte strings."""

    private_key: bytes = field(repr=False)
    public_key: bytes

    def __post_init__(self) -> None:
        _check_size("private key", self.private_key)
        _check_size("public key", self.public_key)


def generate_keypair() -> KeyPair:
    """Return a fresh random X25519 key pair."""
    secret = PrivateKey.generate()
    return KeyPair(private_key=bytes(secret), public_key=bytes(secret.public_key))


def keypair_from_seed(seed: bytes) -> KeyPair:
    """Return the X25519 key pair whose private scalar is ``seed`` itself.

    The seed is used as the private key directly (X25519 clamps it), not hashed
    first as libsodium's ``crypto_box_seed_keypair`` does, so that a browser
    with only tweetnacl (``nacl.box.keyPair.fromSecretKey``) derives the same
    pair. Callers must therefore pass a uniformly random or hashed 32 bytes.
    """
    _check_size("seed", seed)
    secret = PrivateKey(bytes(seed))
    return KeyPair(private_key=bytes(secret), public_key=bytes(secret.public_key))


def key_id(public_key: bytes) -> str:
    """Return the recipient id of a public key: 16 lower-case hex characters.

    It is the unkeyed BLAKE2b hash of the 32 raw public-key bytes with an
    8-byte (64-bit) digest. It names a key; it proves nothing about it.
    """
    check_public_key(public_key)
    return blake2b(bytes(public_key), digest_size=KEY_ID_SIZE, encoder=RawEncoder).hex()


def check_public_key(b: bytes) -> bytes:
    """Return ``b`` unchanged if it can be an X25519 public key (32 bytes)."""
    _check_size("public key", b)
    return b


def _check_size(what: str, value: bytes) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != KEY_SIZE:
        size = len(value) if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise MalformedInput(f"{what} must be {KEY_SIZE} bytes, got {size}")
