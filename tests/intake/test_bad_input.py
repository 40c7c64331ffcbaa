"""Every bad input gets a clear 4xx and leaves nothing behind."""
from __future__ import annotations

import base64
import copy
import json

import pytest

from tests.intake.helpers import (client_envelope, form_ticket, open_mailbox, plaintext, pow_headers, receipt_from,
                                  submit_form)
from tests.intake.inspect import files_on_disk, row_counts


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _mutations(good: dict, recipient: str) -> dict[str, tuple[object, str]]:
    """name -> (request body (dict, or raw bytes), expected error code)."""
    def with_(**changes):  # type: ignore[no-untyped-def]
        body = copy.deepcopy(good)
        body.update(changes)
        return body

    missing = copy.deepcopy(good)
    del missing["keys"][recipient]
    return {
        "malformed base64 body": (with_(body="not base64!!"), "malformed_envelope"),
        "malformed base64 key": (with_(keys={**good["keys"], recipient: "%%%"}), "malformed_envelope"),
        "key too short": (with_(keys={**good["keys"], recipient: b64(b"k" * 79)}), "malformed_envelope"),
        "key too long": (with_(keys={**good["keys"], recipient: b64(b"k" * 81)}), "malformed_envelope"),
        "nonce too short": (with_(body=b64(b"n" * 30)), "malformed_envelope"),
        "missing recipient": (missing, "missing_recipient"),
        "unknown recipient": (with_(keys={**good["keys"], "ffffffffffffffff": b64(b"k" * 80)}), "missing_recipient"),
        "unknown version": (with_(version=2), "unsupported_version"),
        "no version": ({k: v for k, v in good.items() if k != "version"}, "unsupported_version"),
        "keys not an object": (with_(keys=["x"]), "malformed_envelope"),
        "not an object": ([1, 2, 3], "malformed_envelope"),
        "oversize body": (with_(body=b64(b"x" * (300 * 1024))), "too_large"),
        "invalid json": (b'{"version": 1, "body": ', "invalid_json"),
        "invalid utf-8": (b'{"version": 1, "body": "\xff\xfe"}', "invalid_json"),
    }


CASES = ["malformed base64 body", "malformed base64 key", "key too short", "key too long", "nonce too short",
         "missing recipient", "unknown recipient", "unknown version", "no version", "keys not an object",
         "not an object", "oversize body", "invalid json", "invalid utf-8"]


@pytest.mark.parametrize("case", CASES)
def test_api_rejects_bad_envelopes(app, client, investigator, case):
    good, _ = client_envelope(client, plaintext("A real report"))
    body, code = _mutations(good, investigator_key_id(client))[case]
    before = row_counts(app)
    if isinstance(body, bytes):
        response = client.post("/api/v1/reports", data=body, content_type="application/json")
    else:
        response = client.post("/api/v1/reports", data=json.dumps(body), content_type="application/json")
    assert 400 <= response.status_code < 500
    payload = response.get_json()
    assert payload["error"] == code, payload
    assert payload["message"]
    assert row_counts(app) == before


def investigator_key_id(client) -> str:  # type: ignore[no-untyped-def]
    recipients = client.get("/api/v1/keys").get_json()["recipients"]
    return recipients[-1]["id"]


def test_api_refuses_a_request_over_the_size_cap_before_reading_it(app, client, investigator):
    before = row_counts(app)
    response = client.post("/api/v1/reports", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert row_counts(app) == before


def test_form_requires_a_summary_and_keeps_what_was_typed(app, client, investigator):
    before = row_counts(app)
    response = submit_form(client, "   ", details="Some details I do not want to lose")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "summary" in page and "Some details I do not want to lose" in page
    assert row_counts(app) == before


def test_form_without_ticket_is_refused(app, client, investigator):
    before = row_counts(app)
    response = client.post("/report", data={"summary": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Nothing was stored" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_form_ticket_cannot_be_replayed(app, client, investigator):
    ticket = form_ticket(client)
    first = client.post("/report", data={"ticket": ticket, "summary": "first"}, content_type="multipart/form-data")
    assert first.status_code == 201
    before = row_counts(app)
    again = client.post("/report", data={"ticket": ticket, "summary": "again"}, content_type="multipart/form-data")
    assert again.status_code == 400
    assert row_counts(app) == before


def test_form_rejects_invalid_utf8(app, client, investigator):
    ticket = form_ticket(client)
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"ticket\"\r\n\r\n{ticket}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"summary\"\r\n\r\n").encode() + b"\xff\xfe bad" + \
           f"\r\n--{boundary}--\r\n".encode()
    before = row_counts(app)
    response = client.post("/report", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422
    assert row_counts(app) == before


def test_form_rejects_unknown_category(app, client, investigator):
    before = row_counts(app)
    response = submit_form(client, "Something", category_hint="not-a-category")
    assert response.status_code == 422
    assert row_counts(app) == before


def test_form_attachments_over_the_cap_leave_nothing(app, client, investigator, test_config):
    app.config["PROBITY"] = app.config["PROBITY"].with_overrides({"max_report_bytes": 200_000})
    before = row_counts(app)
    response = submit_form(client, "With a big file", files=[(b"a" * 150_000, "a.bin"), (b"b" * 100_000, "b.bin")])
    assert response.status_code == 413
    assert row_counts(app) == before
    assert files_on_disk(test_config["files_path"]) == []


def test_wrong_receipt_is_refused(app, client, investigator):
    submit_form(client, "A report")
    response = open_mailbox(client, "0000-0000-0000-0000")
    assert response.status_code == 403
    assert "No report matches" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_malformed_receipt_is_refused(app, client, investigator):
    response = open_mailbox(client, "hello")
    assert response.status_code == 400
    assert "16 letters and digits" in response.get_data(as_text=True)


def test_mailbox_reply_without_csrf_token_is_refused(app, client, investigator):
    receipt = receipt_from(submit_form(client, "A report").get_data(as_text=True))
    assert open_mailbox(client, receipt).status_code == 303
    before = row_counts(app)
    response = client.post("/followup/reply", data={"message": "hello"})
    assert response.status_code == 400
    assert row_counts(app) == before


def test_file_upload_needs_a_valid_token(app, client, investigator):
    good, _ = client_envelope(client, plaintext("report"))
    created = client.post("/api/v1/reports", json=good).get_json()
    before = row_counts(app)
    response = client.post(f"/api/v1/reports/{created['report']}/files", data=b"PRBFS",
                           headers={"X-Probity-Upload-Token": "1.bad", "X-Probity-File-Meta": b64(b"m" * 60)})
    assert response.status_code == 403
    assert response.get_json()["error"] == "bad_upload_token"
    assert row_counts(app) == before


def test_file_upload_must_be_an_encrypted_stream(app, client, investigator, test_config):
    good, _ = client_envelope(client, plaintext("report"))
    created = client.post("/api/v1/reports", json=good).get_json()
    before = row_counts(app)
    response = client.post(f"/api/v1/reports/{created['report']}/files", data=b"plain text file, not encrypted",
                           headers={"X-Probity-Upload-Token": created["upload_token"],
                                    "X-Probity-File-Meta": b64(b"m" * 60), **pow_headers(client, "file")})
    assert response.status_code == 400
    assert row_counts(app) == before
    assert files_on_disk(test_config["files_path"]) == []
