import io

import pytest
from nacl.bindings import crypto_secretbox, crypto_secretbox_open

from crypto.envelope import new_data_key
from crypto.errors import CryptoError, DecryptionFailed, MalformedInput, TruncatedStream
from crypto.filestream import (
    CHUNK_SIZE,
    StreamChecker,
    StreamEncryptor,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    encrypted_size,
    plaintext_size,
)

HEADER = b"PRBFS\x00\x01\x00"
START = 8 + 16
FRAME = CHUNK_SIZE + 16
SIZES = [0, 1, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 5]


def sample(size: int) -> bytes:
    return bytes((i * 7 + i // 251) & 0xFF for i in range(size))


def frames(stream: bytes) -> list[bytes]:
    body = stream[START:]
    return [body[i : i + FRAME] for i in range(0, len(body), FRAME)]


def assemble(stream: bytes, chunks: list[bytes]) -> bytes:
    return stream[:START] + b"".join(chunks)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + index.to_bytes(7, "big") + (b"\x01" if final else b"\x00")


def hand_made_stream(key: bytes, chunks: list[bytes], prefix: bytes = b"\x42" * 16) -> bytes:
    """Build a stream from the documented layout with raw libsodium calls."""
    sealed = [
        crypto_secretbox(chunk, nonce(prefix, i, i == len(chunks) - 1), key)
        for i, chunk in enumerate(chunks)
    ]
    return HEADER + prefix + b"".join(sealed)


class TrickleSource:
    """A source that, like a pipe or socket, returns fewer bytes than asked."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, self._step) if size >= 0 else self._step)


class TrickleSink:
    """A raw sink that accepts only part of each write, like an unbuffered file."""

    def __init__(self, step: int) -> None:
        self.data = bytearray()
        self._step = step

    def write(self, data) -> int:
        taken = bytes(data[: self._step])
        self.data += taken
        return len(taken)


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_exact_size(data_key, size):
    plaintext = sample(size)
    stream = encrypt_bytes(data_key, plaintext)
    assert len(stream) == encrypted_size(size)
    assert plaintext_size(len(stream)) == size
    assert decrypt_bytes(data_key, stream) == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_layout_is_the_documented_one(data_key, size):
    plaintext = sample(size)
    stream = encrypt_bytes(data_key, plaintext)
    assert stream[:8] == HEADER
    prefix = stream[8:START]
    chunks = frames(stream)
    assert len(chunks) == max(1, -(-size // CHUNK_SIZE))
    opened = [
        crypto_secretbox_open(frame, nonce(prefix, i, i == len(chunks) - 1), data_key)
        for i, frame in enumerate(chunks)
    ]
    assert b"".join(opened) == plaintext
    assert all(len(chunk) == CHUNK_SIZE for chunk in opened[:-1])
    assert 0 < len(opened[-1]) <= CHUNK_SIZE or size == 0


def test_a_stream_made_by_another_implementation_decrypts(data_key):
    chunks = [sample(CHUNK_SIZE), sample(CHUNK_SIZE)[::-1], b"tail"]
    stream = hand_made_stream(data_key, chunks)
    assert decrypt_bytes(data_key, stream) == b"".join(chunks)
    assert list(decrypt_stream(data_key, io.BytesIO(stream))) == chunks


def test_encrypted_sizes():
    assert encrypted_size(0) == START + 16
    assert encrypted_size(1) == START + 17
    assert encrypted_size(CHUNK_SIZE) == START + FRAME
    assert encrypted_size(CHUNK_SIZE + 1) == START + FRAME + 17
    assert encrypted_size(100_000_000) == START + 100_000_000 + 1526 * 16
    with pytest.raises(ValueError):
        encrypted_size(-1)


def test_plaintext_size_inverts_encrypted_size_and_nothing_else_fits():
    valid = {}
    for size in range(0, 3 * CHUNK_SIZE + 2):
        valid[encrypted_size(size)] = size
    assert len(valid) == 3 * CHUNK_SIZE + 2
    for length in range(0, encrypted_size(3 * CHUNK_SIZE + 1) + 1):
        if length in valid:
            assert plaintext_size(length) == valid[length]
        else:
            with pytest.raises(MalformedInput):
                plaintext_size(length)


def test_encrypt_stream_reports_bytes_written(data_key):
    sink = io.BytesIO()
    written = encrypt_stream(data_key, io.BytesIO(sample(CHUNK_SIZE * 2 + 3)), sink)
    assert written == len(sink.getvalue()) == encrypted_size(CHUNK_SIZE * 2 + 3)


def test_decrypt_yields_one_chunk_at_a_time(data_key):
    stream = encrypt_bytes(data_key, sample(2 * CHUNK_SIZE + 10))
    assert [len(c) for c in decrypt_stream(data_key, io.BytesIO(stream))] == [CHUNK_SIZE, CHUNK_SIZE, 10]


def test_empty_file_is_one_empty_final_chunk(data_key):
    stream = encrypt_bytes(data_key, b"")
    assert len(stream) == START + 16
    assert list(decrypt_stream(data_key, io.BytesIO(stream))) == [b""]


def test_short_reads_and_partial_writes_are_handled(data_key):
    plaintext = sample(2 * CHUNK_SIZE + 77)
    sink = TrickleSink(step=4099)
    written = encrypt_stream(data_key, TrickleSource(plaintext, step=1000), sink)
    assert written == len(sink.data) == encrypted_size(len(plaintext))
    decrypted = b"".join(decrypt_stream(data_key, TrickleSource(bytes(sink.data), step=333)))
    assert decrypted == plaintext


@pytest.mark.parametrize("piece", [1, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 10 * CHUNK_SIZE])
@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5])
def test_pushed_pieces_give_the_same_format(data_key, size, piece):
    if piece == 1 and size > CHUNK_SIZE + 1:
        size = CHUNK_SIZE + 1
    plaintext = sample(size)
    sink = io.BytesIO()
    encryptor = StreamEncryptor(data_key, sink)
    for i in range(0, size, piece):
        assert encryptor.write(plaintext[i : i + piece]) == len(plaintext[i : i + piece])
    written = encryptor.finish()
    stream = sink.getvalue()
    assert written == len(stream) == encrypted_size(size)
    chunk_sizes = [len(chunk) for chunk in decrypt_stream(data_key, io.BytesIO(stream))]
    assert chunk_sizes == [len(frame) - 16 for frame in frames(stream)]
    assert decrypt_bytes(data_key, stream) == plaintext


def test_encryptor_buffers_at_most_one_chunk(data_key):
    sink = io.BytesIO()
    encryptor = StreamEncryptor(data_key, sink)
    encryptor.write(sample(CHUNK_SIZE))
    assert len(sink.getvalue()) == START  # might still be the final chunk
    encryptor.write(b"x")
    assert len(sink.getvalue()) == START + FRAME
    encryptor.finish()
    assert len(sink.getvalue()) == START + FRAME + 17


def test_encryptor_is_finished_once(data_key):
    sink = io.BytesIO()
    encryptor = StreamEncryptor(data_key, sink)
    encryptor.write(b"evidence")
    written = encryptor.finish()
    assert encryptor.finish() == written == len(sink.getvalue())
    with pytest.raises(ValueError):
        encryptor.write(b"more")
    assert decrypt_bytes(data_key, sink.getvalue()) == b"evidence"


def test_each_encryption_has_a_fresh_prefix(data_key):
    first, second = encrypt_bytes(data_key, b"same"), encrypt_bytes(data_key, b"same")
    assert first[8:START] != second[8:START]


def test_wrong_key(data_key):
    stream = encrypt_bytes(data_key, sample(100))
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(new_data_key(), stream)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_key_of_wrong_size_is_refused(size):
    with pytest.raises(MalformedInput):
        encrypt_bytes(b"\x01" * size, b"x")
    with pytest.raises(MalformedInput):
        decrypt_bytes(b"\x01" * size, encrypt_bytes(new_data_key(), b"x"))
    with pytest.raises(MalformedInput):
        decrypt_stream(b"\x01" * size, io.BytesIO(b""))  # refused before iteration starts


@pytest.mark.parametrize("index", range(8))
def test_tampered_header_is_refused(data_key, index):
    stream = encrypt_bytes(data_key, b"evidence")
    with pytest.raises(MalformedInput):
        decrypt_bytes(data_key, flip(stream, index))


@pytest.mark.parametrize("index", [8, 15, 23])
def test_tampered_prefix_fails_authentication(data_key, index):
    stream = encrypt_bytes(data_key, b"evidence")
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, flip(stream, index))


@pytest.mark.parametrize("chunk", [0, 1, 2, 3])
@pytest.mark.parametrize("offset", [0, 15, 16, -1], ids=["mac-first", "mac-last", "ct-first", "ct-last"])
def test_tampering_with_any_chunk_is_detected(data_key, chunk, offset):
    stream = encrypt_bytes(data_key, sample(3 * CHUNK_SIZE + 100))
    chunks = frames(stream)
    chunks[chunk] = flip(chunks[chunk], offset % len(chunks[chunk]))
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, assemble(stream, chunks))


def test_output_before_a_bad_chunk_is_yielded_then_the_error_comes(data_key):
    stream = encrypt_bytes(data_key, sample(2 * CHUNK_SIZE + 1))
    tampered = flip(stream, len(stream) - 1)
    chunks = decrypt_stream(data_key, io.BytesIO(tampered))
    assert len(next(chunks)) == CHUNK_SIZE
    assert len(next(chunks)) == CHUNK_SIZE
    with pytest.raises(DecryptionFailed):
        next(chunks)


@pytest.mark.parametrize("size", [2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 9])
def test_dropping_the_final_chunk_is_truncation(data_key, size):
    stream = encrypt_bytes(data_key, sample(size))
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, assemble(stream, frames(stream)[:-1]))


def test_dropping_every_chunk_is_truncation(data_key):
    stream = encrypt_bytes(data_key, sample(10))
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, stream[:START])


@pytest.mark.parametrize("length", [0, 1, 7, 8, 12, START - 1])
def test_stream_cut_inside_its_header_is_truncation(data_key, length):
    stream = encrypt_bytes(data_key, sample(10))
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, stream[:length])


def test_cut_in_the_middle_of_a_chunk_is_detected(data_key):
    stream = encrypt_bytes(data_key, sample(3 * CHUNK_SIZE))
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, stream[: START + FRAME + 1000])
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, stream[: START + FRAME + 15])
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, stream[:-1])


@pytest.mark.parametrize("extra", [b"\x00", b"\x00" * 16, b"\x55" * FRAME, b"\x55" * (FRAME + 3)])
def test_data_after_a_full_final_chunk_is_truncation_error(data_key, extra):
    stream = encrypt_bytes(data_key, sample(2 * CHUNK_SIZE))
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, stream + extra)


def test_data_after_a_short_final_chunk_is_refused(data_key):
    # Without trying every split point the reader cannot tell where a short
    # final chunk ends, so the extra bytes surface as an authentication failure.
    stream = encrypt_bytes(data_key, sample(CHUNK_SIZE + 10))
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, stream + b"\x00")


def test_appending_a_genuine_chunk_after_the_final_one_is_truncation_error(data_key):
    chunks = [sample(CHUNK_SIZE), sample(CHUNK_SIZE)]
    stream = hand_made_stream(data_key, chunks)
    extra = crypto_secretbox(b"more", nonce(b"\x42" * 16, 2, True), data_key)
    with pytest.raises(TruncatedStream):
        decrypt_bytes(data_key, stream + extra)


def test_reordered_chunks_are_detected(data_key):
    stream = encrypt_bytes(data_key, sample(3 * CHUNK_SIZE + 100))
    chunks = frames(stream)
    chunks[0], chunks[1] = chunks[1], chunks[0]
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, assemble(stream, chunks))


def test_moving_the_final_chunk_is_detected(data_key):
    stream = encrypt_bytes(data_key, sample(3 * CHUNK_SIZE))
    chunks = frames(stream)
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, assemble(stream, chunks))


def test_repeated_chunk_is_detected(data_key):
    stream = encrypt_bytes(data_key, sample(3 * CHUNK_SIZE + 100))
    chunks = frames(stream)
    chunks[1] = chunks[0]
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, assemble(stream, chunks))


def test_chunk_spliced_from_another_stream_under_the_same_key_is_detected(data_key):
    plaintext = sample(3 * CHUNK_SIZE + 100)
    first, second = encrypt_bytes(data_key, plaintext), encrypt_bytes(data_key, plaintext)
    chunks = frames(first)
    chunks[1] = frames(second)[1]
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, assemble(first, chunks))
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(data_key, second[:START] + first[START:])


def test_empty_final_chunk_after_data_is_not_canonical(data_key):
    stream = hand_made_stream(data_key, [sample(CHUNK_SIZE), b""])
    with pytest.raises(MalformedInput):
        decrypt_bytes(data_key, stream)
    checker = StreamChecker()
    checker.feed(stream)
    with pytest.raises(MalformedInput):
        checker.finish()


@pytest.mark.parametrize(
    "size, piece",
    [(size, piece) for size in SIZES for piece in (7, 4096, 1 << 20)]
    + [(size, 1) for size in SIZES if size <= CHUNK_SIZE],
)
def test_checker_accepts_every_real_stream_fed_in_pieces(data_key, size, piece):
    stream = encrypt_bytes(data_key, sample(size))
    checker = StreamChecker()
    for i in range(0, len(stream), piece):
        checker.feed(stream[i : i + piece])
    assert checker.finish() == len(stream)


def test_checker_refuses_a_foreign_header_at_the_first_byte():
    checker = StreamChecker()
    with pytest.raises(MalformedInput):
        checker.feed(b"%PDF-1.7")
    checker = StreamChecker()
    checker.feed(b"PRB")
    with pytest.raises(MalformedInput):
        checker.feed(b"X")


@pytest.mark.parametrize(
    "length",
    [0, 5, 8, START, START + 15, START + FRAME + 1, START + FRAME + 15, START + FRAME + 16,
     START + 2 * FRAME + 15],
)
def test_checker_refuses_lengths_that_cannot_be_a_stream(length):
    checker = StreamChecker()
    checker.feed((HEADER + b"\x00" * length)[:length])
    with pytest.raises(MalformedInput):
        checker.finish()


def test_checker_enforces_a_size_limit_while_feeding(data_key):
    stream = encrypt_bytes(data_key, sample(2 * CHUNK_SIZE))
    checker = StreamChecker(max_size=CHUNK_SIZE)
    checker.feed(stream[:CHUNK_SIZE])
    with pytest.raises(MalformedInput):
        checker.feed(stream[CHUNK_SIZE : CHUNK_SIZE + 1])


def test_checker_cannot_see_tampering_but_decryption_does(data_key):
    stream = flip(encrypt_bytes(data_key, sample(1000)), START + 20)
    checker = StreamChecker()
    checker.feed(stream)
    assert checker.finish() == len(stream)
    with pytest.raises(CryptoError):
        decrypt_bytes(data_key, stream)
