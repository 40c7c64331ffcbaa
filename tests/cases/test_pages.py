"""Every staff page is CSP-clean, and every staff action leaves an audit entry."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from store.models import AuditEntry
from tests.cases.helpers import csrf_from, file_report, signed_in, staff_id, triage_directly
from tests.conftest import add_staff

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "cases"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)


class InlineFinder(HTMLParser):
    """Real tags and attributes only: a reporter's escaped words are text, not markup."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and "src" not in names or tag == "style":
            self.found.append(f"<{tag}>")
        self.found += [f"{tag}[{n}]" for n in names if n == "style" or n.startswith("on")]
        self.found += [f"{tag}[{n}=javascript:]" for n, v in names.items() if v.strip().lower().startswith("javascript:")]


def inline_markup(page: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(page)
    return finder.found


def audit_count(app: Flask) -> int:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_templates_have_no_inline_script_or_style():
    for template in TEMPLATES.glob("*.html"):
        assert not INLINE.search(template.read_text()), template.name


def test_rendered_staff_pages_have_no_inline_script_or_style(app, investigator, admin, auditor):
    public_id, _ = file_report(app, "A page check report <script>alert(1)</script>", details='" onload="x')
    triage_directly(app, public_id)
    pages = {
        None: ["/staff/login", "/staff/recover"],
        investigator: ["/staff/cases", f"/staff/cases/{public_id}", "/staff/statistics", "/staff/account"],
        admin: ["/staff/admin/staff", "/staff/admin/routing", "/staff/audit"],
        auditor: ["/staff/audit", "/staff/statistics"],
    }
    for person, urls in pages.items():
        client = signed_in(app, person) if person else app.test_client()
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert inline_markup(response.get_data(as_text=True)) == [], url
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # The reporter's words are escaped, never markup.
    page = signed_in(app, investigator).get(f"/staff/cases/{public_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&#34; onload=&#34;x" in page


def test_every_staff_action_writes_an_audit_entry(app, investigator, admin, auditor):
    public_id, _ = file_report(app, "Audit coverage report", files=[(b"pdf", "a.pdf")])
    triage_directly(app, public_id)
    latecomer = add_staff(app, "late.comer@example.org")
    from nacl.public import PrivateKey
    import base64

    url = f"/staff/cases/{public_id}"
    inv = signed_in(app, investigator)
    file_id = re.search(rf'{url}/files/([0-9a-f]+)"', inv.get(url).get_data(as_text=True)).group(1)
    actions = [
        (inv, "GET", "/staff/cases", {}),
        (inv, "GET", url, {}),
        (inv, "GET", f"{url}/files/{file_id}", {}),
        (inv, "POST", f"{url}/category", {"category": "other"}),
        (inv, "POST", f"{url}/status", {"status": "acknowledged"}),
        (inv, "POST", f"{url}/messages", {"message": "hello"}),
        (inv, "POST", f"{url}/notes", {"note": "internal"}),
        (inv, "POST", f"{url}/files", {"direction": "note", "files": [(io.BytesIO(b"x"), "x.txt")]}),
        (inv, "POST", f"{url}/assign", {"assignee": str(staff_id(app, investigator))}),
        (inv, "POST", f"{url}/grant", {"colleague": str(staff_id(app, latecomer))}),
        (inv, "POST", f"{url}/export", {"recipient_key": base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()}),
        (inv, "GET", "/staff/statistics", {}),
        (inv, "POST", f"{url}/recuse", {"confirm": "yes"}),
    ]
    adm = signed_in(app, admin)
    aud = signed_in(app, auditor)
    actions += [
        (adm, "POST", "/staff/admin/staff", {"email": "another@example.org", "role": "auditor"}),
        (adm, "POST", f"/staff/admin/staff/{staff_id(app, latecomer)}/disable", {}),
        (adm, "POST", f"/staff/admin/staff/{staff_id(app, latecomer)}/enable", {}),
        (adm, "POST", f"/staff/admin/staff/{staff_id(app, latecomer)}/rekey", {"confirm": "yes"}),
        (adm, "POST", "/staff/admin/routing", {"category": "other", "staff_id": str(staff_id(app, investigator))}),
        (aud, "GET", "/staff/audit", {}),
        (aud, "POST", "/staff/audit/verify", {}),
        (aud, "POST", "/staff/logout", {}),
    ]
    for client, method, target, data in actions:
        before = audit_count(app)
        if method == "GET":
            response = client.get(target)
        else:
            token = csrf_from(client.get("/staff/account").get_data(as_text=True))
            before = audit_count(app)
            response = client.post(target, data={"csrf_token": token, **data}, content_type="multipart/form-data")
        assert response.status_code in (200, 303), (target, response.status_code)
        assert audit_count(app) > before, f"{method} {target} left no audit entry"
