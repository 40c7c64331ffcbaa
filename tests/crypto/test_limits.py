import nacl.pwhash.argon2id as argon2id

from crypto.receipts import RECEIPT_LIMITS
from crypto.wrapping import STAFF_LIMITS, TEST_LIMITS, KdfLimits


def test_production_and_test_limits_are_the_documented_ones():
    sixty_four_mib = 64 * 1024 * 1024
    assert STAFF_LIMITS == KdfLimits(opslimit=3, memlimit=sixty_four_mib)
    assert RECEIPT_LIMITS == KdfLimits(opslimit=3, memlimit=sixty_four_mib)
    assert TEST_LIMITS == KdfLimits(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)
    assert (TEST_LIMITS.opslimit, TEST_LIMITS.memlimit) == (1, 8192)
    # Never PyNaCl's 1 GiB default.
    assert STAFF_LIMITS.memlimit < argon2id.MEMLIMIT_SENSITIVE
    assert RECEIPT_LIMITS.memlimit < argon2id.MEMLIMIT_SENSITIVE
