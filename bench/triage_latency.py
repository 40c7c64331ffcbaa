"""End-to-end triage latency: from the HTTP POST of a report to the moment it is triaged.

Starts a real instance on 127.0.0.1: gunicorn serving the app, two `python -m triage.worker`
processes and Redis (a private redis-server unless --redis-url). Reports are sealed the way an
outside client seals them (PyNaCl, every recipient, a solved proof of work, all prepared before the
clock starts) and posted open-loop on a fixed schedule: first a baseline at 1 per second, then the
load at 20 per second for 30 seconds. Latency runs from the moment the POST began to the report's
`triaged_at`, which the worker stamps in the transaction that stores the result, milliseconds
before it commits (one machine, one clock). Printed per phase: p50, p95 and max of that latency and of
the POST alone, and how many requests failed.

    .venv/bin/python bench/triage_latency.py [--rate 20] [--seconds 30] [--database-url URL]

Receipts use the fast test KDF so that the web side's deliberate Argon2id cost (bench/kdf_cost.py)
does not hide the queue's; rate limits are raised to let one client send the whole load.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nacl.public import PublicKey, SealedBox  # noqa: E402
from nacl.secret import SecretBox  # noqa: E402
from nacl.utils import random  # noqa: E402
from sqlalchemy import select  # noqa: E402

from crypto.proofofwork import solve  # noqa: E402
from store.models import Report  # noqa: E402
from tests.triage.workers import TriageInstance, Workers, wait_until  # noqa: E402

POW_BITS = 8
TEXTS = [
    "The procurement officer split one large order into many small ones so no tender was needed, "
    "and every order went to his brother-in-law's firm.",
    "Le maire a fait embaucher sa fille au service des marchés publics sans concours.",
    "El inspector de aduanas cobra dinero en efectivo para dejar pasar los contenedores sin revisar.",
    "Начальник отдела выдаёт разрешения на строительство только за взятку.",
    "税务局的官员把纳税人的资料卖给了一家私人公司。",
    "يطلب موظف الجوازات مبلغاً مالياً مقابل تسريع إصدار جوازات السفر.",
]


def web_app() -> Any:
    """The app gunicorn serves here: production code, with limits raised for a single load client."""
    from core.app import create_app
    from core.config import AbuseLimits

    return create_app({"abuse": AbuseLimits(form_ticket_min_seconds=0, pow_difficulty_bits=POW_BITS,
                                            submissions_per_hour="10000000 per hour",
                                            global_submissions="10000000 per hour"),
                       "secure_cookies": False})


@dataclass
class Sent:
    began: float
    seconds: float
    status: int
    report: str | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def prepare_bodies(base: str, count: int) -> list[bytes]:
    """Sealed report requests, each with its own solved proof of work."""
    recipients = get_json(f"{base}/api/v1/keys")["recipients"]
    bodies = []
    for i in range(count):
        document = {"lang": "und", "fields": {"summary": f"{TEXTS[i % len(TEXTS)]} ({i})", "category_hint": None}}
        data_key = random(SecretBox.KEY_SIZE)
        challenge = get_json(f"{base}/api/v1/pow")
        nonce = solve(base64.b64decode(challenge["challenge"]), challenge["difficulty_bits"])
        bodies.append(json.dumps({
            "version": 1,
            "body": base64.b64encode(bytes(SecretBox(data_key).encrypt(json.dumps(document).encode()))).decode(),
            "keys": {r["id"]: base64.b64encode(SealedBox(PublicKey(base64.b64decode(r["public_key"])))
                                               .encrypt(data_key)).decode() for r in recipients},
            "pow": f"{challenge['challenge']}:{nonce}",
        }).encode())
    return bodies


def post(base: str, body: bytes) -> Sent:
    began = time.time()
    request = urllib.request.Request(f"{base}/api/v1/reports", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
            return Sent(began, time.time() - began, response.status, answer.get("report"))
    except urllib.error.HTTPError as error:
        return Sent(began, time.time() - began, error.code, None)


def run_phase(base: str, bodies: list[bytes], rate: float) -> list[Sent]:
    """Send on a fixed schedule (open loop): a slow answer never delays the next submission."""
    results: list[Sent] = []
    lock = threading.Lock()

    def send(body: bytes) -> None:
        sent = post(base, body)
        with lock:
            results.append(sent)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i, body in enumerate(bodies):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, body)
    return results


def triaged_at(app: Any, public_ids: list[str]) -> dict[str, float | None]:
    with app.extensions["probity.db"].session_scope() as session:
        rows = session.execute(select(Report.public_id, Report.triaged_at).where(Report.public_id.in_(public_ids)))
        return {public_id: at.timestamp() if at else None for public_id, at in rows}


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):6.3f} s  p95 {p95:6.3f} s  max {ordered[-1]:6.3f} s"


def report_phase(name: str, app: Any, sent: list[Sent]) -> None:
    accepted = [s.report for s in sent if s.status == 201 and s.report]
    began = {s.report: s.began for s in sent}
    # Polled slowly: on a small machine a busy poller would itself slow the workers down.
    wait_until(lambda: None not in triaged_at(app, accepted).values(), 300,  # type: ignore[arg-type]
               f"{name}: every report to be triaged", interval=1.0)
    done = triaged_at(app, accepted)  # type: ignore[arg-type]
    latency = [done[r] - began[r] for r in accepted]  # type: ignore[operator]
    print(f"{name:>22}: {len(sent)} sent, {len(sent) - len(accepted)} refused")
    print(f"{'POST -> triaged':>22}: {percentiles(latency)}")
    print(f"{'POST alone':>22}: {percentiles([s.seconds for s in sent if s.report in done])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="probity-bench-") as folder:
        instance = TriageInstance(Path(folder), args.database_url, args.redis_url)
        app = instance.prepare()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
                                f"127.0.0.1:{port}", "bench.triage_latency:web_app()"],
                               cwd=ROOT, env={**instance.env, "PYTHONPATH": str(ROOT)})
        workers = Workers(instance.env, Path(folder))
        try:
            for n in range(args.workers):
                workers.start(f"bench-{n + 1}", ready=False)
            for worker in workers.started:
                worker.wait_ready()
            wait_until(lambda: _answers(base), 60, "the web app to answer")
            baseline_count = int(args.baseline_seconds)
            load_count = int(args.rate * args.seconds)
            bodies = prepare_bodies(base, baseline_count + load_count)
            backend = (args.database_url or "sqlite").split(":")[0]
            print(f"triage latency: gunicorn + {args.workers} workers on {backend}, {os.cpu_count()} CPUs")
            report_phase("baseline 1/s", app, run_phase(base, bodies[:baseline_count], 1.0))
            report_phase(f"load {args.rate:g}/s for {args.seconds:g} s", app,
                         run_phase(base, bodies[baseline_count:], args.rate))
        finally:
            workers.stop_all()
            web.terminate()
            web.wait(20)
            app.extensions["probity.db"].dispose()
            instance.close()
    return 0


def _answers(base: str) -> bool:
    try:
        get_json(f"{base}/api/v1/keys")
        return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
