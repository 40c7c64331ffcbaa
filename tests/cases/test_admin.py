"""Admin pages: add, disable, enable and re-key staff; routing rules. Every change is audited."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from crypto.wrapping import unwrap_key
from store.models import AuditEntry, RoutingRule, SealedKey, StaffMember
from tests.cases.helpers import file_report, post_form, sign_in, signed_in, staff_id, triage_directly
from tests.conftest import StaffLogin


def actions(app) -> list[str]:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def secrets_from(page: str) -> dict[str, str]:
    return {name: re.search(rf'id="secret-{name}">([^<]+)<', page).group(1)
            for name in ("password", "totp", "recovery")}


def test_only_admins_reach_admin_pages(app, investigator, auditor):
    for person in (investigator, auditor):
        client = signed_in(app, person)
        assert client.get("/staff/admin/staff").status_code == 403
        assert client.get("/staff/admin/routing").status_code == 403


def test_admin_adds_a_staff_member_who_can_then_sign_in(app, admin):
    client = signed_in(app, admin)
    response = post_form(client, "/staff/admin/staff", "/staff/admin/staff",
                         {"email": "new.person@example.org", "role": "investigator"})
    assert response.status_code == 200
    secrets = secrets_from(response.get_data(as_text=True))
    assert "Location" not in response.headers
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == "new.person@example.org"))
        private_key = unwrap_key(member.key_wrapped_by_password, secrets["password"].encode())
    from crypto.keys import keypair_from_seed

    person = StaffLogin("new.person@example.org", secrets["password"], secrets["totp"], secrets["recovery"],
                        "investigator", keypair_from_seed(private_key))
    _, login = sign_in(app, person)
    assert login.status_code == 303
    assert "staff.added" in actions(app)
    # The secrets themselves are nowhere in the trail.
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        trail = json.dumps([e.detail for e in session.scalars(select(AuditEntry))])
    assert secrets["password"] not in trail and secrets["recovery"] not in trail
    duplicate = post_form(client, "/staff/admin/staff", "/staff/admin/staff",
                          {"email": "new.person@example.org", "role": "investigator"})
    assert duplicate.status_code == 422


def test_disable_ends_sessions_and_blocks_sign_in_then_enable(app, admin, investigator):
    victim = signed_in(app, investigator)
    client = signed_in(app, admin)
    member_id = staff_id(app, investigator)
    assert post_form(client, "/staff/admin/staff", f"/staff/admin/staff/{member_id}/disable").status_code == 303
    assert victim.get("/staff/cases").status_code == 303
    _, refused = sign_in(app, investigator)
    assert refused.status_code == 401
    assert post_form(client, "/staff/admin/staff", f"/staff/admin/staff/{member_id}/enable").status_code == 303
    _, back = sign_in(app, investigator)
    assert back.status_code == 303
    assert {"staff.disabled", "staff.enabled"} <= set(actions(app))
    own = post_form(client, "/staff/admin/staff", f"/staff/admin/staff/{staff_id(app, admin)}/disable")
    assert own.status_code == 422


def test_rekey_issues_a_new_key_and_cases_need_regranting(app, admin, investigator, colleague):
    public_id, _ = file_report(app, "The treasurer moved funds abroad")
    triage_directly(app, public_id)
    victim = signed_in(app, investigator)
    client = signed_in(app, admin)
    member_id = staff_id(app, investigator)
    response = post_form(client, "/staff/admin/staff", f"/staff/admin/staff/{member_id}/rekey", {"confirm": "yes"})
    assert response.status_code == 200
    secrets = secrets_from(response.get_data(as_text=True))
    assert victim.get("/staff/cases").status_code == 303  # signed out
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.get(StaffMember, member_id)
        assert member.public_key != investigator.keypair.public_key
        assert session.scalar(select(SealedKey).where(SealedKey.staff_id == member_id)) is None
        from crypto.keys import keypair_from_seed

        fresh = keypair_from_seed(unwrap_key(member.key_wrapped_by_password, secrets["password"].encode()))
    rekeyed = StaffLogin(investigator.email, secrets["password"], secrets["totp"], secrets["recovery"],
                         "investigator", fresh)
    new_client = signed_in(app, rekeyed)
    url = f"/staff/cases/{public_id}"
    assert new_client.get(url).status_code == 404
    helper = signed_in(app, colleague)
    assert post_form(helper, url, f"{url}/grant", {"colleague": str(member_id)}).status_code == 303
    assert "moved funds abroad" in new_client.get(url).get_data(as_text=True)
    assert "staff.rekeyed" in actions(app)


def test_routing_rules(app, admin, investigator):
    client = signed_in(app, admin)
    member_id = staff_id(app, investigator)
    response = post_form(client, "/staff/admin/routing", "/staff/admin/routing",
                         {"category": "disclosure-of-assets", "staff_id": str(member_id)})
    assert response.status_code == 303
    assert investigator.email in client.get("/staff/admin/routing").get_data(as_text=True)
    assert post_form(client, "/staff/admin/routing", "/staff/admin/routing",
                     {"category": "nonsense", "staff_id": str(member_id)}).status_code == 422
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        rule_id = session.scalar(select(RoutingRule.id))
    assert post_form(client, "/staff/admin/routing", f"/staff/admin/routing/{rule_id}/delete").status_code == 303
    assert {"routing.added", "routing.removed"} <= set(actions(app))


def test_cli_staff_add_is_unchanged_and_audited(app, runner):
    result = runner.invoke(args=["staff", "add", "cli.person@example.org", "--role", "auditor", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"email", "password", "totp_secret", "recovery_key"}
    assert actions(app) == ["staff.added"]
