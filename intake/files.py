"""Encrypted attachments on disk.

Every byte written under the files folder is ciphertext in the chunked stream format of
crypto/filestream.py. Files uploaded through the plain form are encrypted while the multipart body
is parsed (see `SealingUpload`), so a plaintext file never touches the disk, not even as a
temporary file.
"""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, IO

from crypto.envelope import open_body, seal_body
from crypto.filestream import StreamChecker, StreamEncryptor, decrypt_stream
from crypto.errors import MalformedInput
from intake.errors import MalformedEnvelope, TooLarge

READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class FileMeta:
    name: str
    media_type: str
    size: int


def seal_meta(data_key: bytes, meta: FileMeta) -> bytes:
    document = {"name": meta.name, "type": meta.media_type, "size": meta.size}
    return seal_body(data_key, json.dumps(document, ensure_ascii=False).encode())


def open_meta(data_key: bytes, sealed: bytes) -> FileMeta:
    """Open a file's metadata; a client may have sealed anything, so anything odd reads as unknown."""
    try:
        document = json.loads(open_body(data_key, sealed))
        size = int(document.get("size") or 0)
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError):
        return FileMeta("file", "application/octet-stream", 0)
    if not isinstance(document, dict):
        return FileMeta("file", "application/octet-stream", 0)
    return FileMeta(str(document.get("name") or "file")[:255],
                    str(document.get("type") or "application/octet-stream")[:100], max(size, 0))


class BlobStore:
    """Encrypted blobs named by random ids under one folder (never served directly)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, blob_name: str) -> Path:
        if not blob_name.isalnum():
            raise ValueError("bad blob name")
        return self.root / blob_name

    def new_part(self) -> tuple[str, IO[bytes]]:
        blob_name = secrets.token_hex(16)
        fd = os.open(self.root / f"{blob_name}.part", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return blob_name, os.fdopen(fd, "wb")

    def commit(self, blob_name: str) -> None:
        os.replace(self.root / f"{blob_name}.part", self.path(blob_name))

    def discard(self, blob_name: str) -> None:
        for candidate in (self.root / f"{blob_name}.part", self.root / blob_name):
            candidate.unlink(missing_ok=True)

    def size(self, blob_name: str) -> int:
        return self.path(blob_name).stat().st_size

    def open(self, blob_name: str) -> BinaryIO:
        return open(self.path(blob_name), "rb")

    def decrypt(self, blob_name: str, data_key: bytes) -> Iterator[bytes]:
        """Stream a blob's plaintext, chunk by chunk (for downloads in the workspace)."""
        with self.open(blob_name) as handle:
            yield from decrypt_stream(data_key, handle)


class SealingUpload:
    """A writable file that encrypts as werkzeug's form parser writes into it.

    Werkzeug calls write() for each piece of a file part and seek(0) when the part ends; we
    finish the stream there. Size is counted against the report's budget as it arrives.
    """

    def __init__(self, store: BlobStore, data_key: bytes, budget: "UploadBudget") -> None:
        self.store = store
        self.budget = budget
        self.blob_name, self._sink = store.new_part()
        self._encryptor = StreamEncryptor(data_key, self._sink)
        self.plaintext_size = 0
        self.finished = False

    def write(self, data: bytes) -> int:
        self.plaintext_size += len(data)
        self.budget.spend(len(data))
        self._encryptor.write(bytes(data))
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self.finished:
            self._encryptor.finish()
            self._sink.close()
            self.finished = True
        return 0

    def read(self, size: int = -1) -> bytes:
        raise OSError("an encrypted upload cannot be read back as plaintext")

    def close(self) -> None:
        if not self.finished:
            self._sink.close()

    def discard(self) -> None:
        self.close()
        self.store.discard(self.blob_name)


class UploadBudget:
    def __init__(self, limit: int, spent: int = 0) -> None:
        self.limit = limit
        self.spent = spent

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limit:
            raise TooLarge(f"Attachments may add up to {self.limit // (1024 * 1024)} MB per report.")


def receive_encrypted(store: BlobStore, source: BinaryIO, budget: UploadBudget) -> tuple[str, int]:
    """Store a client-encrypted file stream as it arrives; check its framing without a key."""
    checker = StreamChecker()
    blob_name, sink = store.new_part()
    try:
        with sink:
            while chunk := source.read(READ_SIZE):
                checker.feed(chunk)
                budget.spend(len(chunk))
                sink.write(chunk)
        size = checker.finish()
    except MalformedInput as exc:
        store.discard(blob_name)
        raise MalformedEnvelope(f"The file is not a valid encrypted stream: {exc}") from exc
    except BaseException:
        store.discard(blob_name)
        raise
    store.commit(blob_name)
    return blob_name, size


@dataclass
class PendingUpload:
    sink: SealingUpload
    filename: str
    media_type: str


class PendingUploads:
    """The files of one request, encrypted as they arrive, kept or discarded as a whole."""

    def __init__(self, store: BlobStore, data_key: bytes, budget: UploadBudget) -> None:
        self.store = store
        self.data_key = data_key
        self.budget = budget
        self.uploads: list[PendingUpload] = []

    def factory(self, filename: str | None, content_type: str | None) -> SealingUpload:
        sink = SealingUpload(self.store, self.data_key, self.budget)
        self.uploads.append(PendingUpload(sink, (filename or "").strip()[:255],
                                          (content_type or "application/octet-stream")[:100]))
        return sink

    def finish(self) -> list[tuple[str, bytes, int]]:
        """Commit the non-empty files; return (blob name, sealed metadata, stored size) for each."""
        kept: list[tuple[str, bytes, int]] = []
        for upload in self.uploads:
            upload.sink.seek(0)
            if not upload.filename and upload.sink.plaintext_size == 0:
                upload.sink.discard()  # an empty file input the browser sent anyway
                continue
            self.store.commit(upload.sink.blob_name)
            meta = FileMeta(upload.filename or "file", upload.media_type, upload.sink.plaintext_size)
            kept.append((upload.sink.blob_name, seal_meta(self.data_key, meta),
                         self.store.size(upload.sink.blob_name)))
        return kept

    def discard_all(self) -> None:
        for upload in self.uploads:
            upload.sink.discard()
            self.store.discard(upload.sink.blob_name)
