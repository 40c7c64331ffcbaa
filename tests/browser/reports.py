"""What the browser tests share: canary evidence, filling the form, and reading back what was stored
with an investigator's private key (PyNaCl only)."""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox
from sqlalchemy import select

from crypto.filestream import decrypt_stream
from store.models import Attachment, Report, SealedKey

MiB = 1024 * 1024


@dataclass(frozen=True)
class Canaries:
    text: str
    file_marker: bytes

    @classmethod
    def fresh(cls) -> "Canaries":
        return cls(f"CANARYTEXT{secrets.token_hex(8)}", f"CANARYFILE{secrets.token_hex(8)}".encode())

    def needles(self) -> list[bytes]:
        """The canaries as they could appear in a request: raw, and base64 at each alignment."""
        found = []
        for raw in (self.text.encode(), self.file_marker):
            found.append(raw)
            for shift in range(3):
                encoded = base64.b64encode(b"\x00" * shift + raw)[4:-4]
                found.append(encoded)
        return found


def evidence_file(folder: Path, canaries: Canaries, size: int = 20 * MiB) -> Path:
    """Random bytes of `size` with the file canary at the start, the middle and the end."""
    marker = canaries.file_marker
    data = bytearray(secrets.token_bytes(size))
    for at in (0, size // 2, size - len(marker)):
        data[at:at + len(marker)] = marker
    path = folder / "evidence.bin"
    path.write_bytes(bytes(data))
    return path


def fill_report(page: Any, canaries: Canaries, evidence: Path | None) -> dict[str, str]:
    values = {
        "summary": f"The permit officer asked for cash {canaries.text}",
        "details": "He said: \"no envelope, no permit\".\nTwice — in March and in April.",
        "where": "Town hall, room 12",
        "who": "Deputy head of permits",
    }
    for name, value in values.items():
        page.fill(f"#{name}", value)
    page.check("input[name=category_hint][value=gifts-or-favours]")
    if evidence is not None:
        page.set_input_files("#files", str(evidence))
    return values


@dataclass(frozen=True)
class StoredReport:
    plaintext: bytes
    files: list[tuple[dict[str, Any], bytes]]

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.plaintext)  # type: ignore[no-any-return]


def read_as_investigator(app: Flask, private_key: bytes, files_path: Path) -> StoredReport:
    """Open the one stored report and its files the way an investigator's key does."""
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        report = session.scalars(select(Report)).one()
        sealed_keys = session.scalars(select(SealedKey).where(SealedKey.report_id == report.id)).all()
        data_key = None
        for sealed in sealed_keys:
            try:
                data_key = SealedBox(PrivateKey(private_key)).decrypt(sealed.sealed_key)
            except Exception:  # sealed to another recipient
                continue
        assert data_key is not None, "no key was sealed to the investigator"
        plaintext = SecretBox(data_key).decrypt(report.body)
        files = []
        for attachment in session.scalars(select(Attachment).where(Attachment.report_id == report.id)):
            meta = json.loads(SecretBox(data_key).decrypt(attachment.sealed_meta))
            with (files_path / attachment.blob_name).open("rb") as handle:
                content = b"".join(decrypt_stream(data_key, handle))
            files.append((meta, content))
    return StoredReport(plaintext, files)
