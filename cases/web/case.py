"""The case page, and the decisions taken on it: workflow steps and category corrections."""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, render_template, request

from cases import audit
from cases.access import colleagues_with_access, grantable_colleagues
from cases.casefile import read_case
from cases.classification import ClassificationError, correct_category
from cases.web import back_to_case, case_or_404, settings, signed_in, staff
from cases.workflow import WorkflowError, change_status, next_steps
from intake.services import taxonomy
from store.db import db_session
from store.models import Outcome, StaffMember


def render_case(public_id: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """Decrypt and show the whole case. Every rendering is a decryption, so every one is audited."""
    case = case_or_404(public_id)
    db = db_session()
    viewer = signed_in().member
    casefile = read_case(db, case, settings().deadlines)
    audit.record(db, "case.viewed", actor=viewer, report=public_id)
    db.commit()
    assignee = db.get(StaffMember, case.report.assignee_id) if case.report.assignee_id else None
    return render_template(
        "cases/case.html", casefile=casefile, report=case.report, taxonomy=taxonomy(), error=error,
        next_steps=[s.value for s in next_steps(case.report.status, case.report.acknowledged_at is not None)], outcomes=[o.value for o in Outcome],
        with_access=colleagues_with_access(db, case.report), grantable=grantable_colleagues(db, case.report),
        assignee=assignee, viewer=viewer,
    ), status

def act_on_case(public_id: str, action: Callable[[], str], refused: type[Exception],
                anchor: str) -> Response | tuple[str, int]:
    """Run one staff action on a case: commit and flash the message it returns, or roll back and
    show the case again with the refusal (nothing half-stored)."""
    db = db_session()
    try:
        message = action()
    except refused as exc:
        db.rollback()
        return render_case(public_id, str(exc), 422)
    db.commit()
    flash(message)
    return back_to_case(public_id, anchor)


@staff.get("/cases/<public_id>")
def case_view(public_id: str) -> tuple[str, int]:
    return render_case(public_id)


@staff.post("/cases/<public_id>/status")
def case_status(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    form = request.form

    def action() -> str:
        change_status(db_session(), case, signed_in().member, form.get("status", ""), form.get("outcome"),
                      form.get("reason", ""))
        return f"The case is now {case.report.status}."

    return act_on_case(public_id, action, WorkflowError, "workflow")


@staff.post("/cases/<public_id>/category")
def case_category(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)

    def action() -> str:
        confirmed = correct_category(db_session(), case, signed_in().member, request.form.get("category", ""),
                                     request.form.getlist("flags"), taxonomy())
        return "The machine's category was confirmed." if confirmed else "The category was corrected."

    return act_on_case(public_id, action, ClassificationError, "category")
