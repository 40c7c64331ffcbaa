"""Referral export: an archive encrypted to the receiving authority, never plaintext on disk."""
from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from cases.referral import MAGIC, open_referral
from store.models import AuditEntry
from tests.cases.helpers import file_report, post_form, signed_in, triage_directly
from tests.intake.inspect import folder_dump

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workspace.md"


@pytest.fixture
def referred_case(app, investigator):
    marker = f"REF-{uuid.uuid4().hex[:10]}"
    big = (f"scan {marker} ".encode() * 20000)[:300_000]  # several stream chunks
    public_id, _ = file_report(app, f"Smuggling at the port {marker}", who=f"Harbour master {marker}",
                               files=[(big, "scan.bin"), (b"small", "note.txt")])
    triage_directly(app, public_id, "gifts-or-favours", ["trafficking"], 0.77, evidence=[f"smuggling {marker}"])
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    post_form(client, url, f"{url}/messages", {"message": f"Which ship? {marker}"})
    post_form(client, url, f"{url}/notes", {"note": f"Internal only {marker}"})
    post_form(client, url, f"{url}/status", {"status": "acknowledged", "reason": f"Seen {marker}"})
    return client, public_id, marker, big


def export(client, public_id, recipient_public: bytes, **extra):
    url = f"/staff/cases/{public_id}"
    return post_form(client, url, f"{url}/export",
                     {"recipient_key": base64.b64encode(recipient_public).decode(), **extra})


def test_export_opens_with_the_recipients_key(app, referred_case, test_config):
    client, public_id, marker, big = referred_case
    authority = PrivateKey.generate()
    response = export(client, public_id, bytes(authority.public_key))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="referral-{public_id}.prbref"'
    data = response.data
    assert data.startswith(MAGIC) and marker.encode() not in data
    archive = open_referral(bytes(authority), data)
    names = archive.namelist()
    assert {"manifest.json", "report.json", "dialogue.json", "decisions.json"} <= set(names)
    report = json.loads(archive.read("report.json"))
    assert report["content"]["fields"]["summary"] == f"Smuggling at the port {marker}"
    assert report["machine"]["flags"] == ["trafficking"]
    assert report["machine"]["explanation"]["evidence"] == [f"smuggling {marker}"]
    dialogue = json.loads(archive.read("dialogue.json"))
    assert [d["text"] for d in dialogue] == [f"Which ship? {marker}"]  # notes left out by default
    decisions = json.loads(archive.read("decisions.json"))
    assert decisions[0]["to"] == "acknowledged" and decisions[0]["reason"] == f"Seen {marker}"
    scan = next(n for n in names if n.endswith("scan.bin"))
    assert archive.read(scan) == big
    # Nothing in plaintext at rest, and the export is audited with the recipient's key id.
    assert marker.encode() not in folder_dump(test_config["instance_path"])
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.exported"))
        assert entry.report_public_id == public_id and entry.detail["files"] == 2
        assert entry.detail["internal_notes"] is False and len(entry.detail["recipient_key"]) == 16


def test_export_with_notes_and_a_wrong_key_cannot_open_it(app, referred_case):
    client, public_id, marker, _ = referred_case
    authority = PrivateKey.generate()
    data = export(client, public_id, bytes(authority.public_key), include_notes="1").data
    dialogue = json.loads(open_referral(bytes(authority), data).read("dialogue.json"))
    assert f"Internal only {marker}" in [d["text"] for d in dialogue]
    with pytest.raises(Exception):
        open_referral(bytes(PrivateKey.generate()), data)


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode(),
                                 base64.b64encode(b"\0" * 32).decode()])
def test_unusable_recipient_keys_are_refused(app, referred_case, bad):
    client, public_id, _, _ = referred_case
    url = f"/staff/cases/{public_id}"
    response = post_form(client, url, f"{url}/export", {"recipient_key": bad})
    assert response.status_code == 422
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "case.exported")) is None


def test_the_documented_snippet_opens_an_export(app, referred_case, tmp_path):
    """docs/workspace.md shows how a receiving authority opens a referral with PyNaCl alone."""
    client, public_id, marker, big = referred_case
    authority = PrivateKey.generate()
    referral = tmp_path / "referral.prbref"
    referral.write_bytes(export(client, public_id, bytes(authority.public_key)).data)
    snippet = re.search(r"```python\n(# open-referral.*?)```", DOCS.read_text(), re.S).group(1)
    out = tmp_path / "referral.zip"
    namespace = {"__name__": "documentation"}
    exec(compile(snippet, "docs/workspace.md", "exec"), namespace)
    namespace["open_referral"](base64.b64encode(bytes(authority)).decode(), str(referral), str(out))
    import zipfile

    with zipfile.ZipFile(out) as archive:
        assert marker in json.loads(archive.read("report.json"))["content"]["fields"]["who"]
