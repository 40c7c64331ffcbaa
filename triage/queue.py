"""The triage queue: job ids only, never content."""
from __future__ import annotations

import logging

import redis
from rq import Queue
from rq.serializers import JSONSerializer

log = logging.getLogger("probity.triage")

QUEUE_NAME = "triage"


def triage_queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


def enqueue_triage(connection: redis.Redis, report_id: int) -> bool:
    """Queue a stored report for triage. False when Redis is unreachable: the sweeper retries."""
    try:
        triage_queue(connection).enqueue(
            "triage.jobs.triage_report", report_id,
            job_id=f"triage-{report_id}", result_ttl=0, failure_ttl=3600,
        )
    except redis.exceptions.RedisError:
        log.warning("triage queue unreachable; report id=%s will be swept later", report_id)
        return False
    return True
