"""Encrypted file streams: evidence files of any size, in bounded memory.

Files are encrypted under the report's data key in fixed-size chunks, so a
100 MB upload never has to sit in memory. The format must be producible by
tweetnacl in a browser, which offers SecretBox (XSalsa20-Poly1305) but not
libsodium's secretstream, so it is the STREAM construction (Hoang, Reyhanitabar,
Rogaway, Vizár 2015) over SecretBox, with each chunk's position and finality
bound into its nonce.

Layout::

    header   8 bytes   "PRBFS" 0x00 | version 0x01 | reserved 0x00
    prefix  16 bytes   random, fresh for every file
    chunk 0, chunk 1, ..., chunk n-1

    chunk i = tag(16) || XSalsa20 ciphertext, i.e. SecretBox(key).encrypt(
              plaintext_i, nonce_i) without the nonce (the reader recomputes it)

    nonce_i (24 bytes) = prefix (16) || i as unsigned 56-bit big-endian (7)
                         || final flag (1): 0x01 for chunk n-1, else 0x00

Every plaintext chunk holds exactly CHUNK_SIZE (65536) bytes except the final
one, which holds 1..65536 bytes; an empty file is a single empty final chunk.
Given the plaintext size the ciphertext size is therefore exact
(``encrypted_size``) and no other length is a valid stream.

What the nonce buys: the counter stops chunks being reordered, dropped or
repeated; the final flag stops a file being cut after any whole chunk or
extended past its end; the random prefix stops chunks being spliced between
two files encrypted under the same data key. With a 128-bit random prefix the
nonces cannot realistically collide with those of other files or with the
random 24-byte nonces of the report's SecretBox messages under the same key.

``encrypt_stream`` pulls from a file; ``StreamEncryptor`` takes pushed pieces
(a form upload as it is parsed) and produces the identical format.
``decrypt_stream`` yields each chunk once it has authenticated, before the end
of the file is reached: a consumer must discard everything it received if the
iterator raises. ``StreamChecker`` is what the server can check of an upload
without the key: the header and whether the length fits the framing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import nacl.exceptions
import nacl.utils
from nacl.secret import SecretBox

from .errors import DecryptionFailed, MalformedInput, TruncatedStream
from .envelope import check_data_key

HEADER = b"PRBFS\x00\x01\x00"
PREFIX_SIZE = 16
COUNTER_SIZE = 7
CHUNK_SIZE = 65536
MAC_SIZE = SecretBox.MACBYTES  # 16
FRAME_SIZE = CHUNK_SIZE + MAC_SIZE
START_SIZE = len(HEADER) + PREFIX_SIZE
MAX_CHUNKS = 1 << (8 * COUNTER_SIZE)

_FINAL = b"\x01"
_NOT_FINAL = b"\x00"


def chunk_nonce(prefix: bytes, index: int, final: bool) -> bytes:
    """Return the 24-byte nonce of chunk ``index`` of the stream with ``prefix``."""
    if len(prefix) != PREFIX_SIZE:
        raise MalformedInput(f"stream prefix must be {PREFIX_SIZE} bytes")
    if not 0 <= index < MAX_CHUNKS:
        raise MalformedInput("chunk counter out of range")
    return bytes(prefix) + index.to_bytes(COUNTER_SIZE, "big") + (_FINAL if final else _NOT_FINAL)


def encrypted_size(plaintext_size: int) -> int:
    """Return the exact size of the encrypted stream of a ``plaintext_size``-byte file."""
    if plaintext_size < 0:
        raise ValueError("plaintext size cannot be negative")
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return START_SIZE + plaintext_size + chunks * MAC_SIZE


def plaintext_size(stream_size: int) -> int:
    """Return the plaintext size an encrypted stream of ``stream_size`` bytes must hold.

    Raises ``MalformedInput`` if no stream in this format has that size.
    """
    body = stream_size - START_SIZE
    if body < MAC_SIZE:
        raise MalformedInput(f"a file stream has at least {START_SIZE + MAC_SIZE} bytes")
    full_frames, tail = divmod(body, FRAME_SIZE)
    if tail == 0:
        full_frames, tail = full_frames - 1, FRAME_SIZE
    if tail < MAC_SIZE:
        raise MalformedInput("stream length does not fit the chunk framing")
    if tail == MAC_SIZE and full_frames > 0:
        raise MalformedInput("an empty final chunk may only end an empty file")
    return full_frames * CHUNK_SIZE + tail - MAC_SIZE


def encrypt_stream(key: bytes, source: BinaryIO, sink: BinaryIO) -> int:
    """Encrypt ``source`` into ``sink`` chunk by chunk; return the bytes written."""
    encryptor = StreamEncryptor(key, sink)
    while piece := source.read(CHUNK_SIZE):
        encryptor.write(piece)
    return encryptor.finish()


class StreamEncryptor:
    """Push-style encryption for data that arrives in pieces (e.g. a form upload).

    ``write`` as often as needed, then ``finish`` exactly once. At most one
    chunk of plaintext is buffered: a full chunk is sealed only once a further
    byte has arrived, because until then it might be the final one.
    """

    def __init__(self, key: bytes, sink: BinaryIO) -> None:
        check_data_key(key)
        self._box = SecretBox(bytes(key))
        self._sink = sink
        self._prefix = nacl.utils.random(PREFIX_SIZE)
        self._index = 0
        self._buffer = bytearray()
        self._finished = False
        self.written = _write(sink, HEADER + self._prefix)

    def write(self, data: bytes) -> int:
        """Encrypt what can be encrypted of ``data``; return ``len(data)``."""
        if self._finished:
            raise ValueError("the stream is already finished")
        view = memoryview(data).cast("B")
        accepted = len(view)
        while len(self._buffer) + len(view) > CHUNK_SIZE:
            needed = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:needed]
            view = view[needed:]
            self._seal(final=False)
        self._buffer += view
        return accepted

    def finish(self) -> int:
        """Seal the final chunk (once; later calls change nothing); return the bytes written."""
        if not self._finished:
            self._seal(final=True)
            self._finished = True
        return self.written

    def _seal(self, final: bool) -> None:
        nonce = chunk_nonce(self._prefix, self._index, final)
        self.written += _write(self._sink, self._box.encrypt(bytes(self._buffer), nonce).ciphertext)
        self._buffer.clear()
        self._index += 1


def decrypt_stream(key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext chunks of an encrypted stream, each after it authenticates.

    Raises ``MalformedInput`` for a foreign header, ``DecryptionFailed`` for a
    chunk that does not authenticate (wrong key, tampering, reordering,
    splicing), and ``TruncatedStream`` when the final chunk is missing or data
    follows a full-size final chunk (data after a shorter final chunk cannot be
    told from tampering and raises ``DecryptionFailed``).
    """
    check_data_key(key)
    return _decrypt_chunks(SecretBox(bytes(key)), _Reader(source))


def encrypt_bytes(key: bytes, plaintext: bytes) -> bytes:
    """Encrypt a small file held in memory into the stream format."""
    sink = io.BytesIO()
    encrypt_stream(key, io.BytesIO(plaintext), sink)
    return sink.getvalue()


def decrypt_bytes(key: bytes, ciphertext: bytes) -> bytes:
    """Decrypt a small stream held in memory."""
    return b"".join(decrypt_stream(key, io.BytesIO(ciphertext)))


class StreamChecker:
    """Structural check of an encrypted upload, run by the server without the key.

    Feed the upload as it arrives; ``feed`` fails fast on a foreign header or
    once ``max_size`` (if given) is exceeded, and ``finish`` checks the total
    length fits the framing and returns it. Whether the chunks authenticate
    only a key holder can tell.
    """

    def __init__(self, max_size: int | None = None) -> None:
        self._max_size = max_size
        self._start = b""
        self._total = 0

    def feed(self, data: bytes) -> None:
        """Account for the next piece of the upload."""
        if len(self._start) < len(HEADER):
            self._start += bytes(data[: len(HEADER) - len(self._start)])
            if self._start != HEADER[: len(self._start)]:
                raise MalformedInput("not a Probity file stream (bad header)")
        self._total += len(data)
        if self._max_size is not None and self._total > self._max_size:
            raise MalformedInput(f"file stream exceeds {self._max_size} bytes")

    def finish(self) -> int:
        """Return the total size, or raise ``MalformedInput`` if it cannot be a whole stream."""
        if self._start != HEADER:
            raise MalformedInput("file stream is shorter than its header")
        plaintext_size(self._total)
        return self._total


def _decrypt_chunks(box: SecretBox, reader: _Reader) -> Iterator[bytes]:
    prefix = _read_start(reader)
    index = 0
    while True:
        frame = reader.read(FRAME_SIZE)
        if len(frame) < MAC_SIZE:
            raise TruncatedStream(f"stream ends before its final chunk (chunk {index})")
        final = reader.at_end()
        plaintext = _open(box, frame, prefix, index, final)
        if plaintext is None:
            raise _classify_failure(box, frame, prefix, index, final)
        if final and not plaintext and index > 0:
            raise MalformedInput("an empty final chunk may only end an empty file")
        yield plaintext
        if final:
            return
        index += 1


def _read_start(reader: _Reader) -> bytes:
    header = reader.read(len(HEADER))
    if header != HEADER[: len(header)]:
        raise MalformedInput("not a Probity file stream (bad header)")
    if len(header) < len(HEADER):
        raise TruncatedStream("stream ends inside its header")
    prefix = reader.read(PREFIX_SIZE)
    if len(prefix) < PREFIX_SIZE:
        raise TruncatedStream("stream ends inside its header")
    return prefix


def _open(box: SecretBox, frame: bytes, prefix: bytes, index: int, final: bool) -> bytes | None:
    try:
        return box.decrypt(frame, chunk_nonce(prefix, index, final))
    except nacl.exceptions.CryptoError:
        return None


def _classify_failure(
    box: SecretBox, frame: bytes, prefix: bytes, index: int, final: bool
) -> Exception:
    # A chunk that opens with the opposite final flag is genuine but in the
    # wrong place relative to the end: the stream was cut after it, or data
    # was appended after a full-size final chunk. Anything else is tampering or
    # the wrong key; the two cannot be told apart and need not be.
    if _open(box, frame, prefix, index, not final) is not None:
        if final:
            return TruncatedStream(f"stream ends after chunk {index}, which is not the final chunk")
        return TruncatedStream(f"data follows the final chunk (chunk {index})")
    return DecryptionFailed(f"chunk {index} failed authentication")


class _Reader:
    """Reads exact amounts from a stream that may return short reads, with one byte of lookahead."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._pending = b""

    def read(self, size: int) -> bytes:
        parts = [self._pending] if self._pending else []
        have = len(self._pending)
        self._pending = b""
        while have < size:
            part = self._source.read(size - have)
            if not part:
                break
            parts.append(part)
            have += len(part)
        return b"".join(parts)

    def at_end(self) -> bool:
        if self._pending:
            return False
        self._pending = self.read(1)
        return not self._pending


def _write(sink: BinaryIO, data: bytes) -> int:
    view = memoryview(data)
    while view:
        written = sink.write(view)
        # Raw (unbuffered) streams may accept only part of a write.
        view = view[written if written is not None else len(view) :]
    return len(data)

