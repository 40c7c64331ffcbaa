"""The follow-up dialogue in a real browser: report with JavaScript, triage runs, an investigator
asks a question, the reporter opens the mailbox with the receipt, reads it and answers."""
from __future__ import annotations

from typing import Any

import pytest
from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox
from sqlalchemy import select

from store.models import Direction, Message, RecipientKind, Report, SealedKey
from tests.browser.conftest import LiveServer, screenshot
from triage import jobs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def investigator_asks(live_server: LiveServer, private_key: bytes, question: str) -> None:
    """What the workspace does when an investigator writes to the reporter."""
    with live_server.app.app_context(), live_server.app.extensions["probity.db"].session_scope() as session:
        report = session.scalars(select(Report)).one()
        for sealed in session.scalars(select(SealedKey).where(SealedKey.report_id == report.id,
                                                              SealedKey.recipient_kind == RecipientKind.STAFF.value)):
            data_key = SealedBox(PrivateKey(private_key)).decrypt(sealed.sealed_key)
        session.add(Message(report_id=report.id, direction=Direction.TO_REPORTER.value,
                            body=SecretBox(data_key).encrypt(question.encode())))


def replies_from_reporter(live_server: LiveServer, private_key: bytes) -> list[str]:
    with live_server.app.app_context(), live_server.app.extensions["probity.db"].session_scope() as session:
        report = session.scalars(select(Report)).one()
        sealed = session.scalars(select(SealedKey).where(SealedKey.report_id == report.id,
                                                         SealedKey.recipient_kind == RecipientKind.STAFF.value)).one()
        data_key = SealedBox(PrivateKey(private_key)).decrypt(sealed.sealed_key)
        return [SecretBox(data_key).decrypt(m.body).decode()
                for m in session.scalars(select(Message).where(Message.report_id == report.id,
                                                               Message.direction == Direction.FROM_REPORTER.value))]


def test_reporter_reads_a_question_and_answers_it_in_the_browser(
        live_server: LiveServer, browser: Any, investigator: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    page.fill("#summary", "The customs officer asked for money to release a container")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=60_000)
    receipt = (page.text_content("#receipt-code") or "").strip()

    with live_server.app.app_context(), live_server.app.extensions["probity.db"].session_scope() as session:
        report_id = session.scalars(select(Report.id)).one()
    assert not jobs.run_triage(jobs.TriageContext.from_app(live_server.app), report_id).skipped
    investigator_asks(live_server, investigator.keypair.private_key, "Which port was it, and on what date?")

    page.click("text=Open my mailbox")
    page.fill("#receipt", receipt.lower().replace("-", " "))
    page.click("button[type=submit]")
    page.wait_for_selector("#conversation")
    assert "Which port was it, and on what date?" in (page.text_content(".conversation") or "")
    screenshot(page, "mailbox")
    cookies = context.cookies()
    assert [c["path"] for c in cookies] == ["/followup"] and all(c["httpOnly"] for c in cookies)

    page.fill("#message", "Port of Lomé, 14 March, gate 3.")
    page.click("form[action^='/followup/reply'] button[type=submit]")
    page.wait_for_selector("li.mine")
    assert "Port of Lomé, 14 March, gate 3." in (page.text_content("li.mine") or "")
    context.close()
    assert replies_from_reporter(live_server, investigator.keypair.private_key) == ["Port of Lomé, 14 March, gate 3."]
