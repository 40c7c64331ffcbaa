"""Messages to the reporter, internal notes, and files both ways."""
from __future__ import annotations

from flask import Response, abort, flash, request
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

from cases.access import CaseNotFound
from cases.dialogue import (DialogueError, add_files, add_note, download, download_headers, send_to_reporter,
                            stored_bytes)
from cases.web import back_to_case, case_or_404, settings, signed_in, staff
from cases.web.case import act_on_case, render_case
from core.uploads import accept_sealed_uploads
from intake.errors import IntakeError
from intake.files import BlobStore, PendingUploads, UploadBudget
from store.db import db_session

@staff.post("/cases/<public_id>/messages")
def send_message(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)

    def action() -> str:
        send_to_reporter(db_session(), case, signed_in().member, request.form.get("message", ""))
        return "Your message is in the reporter's mailbox."

    return act_on_case(public_id, action, DialogueError, "dialogue")


@staff.post("/cases/<public_id>/notes")
def add_internal_note(public_id: str) -> Response | tuple[str, int]:
    case = case_or_404(public_id)

    def action() -> str:
        add_note(db_session(), case, signed_in().member, request.form.get("note", ""))
        return "The note was added. The reporter never sees notes."

    return act_on_case(public_id, action, DialogueError, "dialogue")


@staff.post("/cases/<public_id>/files")
def upload_files(public_id: str) -> Response | tuple[str, int]:
    """Files are encrypted under the case's data key while the form is parsed (never plaintext on
    disk), so access is checked first and CSRF only once the encrypting sink is in place."""
    case = case_or_404(public_id)
    db = db_session()
    cfg = settings()
    uploads = PendingUploads(BlobStore(cfg.files_path), case.data_key,
                             UploadBudget(cfg.max_report_bytes, stored_bytes(db, case.report.id)))
    accept_sealed_uploads(uploads.factory)
    try:
        request.files
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            uploads.discard_all()
            abort(400, "The form's security token is missing or expired. Nothing was stored.")
        add_files(db, case, signed_in().member, request.form.get("direction", ""), uploads.finish())
        db.commit()
    except (DialogueError, IntakeError) as exc:
        uploads.discard_all()
        db.rollback()
        message = exc.message if isinstance(exc, IntakeError) else str(exc)
        return render_case(public_id, message, getattr(exc, "status", 422))
    except RequestEntityTooLarge:
        uploads.discard_all()
        return render_case(public_id, "The files are too large. Nothing was stored.", 413)
    except BaseException:
        uploads.discard_all()
        raise
    flash("The files were stored, encrypted.")
    return back_to_case(public_id, "dialogue")


@staff.get("/cases/<public_id>/files/<file_id>")
def download_file(public_id: str, file_id: str) -> Response:
    case = case_or_404(public_id)
    db = db_session()
    try:
        file = download(db, case, file_id, BlobStore(settings().files_path), signed_in().member)
    except CaseNotFound:
        abort(404)
    db.commit()
    return Response(file.chunks, headers=download_headers(file.filename, file.size))
