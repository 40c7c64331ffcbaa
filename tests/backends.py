"""The real services the suite runs against: PostgreSQL and Redis when reachable, else SQLite and
an embedded redis-server. Nothing here is a fake."""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

import redis

PG_HOST = os.environ.get("PROBITY_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PROBITY_TEST_PG_PORT", "5432"))
PG_ADMIN_DB = "postgres"
REDIS_HOST = os.environ.get("PROBITY_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("PROBITY_TEST_REDIS_PORT", "6379"))
# Each test session claims one numbered database of the machine's Redis with a lock key, so that
# suites running at the same time on one machine never flush each other's data.
REDIS_LOCK = "probity-test-session-lock"
REDIS_DATABASES = range(1, 16)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    if os.environ.get("PROBITY_TEST_NO_POSTGRES"):
        return False
    if not reachable(PG_HOST, PG_PORT):
        return False
    try:
        import psycopg

        with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=_pg_user(), connect_timeout=2):
            return True
    except Exception:
        return False


def _pg_user() -> str:
    return os.environ.get("PROBITY_TEST_PG_USER", "postgres")


def pg_url(dbname: str) -> str:
    return f"postgresql+psycopg://{_pg_user()}@{PG_HOST}:{PG_PORT}/{dbname}"


class PostgresTemplate:
    """A migrated template database, cloned for each test (fast and fully isolated)."""

    def __init__(self) -> None:
        self.template = f"probity_tpl_{uuid.uuid4().hex[:8]}"
        self.clones: list[str] = []

    def _admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=_pg_user(), autocommit=True)

    def build(self) -> None:
        from store.migrate import upgrade

        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.template}"')
        upgrade(pg_url(self.template))

    def clone(self) -> str:
        name = f"probity_t_{uuid.uuid4().hex[:10]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.clones.append(name)
        return pg_url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        with self._admin() as conn:
            for name in [*self.clones, self.template]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SqliteTemplate:
    """A migrated SQLite file, copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.sqlite3"

    def build(self) -> None:
        from store.migrate import upgrade

        upgrade(f"sqlite:///{self.path}")

    def clone(self, folder: Path) -> str:
        target = folder / "probity.sqlite3"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


def machine_redis() -> redis.Redis | None:
    """A database of the machine's Redis that this test session holds alone, or None."""
    if os.environ.get("PROBITY_TEST_NO_MACHINE_REDIS") or not reachable(REDIS_HOST, REDIS_PORT):
        return None
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    for db in REDIS_DATABASES:
        connection = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
        try:
            if connection.set(REDIS_LOCK, token, nx=True, ex=4 * 3600):
                return connection
        except redis.RedisError:
            return None
    return None


def keep_redis_lock(connection: redis.Redis) -> None:
    """Re-take the session's lock after a test flushed its database."""
    connection.set(REDIS_LOCK, f"{os.getpid()}", ex=4 * 3600)


def release_redis_lock(connection: redis.Redis) -> None:
    connection.flushdb()
