"""`python -m triage.worker [--burst] [--name N]`: an RQ worker on the `triage` queue.

The worker builds the app (settings, database, Redis: REDIS_URL, or the instance's embedded
redis-server when unset), checks the intake service key, loads the classifier once and freezes the
heap, and only then starts taking jobs. A sweeper runs beside it in its own process so that no
report stays pending.

Jobs run in the worker's own process (RQ's SimpleWorker); RQ's SIGALRM death penalty still ends a
job that overruns its timeout. RQ's default of forking a work horse per job was measured
(bench/worker_memory.py) at about five times the cost of the job itself: the fork of a process
holding the model, then copy-on-write faults on every page the job touches. Per-job isolation would
buy little here: the host already holds the service key that opens every report. `--fork` keeps
RQ's forking worker for operators who want it and can afford it.

SIGTERM or Ctrl-C: the current job finishes, then the worker and its sweeper exit. A second
signal stops at once; the interrupted report is still pending and will be swept.

For `rq worker-pool` use the class: `rq worker-pool triage -w triage.worker.TriageWorker
--serializer rq.serializers.JSONSerializer -n 4 --url $REDIS_URL` (docs/triage-operations.md).
"""
from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import redis
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer

from core.redis import url_of
from store.db import Database
from triage import jobs
from triage.queue import QUEUE_NAME
from triage.servicekey import ServiceKeyError
from triage.sweeper import SweepPolicy, sweep

log = logging.getLogger("probity.triage.worker")

WARM_UP_TEXT = ("An official accepted a gift. Un fonctionnaire a accepté un cadeau. Un funcionario aceptó un "
                "regalo. Чиновник принял подарок. 官员收受了礼物。 قبل موظف هدية.")


class _TriageWorkerMixin:
    """What every triage worker class adds to RQ's: JSON jobs only, a prepared context, a sweeper."""

    sweep_every: float = 60.0
    sweep_policy: SweepPolicy = SweepPolicy()

    def __init__(self, queues: Any = (QUEUE_NAME,), *args: Any, **kwargs: Any) -> None:
        given = list(queues) if isinstance(queues, (list, tuple)) else [queues]
        if kwargs.get("connection") is None:
            kwargs["connection"] = next((q.connection for q in given if isinstance(q, Queue)), None)
        # `rq worker-pool` hands over Queue objects built without a serializer: rebuild them by name.
        names = [q.name if isinstance(q, Queue) else str(q) for q in given]
        kwargs["serializer"] = JSONSerializer
        super().__init__(names, *args, **kwargs)  # type: ignore[call-arg]

    def work(self, *args: Any, **kwargs: Any) -> bool:
        prepare_process()
        burst = bool(kwargs.get("burst", args[0] if args else False))
        sweeper = None
        if burst:
            run_sweep_once(self.connection, self.sweep_policy)  # type: ignore[attr-defined]
        elif self.sweep_every > 0:
            sweeper = start_sweeper(url_of(self.connection), self.sweep_every,  # type: ignore[attr-defined]
                                    self.sweep_policy)
        kwargs.setdefault("with_scheduler", True)  # retries with a pause wait in RQ's scheduler
        try:
            return super().work(*args, **kwargs)  # type: ignore[misc,no-any-return]
        finally:
            if sweeper is not None:
                sweeper.terminate()
                sweeper.join(5)


class TriageWorker(_TriageWorkerMixin, SimpleWorker):
    """Runs each job in this process; the job timeout is enforced with SIGALRM."""


class ForkingTriageWorker(_TriageWorkerMixin, Worker):
    """RQ's default: a fresh work horse per job, at several times the cost of the job."""


def prepare_process() -> jobs.TriageContext:
    """Load the context once, before any fork, and keep the loaded model out of the collector's way."""
    context = jobs.current_context()
    # One classification here fills the classifier's lazy caches (compiled patterns and the like)
    # once, instead of in every short-lived horse.
    context.classifier.classify(WARM_UP_TEXT, None)
    # Objects alive now (the model above all) are never scanned again: full collections stay quick,
    # and forked children (the sweeper, `--fork` horses) do not copy the pages they share with us.
    gc.collect()
    gc.freeze()
    context.database.engine.dispose()
    return context


def run_sweep_once(connection: redis.Redis, policy: SweepPolicy) -> None:
    database = jobs.current_context().database
    try:
        sweep(database, connection, policy)
    except (redis.RedisError, OSError) as exc:
        log.warning("sweep skipped: Redis unreachable (%s)", type(exc).__name__)
    finally:
        database.engine.dispose()


def start_sweeper(redis_url: str, every: float, policy: SweepPolicy) -> multiprocessing.process.BaseProcess:
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_sweeper_main, args=(redis_url, every, policy, os.getpid()),
                              name="triage-sweeper", daemon=True)
    process.start()
    return process


def _sweeper_main(redis_url: str, every: float, policy: SweepPolicy, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    database = Database(jobs.current_context().database.url)
    connection = redis.Redis.from_url(redis_url)
    next_run = time.monotonic()
    while os.getppid() == parent_pid:  # the worker died (even by SIGKILL): so do we
        if time.monotonic() >= next_run:
            next_run = time.monotonic() + every
            try:
                sweep(database, connection, policy, lock_seconds=every * 0.9)
            except (redis.RedisError, OSError) as exc:
                log.warning("sweep skipped: Redis unreachable (%s)", type(exc).__name__)
            except Exception as exc:  # a database hiccup must not end the sweeper
                log.warning("sweep failed (%s); trying again in %.0f s", type(exc).__name__, every)
        time.sleep(min(1.0, every))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m triage.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--burst", action="store_true", help="sweep once, empty the queue, then exit")
    parser.add_argument("--name", default=None, help="worker name, unique among live workers")
    parser.add_argument("--sweep-every", type=float, default=60.0, metavar="SECONDS",
                        help="how often to look for stuck reports; 0 turns the sweeper off")
    parser.add_argument("--stale-after", type=float, default=600.0, metavar="SECONDS",
                        help="re-queue a pending report queued longer ago than this")
    parser.add_argument("--grace", type=float, default=30.0, metavar="SECONDS",
                        help="queue a never-queued report once it is this old")
    parser.add_argument("--fork", action="store_true",
                        help="fork a work horse per job (RQ's default; several times slower)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from core.app import create_app

    app = create_app()
    try:
        context = jobs.TriageContext.from_app(app)
    except (jobs.TriageError, ServiceKeyError) as exc:
        print(f"triage worker: {exc}", file=sys.stderr)
        return 2
    jobs.install_context(context)
    connection = redis.Redis.from_url(url_of(app.extensions["probity.redis"]))
    worker_class = ForkingTriageWorker if args.fork else TriageWorker
    worker = worker_class([QUEUE_NAME], name=args.name, connection=connection)
    worker.sweep_every = args.sweep_every
    worker.sweep_policy = SweepPolicy(grace=timedelta(seconds=args.grace),
                                      stale_after=timedelta(seconds=args.stale_after))
    log.info("triage worker %s ready: model %s, service key %s", worker.name,
             context.classifier.model_version, context.service_key_id)
    try:
        worker.work(burst=args.burst, logging_level="INFO")
    except redis.exceptions.ConnectionError as exc:
        print(f"triage worker: Redis is unreachable ({type(exc).__name__})", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
