"""A unique marker submitted by every path must be nowhere at rest: not in the database, the files
folder, the instance folder, Redis or the logs — and yet an investigator's key reads it back."""
from __future__ import annotations

import base64
import json
import uuid

from sqlalchemy import select

from crypto.envelope import open_body, seal_body, unseal
from crypto.filestream import decrypt_bytes, encrypt_bytes
from store.models import Attachment, Report, SealedKey
from tests.intake.helpers import client_envelope, open_mailbox, plaintext, pow_headers, receipt_from, submit_form
from tests.intake.inspect import database_dump, folder_dump, redis_dump


def test_canary_is_nowhere_at_rest(app, client, investigator, redis_conn, test_config, caplog):
    marker = f"CANARY-{uuid.uuid4().hex}"
    file_marker = f"FILECANARY-{uuid.uuid4().hex}"

    # Path 1: the plain form (no JavaScript), with an attachment and a follow-up reply.
    form = submit_form(client, f"Summary {marker}", details=f"Details {marker}", who=marker,
                       files=[(f"evidence {file_marker}".encode() * 2000, f"{marker}.txt")])
    assert form.status_code == 201
    receipt = receipt_from(form.get_data(as_text=True))
    assert open_mailbox(client, receipt).status_code == 303

    # Path 2: the API, as an outside client builds it, with an encrypted file stream.
    request_json, data_key = client_envelope(client, plaintext(f"Summary {marker}", details=marker))
    created = client.post("/api/v1/reports", json=request_json)
    assert created.status_code == 201
    created_json = created.get_json()
    meta = seal_body(data_key, json.dumps({"name": f"{marker}.pdf", "type": "application/pdf", "size": 10}).encode())
    upload = client.post(
        f"/api/v1/reports/{created_json['report']}/files",
        data=encrypt_bytes(data_key, f"pdf {file_marker}".encode() * 5000),
        headers={"X-Probity-Upload-Token": created_json["upload_token"],
                 "X-Probity-File-Meta": base64.b64encode(meta).decode(), **pow_headers(client, "file")},
    )
    assert upload.status_code == 201, upload.get_json()

    needles = [marker.encode(), file_marker.encode(), receipt.encode(), receipt.replace("-", "").encode()]
    haystacks = {
        "database": database_dump(app),
        "instance folder": folder_dump(test_config["instance_path"]),
        "redis": redis_dump(redis_conn),
        "logs": caplog.text.encode(),
    }
    if test_config["database_url"].startswith("sqlite"):
        haystacks["sqlite file"] = folder_dump(test_config["instance_path"].parent)
    for where, haystack in haystacks.items():
        for needle in needles:
            assert needle not in haystack, f"{needle!r} found in {where}"

    # ...and yet the investigator's key opens both reports and both files.
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        reports = session.scalars(select(Report).order_by(Report.id)).all()
        assert len(reports) == 2
        for report in reports:
            sealed = session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                            SealedKey.staff_id.is_not(None)))
            key = unseal(investigator.keypair.private_key, sealed.sealed_key)
            assert marker in open_body(key, report.body).decode()
            attachment = session.scalar(select(Attachment).where(Attachment.report_id == report.id))
            blob = (test_config["files_path"] / attachment.blob_name).read_bytes()
            assert file_marker.encode() in decrypt_bytes(key, blob)
