import hashlib
import re

import pytest
from nacl.bindings import crypto_pwhash_ALG_ARGON2ID13, crypto_pwhash_alg, crypto_scalarmult_base

from crypto.envelope import new_data_key, seal_for, unseal
from crypto.errors import MalformedInput, MalformedReceipt
from crypto.receipts import (
    RECEIPT_BITS,
    ReceiptSecrets,
    derive_receipt_secrets,
    new_receipt,
    normalise_receipt,
)
from crypto.wrapping import TEST_LIMITS

CROCKFORD = "[0-9A-HJKMNP-TV-Z]"
PEPPER = bytes(range(32))
RECEIPT = "K7QM-2XRD-9HVT-4PNB"


def test_receipt_format_carries_80_bits():
    assert RECEIPT_BITS == 80
    receipt = new_receipt()
    assert re.fullmatch(rf"{CROCKFORD}{{4}}(-{CROCKFORD}{{4}}){{3}}", receipt)
    assert len(receipt.replace("-", "")) * 5 == RECEIPT_BITS


def test_receipts_are_unpredictable():
    receipts = [new_receipt() for _ in range(500)]
    assert len(set(receipts)) == len(receipts)
    for position in (0, 1, 17, 18):
        assert len({r[position] for r in receipts}) > 16


@pytest.mark.parametrize(
    "typed",
    [
        "K7QM-2XRD-9HVT-4PNB",
        "k7qm-2xrd-9hvt-4pnb",
        "K7QM2XRD9HVT4PNB",
        "k7qm 2xrd 9hvt 4pnb",
        " K7-QM2X-RD9H VT4P-NB ",
        "K7QM\t2XRD\n9HVT-4PNB",
    ],
)
def test_normalisation_forgives_case_and_spacing(typed):
    assert normalise_receipt(typed) == RECEIPT


def test_normalisation_reads_confusable_letters_as_digits():
    assert normalise_receipt("O0OO-IL1i-lOIL-0000") == "0000-1111-1011-0000"


def test_normalised_receipt_is_a_fixed_point():
    receipt = new_receipt()
    assert normalise_receipt(receipt) == receipt
    assert normalise_receipt(normalise_receipt(receipt.lower())) == receipt


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7QM-2XRD-9HVT-4PN",
        "K7QM-2XRD-9HVT-4PNBB",
        "K7QM-2XRD-9HVT-4PNU",
        "K7QM-2XRD-9HVT-4PN!",
        "K7QM.2XRD.9HVT.4PNB",
        "K7QM-2XRD-9HVT-4PN\u0131",  # dotless i upper-cases to ASCII I
        "K7QM-2XRD-9HVT-4PN\uff22",  # full-width B
    ],
)
def test_malformed_receipts_are_refused(typed):
    with pytest.raises(MalformedReceipt):
        normalise_receipt(typed)
    with pytest.raises(MalformedReceipt):
        derive_receipt_secrets(typed, PEPPER, TEST_LIMITS)


def test_malformed_receipt_is_malformed_input():
    with pytest.raises(MalformedInput):
        normalise_receipt("nope")


def test_derivation_is_deterministic_and_ignores_typing():
    first = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    again = derive_receipt_secrets("k7qm 2xrd 9hvt 4pnb", PEPPER, TEST_LIMITS)
    assert isinstance(first, ReceiptSecrets)
    assert first == again
    assert len(first.lookup) == 32


def test_derivation_depends_on_the_pepper():
    first = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    other = derive_receipt_secrets(RECEIPT, bytes(32), TEST_LIMITS)
    assert first.lookup != other.lookup
    assert first.keypair.public_key != other.keypair.public_key


def test_derivation_depends_on_the_receipt():
    first = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    other = derive_receipt_secrets("K7QM-2XRD-9HVT-4PNC", PEPPER, TEST_LIMITS)
    assert first.lookup != other.lookup
    assert first.keypair.public_key != other.keypair.public_key


def test_derivation_depends_on_the_limits():
    from crypto.wrapping import KdfLimits

    first = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    other = derive_receipt_secrets(RECEIPT, PEPPER, KdfLimits(opslimit=2, memlimit=TEST_LIMITS.memlimit))
    assert first.lookup != other.lookup


def test_lookup_is_not_the_public_key_nor_the_private_key():
    secrets = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    assert secrets.lookup != secrets.keypair.public_key
    assert secrets.lookup != secrets.keypair.private_key
    assert crypto_scalarmult_base(secrets.keypair.private_key) == secrets.keypair.public_key


def test_repr_shows_neither_the_private_key_nor_the_lookup():
    secrets = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    text = repr(secrets)
    assert repr(secrets.keypair.private_key) not in text
    assert repr(secrets.lookup) not in text


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_pepper_must_be_32_bytes(size):
    with pytest.raises(MalformedInput):
        derive_receipt_secrets(RECEIPT, b"\x01" * size, TEST_LIMITS)


def test_derivation_matches_the_documented_construction():
    """Rebuilt from libsodium primitives, as a third party would."""
    salt = hashlib.blake2b(PEPPER, digest_size=16).digest()
    okm = crypto_pwhash_alg(
        64, b"K7QM2XRD9HVT4PNB", salt, TEST_LIMITS.opslimit, TEST_LIMITS.memlimit,
        crypto_pwhash_ALG_ARGON2ID13,
    )
    lookup = hashlib.blake2b(okm[:32], digest_size=32, person=b"probity-lookup").digest()
    seed = hashlib.blake2b(okm[32:], digest_size=32, person=b"probity-reporter").digest()

    secrets = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    assert secrets.lookup == lookup
    assert secrets.keypair.private_key == seed
    assert secrets.keypair.public_key == crypto_scalarmult_base(seed)


def test_returning_reporter_can_open_a_key_sealed_to_the_derived_public_key():
    at_submission = derive_receipt_secrets(RECEIPT, PEPPER, TEST_LIMITS)
    data_key = new_data_key()
    sealed = seal_for(at_submission.keypair.public_key, data_key)
    on_return = derive_receipt_secrets(RECEIPT.lower(), PEPPER, TEST_LIMITS)
    assert on_return.lookup == at_submission.lookup
    assert unseal(on_return.keypair.private_key, sealed) == data_key
