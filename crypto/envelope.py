"""The report envelope: one data key per report, sealed to each recipient.

A report's content (the form, every message, note and file) is encrypted
under a random 32-byte data key (DK) with SecretBox (XSalsa20-Poly1305), so it
is both secret and tamper-evident. DK is then sealed with SealedBox
(ephemeral X25519 + XSalsa20-Poly1305) to every recipient's public key: only a
holder of a matching private key can recover DK, and the sender needs no key of
its own, which is what lets an anonymous browser build the envelope.

Wire layout (protocol v1): a sealed body is ``nonce(24) || mac(16) ||
ciphertext`` with a fresh random nonce per message; a sealed key is
``ephemeral public key(32) || mac(16) || encrypted DK(32)`` = 80 bytes.

``check_sealed_body`` and ``check_sealed_key`` are what the server can verify
about a client-made envelope without holding any key: sizes only.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

from .errors import DecryptionFailed, MalformedInput
from .keys import KEY_SIZE, check_public_key

DATA_KEY_SIZE = 32
NONCE_SIZE = 24
MAC_SIZE = 16
SEAL_OVERHEAD = 48  # ephemeral public key (32) + Poly1305 tag (16)
SEALED_KEY_SIZE = DATA_KEY_SIZE + SEAL_OVERHEAD
MIN_SEALED_BODY_SIZE = NONCE_SIZE + MAC_SIZE


def new_data_key() -> bytes:
    """Return a fresh random 32-byte data key."""
    return nacl.utils.random(DATA_KEY_SIZE)


def seal_body(data_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` under the data key; a random 24-byte nonce comes first."""
    check_data_key(data_key)
    return bytes(SecretBox(bytes(data_key)).encrypt(bytes(plaintext)))


def open_body(data_key: bytes, ciphertext: bytes) -> bytes:
    """Decrypt a sealed body; raise ``DecryptionFailed`` if it does not authenticate."""
    check_data_key(data_key)
    if len(ciphertext) < MIN_SEALED_BODY_SIZE:
        raise MalformedInput(
            f"sealed body must be at least {MIN_SEALED_BODY_SIZE} bytes, got {len(ciphertext)}"
        )
    try:
        return SecretBox(bytes(data_key)).decrypt(bytes(ciphertext))
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("report body failed authentication") from None


def seal_for(public_key: bytes, data_key: bytes) -> bytes:
    """Seal the data key to a recipient's public key (80 bytes out)."""
    check_public_key(public_key)
    check_data_key(data_key)
    return SealedBox(PublicKey(bytes(public_key))).encrypt(bytes(data_key))


def unseal(private_key: bytes, sealed_key: bytes) -> bytes:
    """Recover a data key sealed to the public half of ``private_key``."""
    if len(private_key) != KEY_SIZE:
        raise MalformedInput(f"private key must be {KEY_SIZE} bytes, got {len(private_key)}")
    check_sealed_key(sealed_key)
    try:
        data_key = SealedBox(PrivateKey(bytes(private_key))).decrypt(bytes(sealed_key))
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("sealed data key did not open with this private key") from None
    if len(data_key) != DATA_KEY_SIZE:
        raise DecryptionFailed("sealed data key has the wrong length")
    return data_key


def check_data_key(data_key: bytes) -> None:
    """Raise ``MalformedInput`` unless ``data_key`` is 32 bytes."""
    if not isinstance(data_key, (bytes, bytearray)) or len(data_key) != DATA_KEY_SIZE:
        raise MalformedInput(f"data key must be {DATA_KEY_SIZE} bytes")


def check_sealed_body(ciphertext: bytes, max_size: int) -> None:
    """Check a client-made sealed body's size: room for nonce and tag, at most ``max_size``."""
    size = len(ciphertext)
    if size < MIN_SEALED_BODY_SIZE:
        raise MalformedInput(f"sealed body must be at least {MIN_SEALED_BODY_SIZE} bytes, got {size}")
    if size > max_size:
        raise MalformedInput(f"sealed body is {size} bytes, over the limit of {max_size}")


def check_sealed_key(b: bytes) -> None:
    """Check a client-made sealed data key is exactly 80 bytes."""
    if len(b) != SEALED_KEY_SIZE:
        raise MalformedInput(f"sealed key must be {SEALED_KEY_SIZE} bytes, got {len(b)}")
