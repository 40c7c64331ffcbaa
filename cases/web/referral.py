"""Referral export: the case as an archive encrypted to the receiving authority's public key."""
from __future__ import annotations

from flask import Response, request

from cases.referral import ReferralError, archive_members, parse_recipient_key, record_export, referral_stream, seal_file_key
from cases.web import case_or_404, settings, signed_in, staff
from cases.web.case import render_case
from intake.files import BlobStore
from store.db import db_session


@staff.post("/cases/<public_id>/export")
def case_export(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)
    db = db_session()
    include_notes = request.form.get("include_notes") == "1"
    try:
        recipient = parse_recipient_key(request.form.get("recipient_key", ""))
        seal_file_key(recipient, b"\0" * 32)  # refuse an unusable key before anything is audited
    except ReferralError as exc:
        return render_case(public_id, str(exc), 422)
    members = archive_members(db, case, BlobStore(settings().files_path), include_notes, signed_in().member)
    record_export(db, case, signed_in().member, recipient, include_notes, members)
    db.commit()
    return Response(referral_stream(recipient, members), mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="referral-{case.report.public_id}.prbref"'})
