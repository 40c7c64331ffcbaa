"""The sweeper: re-queues reports left `pending`, so no report waits forever for triage.

A report is stuck when it was never queued (Redis was down when it arrived) and is older than a
short grace period, or when it was queued longer ago than `stale_after` and is still pending (a
worker died, Redis lost its memory, a job failed for good). A stuck report whose job is visibly
waiting in the queue, or waiting for a retry, is left alone; anything else is queued afresh. A
re-queue can never triage a report twice: the job claims it with a conditional update.

Every worker runs a sweeper; a short Redis lock makes one sweep per interval across the fleet.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select

from store.db import Database
from store.models import Report, TriageState
from store.types import utcnow
from triage.queue import enqueue_triage, job_id_for, record_enqueued, triage_queue

log = logging.getLogger("probity.triage.sweeper")

LOCK_KEY = "probity:triage:sweep-lock"
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@dataclass(frozen=True)
class SweepPolicy:
    grace: timedelta = timedelta(seconds=30)
    stale_after: timedelta = timedelta(minutes=10)
    batch: int = 1000


@dataclass
class SweepResult:
    requeued: list[int] = field(default_factory=list)
    waiting: int = 0
    skipped_locked: bool = False


def stuck_reports(database: Database, policy: SweepPolicy, now: datetime | None = None) -> list[int]:
    """Ids of pending reports that nothing seems to be working on, oldest first."""
    now = now or utcnow()
    with database.session_scope() as session:
        return list(session.scalars(
            select(Report.id)
            .where(Report.triage_state == TriageState.PENDING.value)
            .where(or_(
                and_(Report.enqueued_at.is_(None), Report.received_at < now - policy.grace),
                Report.enqueued_at < now - policy.stale_after,
            ))
            .order_by(Report.received_at, Report.id)
            .limit(policy.batch)
        ))


def is_waiting(connection: redis.Redis, report_id: int) -> bool:
    """True when the report's job is in the queue, or scheduled for a retry."""
    queue = triage_queue(connection)
    try:
        job = Job.fetch(job_id_for(report_id), connection=connection, serializer=queue.serializer)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status not in WAITING:
        return False
    if status == JobStatus.QUEUED:
        # The job hash can outlive its entry in the queue list (a crash between the two writes).
        return connection.lpos(queue.key, job.id) is not None
    return True


def discard_job(connection: redis.Redis, report_id: int) -> None:
    """Remove a dead job (started by a vanished worker, or failed) before queueing a fresh one."""
    queue = triage_queue(connection)
    try:
        Job.fetch(job_id_for(report_id), connection=connection, serializer=queue.serializer).delete()
    except NoSuchJobError:
        pass


def sweep(database: Database, connection: redis.Redis, policy: SweepPolicy = SweepPolicy(),
          lock_seconds: float | None = None, now: datetime | None = None) -> SweepResult:
    """One pass. With `lock_seconds`, skip the pass if another sweeper ran within that time."""
    result = SweepResult()
    if lock_seconds and not connection.set(LOCK_KEY, b"1", nx=True, px=max(1, int(lock_seconds * 1000))):
        result.skipped_locked = True
        return result
    for report_id in stuck_reports(database, policy, now):
        if is_waiting(connection, report_id):
            result.waiting += 1
            continue
        discard_job(connection, report_id)
        if enqueue_triage(connection, report_id):
            result.requeued.append(report_id)
    with database.session_scope() as session:
        record_enqueued(session, result.requeued)
    if result.requeued:
        log.info("sweeper re-queued %d pending report(s): ids=%s", len(result.requeued),
                 ",".join(map(str, result.requeued[:50])))
    return result
