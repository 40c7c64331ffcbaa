"""Every public page in a real browser: no request goes anywhere but our own server, axe-core finds
no serious or critical accessibility violation, and a screenshot of each is kept for review."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ROOT, LiveServer, screenshot

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {
    "landing": "/",
    "report-form": "/report",
    "report-form-arabic": "/report?lang=ar",
    "followup-login": "/followup",
    "code-of-conduct": "/code-of-conduct",
}


def visit_everything(page: Any, base: str, tmp_path: Path) -> None:
    """The public pages, a report with a file sent through the page script, and the mailbox login."""
    for name, path in PAGES.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        screenshot(page, name)
    page.goto(base + "/report")
    page.fill("#summary", "A school inspector sells exam papers")
    evidence = tmp_path / "note.txt"
    evidence.write_text("the price list")
    page.set_input_files("#files", str(evidence))
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=60_000)
    page.click("text=Open my mailbox")
    page.wait_for_load_state("networkidle")


def test_no_request_of_any_public_page_leaves_this_machine(live_server: LiveServer, browser: Any,
                                                           investigator: Any, tmp_path: Path) -> None:
    context = browser.new_context()
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    page = context.new_page()
    page.on("worker", lambda worker: seen.append(worker.url))
    visit_everything(page, live_server.url, tmp_path)
    context.close()
    origin = urlsplit(live_server.url)
    assert len(seen) > 20
    assert any(url.endswith("/static/js/pow-worker.js") for url in seen), "the proof-of-work worker never ran"
    elsewhere = [url for url in seen
                 if urlsplit(url).scheme != "http" or urlsplit(url).hostname != "127.0.0.1"
                 or urlsplit(url).port != origin.port]
    assert elsewhere == []


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_public_pages_have_no_serious_accessibility_violation(live_server: LiveServer, browser: Any,
                                                               investigator: Any) -> None:
    # axe-core is injected from node_modules, which the CSP rightly forbids: this test alone bypasses it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for name, path in PAGES.items():
        page.goto(live_server.url + path)
        found[name] = serious_violations(page)
    page.goto(live_server.url + "/report")
    page.fill("#summary", "A school inspector sells exam papers")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=60_000)
    found["receipt"] = serious_violations(page)
    page.goto(live_server.url + "/report")
    page.click("button[type=submit]")  # the browser's own check: the summary is required
    found["report-form-unfilled"] = serious_violations(page)
    context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}
