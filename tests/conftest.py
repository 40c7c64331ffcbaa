"""Fixtures: an app per test on a real database (SQLite and PostgreSQL) and a real Redis."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from core.config import AbuseLimits
from crypto.keys import KeyPair, keypair_from_seed
from crypto.wrapping import TEST_LIMITS, unwrap_key
from tests.backends import (PostgresTemplate, SqliteTemplate, keep_redis_lock, machine_redis, postgres_available,
                            release_redis_lock)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[redis.Redis, str]]:
    """The machine's Redis when reachable, else an embedded redis-server (both real)."""
    connection = machine_redis()
    if connection is not None:
        kwargs = connection.connection_pool.connection_kwargs
        yield connection, f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"
        release_redis_lock(connection)
        return
    from core.redis import start_embedded, url_of

    embedded = start_embedded(tmp_path_factory.mktemp("redis") / "redis.db")
    yield embedded, url_of(embedded)
    embedded.shutdown(nosave=True)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    template = SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))
    template.build()
    return template


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate | None]:
    if not postgres_available():
        yield None
        return
    template = PostgresTemplate()
    template.build()
    yield template
    template.destroy()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate,
                 postgres_template: PostgresTemplate | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_template.clone(tmp_path)
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL is not reachable on this machine")
    url = postgres_template.clone()
    yield url
    postgres_template.drop(url)


@pytest.fixture
def redis_conn(redis_server: tuple[redis.Redis, str]) -> redis.Redis:
    connection, _url = redis_server
    connection.flushdb()
    keep_redis_lock(connection)
    return connection


@pytest.fixture
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("PROBITY_INSTANCE", str(path))
    monkeypatch.setenv("PROBITY_INSECURE_FAST_KDF", "1")
    return path


@pytest.fixture
def test_config(instance_path: Path, database_url: str, redis_server: tuple[redis.Redis, str],
                redis_conn: redis.Redis) -> dict[str, object]:
    return {
        "instance_path": instance_path,
        "database_url": database_url,
        "redis_url": redis_server[1],
        "files_path": instance_path / "files",
        "service_key_file": instance_path / "keys" / "intake-service.key",
        "secure_cookies": False,
        "receipt_limits": TEST_LIMITS,
        "staff_limits": TEST_LIMITS,
        "testing": True,
        # Humans take seconds to fill a form, and a phone a second for the proof of work; tests do not.
        "abuse": AbuseLimits(form_ticket_min_seconds=0, pow_difficulty_bits=8),
    }


@pytest.fixture
def app(test_config: dict[str, object]) -> Iterator[Flask]:
    from core.app import create_app
    from triage.servicekey import init_service_key

    app = create_app(test_config)
    with app.app_context():
        with app.extensions["probity.db"].session_scope() as session:
            init_service_key(session, test_config["service_key_file"])  # type: ignore[arg-type]
    yield app
    app.extensions["probity.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@dataclass(frozen=True)
class StaffLogin:
    email: str
    password: str
    totp_secret: str
    recovery_key: str
    role: str
    keypair: KeyPair


def add_staff(app: Flask, email: str, role: str = "investigator") -> StaffLogin:
    """Create a staff member the way operators do and return their secrets and key pair."""
    from sqlalchemy import select

    from cases.accounts import create_staff
    from store.models import StaffMember

    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        account = create_staff(session, email, role, TEST_LIMITS)
        member = session.scalar(select(StaffMember).where(StaffMember.email == account.email))
        assert member is not None
        private_key = unwrap_key(member.key_wrapped_by_password, account.password.encode())
    return StaffLogin(account.email, account.password, account.totp_secret, account.recovery_key, role,
                      keypair_from_seed(private_key))


@pytest.fixture
def investigator(app: Flask) -> StaffLogin:
    return add_staff(app, "ines.investigator@example.org")


@pytest.fixture(autouse=True)
def _capture_all_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Every test's logs are inspected by the canary tests; capture everything.
    caplog.set_level(logging.DEBUG)
