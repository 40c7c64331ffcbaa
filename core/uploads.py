"""Multipart uploads that never leave plaintext on disk.

Werkzeug spools large uploaded files to temporary files. Probity's request class refuses file
parts unless the view has first said where they go: `accept_sealed_uploads` installs a factory that
encrypts each file under the report's data key while it is parsed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from flask import Request, g
from werkzeug.exceptions import BadRequest


class FileUploadsNotAccepted(BadRequest):
    description = "This form does not accept files."


class SealingRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        factory: Callable[[str | None, str | None], Any] | None = g.get("sealed_upload_factory")
        if factory is None:
            raise FileUploadsNotAccepted()
        return factory(filename, content_type)  # type: ignore[no-any-return]


def accept_sealed_uploads(factory: Callable[[str | None, str | None], Any]) -> None:
    """Route this request's file parts to `factory(filename, content_type)`, a writable sink."""
    g.sealed_upload_factory = factory
