"""The follow-up mailbox: a reporter comes back with the receipt, reads and answers questions.

Entering the receipt derives (slow Argon2id) the lookup tag and the reporter's private key. The key
is kept for the visit in a split-key session (core/splitkey.py): the only cookie a reporter ever
gets, session-only, HttpOnly, SameSite=Strict, scoped to /followup.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

from core.limits import global_token, limiter, receipt_tried
from core.redis import redis_connection
from core.splitkey import (SplitKeySessions, UnlockedSession, close_cookie_session, open_in_cookie,
                           unlock_from_cookie)
from core.uploads import accept_sealed_uploads
from crypto.envelope import open_body, seal_body, unseal
from crypto.errors import CryptoError, MalformedReceipt
from crypto.receipts import derive_receipt_secrets, normalise_receipt
from intake import services
from intake.errors import IntakeError, NotReady, UnknownReceipt
from intake.files import PendingUploads, UploadBudget, open_meta
from intake.submission import new_public_id
from store.db import db_session
from store.models import Attachment, Direction, Message, RecipientKind, Report, SealedKey
from cases.deadlines import deadlines_for
from cases.dialogue import download_headers
from crypto.filestream import plaintext_size
from flask_babel import get_locale
from flask_babel import gettext as _

log = logging.getLogger("probity.intake")

mailbox = Blueprint("mailbox", __name__, url_prefix="/followup")

LOGIN_TICKET = "followup"
MAX_REPLY_CHARS = 20_000


def _lang() -> str:
    # The language travels in URLs (reporters get no preference cookie): keep it across redirects.
    return str(get_locale() or "en")


def mailbox_sessions() -> SplitKeySessions:
    cfg = services.settings()
    return SplitKeySessions(redis_connection(), "mailbox", cfg.mailbox_idle_minutes * 60, 2 * 3600)


def _login_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("public/followup_login.html", error=error,
                           ticket=services.tickets().issue(LOGIN_TICKET)), status


@mailbox.get("")
def login_form() -> tuple[str, int]:
    return _login_page()


def _throttle_report(report_id: int) -> None:
    """A known receipt still cannot be hammered: cap mailbox logins per report per window."""
    cfg = services.settings().abuse
    key = f"probity:mailbox-logins:{report_id}"
    connection = redis_connection()
    count = connection.incr(key)
    if count == 1:
        connection.expire(key, cfg.receipt_attempts_window_seconds)
    if count > cfg.receipt_attempts_per_report:
        raise IntakeError(_("Too many visits to this mailbox in a short time. Please try again in an hour."),
                          code="too_many_attempts", status=429)


@mailbox.post("")
@limiter.limit(lambda: services.settings().abuse.global_receipt_attempts, key_func=global_token,
               deduct_when=receipt_tried)
@limiter.limit(lambda: services.settings().abuse.receipt_attempts_per_client, deduct_when=receipt_tried)
def login() -> Response | tuple[str, int]:
    cfg = services.settings()
    try:
        services.tickets().redeem(LOGIN_TICKET, request.form.get("ticket"))
        try:
            receipt = normalise_receipt(request.form.get("receipt", ""))
        except MalformedReceipt:
            raise UnknownReceipt(_("That is not a receipt code. A receipt has 16 letters and digits, "
                                   "like K7QM-2XRD-9HVT-4PNB."), status=400) from None
        secrets = derive_receipt_secrets(receipt, cfg.receipt_pepper, cfg.receipt_limits)
        report = db_session().scalar(select(Report).where(Report.receipt_lookup == secrets.lookup))
        if report is None:
            raise UnknownReceipt(_("No report matches this receipt. Check each character and try again."))
        _throttle_report(report.id)
    except IntakeError as exc:
        return _login_page(exc.message, exc.status)
    open_in_cookie(mailbox_sessions(), report.public_id, secrets.keypair.private_key)
    return redirect(url_for("mailbox.view", lang=_lang()), code=303)


def _unlock() -> UnlockedSession:
    unlocked = unlock_from_cookie(mailbox_sessions())
    if unlocked is None:
        session.clear()
        abort(redirect(url_for("mailbox.login_form", expired=1, lang=_lang())))
    return unlocked


def _report_and_key(unlocked: UnlockedSession) -> tuple[Report, bytes | None]:
    db = db_session()
    report = db.scalar(select(Report).where(Report.public_id == unlocked.subject))
    if report is None:
        abort(404)
    sealed = db.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                              SealedKey.recipient_kind == RecipientKind.REPORTER.value))
    if sealed is None:
        return report, None
    return report, unseal(unlocked.private_key, sealed.sealed_key)


@dataclass(frozen=True)
class MailboxEntry:
    at: datetime
    from_reporter: bool
    text: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    file_id: str | None = None  # set for files the investigators sent: the reporter may download them


def _entries(report: Report, data_key: bytes) -> list[MailboxEntry]:
    db = db_session()
    shown = (Direction.TO_REPORTER.value, Direction.FROM_REPORTER.value)
    entries = [
        MailboxEntry(m.created_at, m.direction == Direction.FROM_REPORTER.value,
                     text=open_body(data_key, m.body).decode("utf-8"))
        for m in db.scalars(select(Message).where(Message.report_id == report.id, Message.direction.in_(shown)))
    ]
    for a in db.scalars(select(Attachment).where(Attachment.report_id == report.id, Attachment.direction.in_(shown))):
        meta = open_meta(data_key, a.sealed_meta)
        entries.append(MailboxEntry(a.created_at, a.direction == Direction.FROM_REPORTER.value,
                                    file_name=meta.name, file_size=meta.size,
                                    file_id=a.public_id if a.direction == Direction.TO_REPORTER.value else None))
    return sorted(entries, key=lambda e: e.at)


@mailbox.get("/mailbox")
def view(error: str | None = None, status: int = 200) -> tuple[str, int]:
    unlocked = _unlock()
    report, data_key = _report_and_key(unlocked)
    cfg = services.settings()
    return render_template(
        "public/mailbox.html", report=report, ready=data_key is not None,
        entries=_entries(report, data_key) if data_key else [], error=error,
        deadlines=deadlines_for(report, cfg.deadlines), max_mb=cfg.max_report_bytes // (1024 * 1024),
    ), status


def _check_csrf(token: str | None) -> None:
    try:
        validate_csrf(token)
    except ValidationError:
        raise IntakeError(_("The form's security token is missing or expired. Nothing was stored; "
                            "please send it again."), code="csrf", status=400) from None


@mailbox.post("/reply")
def reply() -> Response | tuple[str, int]:
    unlocked = _unlock()
    report, data_key = _report_and_key(unlocked)
    text = (request.form.get("message") or "").strip()
    try:
        if data_key is None:
            raise NotReady(_("Your report is still being processed; please try again in a minute."))
        if not text:
            raise IntakeError(_("Your message is empty."), code="empty", status=422)
        if len(text) > MAX_REPLY_CHARS:
            raise IntakeError(_("Your message is too long (at most %(limit)s characters).", limit=MAX_REPLY_CHARS),
                              code="too_long", status=422)
    except IntakeError as exc:
        return view(exc.message, exc.status)
    db = db_session()
    db.add(Message(report_id=report.id, direction=Direction.FROM_REPORTER.value,
                   body=seal_body(data_key, text.encode("utf-8"))))
    db.commit()
    return redirect(url_for("mailbox.view", lang=_lang()), code=303)


@mailbox.post("/files")
def add_files() -> Response | tuple[str, int]:
    unlocked = _unlock()
    report, data_key = _report_and_key(unlocked)
    if data_key is None:
        return view(_("Your report is still being processed; please try again in a minute."), 409)
    cfg = services.settings()
    db = db_session()
    spent = sum(a.stored_size for a in db.scalars(select(Attachment).where(Attachment.report_id == report.id)))
    uploads = PendingUploads(services.blob_store(), data_key, UploadBudget(cfg.max_report_bytes, spent))
    accept_sealed_uploads(uploads.factory)
    try:
        request.files
        _check_csrf(request.form.get("csrf_token"))
        kept = uploads.finish()
        if not kept:
            raise IntakeError(_("Choose at least one file to send."), code="no_file", status=422)
        for blob_name, sealed_meta, size in kept:
            db.add(Attachment(public_id=new_public_id(), report_id=report.id,
                              direction=Direction.FROM_REPORTER.value, sealed_meta=sealed_meta,
                              stored_size=size, blob_name=blob_name))
        db.commit()
    except IntakeError as exc:
        uploads.discard_all()
        return view(exc.message, exc.status)
    except RequestEntityTooLarge:
        uploads.discard_all()
        return view(_("The files are too large. Nothing was stored."), 413)
    except BaseException:
        uploads.discard_all()
        raise
    return redirect(url_for("mailbox.view", lang=_lang()), code=303)


@mailbox.get("/files/<file_id>")
def download(file_id: str) -> Response:
    """A file the investigators sent, decrypted as it streams out."""
    report, data_key = _report_and_key(_unlock())
    attachment = db_session().scalar(select(Attachment).where(
        Attachment.public_id == file_id, Attachment.report_id == report.id,
        Attachment.direction == Direction.TO_REPORTER.value))
    if data_key is None or attachment is None:
        abort(404)
    meta = open_meta(data_key, attachment.sealed_meta)
    return Response(services.blob_store().decrypt(attachment.blob_name, data_key),
                    headers=download_headers(meta.name, plaintext_size(attachment.stored_size)))


@mailbox.post("/logout")
def logout() -> Response:
    close_cookie_session(mailbox_sessions())
    return redirect(url_for("pages.landing", lang=_lang()), code=303)
