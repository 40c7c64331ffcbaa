"""End to end through both user interfaces: a reporter's browser encrypts a report and a file, and
an investigator signs in to the workspace in another browser and reads both canaries there."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from store.models import Report
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.reports import MiB, Canaries, evidence_file, fill_report
from triage import jobs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_investigator_reads_what_the_reporters_browser_encrypted(
        live_server: LiveServer, browser: Any, investigator: Any, tmp_path: Path) -> None:
    canaries = Canaries.fresh()
    evidence = evidence_file(tmp_path, canaries, size=2 * MiB)
    reporter = browser.new_context()
    page = reporter.new_page()
    page.goto(f"{live_server.url}/report")
    fill_report(page, canaries, evidence)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=60_000)
    reporter.close()
    for _m, _p, body in live_server.recorder.bodies:
        assert not [n for n in canaries.needles() if n in body]
    with live_server.app.app_context(), live_server.app.extensions["probity.db"].session_scope() as session:
        report = session.scalars(select(Report)).one()
        report_id, public_id = report.id, report.public_id
    jobs.run_triage(jobs.TriageContext.from_app(live_server.app), report_id)

    staff = browser.new_context()
    desk = staff.new_page()
    desk.goto(f"{live_server.url}/staff/login")
    desk.fill("#email", investigator.email)
    desk.fill("#password", investigator.password)
    desk.fill("#code", pyotp.TOTP(investigator.totp_secret).now())
    desk.click("button[type=submit]")
    desk.goto(f"{live_server.url}/staff/cases/{public_id}")
    assert canaries.text in (desk.text_content("main") or "")
    screenshot(desk, "workspace-case")
    link = desk.get_attribute("a:has-text('evidence.bin')", "href")
    assert link
    download = desk.request.get(live_server.url + link if link.startswith("/") else link)
    assert download.ok
    content = download.body()
    assert content == evidence.read_bytes() and content.count(canaries.file_marker) == 3
    staff.close()
