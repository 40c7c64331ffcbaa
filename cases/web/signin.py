"""Signing in and out, and regaining access with the recovery key."""
from __future__ import annotations

import hashlib
import hmac

from flask import Response, redirect, render_template, request, url_for

from cases import audit
from cases.accounts import AccountError
from cases.auth import authenticate, recover_with_key
from cases.staffsession import close_staff_session, end_all_sessions, open_staff_session
from cases.web import home_for, settings, signed_in, staff
from core.limits import limiter
from store.db import db_session
from store.models import StaffMember

UNKNOWN_ACCOUNT = "(unknown account)"
SIGN_IN_REFUSED = "The email, password or code is not right, or the account is disabled."


def _account_bucket() -> str:
    """Limit guesses per account too (keyed by a keyed hash of the email, never an address)."""
    email = (request.form.get("email") or "").strip().lower().encode()
    return "staff-account:" + hmac.new(settings().secret_key, email, hashlib.sha256).hexdigest()[:32]


def _failed(response: Response) -> bool:
    return response.status_code != 303


def _refused(response: Response) -> bool:
    return response.status_code == 401


def _actor_label(member: StaffMember | None) -> str | None:
    return None if member is not None else UNKNOWN_ACCOUNT


@staff.get("")
def home() -> Response:
    return redirect(home_for(signed_in().role), code=303)  # type: ignore[return-value]


@staff.get("/login")
def login_form() -> tuple[str, int]:
    notice = "Your session ended. Please sign in again." if request.args.get("expired") else None
    return render_template("cases/login.html", notice=notice), 200


@staff.post("/login")
@limiter.limit(lambda: settings().abuse.staff_logins, deduct_when=_failed)
@limiter.limit("30 per hour", key_func=_account_bucket, deduct_when=_failed)
def login() -> Response | tuple[str, int]:
    db = db_session()
    result = authenticate(db, request.form.get("email", ""), request.form.get("password", ""),
                          request.form.get("code", ""))
    if not result.ok:
        assert result.failure is not None
        audit.record(db, "staff.login-failed", actor=result.member, actor_label=_actor_label(result.member),
                     reason=result.failure.value)
        db.commit()
        return render_template("cases/login.html", error=SIGN_IN_REFUSED), 401
    assert result.member is not None and result.private_key is not None
    audit.record(db, "staff.login", actor=result.member)
    db.commit()
    open_staff_session(result.member, result.private_key)
    return redirect(home_for(result.member.role), code=303)  # type: ignore[return-value]


@staff.post("/logout")
def logout() -> Response:
    db = db_session()
    audit.record(db, "staff.logout", actor=signed_in().member)
    db.commit()
    close_staff_session()
    return redirect(url_for("staff.login_form"), code=303)  # type: ignore[return-value]


@staff.get("/recover")
def recover_form() -> tuple[str, int]:
    return render_template("cases/recover.html"), 200


@staff.post("/recover")
@limiter.limit(lambda: settings().abuse.staff_logins, deduct_when=_refused)
@limiter.limit("30 per hour", key_func=_account_bucket, deduct_when=_refused)
def recover() -> tuple[str, int]:
    """Lost password: the recovery key and a TOTP code set a new password and issue a new recovery key."""
    form = request.form
    if form.get("password", "") != form.get("password_again", ""):
        return render_template("cases/recover.html", error="The two new passwords differ."), 422
    db = db_session()
    try:
        result = recover_with_key(db, form.get("email", ""), form.get("code", ""), form.get("recovery_key", ""),
                                  form.get("password", ""), settings().staff_limits)
    except AccountError as exc:
        return render_template("cases/recover.html", error=f"{str(exc).capitalize()}."), 422
    if result.secrets is None:
        assert result.failure is not None
        audit.record(db, "staff.recovery-failed", actor=result.member, actor_label=_actor_label(result.member),
                     reason=result.failure.value)
        db.commit()
        return render_template("cases/recover.html", error=SIGN_IN_REFUSED), 401
    assert result.member is not None
    audit.record(db, "staff.recovered", actor=result.member)
    db.commit()
    end_all_sessions(result.member)
    return render_template("cases/recovered.html", recovery_key=result.secrets.recovery_key), 200
