"""The triage job, the routing and the sweeper, run in this process on real databases and Redis."""
from __future__ import annotations

import json
import threading
import traceback
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

from crypto.envelope import unseal
from crypto.keys import key_id
from crypto.receipts import derive_receipt_secrets
from store.models import AuditEntry, Recusal, Report, RoutingRule, SealedKey, StaffMember, TriageState
from store.types import utcnow
from tests.conftest import add_staff
from tests.intake.helpers import client_envelope, open_mailbox, plaintext
from triage import jobs
from triage.queue import enqueue_triage, job_id_for, triage_queue
from triage.sweeper import SweepPolicy, sweep
from triage.taxonomy import load_taxonomy

BRIBE = ("The head of the licensing office accepted a new car from a construction company, and the "
         "company then won the city contract without a tender.")


@pytest.fixture
def context(app: Flask) -> jobs.TriageContext:
    return jobs.TriageContext.from_app(app)


def submit(client: FlaskClient, body: bytes) -> dict[str, Any]:
    request_json, data_key = client_envelope(client, body)
    response = client.post("/api/v1/reports", json=request_json)
    assert response.status_code == 201, response.get_json()
    return {**response.get_json(), "data_key": data_key}


def report_row(app: Flask, public_id: str) -> Report:
    with app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        assert report is not None
        return report


def snapshot(app: Flask, report_id: int) -> dict[str, Any]:
    """Every stored fact about one report: its row, its sealed keys, its audit entries."""
    with app.extensions["probity.db"].session_scope() as session:
        report = session.get(Report, report_id)
        row = {c.name: getattr(report, c.name) for c in Report.__table__.columns}
        keys = sorted((k.key_id, k.recipient_kind, k.sealed_key) for k in
                      session.scalars(select(SealedKey).where(SealedKey.report_id == report_id)))
        entries = session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.report_public_id == report.public_id))
    return {"row": row, "keys": keys, "audit": entries}


def test_triage_stores_metadata_seals_explanation_and_opens_the_mailbox(app, client, context):
    sent = submit(client, plaintext(BRIBE, details="It happened in March.", category_hint="gifts-or-favours"))
    report = report_row(app, sent["report"])
    assert report.triage_state == TriageState.PENDING.value and report.enqueued_at is not None
    page = (open_mailbox(client, sent["receipt"]), client.get("/followup/mailbox"))[1]
    assert "still being processed" in page.get_data(as_text=True)

    outcome = jobs.run_triage(context, report.id)

    assert outcome.state in (TriageState.CLASSIFIED.value, TriageState.NEEDS_HUMAN.value)
    report = report_row(app, sent["report"])
    taxonomy = load_taxonomy()
    assert report.triage_state == outcome.state and report.triaged_at is not None
    assert taxonomy.is_primary(report.category)
    assert all(taxonomy.is_flag(flag) for flag in report.flags)
    assert 0.0 <= report.confidence <= 1.0
    assert report.language == "en"
    assert report.model_version == context.classifier.model_version
    assert report.triage_attempts == 1 and report.triage_error is None
    explanation = jobs.open_explanation(sent["data_key"], report.triage_explanation)
    assert explanation["category"] == report.category and explanation["category_hint"] == "gifts-or-favours"
    assert explanation["evidence"] and all(phrase in BRIBE + " It happened in March." for phrase in explanation["evidence"])
    assert "licensing office".encode() not in report.triage_explanation  # sealed, not merely stored

    reporter_key = derive_receipt_secrets(sent["receipt"], app.config["PROBITY"].receipt_pepper,
                                          app.config["PROBITY"].receipt_limits).keypair
    with app.extensions["probity.db"].session_scope() as session:
        sealed = session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                        SealedKey.recipient_kind == "reporter"))
        assert sealed.key_id == key_id(reporter_key.public_key)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.report_public_id == report.public_id))
    assert unseal(reporter_key.private_key, sealed.sealed_key) == sent["data_key"]
    assert entry.action == "triage.run" and entry.actor == "triage" and entry.detail["state"] == outcome.state
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert "still being processed" not in page


def test_second_run_changes_nothing(app, client, context):
    report = report_row(app, submit(client, plaintext(BRIBE))["report"])
    jobs.run_triage(context, report.id)
    before = snapshot(app, report.id)

    again = jobs.run_triage(context, report.id)

    assert again.skipped
    assert snapshot(app, report.id) == before


def test_racing_runs_classify_once(app, client, context, monkeypatch):
    report = report_row(app, submit(client, plaintext(BRIBE))["report"])
    inside = threading.Event()
    original = jobs.classify_report

    def slow_classify(classifier: Any, content: Any) -> Any:
        inside.set()
        threading.Event().wait(0.5)  # hold the claim while the other run arrives
        return original(classifier, content)

    monkeypatch.setattr(jobs, "classify_report", slow_classify)
    outcomes: list[jobs.Outcome] = []
    first = threading.Thread(target=lambda: outcomes.append(jobs.run_triage(context, report.id)))
    second = threading.Thread(target=lambda: outcomes.append(jobs.run_triage(context, report.id)))
    first.start()
    assert inside.wait(10)
    second.start()
    first.join(30)
    second.join(30)

    assert sorted(o.skipped for o in outcomes) == [False, True]
    with app.extensions["probity.db"].session_scope() as session:
        runs = session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.report_public_id == report.public_id))
        reporter_keys = session.scalar(select(func.count()).select_from(SealedKey)
                                       .where(SealedKey.report_id == report.id, SealedKey.recipient_kind == "reporter"))
    assert runs == 1 and reporter_keys == 1


def test_low_confidence_needs_a_human_and_routes_nobody(app, client, context):
    late = add_staff(app, "late.joiner@example.org")
    with app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == late.email))
        session.add_all(RoutingRule(category=slug, staff_id=member.id) for slug in load_taxonomy().primary_slugs)
    report = report_row(app, submit(client, plaintext(BRIBE))["report"])
    context.min_confidence = 1.01  # no verdict is ever this sure

    outcome = jobs.run_triage(context, report.id)

    report = report_row(app, report.public_id)
    assert outcome.state == report.triage_state == TriageState.NEEDS_HUMAN.value
    assert report.category is not None  # the machine's guess is kept for the human
    assert report.assignee_id is None and not outcome.routing.granted


def test_routing_seals_the_key_to_late_investigators_and_assigns(app, client, context):
    early = add_staff(app, "early@example.org")
    sent = submit(client, plaintext(BRIBE))
    late = add_staff(app, "late@example.org")
    recused = add_staff(app, "recused@example.org")
    with app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == sent["report"]))
        ids = {m.email: m.id for m in session.scalars(select(StaffMember))}
        session.add(Recusal(report_id=report.id, staff_id=ids[recused.email]))
        for slug in load_taxonomy().primary_slugs:  # whatever the category, these three receive it
            session.add_all([RoutingRule(category=slug, staff_id=ids[recused.email]),
                             RoutingRule(category=slug, staff_id=ids[late.email]),
                             RoutingRule(category=slug, staff_id=ids[early.email])])
    context.min_confidence = 0.0

    outcome = jobs.run_triage(context, report.id)

    assert outcome.state == TriageState.CLASSIFIED.value
    assert outcome.routing.granted == (ids[late.email],)  # early had it from submission; recused never
    with app.extensions["probity.db"].session_scope() as session:
        stored = session.get(Report, report.id)
        late_key = session.scalar(select(SealedKey.sealed_key).where(SealedKey.report_id == report.id,
                                                                     SealedKey.staff_id == ids[late.email]))
        recused_keys = session.scalar(select(func.count()).select_from(SealedKey).where(
            SealedKey.report_id == report.id, SealedKey.staff_id == ids[recused.email]))
    assert stored.assignee_id == ids[late.email]  # the first routed investigator who is not recused
    assert unseal(late.keypair.private_key, late_key) == sent["data_key"]
    assert recused_keys == 0


def test_tampered_body_fails_without_retry_and_the_next_report_is_classified(app, client, context):
    bad = report_row(app, submit(client, plaintext(BRIBE))["report"])
    good = report_row(app, submit(client, plaintext(BRIBE))["report"])
    with app.extensions["probity.db"].session_scope() as session:
        body = bytearray(session.get(Report, bad.id).body)
        body[-1] ^= 0x01
        session.execute(update(Report).where(Report.id == bad.id).values(body=bytes(body)))

    assert jobs.run_triage(context, bad.id).state == TriageState.FAILED.value
    assert jobs.run_triage(context, good.id).state != TriageState.FAILED.value

    failed = report_row(app, bad.public_id)
    assert failed.triage_error == "report body did not authenticate" and failed.category is None
    with app.extensions["probity.db"].session_scope() as session:
        kinds = set(session.scalars(select(SealedKey.recipient_kind).where(SealedKey.report_id == bad.id)))
    assert "reporter" not in kinds  # nothing genuine to hand on
    assert jobs.run_triage(context, bad.id).skipped  # no retry: it stays failed


def test_wrong_sealed_key_and_undocumented_json_fail_with_reasons(app, client, context):
    broken_key = report_row(app, submit(client, plaintext(BRIBE))["report"])
    not_json = submit(client, b"\x00 this is not the documented JSON document")
    with app.extensions["probity.db"].session_scope() as session:
        session.execute(update(SealedKey).where(SealedKey.report_id == broken_key.id,
                                                SealedKey.recipient_kind == "service")
                        .values(sealed_key=bytes(80)))

    jobs.run_triage(context, broken_key.id)
    jobs.run_triage(context, report_row(app, not_json["report"]).id)

    assert report_row(app, broken_key.public_id).triage_error == "data key did not open"
    unparsed = report_row(app, not_json["report"])
    assert (unparsed.triage_state, unparsed.triage_error) == ("failed", "report is not the documented JSON")
    # The envelope itself was genuine, so the reporter can still be asked to send the report again.
    open_mailbox(client, not_json["receipt"])
    assert "still being processed" not in client.get("/followup/mailbox").get_data(as_text=True)


def test_classifier_errors_leave_no_content_in_the_exception(app, client, context):
    marker = f"canary-{uuid.uuid4().hex}"
    report = report_row(app, submit(client, plaintext(f"{BRIBE} {marker}"))["report"])

    class Quoting:
        model_version = "broken"

        def classify(self, text: str, hint: str | None) -> Any:
            raise ValueError(f"cannot read {text!r}")

    context.classifier = Quoting()  # type: ignore[assignment]
    with pytest.raises(jobs.TriageError) as raised:
        jobs.run_triage(context, report.id)

    printed = "".join(traceback.format_exception(raised.value))
    assert marker not in printed and "ValueError" in printed
    stored = report_row(app, report.public_id)
    assert stored.triage_state == "pending" and stored.triage_attempts == 1  # RQ retries it


def test_a_report_that_keeps_failing_is_given_up(app, client, context):
    report = report_row(app, submit(client, plaintext(BRIBE))["report"])
    with app.extensions["probity.db"].session_scope() as session:
        session.execute(update(Report).where(Report.id == report.id).values(triage_attempts=jobs.MAX_ATTEMPTS + 1))

    assert jobs.run_triage(context, report.id).state == "failed"
    assert report_row(app, report.public_id).triage_error == f"gave up after {jobs.MAX_ATTEMPTS} attempts"


def test_sweeper_queues_stuck_reports_and_leaves_waiting_ones(app, client, redis_conn):
    database = app.extensions["probity.db"]
    sent = [report_row(app, submit(client, plaintext(f"{BRIBE} {i}"))["report"]).id for i in range(4)]
    never_queued, recent, waiting, abandoned = sent
    long_ago = utcnow() - timedelta(hours=1)
    for key in redis_conn.scan_iter("rq:*"):  # forget the jobs the API queued; set up each case by hand
        redis_conn.delete(key)
    enqueue_triage(redis_conn, waiting)
    with database.session_scope() as session:
        session.execute(update(Report).values(received_at=long_ago, enqueued_at=long_ago))
        session.execute(update(Report).where(Report.id == never_queued).values(enqueued_at=None))
        session.execute(update(Report).where(Report.id == recent).values(enqueued_at=utcnow()))

    result = sweep(database, redis_conn, SweepPolicy(grace=timedelta(seconds=30), stale_after=timedelta(minutes=10)))

    assert sorted(result.requeued) == sorted([never_queued, abandoned]) and result.waiting == 1
    queued = triage_queue(redis_conn).job_ids
    assert sorted(queued) == sorted(job_id_for(i) for i in (waiting, never_queued, abandoned))
    job = Job.fetch(job_id_for(abandoned), connection=redis_conn, serializer=JSONSerializer)
    assert job.args == [abandoned] and job.kwargs == {}  # ids only
    with database.session_scope() as session:
        stamped = session.scalar(select(Report.enqueued_at).where(Report.id == never_queued))
    assert stamped is not None and stamped > long_ago
    again = sweep(database, redis_conn, SweepPolicy(grace=timedelta(seconds=30)))
    assert again.requeued == []  # freshly stamped, or waiting in the queue


def test_sweeps_take_turns_across_workers(app, redis_conn):
    database = app.extensions["probity.db"]
    assert not sweep(database, redis_conn, lock_seconds=30).skipped_locked
    assert sweep(database, redis_conn, lock_seconds=30).skipped_locked


def test_status_and_requeue_commands(app, client, context, runner, redis_conn):
    bad = report_row(app, submit(client, plaintext(BRIBE))["report"])
    with app.extensions["probity.db"].session_scope() as session:
        session.execute(update(Report).where(Report.id == bad.id).values(body=bytes(60)))
    jobs.run_triage(context, bad.id)

    status = json.loads(runner.invoke(args=["triage", "status", "--json"]).output)
    assert status["reports"]["failed"] == 1 and status["queued"] == 1  # the API's job is still queued

    result = runner.invoke(args=["triage", "requeue", "--failed"])
    assert result.exit_code == 0, result.output
    stored = report_row(app, bad.public_id)
    assert (stored.triage_state, stored.triage_attempts, stored.triage_error) == ("pending", 1, None)
    assert job_id_for(bad.id) in triage_queue(redis_conn).job_ids
