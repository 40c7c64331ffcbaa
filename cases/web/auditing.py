"""The audit trail for auditors and admins: read it, and check its chain."""
from __future__ import annotations

from flask import render_template, request

from cases import audit
from cases.web import roles, signed_in, staff
from store.db import db_session
from store.models import Role

PAGE_SIZE = 100


@staff.get("/audit")
@roles(Role.AUDITOR, Role.ADMIN)
def audit_trail() -> tuple[str, int]:
    db = db_session()
    before = request.args.get("before", type=int)
    report = (request.args.get("report") or "").strip()[:32] or None
    entries = audit.recent_entries(db, PAGE_SIZE, before=before, report=report)
    audit.record(db, "audit.viewed", actor=signed_in().member, report=report)
    db.commit()
    older = entries[-1].id if len(entries) == PAGE_SIZE else None
    return render_template("cases/audit.html", entries=entries, older=older, report=report, result=None), 200


@staff.post("/audit/verify")
@roles(Role.AUDITOR, Role.ADMIN)
def audit_verify() -> tuple[str, int]:
    db = db_session()
    result = audit.verify_chain(db)
    audit.record(db, "audit.verified", actor=signed_in().member, intact=result.intact,
                 broken_at=result.broken_at)
    db.commit()
    entries = audit.recent_entries(db, PAGE_SIZE)
    older = entries[-1].id if len(entries) == PAGE_SIZE else None
    return render_template("cases/audit.html", entries=entries, older=older, report=None, result=result), 200
