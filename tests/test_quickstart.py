"""`make run` (after installing): the launcher starts embedded Redis, a worker and the web app on
SQLite, prints how to log in, serves the pages, classifies a report, and stops cleanly."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
        return response.status, response.read().decode()


@pytest.mark.slow
def test_make_run_launcher(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(PORT=str(port), PROBITY_INSTANCE=str(tmp_path / "instance"), PROBITY_INSECURE_FAST_KDF="1",
               PYTHONUNBUFFERED="1")
    log = tmp_path / "quickstart.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "core.quickstart"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while "Press Ctrl-C to stop." not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.time() < deadline, log.read_text()
            time.sleep(0.5)
        output = log.read_text()
        assert f"http://127.0.0.1:{port}/" in output
        assert re.search(r"admin:\s+email:\s+admin@", output)
        assert re.search(r"investigator:\s+email:\s+investigator@", output)
        assert re.search(r"TOTP secret:\s+[A-Z2-7]{32}", output)
        while True:
            try:
                status, page = get(f"http://127.0.0.1:{port}/report")
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.5)
        assert status == 200
        ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
        time.sleep(3.1)  # the form ticket's minimum fill time (a human takes longer)
        body = urllib.parse.urlencode({"ticket": ticket, "summary": "The mayor took an envelope for the permit"}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/report", data=body), timeout=30) as r:
            assert r.status == 201
        engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'probity.sqlite3'}")
        state = None
        while time.time() < deadline:
            with engine.connect() as connection:
                state = connection.execute(text("SELECT triage_state FROM reports")).scalar()
            if state in ("classified", "needs-human"):
                break
            time.sleep(0.5)
        engine.dispose()
        assert state in ("classified", "needs-human"), log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert "Traceback" not in log.read_text(), log.read_text()
