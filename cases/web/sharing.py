"""Need to know on the case page: assign, recuse, grant access to a colleague."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from cases.access import AccessRefused, assign, grant, recuse
from cases.web import case_or_404, signed_in, staff
from cases.web.case import act_on_case, render_case
from store.db import db_session


@staff.post("/cases/<public_id>/assign")
def case_assign(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    wanted = request.form.get("assignee", "")

    def action() -> str:
        assignee = assign(db_session(), case, signed_in().member, int(wanted) if wanted.isdigit() else None)
        return f"Assigned to {assignee.email}." if assignee else "The case is unassigned."

    return act_on_case(public_id, action, AccessRefused, "access")


@staff.post("/cases/<public_id>/grant")
def case_grant(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    wanted = request.form.get("colleague", "")

    def action() -> str:
        if not wanted.isdigit():
            raise AccessRefused("Choose a colleague.")
        colleague = grant(db_session(), case, signed_in().member, int(wanted))
        return f"{colleague.email} can now open this case."

    return act_on_case(public_id, action, AccessRefused, "access")


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
