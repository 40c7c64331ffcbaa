"""Driving the workspace the way a staff member does: a browser-like client per person."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from crypto.envelope import open_body, seal_body, seal_for, unseal
from crypto.keys import key_id
from store.models import RecipientKind, Report, SealedKey, StaffMember, TriageState
from tests.conftest import StaffLogin
from tests.intake.helpers import receipt_from, submit_form
from triage.servicekey import load_service_keypair

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def next_code(app: Flask, person: StaffLogin) -> str:
    """A valid TOTP code that has not been used yet (waits for the next time step if need be)."""
    totp = pyotp.TOTP(person.totp_secret)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        last = session.scalar(select(StaffMember.totp_last_step).where(StaffMember.email == person.email)) or 0
    while True:
        current = totp.timecode(datetime.now(timezone.utc))
        step = max(current, last + 1)
        if step <= current + 1:
            return totp.generate_otp(step)
        time.sleep(1)


def forget_used_codes(app: Flask, person: StaffLogin) -> None:
    """Let a test sign the same person in more than the three times a time window allows."""
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == person.email))
        member.totp_last_step = 0


def sign_in(app: Flask, person: StaffLogin, client: FlaskClient | None = None,
            code: str | None = None, password: str | None = None) -> tuple[FlaskClient, Any]:
    client = client or app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    response = client.post("/staff/login", data={
        "csrf_token": csrf_from(page), "email": person.email, "password": password or person.password,
        "code": code or next_code(app, person),
    })
    return client, response


def signed_in(app: Flask, person: StaffLogin) -> FlaskClient:
    client, response = sign_in(app, person)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def post_form(client: FlaskClient, page_url: str, action: str, data: dict[str, Any] | None = None,
              **kwargs: Any) -> Any:
    """Submit a form the way a browser does: read the CSRF token from the page it is on."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **(data or {})},
                       **kwargs)


@dataclass(frozen=True)
class Triaged:
    public_id: str
    report_id: int
    data_key: bytes


def triage_directly(app: Flask, public_id: str, category: str = "gifts-or-favours",
                    flags: list[str] | None = None, confidence: float = 0.91,
                    evidence: list[str] | None = None) -> Triaged:
    """What the triage job does, done in the test with the intake service key: classification
    metadata, the sealed explanation, and the data key sealed to the reporter's receipt key."""
    settings = app.config["PROBITY"]
    service = load_service_keypair(settings.service_key_file)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        assert report is not None
        sealed = session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                        SealedKey.recipient_kind == RecipientKind.SERVICE.value))
        data_key = unseal(service.private_key, sealed.sealed_key)
        report.category, report.flags, report.confidence = category, list(flags or []), confidence
        report.language, report.model_version = "en", "test-model"
        report.triage_state = TriageState.CLASSIFIED.value
        report.triage_explanation = seal_body(data_key, json.dumps(
            {"evidence": evidence or ["took cash"], "scores": {category: confidence}}).encode())
        if not session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                      SealedKey.recipient_kind == RecipientKind.REPORTER.value)):
            session.add(SealedKey(report_id=report.id, recipient_kind=RecipientKind.REPORTER.value,
                                  key_id=key_id(report.reporter_public_key),
                                  sealed_key=seal_for(report.reporter_public_key, data_key)))
        return Triaged(public_id, report.id, data_key)


def report_plaintext(app: Flask, public_id: str) -> str:
    settings = app.config["PROBITY"]
    service = load_service_keypair(settings.service_key_file)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        sealed = session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                        SealedKey.recipient_kind == RecipientKind.SERVICE.value))
        return open_body(unseal(service.private_key, sealed.sealed_key), report.body).decode()


def file_report(app: Flask, summary: str, **fields: Any) -> tuple[str, str]:
    """Submit a report through the public form; return (public report id, receipt code)."""
    client = app.test_client()
    response = submit_form(client, summary, **fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        public_id = session.scalar(select(Report.public_id).order_by(Report.id.desc()).limit(1))
    return public_id, receipt_from(response.get_data(as_text=True))


def insert_cases(app: Flask, specs: list[dict[str, Any]], holders: list[StaffLogin]) -> list[str]:
    """Case rows with the given metadata and an (unopenable) key for each holder: enough for the
    queue, which never decrypts. Returns the public ids in order."""
    import os

    from intake.submission import new_public_id

    ids = []
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        members = [session.scalar(select(StaffMember).where(StaffMember.email == h.email)) for h in holders]
        for spec in specs:
            report = Report(public_id=new_public_id(), receipt_lookup=os.urandom(32),
                            reporter_public_key=os.urandom(32), body=os.urandom(64), **{"flags": [], **spec})
            session.add(report)
            session.flush()
            for member in members:
                session.add(SealedKey(report_id=report.id, recipient_kind=RecipientKind.STAFF.value,
                                      key_id=member.key_id, staff_id=member.id, sealed_key=os.urandom(80)))
            ids.append(report.public_id)
    return ids


def staff_id(app: Flask, person: StaffLogin) -> int:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return session.scalar(select(StaffMember.id).where(StaffMember.email == person.email))
