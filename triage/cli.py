"""Operator commands: `flask --app wsgi keys init` and `flask --app wsgi triage {status,sweep,requeue}`."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.worker import Worker
from sqlalchemy import func, or_, select, update

from core.redis import redis_connection
from store.models import Report, TriageState
from store.types import utcnow
from triage.queue import enqueue_triage, triage_queue
from triage.servicekey import init_service_key
from triage.sweeper import SweepPolicy, sweep

keys_cli = AppGroup("keys", help="Manage the intake service key.")
triage_cli = AppGroup("triage", help="Watch and repair the triage queue.")


@keys_cli.command("init")
def keys_init() -> None:
    """Create the intake service key pair (private half 0600, outside anything served)."""
    settings = current_app.config["PROBITY"]
    with current_app.extensions["probity.db"].session_scope() as session:
        row, created = init_service_key(session, settings.service_key_file)
    verb = "Created" if created else "Found existing"
    click.echo(f"{verb} intake service key {row.key_id}; private half at {settings.service_key_file}")


@triage_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def triage_status(as_json: bool) -> None:
    """Reports per triage state, the oldest pending one, and what the queue holds (counts only)."""
    database = current_app.extensions["probity.db"]
    with database.session_scope() as session:
        states = dict(session.execute(select(Report.triage_state, func.count()).group_by(Report.triage_state)).all())
        oldest = session.scalar(select(func.min(Report.received_at))
                                .where(Report.triage_state == TriageState.PENDING.value))
    connection = redis_connection()
    queue = triage_queue(connection)
    status = {
        "reports": {state.value: int(states.get(state.value, 0)) for state in TriageState},
        "oldest_pending_seconds": round((utcnow() - oldest).total_seconds()) if oldest else None,
        "queued": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "waiting_retry": ScheduledJobRegistry(queue=queue).count,
        "failed_jobs": FailedJobRegistry(queue=queue).count,
        "workers": Worker.count(queue=queue),
    }
    if as_json:
        click.echo(json.dumps(status))
        return
    for key, value in status.items():
        click.echo(f"{key:>24}: {value}")


@triage_cli.command("sweep")
@click.option("--loop", is_flag=True, help="Keep sweeping every --every seconds (for `rq worker-pool` setups).")
@click.option("--every", default=60.0, show_default=True, help="Seconds between sweeps with --loop.")
@click.option("--stale-after", default=600.0, show_default=True, help="Seconds before a queued report is stuck.")
@click.option("--grace", default=30.0, show_default=True, help="Seconds before a never-queued report is stuck.")
def triage_sweep(loop: bool, every: float, stale_after: float, grace: float) -> None:
    """Queue reports stuck in `pending` (never queued, or queued long ago and not waiting)."""
    database = current_app.extensions["probity.db"]
    policy = SweepPolicy(grace=timedelta(seconds=grace), stale_after=timedelta(seconds=stale_after))
    while True:
        result = sweep(database, redis_connection(), policy, lock_seconds=every * 0.9 if loop else None)
        if not result.skipped_locked:
            click.echo(f"re-queued {len(result.requeued)}, still waiting in the queue {result.waiting}")
        if not loop:
            return
        time.sleep(every)


@triage_cli.command("requeue")
@click.option("--failed", "include_failed", is_flag=True, help="Every report whose triage failed.")
@click.argument("reports", nargs=-1)
def triage_requeue(include_failed: bool, reports: tuple[str, ...]) -> None:
    """Triage reports again: every failed one (--failed) and/or those named by public id.

    A named report is re-triaged whatever its state: the machine's category is replaced (a human's
    correction is kept beside it) and routing applies again, re-sealing the data key to routed
    investigators who lack it.
    """
    if not include_failed and not reports:
        raise click.UsageError("name reports by public id, or pass --failed")
    database = current_app.extensions["probity.db"]
    with database.session_scope() as session:
        chosen = Report.public_id.in_(reports)
        if include_failed:
            chosen = or_(chosen, Report.triage_state == TriageState.FAILED.value)
        ids = list(session.scalars(select(Report.id).where(chosen)))
        if ids:
            session.execute(update(Report).where(Report.id.in_(ids))
                            .values(triage_state=TriageState.PENDING.value, triage_attempts=0,
                                    triage_error=None, enqueued_at=None)
                            .execution_options(synchronize_session=False))
    queued = 0
    with database.session_scope() as session:
        for report_id in ids:
            queued += enqueue_triage(redis_connection(), report_id, session)
    click.echo(f"{len(ids)} report(s) back to pending, {queued} queued (the sweeper queues the rest)")


def register(app: Flask) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(triage_cli)
