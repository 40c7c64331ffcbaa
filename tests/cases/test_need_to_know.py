"""Need to know: every URL of a case is 404 for anyone who does not hold its key."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from store.models import Attachment, AuditEntry, Message, Recusal, Report, SealedKey, StatusChange
from tests.cases.helpers import csrf_from, file_report, post_form, signed_in, staff_id, triage_directly
from tests.conftest import add_staff


def case_urls(public_id: str, file_id: str) -> list[tuple[str, str, dict]]:
    base = f"/staff/cases/{public_id}"
    return [
        ("GET", base, {}),
        ("GET", f"{base}/files/{file_id}", {}),
        ("POST", f"{base}/status", {"status": "acknowledged"}),
        ("POST", f"{base}/category", {"category": "other"}),
        ("POST", f"{base}/messages", {"message": "hello"}),
        ("POST", f"{base}/notes", {"note": "hello"}),
        ("POST", f"{base}/files", {"direction": "note", "files": [(io.BytesIO(b"x"), "x.txt")]}),
        ("POST", f"{base}/assign", {"assignee": ""}),
        ("POST", f"{base}/grant", {"colleague": "1"}),
        ("POST", f"{base}/recuse", {"confirm": "yes"}),
        ("POST", f"{base}/export", {"recipient_key": "A" * 43 + "="}),
    ]


def snapshot(app):
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        counts = {model.__name__: session.scalar(select(func.count()).select_from(model))
                  for model in (Message, Attachment, StatusChange, Recusal, SealedKey)}
        report = session.scalar(select(Report))
        counts["report"] = (report.status, report.human_category, report.assignee_id)
        counts["case audit"] = session.scalar(select(func.count()).select_from(AuditEntry)
                                              .where(AuditEntry.action.like("case.%")))
        return counts


@pytest.fixture
def case_with_file(app, investigator):
    public_id, receipt = file_report(app, "The director hired his nephew", files=[(b"contract", "contract.pdf")])
    triage_directly(app, public_id, "conflict-of-interest")
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        file_id = session.scalar(select(Attachment.public_id))
    return public_id, file_id


def assert_all_404(app, client, public_id, file_id):
    before = snapshot(app)
    token = csrf_from(client.get("/staff/account").get_data(as_text=True))
    for method, url, data in case_urls(public_id, file_id):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, **data}, content_type="multipart/form-data")
        assert response.status_code == 404, (method, url, response.status_code)
        assert "director" not in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_an_investigator_never_granted_gets_404_everywhere(app, investigator, case_with_file):
    latecomer = add_staff(app, "late.comer@example.org")  # joined after the report was sealed
    assert_all_404(app, signed_in(app, latecomer), *case_with_file)
    queue = signed_in(app, latecomer).get("/staff/cases").get_data(as_text=True)
    assert case_with_file[0] not in queue


def test_auditors_and_admins_get_404_everywhere(app, auditor, admin, case_with_file):
    for person in (auditor, admin):
        assert_all_404(app, signed_in(app, person), *case_with_file)


def test_an_unknown_case_is_404_like_any_other(app, investigator, case_with_file):
    assert_all_404(app, signed_in(app, investigator), "0123456789abcdef", case_with_file[1])


def test_a_file_of_another_case_is_404(app, investigator, case_with_file):
    other, _ = file_report(app, "Another case")
    client = signed_in(app, investigator)
    assert client.get(f"/staff/cases/{other}/files/{case_with_file[1]}").status_code == 404


def test_recusal_destroys_the_key_for_good(app, investigator, colleague, case_with_file):
    public_id, file_id = case_with_file
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    assert post_form(client, url, f"{url}/recuse", {}).status_code == 422  # must confirm
    assert post_form(client, url, f"{url}/recuse", {"confirm": "yes"}).status_code == 303
    me = staff_id(app, investigator)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        assert session.scalar(select(SealedKey).where(SealedKey.staff_id == me)) is None
        assert session.scalar(select(Recusal).where(Recusal.staff_id == me)) is not None
    assert_all_404(app, client, public_id, file_id)
    # A colleague cannot hand the key back.
    other = signed_in(app, colleague)
    page = other.get(url).get_data(as_text=True)
    colleague_choices = re.search(r'<select id="colleague".*?</select>', page, re.S)
    assert colleague_choices is None or investigator.email not in colleague_choices.group(0)
    refused = post_form(other, url, f"{url}/grant", {"colleague": str(me)})
    assert refused.status_code == 422 and "recused" in refused.get_data(as_text=True)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        assert session.scalar(select(SealedKey).where(SealedKey.staff_id == me)) is None


def test_grant_seals_the_key_to_a_colleague(app, investigator, case_with_file):
    public_id, file_id = case_with_file
    latecomer = add_staff(app, "late.comer@example.org")
    late_client = signed_in(app, latecomer)
    assert late_client.get(f"/staff/cases/{public_id}").status_code == 404
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    granted = post_form(client, url, f"{url}/grant", {"colleague": str(staff_id(app, latecomer))})
    assert granted.status_code == 303
    page = late_client.get(url)
    assert page.status_code == 200 and "hired his nephew" in page.get_data(as_text=True)
    assert late_client.get(f"{url}/files/{file_id}").data == b"contract"
    again = post_form(client, url, f"{url}/grant", {"colleague": str(staff_id(app, latecomer))})
    assert again.status_code == 422


def test_assignment_only_to_someone_with_access(app, investigator, case_with_file):
    public_id, _ = case_with_file
    latecomer = add_staff(app, "late.comer@example.org")
    client = signed_in(app, investigator)
    url = f"/staff/cases/{public_id}"
    assert post_form(client, url, f"{url}/assign", {"assignee": str(staff_id(app, latecomer))}).status_code == 422
    assert post_form(client, url, f"{url}/assign", {"assignee": str(staff_id(app, investigator))}).status_code == 303
    mine = client.get("/staff/cases?mine=1").get_data(as_text=True)
    assert public_id in mine
    assert post_form(client, url, f"{url}/assign", {"assignee": ""}).status_code == 303
    assert public_id not in client.get("/staff/cases?mine=1").get_data(as_text=True)


def test_missing_csrf_token_changes_nothing(app, investigator, case_with_file):
    public_id, file_id = case_with_file
    client = signed_in(app, investigator)
    before = snapshot(app)
    for method, url, data in case_urls(public_id, file_id):
        if method == "POST":
            response = client.post(url, data=data, content_type="multipart/form-data")
            assert response.status_code == 400, url
    assert snapshot(app) == before
    files_dir = app.config["PROBITY"].files_path
    assert len(list(files_dir.iterdir())) == 1  # only the reporter's file; the refused upload left nothing
