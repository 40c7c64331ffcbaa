"""The reporter's receipt: the only thing an anonymous reporter keeps.

The server shows a new receipt once, e.g. ``K7QM-2XRD-9HVT-4PNB``: 16 Crockford
base32 symbols, 80 random bits, short enough to write down and read aloud.
From it the server derives two things and stores only them:

* ``lookup``, which finds the report when the reporter comes back, and
* the reporter's X25519 key pair, whose public half the triage worker seals
  the report's data key to, so a returning reporter can read the conversation.

80 bits is too few to stand on their own against an offline search, so every
derivation is one deliberately slow Argon2id call (``RECEIPT_LIMITS``). Its
salt is a hash of a deployment-wide 32-byte pepper kept outside the database:
a database thief alone cannot test a single guess. The salt is necessarily the
same for every receipt (the server must find a report from the receipt
alone), so a thief who also holds the pepper tests each guess against all
stored receipts at once; the threat model accounts for this.

Derivation (all hashes BLAKE2b from libsodium, person strings zero-padded)::

    password = the 16 symbols, ASCII upper case, no separators
    salt     = BLAKE2b(pepper, digest 16 bytes)
    okm      = Argon2id(password, salt, limits, 64 bytes)
    lookup   = BLAKE2b(okm[:32],  digest 32, person "probity-lookup")
    seed     = BLAKE2b(okm[32:],  digest 32, person "probity-reporter")
    keypair  = X25519 with private scalar = seed   (see keys.keypair_from_seed)

``lookup`` and the public key come from independent halves, so neither says
anything about the other, and the private key is never stored anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from .codes import compact_code, new_code, normalise_code
from .errors import MalformedInput, MalformedReceipt
from .kdf import SALT_SIZE, KdfLimits, derive
from .keys import KeyPair, keypair_from_seed

RECEIPT_BITS = 80
RECEIPT_SYMBOLS = 16
RECEIPT_GROUP = 4
PEPPER_SIZE = 32
LOOKUP_SIZE = 32

# Slow on purpose: with 80 bits, Argon2id at this cost is the only thing
# between a stolen database (plus pepper) and every receipt.
RECEIPT_LIMITS = KdfLimits(opslimit=3, memlimit=64 * 1024 * 1024)

_LOOKUP_PERSON = b"probity-lookup"
_REPORTER_PERSON = b"probity-reporter"
_OKM_SIZE = 64


@dataclass(frozen=True)
class ReceiptSecrets:
    """What a receipt opens: the report lookup value and the reporter's key pair."""

    lookup: bytes = field(repr=False)
    keypair: KeyPair


def new_receipt() -> str:
    """Return a fresh receipt code: 80 random bits as 4 groups of 4 symbols."""
    return new_code(RECEIPT_SYMBOLS, RECEIPT_GROUP)


def normalise_receipt(text: str) -> str:
    """Return the canonical form (``XXXX-XXXX-XXXX-XXXX``) of a typed receipt.

    Case, spaces and dashes are ignored; O reads as 0, I and L as 1.
    Raises ``MalformedReceipt`` unless exactly 16 valid symbols remain.
    """
    return normalise_code(text, RECEIPT_SYMBOLS, RECEIPT_GROUP, MalformedReceipt)


def derive_receipt_secrets(receipt: str, pepper: bytes, limits: KdfLimits) -> ReceiptSecrets:
    """Derive the lookup value and reporter key pair from a receipt (deterministic)."""
    password = compact_code(receipt, RECEIPT_SYMBOLS, MalformedReceipt).encode("ascii")
    if len(pepper) != PEPPER_SIZE:
        raise MalformedInput(f"pepper must be {PEPPER_SIZE} bytes, got {len(pepper)}")
    salt = blake2b(bytes(pepper), digest_size=SALT_SIZE, encoder=RawEncoder)
    okm = derive(_OKM_SIZE, password, salt, limits)
    lookup = blake2b(okm[:32], digest_size=LOOKUP_SIZE, person=_LOOKUP_PERSON, encoder=RawEncoder)
    seed = blake2b(okm[32:], digest_size=32, person=_REPORTER_PERSON, encoder=RawEncoder)
    return ReceiptSecrets(lookup=lookup, keypair=keypair_from_seed(seed))
