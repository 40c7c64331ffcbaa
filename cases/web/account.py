"""A staff member's own account: changing the password re-wraps their private key."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from cases import audit
from cases.accounts import AccountError, change_password
from cases.auth import check_password
from cases.staffsession import end_all_sessions, open_staff_session
from cases.web import settings, signed_in, staff
from store.db import db_session


@staff.get("/account")
def account() -> tuple[str, int]:
    return render_template("cases/account.html", member=signed_in().member), 200


@staff.post("/account/password")
def password_change() -> Response | tuple[str, int]:
    context = signed_in()
    form = request.form
    error = None
    if not check_password(context.member, form.get("current_password", "")):
        error = "The current password is not right."
    elif form.get("password", "") != form.get("password_again", ""):
        error = "The two new passwords differ."
    else:
        try:
            change_password(context.member, context.private_key, form.get("password", ""),
                            settings().staff_limits)
        except AccountError as exc:
            error = f"{str(exc).capitalize()}."
    db = db_session()
    if error:
        db.rollback()
        audit.record(db, "staff.password-change-refused", actor=context.member)
        db.commit()
        return render_template("cases/account.html", member=context.member, error=error), 422
    audit.record(db, "staff.password-changed", actor=context.member)
    db.commit()
    # Every other session ends; this one continues under a fresh id and cookie key.
    end_all_sessions(context.member)
    open_staff_session(context.member, context.private_key)
    flash("Your password was changed. Other sessions were signed out.")
    return redirect(url_for("staff.account"), code=303)
