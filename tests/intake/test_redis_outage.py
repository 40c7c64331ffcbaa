"""With Redis unreachable a report is still accepted and stored through HTTP (form and API); the
sweeper queues it for triage later (tests/triage/test_resilience.py covers that half)."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from store.models import Report, TriageState
from tests.conftest import add_staff
from tests.intake.helpers import client_envelope, form_ticket, plaintext


@pytest.fixture
def app_without_redis(test_config: dict[str, object]) -> Iterator[Flask]:
    from core.app import create_app
    from triage.servicekey import init_service_key

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app({**test_config, "redis_url": f"redis://127.0.0.1:{port}/0"})  # nothing listens there
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        init_service_key(session, test_config["service_key_file"])  # type: ignore[arg-type]
    yield app
    app.extensions["probity.db"].dispose()


def test_reports_are_stored_while_redis_is_down(app_without_redis: Flask) -> None:
    app = app_without_redis
    add_staff(app, "ines@example.org")
    client = app.test_client()
    form = client.post("/report", data={"ticket": form_ticket(client), "summary": "Form report during an outage"},
                       content_type="multipart/form-data")
    assert form.status_code == 201, form.get_data(as_text=True)[:500]
    request_json, _key = client_envelope(client, plaintext("API report during an outage"))
    api = client.post("/api/v1/reports", json=request_json)
    assert api.status_code == 201, api.get_json()
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        reports = session.scalars(select(Report)).all()
        assert [r.triage_state for r in reports] == [TriageState.PENDING.value] * 2
        assert all(r.enqueued_at is None for r in reports)  # not queued: the sweeper will do it
