"""End to end: a report comes in, an investigator reads it, talks to the reporter and concludes."""
from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import select

from store.models import Attachment, AuditEntry, Message, Report, StatusChange
from tests.cases.helpers import csrf_from, file_report, post_form, signed_in, triage_directly
from tests.intake.helpers import open_mailbox
from tests.intake.inspect import database_dump


def audit_trail(app, public_id):
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.report_public_id == public_id)
                                                  .order_by(AuditEntry.id))]


def load(app, public_id) -> Report:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return session.scalar(select(Report).where(Report.public_id == public_id))


def test_report_to_conclusion(app, investigator):
    marker = f"MARK-{uuid.uuid4().hex[:12]}"
    public_id, receipt = file_report(app, f"The mayor took cash {marker}", details=f"At the town hall {marker}",
                                     files=[(f"ledger {marker}".encode() * 500, "ledger.txt")])
    triage_directly(app, public_id, "gifts-or-favours", ["money-laundering"], 0.82, evidence=[f"took cash {marker}"])
    client = signed_in(app, investigator)

    queue = client.get("/staff/cases").get_data(as_text=True)
    assert public_id in queue and "money-laundering" in queue
    assert marker not in queue  # the queue shows metadata only

    url = f"/staff/cases/{public_id}"
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"The mayor took cash {marker}" in text and f"At the town hall {marker}" in text
    assert f"took cash {marker}" in text  # the machine's evidence phrase
    assert "ledger.txt" in text and "82%" in text

    file_id = re.search(rf'/staff/cases/{public_id}/files/([0-9a-f]+)"', text).group(1)
    download = client.get(f"{url}/files/{file_id}")
    assert download.status_code == 200
    assert download.data == f"ledger {marker}".encode() * 500
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="ledger.txt"')

    question = f"Which office was it? {marker}"
    assert post_form(client, url, f"{url}/messages", {"message": question}).status_code == 303
    assert post_form(client, url, f"{url}/notes", {"note": f"Call the auditor {marker}"}).status_code == 303

    reporter = app.test_client()
    assert open_mailbox(reporter, receipt).status_code == 303
    mailbox = reporter.get("/followup/mailbox").get_data(as_text=True)
    assert question in mailbox and "Call the auditor" not in mailbox
    answer = f"The permits office, room 12 {marker}"
    reply = reporter.post("/followup/reply", data={"csrf_token": csrf_from(mailbox), "message": answer})
    assert reply.status_code == 303
    assert answer in client.get(url).get_data(as_text=True)

    # A file for the reporter, encrypted as it is uploaded; it shows in their mailbox.
    page = client.get(url).get_data(as_text=True)
    upload = client.post(f"{url}/files", data={"csrf_token": csrf_from(page), "direction": "to-reporter",
                                               "files": [(io.BytesIO(b"form to fill in"), "form.txt")]},
                         content_type="multipart/form-data")
    assert upload.status_code == 303, upload.get_data(as_text=True)
    mailbox = reporter.get("/followup/mailbox").get_data(as_text=True)
    link = re.search(r'href="(/followup/files/[0-9a-f]+)[^"]*">form.txt<', mailbox).group(1)
    sent = reporter.get(link)
    assert sent.status_code == 200 and sent.data == b"form to fill in"
    assert sent.headers["Content-Disposition"].startswith('attachment; filename="form.txt"')
    # The reporter cannot fetch staff-only files, nor their own upload back through this route.
    staff_only = client.post(f"{url}/files", data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)),
                                                   "direction": "note",
                                                   "files": [(io.BytesIO(b"internal memo"), "memo.txt")]},
                             content_type="multipart/form-data")
    assert staff_only.status_code == 303
    assert "memo.txt" not in reporter.get("/followup/mailbox").get_data(as_text=True)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        for direction in ("note", "from-reporter"):
            other = session.scalar(select(Attachment.public_id).where(Attachment.direction == direction))
            assert reporter.get(f"/followup/files/{other}").status_code == 404

    assert post_form(client, url, f"{url}/category", {"category": "conflict-of-interest",
                                                      "flags": ["organized-crime"]}).status_code == 303
    report = load(app, public_id)
    assert (report.category, report.flags) == ("gifts-or-favours", ["money-laundering"])
    assert (report.human_category, report.human_flags) == ("conflict-of-interest", ["organized-crime"])

    assert post_form(client, url, f"{url}/status", {"status": "acknowledged"}).status_code == 303
    assert load(app, public_id).acknowledged_at is not None and load(app, public_id).feedback_at is None
    post_form(client, url, f"{url}/messages", {"message": "We are looking into it."})
    assert load(app, public_id).feedback_at is not None
    for step in ("assessing", "investigating"):
        assert post_form(client, url, f"{url}/status", {"status": step}).status_code == 303
    refused = post_form(client, url, f"{url}/status", {"status": "concluded", "outcome": "substantiated"})
    assert refused.status_code == 422  # no reason given
    done = post_form(client, url, f"{url}/status", {"status": "concluded", "outcome": "substantiated",
                                                    "reason": f"Confirmed by the ledger {marker}"})
    assert done.status_code == 303
    report = load(app, public_id)
    assert (report.status, report.outcome) == ("concluded", "substantiated") and report.concluded_at
    page = client.get(url).get_data(as_text=True)
    assert f"Confirmed by the ledger {marker}" in page and "investigating → concluded" in page

    assert post_form(client, url, f"{url}/status", {"status": "assessing", "reason": "New evidence"}).status_code == 303
    assert load(app, public_id).status == "assessing" and load(app, public_id).outcome is None

    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        changes = session.scalars(select(StatusChange).order_by(StatusChange.id)).all()
        assert [(c.from_status, c.to_status) for c in changes] == [
            ("received", "acknowledged"), ("acknowledged", "assessing"), ("assessing", "investigating"),
            ("investigating", "concluded"), ("concluded", "assessing")]
        assert all(c.actor_id is not None for c in changes)
        assert session.scalar(select(Attachment).where(Attachment.direction == "to-reporter")).author_id
        assert session.scalar(select(Attachment).where(Attachment.direction == "note")).author_id
        assert {m.direction for m in session.scalars(select(Message))} == {"to-reporter", "note", "from-reporter"}
    # Everything written stays encrypted at rest.
    assert marker.encode() not in database_dump(app)

    trail = audit_trail(app, public_id)
    for action in ("case.viewed", "case.file-downloaded", "case.message-sent", "case.note-added", "case.files-added",
                   "case.category-corrected", "case.status-changed", "case.reopened"):
        assert action in trail, action


def test_confirming_the_machine_category(app, investigator):
    public_id, _ = file_report(app, "A customs officer wanted a gift")
    triage_directly(app, public_id, "gifts-or-favours", [], 0.7)
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    assert post_form(client, url, f"{url}/category", {"category": "gifts-or-favours"}).status_code == 303
    assert audit_trail(app, public_id)[-1] == "case.category-confirmed"
    assert post_form(client, url, f"{url}/category", {"category": "no-such-thing"}).status_code == 422


def test_workflow_refuses_impossible_steps(app, investigator):
    public_id, _ = file_report(app, "Spam, really")
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    assert post_form(client, url, f"{url}/status", {"status": "investigating"}).status_code == 422
    assert post_form(client, url, f"{url}/status", {"status": "concluded", "outcome": "substantiated",
                                                    "reason": "x"}).status_code == 422
    assert post_form(client, url, f"{url}/status", {"status": "concluded", "outcome": "not-actionable",
                                                    "reason": "spam"}).status_code == 303
    assert load(app, public_id).acknowledged_at is None
    # Reopened, a case never acknowledged goes back to received: it still owes an acknowledgement.
    assert post_form(client, url, f"{url}/status", {"status": "assessing", "reason": "not spam"}).status_code == 422
    assert post_form(client, url, f"{url}/status", {"status": "received", "reason": "not spam"}).status_code == 303
    assert load(app, public_id).status == "received"


def test_an_untriaged_case_can_be_read(app, investigator):
    public_id, _ = file_report(app, "Fresh report, not yet classified")
    page = signed_in(app, investigator).get(f"/staff/cases/{public_id}").get_data(as_text=True)
    assert "Fresh report, not yet classified" in page and "pending" in page
