"""Real worker processes (`python -m triage.worker`) on real Redis and both databases: reports get
triaged, exactly once, whatever happens to Redis or to a worker, and no content leaks on the way."""
from __future__ import annotations

import re
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from core.app import create_app
from intake.envelope import build_envelope
from intake.recipients import current_recipients
from intake.submission import store_report
from store.models import AuditEntry, Report, SealedKey
from tests.intake.helpers import client_envelope, open_mailbox, plaintext, receipt_from, submit_form
from tests.intake.inspect import database_dump, redis_dump
from tests.triage.workers import PrivateRedis, Workers, wait_until, worker_env
from triage.queue import enqueue_triage

BRIBE = "A customs officer took cash from a trucking firm to let its containers through unchecked."
DONE = ("classified", "needs-human", "failed")
JOB_TAKEN = "triage.jobs.triage_report("  # RQ's log line when a worker takes a job
TRIAGED_LINE = re.compile(r"triage report=(\w+) state=(classified|needs-human|failed)")


@pytest.fixture
def workers(test_config: dict[str, Any], tmp_path: Path) -> Any:
    started = Workers(worker_env(test_config["database_url"], test_config["redis_url"], test_config["instance_path"]),
                      tmp_path)
    yield started
    started.stop_all()


def submit_api(client: FlaskClient, text: str) -> dict[str, Any]:
    request_json, data_key = client_envelope(client, plaintext(text))
    response = client.post("/api/v1/reports", json=request_json)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def states(app: Flask) -> dict[str, str]:
    with app.extensions["probity.db"].session_scope() as session:
        return dict(session.execute(select(Report.public_id, Report.triage_state)).all())


def all_done(app: Flask, expected: int) -> bool:
    current = states(app)
    return len(current) == expected and all(state in DONE for state in current.values())


def triage_runs(app: Flask) -> Counter[str]:
    """Audit entries of triage runs per report: a report triaged twice would show 2."""
    with app.extensions["probity.db"].session_scope() as session:
        return Counter(session.scalars(select(AuditEntry.report_public_id).where(AuditEntry.action == "triage.run")))


def report_field(app: Flask, public_id: str, column: Any) -> Any:
    with app.extensions["probity.db"].session_scope() as session:
        return session.scalar(select(column).where(Report.public_id == public_id))


def test_worker_triages_form_and_api_reports_and_the_queue_survives_a_corrupt_one(app, client, workers):
    form = submit_form(client, BRIBE, details="Every Tuesday at the northern border post.")
    assert form.status_code == 201
    receipt = receipt_from(form.get_data(as_text=True))
    corrupt = submit_api(client, BRIBE)
    with app.extensions["probity.db"].session_scope() as session:
        session.execute(update(Report).where(Report.public_id == corrupt["report"]).values(body=bytes(64)))
    api = submit_api(client, "The deputy minister hid shares in a company that won a ministry contract.")
    workers.start("w1")  # the corrupt report is queued between the other two

    wait_until(lambda: all_done(app, 3), 60, "three reports to be triaged")

    current = states(app)
    assert current[corrupt["report"]] == "failed"
    assert report_field(app, corrupt["report"], Report.triage_error) == "report body did not authenticate"
    assert current[api["report"]] in ("classified", "needs-human")
    for public_id in (api["report"], corrupt["report"]):
        assert report_field(app, public_id, Report.model_version) or public_id == corrupt["report"]
    assert open_mailbox(client, receipt).status_code == 303
    assert "still being processed" not in client.get("/followup/mailbox").get_data(as_text=True)
    assert all(count == 1 for count in triage_runs(app).values())


def test_no_trace_of_the_text_in_redis_logs_output_or_database(app, client, workers, redis_conn, caplog):
    marker = f"canary{uuid.uuid4().hex}"
    text = f"{BRIBE} Contact {marker} for the ledger."
    # First a worker whose classifier fails and quotes the text in its error: RQ keeps the failure.
    workers.start("exploding", fault="explode")
    failing = submit_api(client, text)
    wait_until(lambda: "Traceback" in workers.output(), 30, "the failure to be recorded")
    during_failure = redis_dump(redis_conn)
    workers.stop_all()
    # Then a sound worker: the retry and three new reports go through.
    workers.start("sound", "--sweep-every", "1", "--stale-after", "2")
    form = submit_form(client, text)
    assert form.status_code == 201
    submit_api(client, text)
    submit_api(client, text)
    wait_until(lambda: all_done(app, 4), 60, "every report to be triaged")

    assert "TriageError: classifier failed (ValueError)" in workers.output()
    for where, content in [("Redis while a job was failing", during_failure), ("Redis", redis_dump(redis_conn)),
                           ("the database", database_dump(app)), ("worker output", workers.output().encode()),
                           ("this process's logs", caplog.text.encode())]:
        assert marker.encode() not in content, f"the report's text reached {where}"


def test_report_arriving_while_redis_is_down_is_swept_and_triaged(app, test_config, workers, tmp_path):
    private = PrivateRedis(tmp_path / "private-redis")
    private.start()
    try:
        web = create_app({**test_config, "redis_url": private.url})
        workers.env["REDIS_URL"] = private.url
        workers.start("w1", "--sweep-every", "1", "--grace", "1")
        private.stop()

        # What the intake views do once a request has passed its checks: store, then queue.
        with web.app_context(), web.extensions["probity.db"].session_scope() as session:
            envelope = build_envelope(plaintext(BRIBE), current_recipients(session))
            settings = web.config["PROBITY"]
            receipt = store_report(session, envelope, settings.receipt_pepper, settings.receipt_limits)
            queued = enqueue_triage(web.extensions["probity.redis"], receipt.report_id, session)
        assert queued is False
        assert report_field(app, receipt.report, Report.triage_state) == "pending"
        assert report_field(app, receipt.report, Report.enqueued_at) is None

        private.start()  # the same socket, empty: the job never reached it
        wait_until(lambda: report_field(app, receipt.report, Report.triage_state) in DONE, 60,
                   "the swept report to be triaged")
        assert report_field(app, receipt.report, Report.triage_attempts) == 1
        assert "sweeper re-queued 1 pending report(s)" in workers.output()
        web.extensions["probity.db"].dispose()
    finally:
        workers.stop_all()
        private.stop()


@pytest.mark.slow
def test_worker_killed_mid_job_the_report_is_triaged_exactly_once(app, client, workers):
    doomed = workers.start("doomed", "--sweep-every", "0", fault="slow=60")
    sent = submit_api(client, BRIBE)
    wait_until(lambda: JOB_TAKEN in doomed.output(), 30, "the job to start")
    time.sleep(0.5)  # well inside the job: its claim is held while the classifier "works"

    doomed.kill_tree()

    assert report_field(app, sent["report"], Report.triage_state) == "pending"  # nothing half-written
    workers.start("rescuer", "--sweep-every", "1", "--stale-after", "2")
    wait_until(lambda: report_field(app, sent["report"], Report.triage_state) in DONE, 60, "the rescue")
    assert report_field(app, sent["report"], Report.triage_attempts) == 2
    assert triage_runs(app)[sent["report"]] == 1
    assert TRIAGED_LINE.findall(workers.output()) == [(sent["report"], report_field(app, sent["report"],
                                                                                     Report.triage_state))]
    with app.extensions["probity.db"].session_scope() as session:
        reporter_keys = session.scalar(select(func.count()).select_from(SealedKey).join(Report).where(
            Report.public_id == sent["report"], SealedKey.recipient_kind == "reporter"))
    assert reporter_keys == 1


def test_sigterm_lets_the_job_in_hand_finish(app, client, workers):
    worker = workers.start("w1", fault="slow=2")
    sent = submit_api(client, BRIBE)
    wait_until(lambda: JOB_TAKEN in worker.output(), 30, "the job to start")
    time.sleep(0.5)  # inside the job, not in the instant between taking it and starting it

    worker.process.send_signal(signal.SIGTERM)

    assert worker.process.wait(30) == 0
    assert report_field(app, sent["report"], Report.triage_state) in DONE
    assert worker.tree() == []  # no sweeper or scheduler left behind


def test_worker_joins_the_instance_embedded_redis_when_redis_url_is_unset(app, test_config, workers):
    web = create_app({**test_config, "redis_url": None})  # starts the instance's embedded server
    embedded = web.extensions["probity.redis"]
    try:
        del workers.env["REDIS_URL"]
        workers.start("w1")
        client = web.test_client()
        sent = submit_api(client, BRIBE)
        wait_until(lambda: report_field(app, sent["report"], Report.triage_state) in DONE, 60, "triage")
        assert embedded.llen("rq:queue:triage") == 0
    finally:
        workers.stop_all()
        web.extensions["probity.db"].dispose()
        embedded.shutdown(nosave=True)


@pytest.mark.slow
def test_a_burst_of_500_reports_with_two_workers(app, client, workers):
    workers.start("one", ready=False)
    workers.start("two")
    sent = [submit_api(client, f"{BRIBE} Case {i}.")["report"] for i in range(500)]

    wait_until(lambda: all_done(app, 500), 120, "500 reports to be triaged", interval=0.5)

    runs = triage_runs(app)
    assert sorted(runs) == sorted(sent) and set(runs.values()) == {1}
    lines = TRIAGED_LINE.findall(workers.output())
    assert len(lines) == 500 and len({public_id for public_id, _ in lines}) == 500
    per_worker = [len(TRIAGED_LINE.findall(w.output())) for w in workers.started]
    assert all(count > 0 for count in per_worker), per_worker
    with app.extensions["probity.db"].session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SealedKey)
                              .where(SealedKey.recipient_kind == "reporter")) == 500
        assert session.scalar(select(func.max(Report.triage_attempts))) == 1
