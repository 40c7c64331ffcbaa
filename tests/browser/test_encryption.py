"""The report form in a real browser: with JavaScript the report and a 20 MB file are encrypted on
the device (nothing readable leaves it); without JavaScript the server encrypts; without
WebAssembly the page still encrypts. In every case an investigator's key opens what was stored."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intake.content import build_content, encode_content
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.reports import Canaries, evidence_file, fill_report, read_as_investigator
from tests.intake.inspect import database_dump, folder_dump, redis_dump

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RECEIPT_TIMEOUT_MS = 180_000


def watch_requests(page: Any) -> list[Any]:
    """Every request the page makes, each also passed through a route (so none escapes unseen)."""
    seen: list[Any] = []
    page.on("request", lambda request: seen.append(request))
    page.route("**/*", lambda route: route.continue_())
    return seen


def expected_plaintext(values: dict[str, str], lang: str = "en") -> bytes:
    known = frozenset({"gifts-or-favours"})
    return encode_content(build_content(lang, dict(values), "gifts-or-favours", known))


def assert_nothing_readable_at_rest(live_server: LiveServer, canaries: Canaries, redis_conn: Any,
                                    receipt: str) -> None:
    config = live_server.app.config["PROBITY"]
    needles = [canaries.text.encode(), canaries.file_marker, receipt.encode(), receipt.replace("-", "").encode()]
    for where, haystack in {"database": database_dump(live_server.app),
                            "instance folder": folder_dump(config.instance_path),
                            "files": folder_dump(config.files_path),
                            "redis": redis_dump(redis_conn)}.items():
        assert not [n for n in needles if n in haystack], f"plaintext found in the {where}"


def submit_and_wait_for_receipt(page: Any) -> str:
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code", timeout=RECEIPT_TIMEOUT_MS)
    receipt = (page.text_content("#receipt-code") or "").strip()
    assert receipt
    return receipt


def test_javascript_encrypts_the_report_and_a_20_mb_file_on_the_device(
        live_server: LiveServer, browser: Any, investigator: Any, redis_conn: Any, tmp_path: Path) -> None:
    canaries = Canaries.fresh()
    evidence = evidence_file(tmp_path, canaries)
    context = browser.new_context()
    page = context.new_page()
    requests = watch_requests(page)
    page.goto(f"{live_server.url}/report")
    assert page.get_attribute("#report-form", "data-encrypts") == "browser", "the page script did not start"
    values = fill_report(page, canaries, evidence)
    receipt = submit_and_wait_for_receipt(page)
    screenshot(page, "report-receipt-javascript")

    # The receipt is in the page only: no navigation, so it is in no URL and no history entry.
    assert page.url == f"{live_server.url}/report"
    assert receipt not in " ".join(r.url for r in requests)
    # Nothing readable left the browser, in any request body (whatever its kind)...
    bodies = live_server.recorder.bodies
    assert live_server.recorder.total_bytes() > evidence.stat().st_size, "the file was never uploaded"
    for method, path, body in bodies:
        assert not [n for n in canaries.needles() if n in body], f"plaintext in the body of {method} {path}"
    for request in requests:
        assert request.url.startswith(f"{live_server.url}/")
        body = request.post_data_buffer or b""
        assert not [n for n in canaries.needles() if n in body], f"plaintext in a request to {request.url}"
    # ...and it went to the JSON API, never to the form endpoint the server encrypts for.
    paths = live_server.recorder.paths()
    assert "/report" not in paths
    assert "/api/v1/reports" in paths
    context.close()

    stored = read_as_investigator(live_server.app, investigator.keypair.private_key,
                                  live_server.app.config["PROBITY"].files_path)
    assert stored.plaintext == expected_plaintext(values), "the browser's plaintext differs from encode_content"
    assert canaries.text in stored.document["fields"]["summary"]
    [(meta, content)] = stored.files
    assert meta == {"name": "evidence.bin", "type": "application/octet-stream", "size": evidence.stat().st_size}
    assert content == evidence.read_bytes()
    assert content.count(canaries.file_marker) == 3
    assert_nothing_readable_at_rest(live_server, canaries, redis_conn, receipt)


def test_without_javascript_the_server_encrypts_the_same_report(
        live_server: LiveServer, browser: Any, investigator: Any, redis_conn: Any, tmp_path: Path) -> None:
    canaries = Canaries.fresh()
    evidence = evidence_file(tmp_path, canaries)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    assert page.get_attribute("#report-form", "data-encrypts") is None
    values = fill_report(page, canaries, evidence)
    with page.expect_navigation(timeout=RECEIPT_TIMEOUT_MS):
        page.click("button[type=submit]")
    receipt = (page.text_content("#receipt-code") or "").strip()
    assert receipt
    screenshot(page, "report-receipt-no-javascript")
    assert "/report" in live_server.recorder.paths()
    assert not any(path.startswith("/api/") for path in live_server.recorder.paths())
    context.close()

    stored = read_as_investigator(live_server.app, investigator.keypair.private_key,
                                  live_server.app.config["PROBITY"].files_path)
    # A posted form carries line breaks as CR LF; the server stores them as LF, like the script.
    assert stored.plaintext == expected_plaintext(values)
    [(meta, content)] = stored.files
    assert meta["name"] == "evidence.bin" and meta["size"] == evidence.stat().st_size
    assert content == evidence.read_bytes()
    assert_nothing_readable_at_rest(live_server, canaries, redis_conn, receipt)


def test_without_webassembly_the_page_still_encrypts(
        live_server: LiveServer, browser_without_wasm: Any, investigator: Any, tmp_path: Path) -> None:
    canaries = Canaries.fresh()
    evidence = evidence_file(tmp_path, canaries, size=300_000)
    context = browser_without_wasm.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    assert page.evaluate("typeof WebAssembly") == "undefined"
    assert page.get_attribute("#report-form", "data-encrypts") == "browser"
    values = fill_report(page, canaries, evidence)
    submit_and_wait_for_receipt(page)
    for method, path, body in live_server.recorder.bodies:
        assert not [n for n in canaries.needles() if n in body], f"plaintext in the body of {method} {path}"
    assert "/api/v1/reports" in live_server.recorder.paths()
    context.close()

    stored = read_as_investigator(live_server.app, investigator.keypair.private_key,
                                  live_server.app.config["PROBITY"].files_path)
    assert stored.plaintext == expected_plaintext(values)
    assert stored.files[0][1] == evidence.read_bytes()
