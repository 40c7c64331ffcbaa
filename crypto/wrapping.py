"""Wrapping investigator private keys under a passphrase or a recovery key.

An investigator's X25519 private key opens every report sealed to them, so it
is never stored in the clear: it is encrypted (SecretBox) under a key derived
with Argon2id from the staff passphrase, and a second copy under a one-time
recovery key shown at enrolment. A thief of the database must run Argon2id
once per guess per account.

Blob layout (all integers big-endian)::

    version   1 byte   0x01
    opslimit  4 bytes  Argon2id passes
    memlimit  4 bytes  Argon2id memory in bytes
    salt     16 bytes  random per blob
    box      24-byte nonce || 16-byte tag || encrypted secret

The limits are stored so they can be raised later without breaking old blobs.
They are not separately authenticated, but they feed the derivation, so an
altered limit yields a wrong key and the box fails to open; limits above the
ceiling in ``crypto.kdf`` are refused before any work is done.
"""

from __future__ import annotations

import struct

import nacl.exceptions
import nacl.utils
from nacl.secret import SecretBox

from .codes import new_code, normalise_code
from .errors import MalformedInput, WrongPassphrase
from .kdf import SALT_SIZE, TEST_LIMITS, KdfLimits, derive

__all__ = [
    "KdfLimits",
    "STAFF_LIMITS",
    "TEST_LIMITS",
    "wrap_key",
    "unwrap_key",
    "new_recovery_key",
    "normalise_recovery_key",
]

WRAP_VERSION = 1
# Three passes over 64 MiB: libsodium's "interactive" memory with its
# "moderate" pass count. About a tenth of a second per login on a server core.
STAFF_LIMITS = KdfLimits(opslimit=3, memlimit=64 * 1024 * 1024)

RECOVERY_KEY_SYMBOLS = 32  # 160 bits
RECOVERY_KEY_GROUP = 4

_HEADER = struct.Struct(">BII")
_BOX_OVERHEAD = SecretBox.NONCE_SIZE + SecretBox.MACBYTES
_MIN_BLOB_SIZE = _HEADER.size + SALT_SIZE + _BOX_OVERHEAD + 1


def wrap_key(secret: bytes, passphrase: bytes, limits: KdfLimits) -> bytes:
    """Encrypt ``secret`` under a key derived from ``passphrase``; return the blob."""
    if not secret:
        raise MalformedInput("nothing to wrap")
    if not passphrase:
        raise MalformedInput("refusing to wrap a key under an empty passphrase")
    salt = nacl.utils.random(SALT_SIZE)
    wrapping_key = derive(SecretBox.KEY_SIZE, passphrase, salt, limits)
    box = SecretBox(wrapping_key).encrypt(bytes(secret))
    return _HEADER.pack(WRAP_VERSION, limits.opslimit, limits.memlimit) + salt + bytes(box)


def unwrap_key(blob: bytes, passphrase: bytes) -> bytes:
    """Recover the secret from a blob made by ``wrap_key``."""
    if len(blob) < _MIN_BLOB_SIZE:
        raise MalformedInput(f"wrapped key must be at least {_MIN_BLOB_SIZE} bytes")
    version, opslimit, memlimit = _HEADER.unpack_from(blob)
    if version != WRAP_VERSION:
        raise MalformedInput(f"unknown wrapped-key version {version}")
    limits = KdfLimits(opslimit=opslimit, memlimit=memlimit)
    salt = bytes(blob[_HEADER.size : _HEADER.size + SALT_SIZE])
    box = bytes(blob[_HEADER.size + SALT_SIZE :])
    wrapping_key = derive(SecretBox.KEY_SIZE, passphrase, salt, limits)
    try:
        return SecretBox(wrapping_key).decrypt(box)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase, or the wrapped key was altered") from None


def new_recovery_key() -> str:
    """Return a one-time recovery key: 160 random bits as 8 groups of 4 symbols.

    It is shown to its owner once. To wrap or unwrap with it, pass
    ``normalise_recovery_key(text).encode("ascii")`` as the passphrase.
    """
    return new_code(RECOVERY_KEY_SYMBOLS, RECOVERY_KEY_GROUP)


def normalise_recovery_key(s: str) -> str:
    """Return the canonical form of a typed recovery key (forgiving case, spacing, O/I/L)."""
    return normalise_code(s, RECOVERY_KEY_SYMBOLS, RECOVERY_KEY_GROUP)
