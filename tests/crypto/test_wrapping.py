import re
import struct
import time

import nacl.pwhash.argon2id as argon2id
import pytest

from crypto.errors import DecryptionFailed, MalformedInput, WrongPassphrase
from crypto.keys import generate_keypair
from crypto.wrapping import (
    TEST_LIMITS,
    KdfLimits,
    new_recovery_key,
    normalise_recovery_key,
    unwrap_key,
    wrap_key,
)

HEADER_SIZE = 1 + 4 + 4
SALT_END = HEADER_SIZE + 16
NONCE_END = SALT_END + 24
MAC_END = NONCE_END + 16
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def with_limits(blob: bytes, opslimit: int, memlimit: int) -> bytes:
    return blob[:1] + struct.pack(">II", opslimit, memlimit) + blob[HEADER_SIZE:]


@pytest.fixture
def private_key() -> bytes:
    return generate_keypair().private_key


def test_round_trip(private_key):
    blob = wrap_key(private_key, b"correct horse battery staple", TEST_LIMITS)
    assert unwrap_key(blob, b"correct horse battery staple") == private_key


def test_blob_is_self_describing(private_key):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    assert blob[0] == 1
    assert struct.unpack(">II", blob[1:HEADER_SIZE]) == (TEST_LIMITS.opslimit, TEST_LIMITS.memlimit)
    assert len(blob) == HEADER_SIZE + 16 + 24 + 16 + len(private_key)


def test_unwrap_reads_the_limits_from_the_blob(private_key):
    other = KdfLimits(opslimit=2, memlimit=2 * argon2id.MEMLIMIT_MIN)
    blob = wrap_key(private_key, b"pw", other)
    assert struct.unpack(">II", blob[1:HEADER_SIZE]) == (2, 2 * argon2id.MEMLIMIT_MIN)
    assert unwrap_key(blob, b"pw") == private_key


def test_salt_is_fresh_each_time(private_key):
    first, second = wrap_key(private_key, b"pw", TEST_LIMITS), wrap_key(private_key, b"pw", TEST_LIMITS)
    assert first[HEADER_SIZE:SALT_END] != second[HEADER_SIZE:SALT_END]
    assert first[MAC_END:] != second[MAC_END:]


def test_wrong_passphrase(private_key):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    with pytest.raises(WrongPassphrase):
        unwrap_key(blob, b"pW")
    with pytest.raises(DecryptionFailed):
        unwrap_key(blob, b"")


@pytest.mark.parametrize(
    "index",
    [HEADER_SIZE, SALT_END - 1, SALT_END, NONCE_END - 1, NONCE_END, MAC_END - 1, MAC_END, -1],
    ids=[
        "salt-first", "salt-last", "nonce-first", "nonce-last",
        "mac-first", "mac-last", "ct-first", "ct-last",
    ],
)
def test_tampered_blob_does_not_open(private_key, index):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    with pytest.raises(WrongPassphrase):
        unwrap_key(flip(blob, index % len(blob)), b"pw")


def test_tampered_limits_within_bounds_change_the_key(private_key):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    with pytest.raises(WrongPassphrase):
        unwrap_key(with_limits(blob, 2, TEST_LIMITS.memlimit), b"pw")
    with pytest.raises(WrongPassphrase):
        unwrap_key(with_limits(blob, 1, TEST_LIMITS.memlimit + 1024), b"pw")


@pytest.mark.parametrize(
    "opslimit, memlimit",
    [
        (1, (1 << 30) + 1),
        (1, 1 << 31),
        (1, 0xFFFFFFFF),
        (21, argon2id.MEMLIMIT_MIN),
        (0xFFFFFFFF, argon2id.MEMLIMIT_MIN),
        (0, argon2id.MEMLIMIT_MIN),
        (1, 0),
        (1, argon2id.MEMLIMIT_MIN - 1),
    ],
)
def test_absurd_limits_in_a_tampered_blob_are_refused_before_any_work(private_key, opslimit, memlimit):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    started = time.perf_counter()
    with pytest.raises(MalformedInput):
        unwrap_key(with_limits(blob, opslimit, memlimit), b"pw")
    assert time.perf_counter() - started < 0.05


def test_limits_at_the_ceiling_are_accepted():
    assert KdfLimits(opslimit=20, memlimit=1 << 30).memlimit == 1 << 30


@pytest.mark.parametrize(
    "opslimit, memlimit", [(21, 8192), (1, (1 << 30) + 1), (0, 8192), (True, 8192), (1, 8192.0)]
)
def test_kdf_limits_refuse_out_of_range_values(opslimit, memlimit):
    with pytest.raises(MalformedInput):
        KdfLimits(opslimit=opslimit, memlimit=memlimit)


def test_unknown_version_is_malformed(private_key):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    for version in (0, 2, 255):
        with pytest.raises(MalformedInput):
            unwrap_key(bytes([version]) + blob[1:], b"pw")


def test_short_blob_is_malformed(private_key):
    blob = wrap_key(private_key, b"pw", TEST_LIMITS)
    for size in (0, 1, HEADER_SIZE, MAC_END):
        with pytest.raises(MalformedInput):
            unwrap_key(blob[:size], b"pw")


def test_nothing_is_wrapped_under_an_empty_passphrase(private_key):
    with pytest.raises(MalformedInput):
        wrap_key(private_key, b"", TEST_LIMITS)
    with pytest.raises(MalformedInput):
        wrap_key(b"", b"pw", TEST_LIMITS)


def test_recovery_key_format_and_strength():
    key = new_recovery_key()
    assert re.fullmatch(rf"({CROCKFORD}{{4}}-){{7}}{CROCKFORD}{{4}}", key)
    assert len(key.replace("-", "")) * 5 >= 128


def test_recovery_keys_are_unpredictable():
    keys = [new_recovery_key() for _ in range(300)]
    assert len(set(keys)) == len(keys)
    symbols = "".join(k.replace("-", "") for k in keys)
    assert set(symbols) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert len({k[0] for k in keys}) > 16
    assert len({k[-1] for k in keys}) > 16


def test_recovery_key_normalisation_forgives_typing():
    key = "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"
    assert normalise_recovery_key(key) == key
    assert normalise_recovery_key(key.lower()) == key
    assert normalise_recovery_key(key.replace("-", "")) == key
    assert normalise_recovery_key(key.replace("-", " ").lower()) == key
    assert normalise_recovery_key(" o123 4567 89ab cdef ghjk mnpq rstv wxyz ") == key
    assert normalise_recovery_key("0I23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ") == key
    assert normalise_recovery_key("0l23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ") == key


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXY",
        "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ0",
        "U123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ",
        "0123_4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ",
        "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXY\u00dc",
    ],
)
def test_malformed_recovery_keys_are_refused(typed):
    with pytest.raises(MalformedInput):
        normalise_recovery_key(typed)


def test_wrap_under_recovery_key_and_unwrap_from_sloppy_typing(private_key):
    recovery = new_recovery_key()
    blob = wrap_key(private_key, normalise_recovery_key(recovery).encode("ascii"), TEST_LIMITS)
    typed = recovery.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert unwrap_key(blob, normalise_recovery_key(typed).encode("ascii")) == private_key
