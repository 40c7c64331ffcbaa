"""What a triage worker costs: memory after loading the model and after N jobs, and time per job
with RQ's fork-per-job worker (`--fork`) against the in-process worker Probity runs by default.

For each mode the same N stored reports are reset to pending, queued, and triaged by one real
`python -m triage.worker` process (sweeper off). Printed per mode: the worker's RSS, USS and PSS
once it listens and after the jobs; wall time per job (queue to last report triaged, divided by N);
RQ's own job time (inside the horse, or in-process); and, in fork mode, the largest private memory
(USS) seen in a work horse, sampled every few milliseconds. The fork's cost per job is the
difference between the two modes' wall times.

    .venv/bin/python bench/worker_memory.py [--jobs 300] [--modes fork,in-process] [--database-url URL]

Defaults: a SQLite file and a private redis-server in a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402

from store.models import Report, SealedKey, TriageState  # noqa: E402
from tests.triage.workers import TriageInstance, WorkerProcess, store_reports, wait_until  # noqa: E402
from triage.queue import enqueue_triage  # noqa: E402

MiB = 1024 * 1024
CORPUS = Path(__file__).resolve().parent.parent / "triage" / "corpus" / "probe"
JOB_TIME = re.compile(r"Successfully completed .* job in (\d+):(\d+):([\d.]+)s")


def sample_texts(count: int) -> list[str]:
    texts = [json.loads(line)["text"] for path in sorted(CORPUS.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def memory(pid: int) -> dict[str, float]:
    info = psutil.Process(pid).memory_full_info()
    return {"rss": info.rss / MiB, "uss": info.uss / MiB, "pss": info.pss / MiB}


def reset(app, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with app.extensions["probity.db"].session_scope() as session:
        session.execute(update(Report).where(Report.id.in_(ids)).values(
            triage_state=TriageState.PENDING.value, triage_attempts=0, triaged_at=None, category=None,
            flags=[], confidence=None, triage_explanation=None, enqueued_at=None))
        session.execute(delete(SealedKey).where(SealedKey.recipient_kind == "reporter"))


def pending(app) -> int:  # type: ignore[no-untyped-def]
    with app.extensions["probity.db"].session_scope() as session:
        return session.scalar(select(func.count()).select_from(Report)
                              .where(Report.triage_state == TriageState.PENDING.value)) or 0


class HorseSampler(threading.Thread):
    """Samples the private memory of work horses (children that lead their own process group)."""

    def __init__(self, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.worker_pid = worker_pid
        self.max_uss = 0.0
        self.horses: set[int] = set()
        self.running = True

    def run(self) -> None:
        parent = psutil.Process(self.worker_pid)
        while self.running:
            try:
                for child in parent.children():
                    if child_leads_group(child.pid):
                        self.horses.add(child.pid)
                        self.max_uss = max(self.max_uss, child.memory_full_info().uss / MiB)
            except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                pass
            time.sleep(0.003)


def child_leads_group(pid: int) -> bool:
    return os.getpgid(pid) == pid


def measure(instance: TriageInstance, app, ids: list[int], mode: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    reset(app, ids)
    options = ["--sweep-every", "0"] + (["--fork"] if mode == "fork" else [])
    worker = WorkerProcess.start(instance.env, instance.folder, f"bench-{mode}", *options)
    try:
        worker.wait_ready()
        time.sleep(1)
        ready = memory(worker.process.pid)
        sampler = HorseSampler(worker.process.pid)
        connection = redis.Redis.from_url(instance.redis_url)
        started = time.perf_counter()
        sampler.start()
        for report_id in ids:
            enqueue_triage(connection, report_id)
        wait_until(lambda: pending(app) == 0, 600, "every report to be triaged", interval=0.02)
        wall = time.perf_counter() - started
        sampler.running = False
        after = memory(worker.process.pid)
        job_times = [int(h) * 3600 + int(m) * 60 + float(s) for h, m, s in JOB_TIME.findall(worker.output())]
    finally:
        worker.terminate()
    return {"mode": mode, "ready": ready, "after": after, "wall_ms_per_job": 1000 * wall / len(ids),
            "rq_job_ms_median": 1000 * statistics.median(job_times) if job_times else float("nan"),
            "horse_max_uss": sampler.max_uss, "horses_seen": len(sampler.horses)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--modes", default="fork,in-process", help="comma-separated: fork, in-process")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    with tempfile.TemporaryDirectory(prefix="probity-bench-") as folder:
        instance = TriageInstance(Path(folder), args.database_url, args.redis_url)
        try:
            app = instance.prepare()
            ids = store_reports(app, sample_texts(args.jobs))
            results = [measure(instance, app, ids, mode) for mode in modes]
            app.extensions["probity.db"].dispose()
        finally:
            instance.close()
    backend = (args.database_url or "sqlite").split(":")[0]
    print(f"triage worker memory and per-job cost: {args.jobs} jobs, one worker, {backend}")
    print(f"{'mode':>11} | {'RSS ready':>9} {'USS':>6} {'PSS':>6} | {'RSS after':>9} {'USS':>6} {'PSS':>6} |"
          f" {'wall/job':>8} {'RQ job':>7} | {'horse USS max':>13}")
    for r in results:
        ready, after = r["ready"], r["after"]
        print(f"{r['mode']:>11} | {ready['rss']:8.1f}M {ready['uss']:5.1f}M {ready['pss']:5.1f}M |"  # type: ignore[index]
              f" {after['rss']:8.1f}M {after['uss']:5.1f}M {after['pss']:5.1f}M |"  # type: ignore[index]
              f" {r['wall_ms_per_job']:6.1f}ms {r['rq_job_ms_median']:5.1f}ms |"
              f" {r['horse_max_uss']:11.1f}M" + (f" ({r['horses_seen']} seen)" if r["mode"] == "fork" else ""))
    walls = {r["mode"]: r["wall_ms_per_job"] for r in results}
    if {"fork", "in-process"} <= walls.keys():
        print(f"fork cost per job (wall, fork minus in-process): "
              f"{walls['fork'] - walls['in-process']:.1f} ms")  # type: ignore[operator]
    return 0


if __name__ == "__main__":
    sys.exit(main())
