import hashlib

import pytest

from crypto.proofofwork import solve, verify

CHALLENGE = b"\x8f" * 16


def leading_zero_bits(challenge: bytes, nonce: int) -> int:
    digest = hashlib.sha512(challenge + nonce.to_bytes(8, "big")).digest()
    bits = "".join(f"{byte:08b}" for byte in digest)
    return len(bits) - len(bits.lstrip("0"))


@pytest.mark.parametrize("difficulty", [1, 4, 8, 12])
def test_solution_verifies_and_is_the_smallest(difficulty):
    nonce = solve(CHALLENGE, difficulty)
    assert verify(CHALLENGE, nonce, difficulty)
    assert leading_zero_bits(CHALLENGE, nonce) >= difficulty
    assert not any(verify(CHALLENGE, smaller, difficulty) for smaller in range(nonce))


def test_verify_agrees_with_an_independent_count():
    for nonce in range(2000):
        zeros = leading_zero_bits(CHALLENGE, nonce)
        assert verify(CHALLENGE, nonce, zeros)
        assert not verify(CHALLENGE, nonce, zeros + 1)


def test_solution_is_bound_to_its_challenge():
    nonce = solve(CHALLENGE, 12)
    other = b"\x90" * 16
    assert verify(other, nonce, 12) == (leading_zero_bits(other, nonce) >= 12)
    assert leading_zero_bits(other, nonce) < 12


def test_zero_difficulty_accepts_anything():
    assert solve(CHALLENGE, 0) == 0
    assert verify(CHALLENGE, 12345, 0)


@pytest.mark.parametrize("nonce", [-1, 1 << 64, True, "1", 1.0])
def test_out_of_range_nonces_never_verify(nonce):
    assert not verify(CHALLENGE, nonce, 0)


@pytest.mark.parametrize("difficulty", [-1, 513])
def test_impossible_difficulty_is_an_error(difficulty):
    with pytest.raises(ValueError):
        verify(CHALLENGE, 0, difficulty)
    with pytest.raises(ValueError):
        solve(CHALLENGE, difficulty)
