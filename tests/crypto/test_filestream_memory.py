"""A 100 MB file goes through encryption and decryption in bounded memory."""

import hashlib
import random
import tracemalloc

from crypto.filestream import decrypt_stream, encrypt_stream, encrypted_size

TOTAL = 100_000_000
PEAK_LIMIT = 5 * 1024 * 1024


class GeneratedFile:
    """A read-only file of pseudo-random bytes made on demand, never held whole."""

    def __init__(self, size: int, seed: int) -> None:
        self._left = size
        self._random = random.Random(seed)
        self.digest = hashlib.blake2b()

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise ValueError("read the generated file in pieces")
        size = min(size, self._left)
        data = self._random.randbytes(size)
        self._left -= size
        self.digest.update(data)
        return data


def test_100_mb_stream_encrypts_and_decrypts_in_bounded_memory(tmp_path, data_key):
    encrypted = tmp_path / "evidence.bin"
    source = GeneratedFile(TOTAL, seed=20240601)

    tracemalloc.start()
    try:
        with encrypted.open("wb") as sink:
            written = encrypt_stream(data_key, source, sink)
        _, encrypt_peak = tracemalloc.get_traced_memory()

        tracemalloc.reset_peak()
        received = hashlib.blake2b()
        total = 0
        with encrypted.open("rb") as stream:
            for chunk in decrypt_stream(data_key, stream):
                received.update(chunk)
                total += len(chunk)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written == encrypted.stat().st_size == encrypted_size(TOTAL)
    assert total == TOTAL
    assert received.digest() == source.digest.digest()
    assert encrypt_peak < PEAK_LIMIT, encrypt_peak
    assert decrypt_peak < PEAK_LIMIT, decrypt_peak
    print(f"\npeak traced memory: encrypt {encrypt_peak} B, decrypt {decrypt_peak} B")
