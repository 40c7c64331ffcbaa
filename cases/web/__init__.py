"""The workspace's web layer: thin views under /staff that call plain functions in cases/.

Every URL except sign-in and recovery needs a live split-key session; `g.staff` then holds the
staff member and their unwrapped private key for this request only.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, g, redirect, request, session, url_for

from cases.access import CaseNotFound, OpenCase, open_case
from cases.staffsession import StaffContext, current_staff
from core.config import Settings
from store.db import db_session
from store.models import Role

staff = Blueprint("staff", __name__, url_prefix="/staff")

OPEN_ENDPOINTS = frozenset({"staff.login_form", "staff.login", "staff.recover_form", "staff.recover"})

View = TypeVar("View", bound=Callable[..., Any])


@staff.before_request
def _require_session() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    context = current_staff(db_session())
    if context is None:
        session.clear()
        return redirect(url_for("staff.login_form", expired=1), code=303)  # type: ignore[return-value]
    g.staff = context
    return None


def signed_in() -> StaffContext:
    return g.staff  # type: ignore[no-any-return]


def settings() -> Settings:
    return current_app.config["PROBITY"]  # type: ignore[no-any-return]


def case_or_404(public_id: str) -> OpenCase:
    """The case with its data key, or 404 — the same 404 whether it is missing or not yours."""
    try:
        return open_case(db_session(), signed_in(), public_id)
    except CaseNotFound:
        abort(404)


def back_to_case(public_id: str, anchor: str = "") -> Response:
    return redirect(url_for("staff.case_view", public_id=public_id) + (f"#{anchor}" if anchor else ""),
                    code=303)  # type: ignore[return-value]


def roles(*allowed: Role) -> Callable[[View], View]:
    """Refuse (403) anyone whose role is not listed."""
    names = {r.value for r in allowed}

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if signed_in().role not in names:
                abort(403)
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def home_for(role: str) -> str:
    if role == Role.INVESTIGATOR.value:
        return url_for("staff.queue")
    if role == Role.ADMIN.value:
        return url_for("staff.staff_list")
    return url_for("staff.audit_trail")


def load_views() -> Blueprint:
    """Import the view modules (they attach their routes to the blueprint) and return it."""
    from cases.web import (account, admin, auditing, case, dialogue, queue, referral, sharing,  # noqa: F401
                           signin, statistics)

    return staff
