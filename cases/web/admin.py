"""Admin pages: add, disable, enable and re-key staff; route categories to investigators."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from cases.accounts import AccountError
from cases.admin import add_member, add_routing_rule, all_staff, rekey_member, remove_routing_rule, routing_rules, set_active
from cases.staffsession import end_all_sessions
from cases.web import roles, settings, signed_in, staff
from intake.services import taxonomy
from store.db import db_session
from store.models import Role


def _staff_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("cases/admin_staff.html", members=all_staff(db_session()), error=error,
                           roles=[r.value for r in Role]), status


@staff.get("/admin/staff")
@roles(Role.ADMIN)
def staff_list() -> tuple[str, int]:
    return _staff_page()


@staff.post("/admin/staff")
@roles(Role.ADMIN)
def staff_add() -> tuple[str, int]:
    db = db_session()
    try:
        account = add_member(db, signed_in().member, request.form.get("email", ""), request.form.get("role", ""),
                             settings().staff_limits)
    except AccountError as exc:
        db.rollback()
        return _staff_page(f"{str(exc).capitalize()}.", 422)
    db.commit()
    # Shown in this response only: never in a URL, a redirect or a log.
    return render_template("cases/admin_secrets.html", email=account.email, role=account.role,
                           password=account.password, totp_secret=account.totp_secret,
                           recovery_key=account.recovery_key, rekeyed=False), 200


@staff.post("/admin/staff/<int:member_id>/<any(disable, enable):change>")
@roles(Role.ADMIN)
def staff_active(member_id: int, change: str) -> Response | tuple[str, int]:
    db = db_session()
    try:
        member = set_active(db, signed_in().member, member_id, change == "enable")
    except AccountError as exc:
        db.rollback()
        return _staff_page(str(exc), 422)
    db.commit()
    if not member.active:
        end_all_sessions(member)
    flash(f"{member.email} is {'enabled' if member.active else 'disabled'}.")
    return redirect(url_for("staff.staff_list"), code=303)  # type: ignore[return-value]


@staff.post("/admin/staff/<int:member_id>/rekey")
@roles(Role.ADMIN)
def staff_rekey(member_id: int) -> tuple[str, int]:
    db = db_session()
    if request.form.get("confirm") != "yes":
        return _staff_page("Tick the box to confirm the re-key.", 422)
    try:
        member, secrets = rekey_member(db, signed_in().member, member_id, settings().staff_limits)
    except AccountError as exc:
        db.rollback()
        return _staff_page(str(exc), 422)
    db.commit()
    end_all_sessions(member)
    return render_template("cases/admin_secrets.html", email=member.email, role=member.role,
                           password=secrets.password, totp_secret=secrets.totp_secret,
                           recovery_key=secrets.recovery_key, rekeyed=True), 200


def _routing_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    db = db_session()
    investigators = [m for m in all_staff(db) if m.role == Role.INVESTIGATOR.value and m.active]
    return render_template("cases/admin_routing.html", rules=routing_rules(db), investigators=investigators,
                           taxonomy=taxonomy(), error=error), status


@staff.get("/admin/routing")
@roles(Role.ADMIN)
def routing() -> tuple[str, int]:
    return _routing_page()


@staff.post("/admin/routing")
@roles(Role.ADMIN)
def routing_add() -> Response | tuple[str, int]:
    db = db_session()
    wanted = request.form.get("staff_id", "")
    try:
        if not wanted.isdigit():
            raise AccountError("Choose an investigator.")
        add_routing_rule(db, signed_in().member, request.form.get("category", ""), int(wanted), taxonomy())
    except AccountError as exc:
        db.rollback()
        return _routing_page(str(exc), 422)
    db.commit()
    return redirect(url_for("staff.routing"), code=303)  # type: ignore[return-value]


@staff.post("/admin/routing/<int:rule_id>/delete")
@roles(Role.ADMIN)
def routing_remove(rule_id: int) -> Response | tuple[str, int]:
    db = db_session()
    try:
        remove_routing_rule(db, signed_in().member, rule_id)
    except AccountError as exc:
        db.rollback()
        return _routing_page(str(exc), 422)
    db.commit()
    return redirect(url_for("staff.routing"), code=303)  # type: ignore[return-value]
