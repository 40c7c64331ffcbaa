import hashlib
import re

import pytest
from nacl.bindings import crypto_scalarmult_base

from crypto.errors import MalformedInput
from crypto.keys import (
    KEY_SIZE,
    KeyPair,
    check_public_key,
    generate_keypair,
    key_id,
    keypair_from_seed,
)


def test_generated_pairs_are_valid_and_distinct():
    first, second = generate_keypair(), generate_keypair()
    for pair in (first, second):
        assert len(pair.private_key) == KEY_SIZE == 32
        assert len(pair.public_key) == KEY_SIZE
        assert crypto_scalarmult_base(pair.private_key) == pair.public_key
    assert first.private_key != second.private_key
    assert first.public_key != second.public_key


def test_seed_is_the_private_scalar_so_tweetnacl_derives_the_same_pair():
    seed = bytes(range(32))
    pair = keypair_from_seed(seed)
    assert pair.private_key == seed
    assert pair.public_key == crypto_scalarmult_base(seed)
    assert keypair_from_seed(seed) == pair


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_seed_of_wrong_size_is_refused(size):
    with pytest.raises(MalformedInput):
        keypair_from_seed(b"\x01" * size)


def test_repr_never_shows_the_private_key():
    pair = generate_keypair()
    for text in (repr(pair), str(pair), f"{pair}"):
        assert "private" not in text
        assert repr(pair.private_key) not in text
        assert pair.private_key.hex() not in text
    assert repr(pair.public_key) in repr(pair)


def test_keypair_refuses_wrong_sizes():
    good = generate_keypair()
    with pytest.raises(MalformedInput):
        KeyPair(private_key=good.private_key[:31], public_key=good.public_key)
    with pytest.raises(MalformedInput):
        KeyPair(private_key=good.private_key, public_key=good.public_key + b"\x00")


def test_key_id_is_blake2b_64_of_the_public_key_in_hex():
    pair = generate_keypair()
    ident = key_id(pair.public_key)
    assert re.fullmatch(r"[0-9a-f]{16}", ident)
    assert ident == hashlib.blake2b(pair.public_key, digest_size=8).hexdigest()
    assert key_id(pair.public_key) == ident
    assert key_id(generate_keypair().public_key) != ident


def test_key_id_known_value():
    assert key_id(bytes(32)) == hashlib.blake2b(bytes(32), digest_size=8).hexdigest()
    assert key_id(bytes(32)) != key_id(b"\x00" * 31 + b"\x01")


def test_check_public_key_passes_32_bytes_through():
    public = generate_keypair().public_key
    assert check_public_key(public) is public


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, "a" * 32, None])
def test_check_public_key_refuses_anything_else(bad):
    with pytest.raises(MalformedInput):
        check_public_key(bad)
    with pytest.raises(MalformedInput):
        key_id(bad)
