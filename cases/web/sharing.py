"""Need to know on the case page: assign, recuse, grant access to a colleague."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from cases.access import AccessRefused, assign, grant, recuse
from cases.web import back_to_case, case_or_404, signed_in, staff
from cases.web.case import render_case
from store.db import db_session


@staff.post("/cases/<public_id>/assign")
def case_assign(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    db = db_session()
    wanted = request.form.get("assignee", "")
    try:
        assignee = assign(db, case, signed_in().member, int(wanted) if wanted.isdigit() else None)
    except AccessRefused as exc:
        db.rollback()
        return render_case(public_id, str(exc), 422)
    db.commit()
    flash(f"Assigned to {assignee.email}." if assignee else "The case is unassigned.")
    return back_to_case(public_id, "access")


@staff.post("/cases/<public_id>/grant")
def case_grant(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    db = db_session()
    wanted = request.form.get("colleague", "")
    try:
        if not wanted.isdigit():
            raise AccessRefused("Choose a colleague.")
        colleague = grant(db, case, signed_in().member, int(wanted))
    except AccessRefused as exc:
        db.rollback()
        return render_case(public_id, str(exc), 422)
    db.commit()
    flash(f"{colleague.email} can now open this case.")
    return back_to_case(public_id, "access")


@staff.post("/cases/<public_id>/recuse")
def case_recuse(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    if request.form.get("confirm") != "yes":
        return render_case(public_id, "Tick the box to confirm that you recuse yourself.", 422)
    db = db_session()
    recuse(db, case, signed_in().member)
    db.commit()
    flash("You have recused yourself: your copy of the case key was destroyed.")
    return redirect(url_for("staff.queue"), code=303)  # type: ignore[return-value]
