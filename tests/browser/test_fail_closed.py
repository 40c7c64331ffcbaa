"""When the page script cannot encrypt, it says so and sends nothing: never a silent plaintext
fallback to the form endpoint."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser

SUMMARY = "The director rigged the tender FAILCLOSEDCANARY"


def sent_the_summary(live_server: LiveServer) -> bool:
    return any(b"FAILCLOSEDCANARY" in body for _m, _p, body in live_server.recorder.bodies)


def refusal_shown(page: Any) -> str:
    page.wait_for_selector("#script-error:not([hidden])", timeout=30_000)
    return page.text_content("#script-error") or ""


def test_missing_encryption_library_refuses_to_send(live_server: LiveServer, browser: Any, investigator: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.route("**/static/vendor/**", lambda route: route.abort())
    page.goto(f"{live_server.url}/report")
    assert page.get_attribute("#report-form", "data-encrypts") == "browser"
    page.fill("#summary", SUMMARY)
    page.click("button[type=submit]")
    assert "nothing was sent" in refusal_shown(page)
    screenshot(page, "report-refused-no-library")
    assert page.url == f"{live_server.url}/report"
    assert not any(method == "POST" for method, _p, _b in live_server.recorder.bodies)
    context.close()


def test_a_server_refusal_is_reported_and_nothing_falls_back(live_server: LiveServer, browser: Any,
                                                             investigator: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.route("**/api/v1/reports", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": "not_configured", "message": "This service is not ready to receive reports yet."}'))
    page.goto(f"{live_server.url}/report")
    page.fill("#summary", SUMMARY)
    page.click("button[type=submit]")
    assert "This service is not ready to receive reports yet." in refusal_shown(page)
    assert "/report" not in live_server.recorder.paths()
    assert not sent_the_summary(live_server)
    # The reporter can try again: the form and what they typed are still there.
    assert page.input_value("#summary") == SUMMARY
    assert page.is_enabled("button[type=submit]")
    context.close()


def test_a_blank_summary_is_caught_before_anything_is_sent(live_server: LiveServer, browser: Any,
                                                           investigator: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    page.fill("#summary", "   ")
    page.click("button[type=submit]")
    assert "summary" in refusal_shown(page)
    assert live_server.recorder.bodies == []
    context.close()


def test_a_proof_that_went_stale_is_solved_again_once(live_server: LiveServer, browser: Any,
                                                      investigator: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []

    def first_one_stale(route: Any) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.headers.get("x-probity-proof", ""))
        route.fulfill(status=403, content_type="application/json",
                      body='{"error": "pow_expired", "message": "The proof-of-work challenge has expired."}')

    page.route("**/api/v1/reports", first_one_stale)
    page.goto(f"{live_server.url}/report")
    page.fill("#summary", SUMMARY)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=60_000)
    assert refused and refused[0]
    assert live_server.recorder.paths().count("/api/v1/reports") == 1
    context.close()
