import pytest
from nacl.bindings import crypto_box_seal_open, crypto_secretbox_open

from crypto.envelope import (
    DATA_KEY_SIZE,
    NONCE_SIZE,
    SEALED_KEY_SIZE,
    check_sealed_body,
    check_sealed_key,
    new_data_key,
    open_body,
    seal_body,
    seal_for,
    unseal,
)
from crypto.errors import DecryptionFailed, MalformedInput
from crypto.keys import generate_keypair


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_sizes_are_the_protocol_constants():
    assert DATA_KEY_SIZE == 32
    assert NONCE_SIZE == 24
    assert SEALED_KEY_SIZE == 80


def test_new_data_keys_are_32_random_bytes():
    keys = {new_data_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == 32 for key in keys)


@pytest.mark.parametrize(
    "plaintext", [b"", b"x", "Rapport r\u00e9dig\u00e9 \u62a5\u544a".encode(), b"\x00" * 10_000]
)
def test_body_round_trip(data_key, plaintext):
    sealed = seal_body(data_key, plaintext)
    assert len(sealed) == NONCE_SIZE + 16 + len(plaintext)
    assert open_body(data_key, sealed) == plaintext


def test_body_is_nonce_first_secretbox(data_key):
    sealed = seal_body(data_key, b"summary")
    assert crypto_secretbox_open(sealed[NONCE_SIZE:], sealed[:NONCE_SIZE], data_key) == b"summary"


def test_each_seal_uses_a_fresh_nonce(data_key):
    first, second = seal_body(data_key, b"same"), seal_body(data_key, b"same")
    assert first[:NONCE_SIZE] != second[:NONCE_SIZE]
    assert first != second


def test_every_byte_of_a_body_is_protected(data_key):
    sealed = seal_body(data_key, b"the minister took a bribe")
    for index in range(len(sealed)):
        with pytest.raises(DecryptionFailed):
            open_body(data_key, flip(sealed, index))


def test_body_refuses_the_wrong_key(data_key):
    sealed = seal_body(data_key, b"secret")
    with pytest.raises(DecryptionFailed):
        open_body(new_data_key(), sealed)


def test_truncated_or_extended_body_fails(data_key):
    sealed = seal_body(data_key, b"secret")
    with pytest.raises(DecryptionFailed):
        open_body(data_key, sealed[:-1])
    with pytest.raises(DecryptionFailed):
        open_body(data_key, sealed + b"\x00")


@pytest.mark.parametrize("size", [0, 1, 39])
def test_body_too_short_to_hold_nonce_and_tag_is_malformed(data_key, size):
    with pytest.raises(MalformedInput):
        open_body(data_key, b"\x00" * size)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_data_key_of_wrong_size_is_refused(size, recipient):
    bad = b"\x07" * size
    with pytest.raises(MalformedInput):
        seal_body(bad, b"x")
    with pytest.raises(MalformedInput):
        open_body(bad, b"\x00" * 64)
    with pytest.raises(MalformedInput):
        seal_for(recipient.public_key, bad)


def test_sealed_key_round_trip(data_key, recipient):
    sealed = seal_for(recipient.public_key, data_key)
    assert len(sealed) == SEALED_KEY_SIZE
    assert unseal(recipient.private_key, sealed) == data_key


def test_sealed_key_is_a_libsodium_sealed_box(data_key, recipient):
    sealed = seal_for(recipient.public_key, data_key)
    assert crypto_box_seal_open(sealed, recipient.public_key, recipient.private_key) == data_key


def test_sealing_twice_gives_different_ciphertexts(data_key, recipient):
    assert seal_for(recipient.public_key, data_key) != seal_for(recipient.public_key, data_key)


def test_sealed_key_refuses_another_recipient(data_key, recipient):
    sealed = seal_for(recipient.public_key, data_key)
    with pytest.raises(DecryptionFailed):
        unseal(generate_keypair().private_key, sealed)


def test_every_byte_of_a_sealed_key_is_protected(data_key, recipient):
    sealed = seal_for(recipient.public_key, data_key)
    for index in range(len(sealed)):
        with pytest.raises(DecryptionFailed):
            unseal(recipient.private_key, flip(sealed, index))


@pytest.mark.parametrize("size", [0, 31, 33])
def test_public_key_of_wrong_size_is_refused(data_key, size):
    with pytest.raises(MalformedInput):
        seal_for(b"\x09" * size, data_key)


@pytest.mark.parametrize("size", [0, 48, 79, 81])
def test_sealed_key_of_wrong_size_is_malformed(recipient, size):
    with pytest.raises(MalformedInput):
        unseal(recipient.private_key, b"\x00" * size)
    with pytest.raises(MalformedInput):
        check_sealed_key(b"\x00" * size)


def test_private_key_of_wrong_size_is_refused(data_key, recipient):
    sealed = seal_for(recipient.public_key, data_key)
    with pytest.raises(MalformedInput):
        unseal(recipient.private_key[:31], sealed)


def test_check_sealed_key_accepts_a_real_sealed_key(data_key, recipient):
    check_sealed_key(seal_for(recipient.public_key, data_key))


def test_check_sealed_body_bounds(data_key):
    check_sealed_body(seal_body(data_key, b""), max_size=40)
    check_sealed_body(seal_body(data_key, b"x" * 60), max_size=100)
    with pytest.raises(MalformedInput):
        check_sealed_body(b"\x00" * 39, max_size=1000)
    with pytest.raises(MalformedInput):
        check_sealed_body(seal_body(data_key, b"x" * 61), max_size=100)


def test_whole_envelope_for_several_recipients(data_key):
    recipients = [generate_keypair() for _ in range(3)]
    body = seal_body(data_key, b'{"lang": "en", "fields": {"summary": "s"}}')
    sealed = [seal_for(r.public_key, data_key) for r in recipients]
    for r, key in zip(recipients, sealed):
        assert open_body(unseal(r.private_key, key), body).startswith(b'{"lang"')
    with pytest.raises(DecryptionFailed):
        unseal(recipients[0].private_key, sealed[1])
