"""Staff sign-in: both factors, single-use codes, throttling, split-key sessions and timeouts."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone

import pyotp
from sqlalchemy import select

from cases.staffsession import NAMESPACE
from crypto.wrapping import unwrap_key
from store.models import AuditEntry, StaffMember
from tests.cases.helpers import csrf_from, forget_used_codes, next_code, post_form, sign_in, signed_in
from tests.intake.inspect import redis_dump


def audit_actions(app) -> list[tuple[str, str, dict]]:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return [(e.action, e.actor, e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def session_keys(redis_conn) -> list[bytes]:
    return list(redis_conn.scan_iter(f"probity:{NAMESPACE}:session:*"))


def test_sign_in_with_password_and_code(app, investigator, redis_conn):
    client, response = sign_in(app, investigator)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/cases")
    cookie = response.headers["Set-Cookie"]
    assert "probity_staff=" in cookie and "Path=/staff" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Expires" not in cookie
    assert client.get("/staff/cases").status_code == 200
    assert ("staff.login", investigator.email, {}) in audit_actions(app)


def test_redis_holds_the_private_key_only_encrypted(app, investigator, redis_conn):
    signed_in(app, investigator)
    dump = redis_dump(redis_conn)
    secret = investigator.keypair.private_key
    assert secret not in dump and secret.hex().encode() not in dump
    assert base64.b64encode(secret) not in dump
    assert len(session_keys(redis_conn)) == 1


def test_wrong_password_wrong_code_and_unknown_account_are_refused_alike(app, investigator, redis_conn):
    _, wrong_password = sign_in(app, investigator, password="not the password at all")
    totp = pyotp.TOTP(investigator.totp_secret)
    stale = totp.generate_otp(totp.timecode(datetime.now(timezone.utc)) - 20)  # ten minutes old
    _, wrong_code = sign_in(app, investigator, code=stale)
    from tests.conftest import StaffLogin
    ghost = StaffLogin("nobody@example.org", "my-secret-password-typed", investigator.totp_secret, "", "investigator",
                       investigator.keypair)
    _, unknown = sign_in(app, ghost)
    pages = {r.status_code for r in (wrong_password, wrong_code, unknown)}
    assert pages == {401}
    assert len({r.get_data(as_text=True).count("not right") for r in (wrong_password, wrong_code, unknown)}) == 1
    assert session_keys(redis_conn) == []
    failures = [(actor, detail["reason"]) for action, actor, detail in audit_actions(app) if action == "staff.login-failed"]
    assert failures == [(investigator.email, "bad-password"), (investigator.email, "bad-code"),
                        ("(unknown account)", "unknown-account")]
    # Neither the typed password nor the typed email of an unknown account is kept.
    everything = json.dumps(audit_actions(app))
    assert "my-secret-password-typed" not in everything and "nobody@example.org" not in everything
    assert investigator.password not in everything


def test_a_code_is_accepted_only_once(app, investigator):
    code = next_code(app, investigator)
    client, first = sign_in(app, investigator, code=code)
    assert first.status_code == 303
    post_form(client, "/staff/account", "/staff/logout")
    _, replay = sign_in(app, investigator, code=code)
    assert replay.status_code == 401
    assert audit_actions(app)[-1][2] == {"reason": "replayed-code"}
    # An older code (earlier time step) than the last one accepted is a replay too.
    totp = pyotp.TOTP(investigator.totp_secret)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        last = session.scalar(select(StaffMember.totp_last_step).where(StaffMember.email == investigator.email))
    _, older = sign_in(app, investigator, code=totp.generate_otp(last - 1))
    assert older.status_code == 401


def test_disabled_account_cannot_sign_in(app, investigator):
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        session.scalar(select(StaffMember).where(StaffMember.email == investigator.email)).active = False
    _, response = sign_in(app, investigator)
    assert response.status_code == 401
    assert audit_actions(app)[-1][2] == {"reason": "disabled"}


def test_sign_in_without_csrf_token_is_refused(app, investigator):
    client = app.test_client()
    client.get("/staff/login")
    response = client.post("/staff/login", data={"email": investigator.email, "password": investigator.password,
                                                 "code": next_code(app, investigator)})
    assert response.status_code == 400
    assert audit_actions(app) == []


def test_failed_sign_ins_are_throttled(app, investigator):
    limit = int(app.config["PROBITY"].abuse.staff_logins.split()[0])
    for _ in range(limit):
        _, response = sign_in(app, investigator, password="wrong password, again")
        assert response.status_code == 401
    _, blocked = sign_in(app, investigator)
    assert blocked.status_code == 429


def test_logout_destroys_the_server_side(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    stolen_cookie = client.get_cookie("probity_staff", path="/staff").value
    response = post_form(client, "/staff/account", "/staff/logout")
    assert response.status_code == 303
    assert session_keys(redis_conn) == []
    thief = app.test_client()
    thief.set_cookie("probity_staff", stolen_cookie, path="/staff")
    page = thief.get("/staff/cases")
    assert page.status_code == 303 and "/staff/login" in page.headers["Location"]
    assert [a for a, _, _ in audit_actions(app)][-1] == "staff.logout"


def test_a_cookie_without_its_server_half_or_a_server_half_without_its_cookie_is_useless(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    (key,) = session_keys(redis_conn)
    record = redis_conn.get(key)
    # A forged cookie key for the real session id opens nothing.
    forged = app.test_client()
    with client.session_transaction("/staff/cases") as real:
        sid = real["sid"]
    with forged.session_transaction("/staff/cases") as fake:
        fake["sid"], fake["k"] = sid, base64.b64encode(b"\x00" * 32).decode()
    assert forged.get("/staff/cases").status_code == 303
    assert redis_conn.get(key) == record


def test_idle_timeout(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    assert client.get("/staff/cases").status_code == 200
    (key,) = session_keys(redis_conn)
    ttl = redis_conn.ttl(key)
    assert 0 < ttl <= app.config["PROBITY"].staff_idle_minutes * 60
    redis_conn.pexpire(key, 1)  # the idle period passes
    time.sleep(0.05)
    response = client.get("/staff/cases")
    assert response.status_code == 303 and "expired=1" in response.headers["Location"]


def test_activity_slides_the_idle_timeout(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    (key,) = session_keys(redis_conn)
    redis_conn.expire(key, 5)
    assert client.get("/staff/cases").status_code == 200
    assert redis_conn.ttl(key) > 5


def test_absolute_timeout(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    (key,) = session_keys(redis_conn)
    record = json.loads(redis_conn.get(key))
    record["created_at"] -= app.config["PROBITY"].staff_absolute_hours * 3600 + 1
    redis_conn.set(key, json.dumps(record), keepttl=True)
    response = client.get("/staff/cases")
    assert response.status_code == 303 and "/staff/login" in response.headers["Location"]
    assert session_keys(redis_conn) == []


def test_disabling_an_account_ends_its_live_session(app, investigator):
    client = signed_in(app, investigator)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        session.scalar(select(StaffMember).where(StaffMember.email == investigator.email)).active = False
    assert client.get("/staff/cases").status_code == 303


def test_password_change_rewraps_the_key(app, investigator, redis_conn):
    client = signed_in(app, investigator)
    other = signed_in(app, investigator)
    new_password = "a much better passphrase 2026"
    response = post_form(client, "/staff/account", "/staff/account/password", {
        "current_password": investigator.password, "password": new_password, "password_again": new_password})
    assert response.status_code == 303
    assert client.get("/staff/account").status_code == 200  # this session carries on
    assert other.get("/staff/account").status_code == 303  # the other one was signed out
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == investigator.email))
        assert unwrap_key(member.key_wrapped_by_password, new_password.encode()) == investigator.keypair.private_key
    _, old = sign_in(app, investigator, code="000000")
    assert old.status_code == 401
    assert "staff.password-changed" in [a for a, _, _ in audit_actions(app)]


def test_password_change_needs_the_current_password(app, investigator):
    client = signed_in(app, investigator)
    response = post_form(client, "/staff/account", "/staff/account/password", {
        "current_password": "guessing", "password": "x" * 20, "password_again": "x" * 20})
    assert response.status_code == 422
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == investigator.email))
        assert unwrap_key(member.key_wrapped_by_password, investigator.password.encode())


def test_recovery_key_restores_access_and_is_then_spent(app, investigator):
    client = app.test_client()
    new_password = "recovered passphrase 2026"
    page = client.get("/staff/recover").get_data(as_text=True)
    response = client.post("/staff/recover", data={
        "csrf_token": csrf_from(page), "email": investigator.email, "recovery_key": investigator.recovery_key.lower(),
        "code": next_code(app, investigator), "password": new_password, "password_again": new_password})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    fresh = body.split('id="new-recovery-key">')[1].split("<")[0]
    assert fresh and fresh != investigator.recovery_key
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        member = session.scalar(select(StaffMember).where(StaffMember.email == investigator.email))
        assert unwrap_key(member.key_wrapped_by_password, new_password.encode()) == investigator.keypair.private_key
    _, again = sign_in(app, investigator, password=new_password)
    assert again.status_code == 303
    # The old recovery key opens nothing any more.
    forget_used_codes(app, investigator)
    client = app.test_client()
    page = client.get("/staff/recover").get_data(as_text=True)
    spent = client.post("/staff/recover", data={
        "csrf_token": csrf_from(page), "email": investigator.email, "recovery_key": investigator.recovery_key,
        "code": next_code(app, investigator), "password": "another passphrase!!", "password_again": "another passphrase!!"})
    assert spent.status_code == 401
    actions = [(a, d.get("reason")) for a, _, d in audit_actions(app)]
    assert ("staff.recovered", None) in actions and ("staff.recovery-failed", "bad-recovery-key") in actions
