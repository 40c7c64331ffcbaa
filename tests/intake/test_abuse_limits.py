"""Refused junk must not use up the shared quotas, and hostile inputs must not crash anything."""
from __future__ import annotations

from dataclasses import replace

from crypto.envelope import new_data_key, seal_body
from intake.files import open_meta
from tests.intake.helpers import client_envelope, open_mailbox, plaintext, receipt_from, submit_form


def _tight(app, **limits):  # type: ignore[no-untyped-def]
    settings = app.config["PROBITY"]
    app.config["PROBITY"] = settings.with_overrides({"abuse": replace(settings.abuse, **limits)})


def test_junk_submissions_do_not_use_up_the_global_quota(app, client, investigator):
    _tight(app, global_submissions="2 per hour", submissions_per_hour="2 per hour")
    for _ in range(5):
        assert client.post("/api/v1/reports", json={}).status_code in (400, 428)
        assert client.post("/report", data={"summary": "no ticket"}).status_code == 400
    request_json, _key = client_envelope(client, plaintext("An honest report"))
    assert client.post("/api/v1/reports", json=request_json).status_code == 201
    assert submit_form(client, "Another honest report").status_code == 201
    # ...while accepted reports do count, whichever way they came: a third is over the quota.
    request_json, _key = client_envelope(client, plaintext("One too many"))
    assert client.post("/api/v1/reports", json=request_json).status_code == 429


def test_mailbox_logins_without_a_ticket_do_not_count(app, client, investigator):
    _tight(app, global_receipt_attempts="2 per hour", receipt_attempts_per_client="2 per hour")
    receipt = receipt_from(submit_form(client, "A report").get_data(as_text=True))
    for _ in range(5):
        assert client.post("/followup", data={"receipt": receipt}).status_code == 400
    assert open_mailbox(client, receipt).status_code == 303


def test_non_ascii_tokens_are_refused_not_crashed(app, client, investigator):
    response = client.post("/report", data={"ticket": "é.1.ü", "summary": "x"})
    assert response.status_code == 400
    created = client.post("/api/v1/reports", json=client_envelope(client, plaintext("r"))[0]).get_json()
    upload = client.post(f"/api/v1/reports/{created['report']}/files", data=b"x",
                         headers={"X-Probity-Upload-Token": "9999999999.é"})
    assert upload.status_code in (403, 428)
    assert upload.is_json


def test_hostile_file_metadata_reads_as_unknown():
    key = new_data_key()
    for hostile in (b"[]", b'{"size": Infinity}', b"[" * 5000, b"not json", b'{"size": "x"}'):
        meta = open_meta(key, seal_body(key, hostile))
        assert meta.name == "file" and meta.size == 0
