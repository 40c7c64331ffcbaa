"""The triage queue: RQ on Redis, job ids only, never content.

A report row is committed before it is queued, so Redis losing a job (or being down when the report
arrives) never loses a report: the sweeper (triage/sweeper.py) queues whatever is left `pending`.
Jobs keep no result; a failure keeps only the sanitised exception for `FAILURE_TTL` seconds.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import update
from sqlalchemy.orm import Session

from store.models import Report, TriageState
from store.types import utcnow

log = logging.getLogger("probity.triage")

QUEUE_NAME = "triage"
JOB_FUNCTION = "triage.jobs.triage_report"
# A job classifies one report in milliseconds; the timeout covers waiting for a database lock.
JOB_TIMEOUT = 120
# Failed jobs hold only a job id and a content-free exception; a day is enough to investigate.
FAILURE_TTL = 24 * 3600
# Transient failures (database unreachable, lock timeouts) are retried with growing pauses.
RETRY = Retry(max=3, interval=[10, 60, 300])


def triage_queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


def job_id_for(report_id: int) -> str:
    """One job id per report, so a report queued twice is visibly one job (see the sweeper)."""
    return f"triage-{report_id}"


def enqueue_triage(connection: redis.Redis, report_id: int, session: Session | None = None) -> bool:
    """Queue a stored report for triage; with `session`, record when (so the sweeper leaves it be).

    Returns False when Redis is unreachable: the report stays `pending` and the sweeper queues it.
    """
    try:
        triage_queue(connection).enqueue(
            JOB_FUNCTION, report_id, job_id=job_id_for(report_id), result_ttl=0,
            failure_ttl=FAILURE_TTL, job_timeout=JOB_TIMEOUT, retry=RETRY,
        )
    except redis.exceptions.RedisError:
        log.warning("triage queue unreachable; report id=%s will be swept later", report_id)
        return False
    if session is not None:
        record_enqueued(session, [report_id])
    return True


def record_enqueued(session: Session, report_ids: Iterable[int]) -> None:
    """Stamp `enqueued_at` on reports still pending, count the attempt, and commit.

    Attempts are counted when a report is queued, not when a job starts, so the job itself needs
    one transaction only; a report whose worker keeps dying is still bounded (triage/jobs.py).
    """
    ids = list(report_ids)
    if not ids:
        return
    session.execute(
        update(Report)
        .where(Report.id.in_(ids), Report.triage_state == TriageState.PENDING.value)
        .values(enqueued_at=utcnow(), triage_attempts=Report.triage_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
