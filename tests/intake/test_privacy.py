"""Headers, cookies, caching and logs on the public side."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.intake.helpers import open_mailbox, receipt_from, submit_form

PUBLIC_PAGES = ["/", "/report", "/followup", "/code-of-conduct", "/api/v1/keys"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_security_headers_and_no_cookie(client, investigator, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for forbidden in ("unsafe-inline", "unsafe-eval", "wasm-unsafe-eval", "http:", "https:", "*"):
        assert forbidden not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_submitting_a_report_sets_no_cookie(client, investigator):
    response = submit_form(client, "A report")
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]


def test_mailbox_cookie_is_session_only_httponly_strict_and_scoped(client, investigator):
    receipt = receipt_from(submit_form(client, "A report").get_data(as_text=True))
    response = open_mailbox(client, receipt)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("probity_mailbox=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/followup" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie


def test_mailbox_logout_destroys_the_server_half(client, investigator, redis_conn):
    receipt = receipt_from(submit_form(client, "A report").get_data(as_text=True))
    open_mailbox(client, receipt)
    assert client.get("/followup/mailbox").status_code == 200
    assert list(redis_conn.scan_iter("probity:mailbox:session:*"))
    page = client.get("/followup/mailbox").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/followup/logout", data={"csrf_token": token}).status_code == 303
    assert not list(redis_conn.scan_iter("probity:mailbox:session:*"))
    assert client.get("/followup/mailbox").status_code == 302


def test_no_client_address_in_logs(client, investigator, caplog):
    address = "203.0.113.77"
    environ = {"REMOTE_ADDR": address}
    for path in PUBLIC_PAGES:
        client.get(path, environ_base=environ)
    receipt = receipt_from(submit_form(client, "A report").get_data(as_text=True))
    client.post("/followup", data={"receipt": receipt}, environ_base=environ)
    client.get("/does-not-exist", environ_base=environ)
    assert address not in caplog.text
    assert receipt not in caplog.text


def test_templates_have_no_inline_script_style_or_foreign_urls():
    for template in (ROOT / "templates").rglob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), f"inline script in {template}"
        assert "<style" not in source, f"inline style in {template}"
        assert not re.search(r"\sstyle=", source), f"style attribute in {template}"
        assert not re.search(r"\son[a-z]+=", source), f"event handler attribute in {template}"
        assert not re.search(r"(src|href|action)=[\"']?(https?:)?//", source), f"foreign URL in {template}"


def test_gunicorn_keeps_no_access_log():
    namespace: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["accesslog"] is None
