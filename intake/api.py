"""JSON API v1 for clients that encrypt on the reporter's device (the page script, outside clients).

The server checks only structure: it cannot open what it receives. See docs/protocol.md.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.limits import global_token, limiter, stored
from core.redis import redis_connection
from intake import services
from intake.antiabuse import HEADER as PROOF_HEADER
from intake.antiabuse import JSON_FIELD as PROOF_FIELD
from intake.antiabuse import ProofOfWork, Purpose
from intake.envelope import parse_envelope
from intake.errors import IntakeError, MalformedEnvelope, TooLarge
from intake.files import UploadBudget, receive_encrypted
from intake.recipients import NoServiceKey, current_recipients
from intake.submission import new_public_id, store_report
from store.db import db_session
from store.models import Attachment, Direction, Report
from triage.queue import enqueue_triage

api = Blueprint("api", __name__, url_prefix="/api/v1")

# base64 grows data by 4/3; leave room for the keys and JSON punctuation.
ENVELOPE_OVERHEAD = 64 * 1024
UPLOAD_TOKEN_SECONDS = 3600


def error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


@api.errorhandler(IntakeError)
def _intake_error(exc: IntakeError) -> tuple[Response, int]:
    return error(exc.code, exc.message, exc.status)


@api.errorhandler(NoServiceKey)
def _no_service_key(exc: NoServiceKey) -> tuple[Response, int]:
    return error("not_configured", "This service is not ready to receive reports yet.", 503)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    if isinstance(exc, RequestEntityTooLarge):
        return error("too_large", "The request is larger than this server accepts.", 413)
    return error(exc.name.lower().replace(" ", "_"), exc.description or exc.name, exc.code or 500)


@api.get("/keys")
def keys() -> Response:
    recipients = current_recipients(db_session())
    return jsonify({
        "version": 1,
        "recipients": [{"id": r.key_id, "public_key": base64.b64encode(r.public_key).decode()}
                       for r in recipients],
    })


def _json_body(limit: int) -> Any:
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"The request is larger than {limit} bytes.")
    # Read at most one byte past the limit, so a chunked request cannot make us buffer more.
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"The request is larger than {limit} bytes.")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedEnvelope("The request is not valid UTF-8.", code="invalid_json") from None
    except json.JSONDecodeError:
        raise MalformedEnvelope("The request is not valid JSON.", code="invalid_json") from None


def proof_of_work() -> ProofOfWork:
    cfg = services.settings()
    return ProofOfWork(redis_connection(), cfg.secret_key, cfg.abuse.pow_difficulty_bits,
                       cfg.abuse.pow_ticket_seconds)


@api.get("/pow")
def pow_challenge() -> Response:
    """A fresh proof-of-work challenge (stateless: issuing one stores nothing)."""
    purpose = Purpose.named(request.args.get("purpose", "report"))
    return jsonify(proof_of_work().issue(purpose).as_json())


def upload_token(report_public_id: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + UPLOAD_TOKEN_SECONDS)
    mac = hmac.new(services.settings().secret_key, f"upload|{report_public_id}|{expires}".encode(),
                   hashlib.sha256).hexdigest()[:32]
    return f"{expires}.{mac}"


def check_upload_token(report_public_id: str, token: str | None) -> None:
    try:
        expires_text, mac = (token or "").split(".")
        expires = int(expires_text)
    except ValueError:
        raise IntakeError("A valid upload token is required.", code="bad_upload_token", status=403) from None
    expected = hmac.new(services.settings().secret_key, f"upload|{report_public_id}|{expires}".encode(),
                        hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac.encode(), expected.encode()) or expires < time.time():
        raise IntakeError("The upload token is not valid for this report or has expired.",
                          code="bad_upload_token", status=403)


@api.post("/reports")
@limiter.limit(lambda: services.settings().abuse.submissions_per_hour, deduct_when=stored)
@limiter.shared_limit(lambda: services.settings().abuse.global_submissions, scope="all-submissions",
                      key_func=global_token, deduct_when=stored)
def submit_report() -> tuple[Response, int]:
    cfg = services.settings()
    document = _json_body(limit=cfg.max_text_bytes * 2 + ENVELOPE_OVERHEAD)
    envelope = parse_envelope(document, max_body=cfg.max_text_bytes + 64)
    # Checked once the envelope parses, so a client with a bug learns that first and keeps its work.
    proof = request.headers.get(PROOF_HEADER) or (document.get(PROOF_FIELD) if isinstance(document, dict) else None)
    proof_of_work().redeem(proof, Purpose.REPORT)
    receipt = store_report(db_session(), envelope, cfg.receipt_pepper, cfg.receipt_limits)
    enqueue_triage(redis_connection(), receipt.report_id, db_session())
    return jsonify({"receipt": receipt.code, "report": receipt.report,
                    "upload_token": upload_token(receipt.report)}), 201


@api.post("/reports/<report_id>/files")
def upload_file(report_id: str) -> tuple[Response, int]:
    """A client-encrypted file: raw stream body, sealed metadata in a header."""
    cfg = services.settings()
    check_upload_token(report_id, request.headers.get("X-Probity-Upload-Token"))
    proof_of_work().redeem(request.headers.get(PROOF_HEADER), Purpose.FILE)
    session = db_session()
    report = session.query(Report).filter_by(public_id=report_id).one_or_none()
    if report is None:
        raise IntakeError("No such report.", code="not_found", status=404)
    try:
        sealed_meta = base64.b64decode(request.headers.get("X-Probity-File-Meta", ""), validate=True)
    except ValueError:
        raise MalformedEnvelope("X-Probity-File-Meta must be base64.") from None
    if not 40 <= len(sealed_meta) <= 4096:
        raise MalformedEnvelope("X-Probity-File-Meta must be a sealed box of at most 4 KiB.")
    spent = sum(a.stored_size for a in session.query(Attachment).filter_by(report_id=report.id))
    store = services.blob_store()
    blob_name, size = receive_encrypted(store, request.stream, UploadBudget(cfg.max_report_bytes + 1024 * 1024, spent))
    attachment = Attachment(public_id=new_public_id(), report_id=report.id,
                            direction=Direction.FROM_REPORTER.value, sealed_meta=sealed_meta,
                            stored_size=size, blob_name=blob_name)
    session.add(attachment)
    try:
        session.commit()
    except BaseException:
        store.discard(blob_name)
        raise
    return jsonify({"file": attachment.public_id, "stored_size": size}), 201
