"""The reporter's pages: what can be reported, the report form, and the receipt. No JavaScript needed."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from werkzeug.exceptions import RequestEntityTooLarge

from core.limits import global_token, limiter, stored
from core.redis import redis_connection
from core.uploads import accept_sealed_uploads
from crypto.envelope import new_data_key
from intake import services
from intake.content import FIELDS, build_content, encode_content
from intake.envelope import build_envelope
from intake.errors import IntakeError, InvalidReport
from intake.files import PendingUploads, UploadBudget
from intake.recipients import NoServiceKey, current_recipients
from intake.reference import code_of_conduct, declaration
from intake.submission import store_report
from store.db import db_session
from triage.queue import enqueue_triage
from flask_babel import gettext as _

log = logging.getLogger("probity.intake")

pages = Blueprint("pages", __name__)

REPORT_TICKET = "report"


@pages.get("/")
def landing() -> str:
    return render_template("public/landing.html", taxonomy=services.taxonomy(),
                           deadlines=services.settings().deadlines)


@pages.get("/code-of-conduct")
def code_text() -> str:
    return render_template("public/reference.html", code=code_of_conduct(), declaration=declaration())


def _render_form(values: dict[str, Any] | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    cfg = services.settings()
    return render_template(
        "public/report_form.html", values=values or {}, error=error, taxonomy=services.taxonomy(),
        ticket=services.tickets().issue(REPORT_TICKET), max_mb=cfg.max_report_bytes // (1024 * 1024),
    ), status


@pages.get("/report")
def report_form() -> tuple[str, int]:
    return _render_form()


@pages.post("/report")
@limiter.limit(lambda: services.settings().abuse.submissions_per_hour, deduct_when=stored)
@limiter.shared_limit(lambda: services.settings().abuse.global_submissions, scope="all-submissions",
                      key_func=global_token, deduct_when=stored)
def submit_report() -> tuple[str, int]:
    cfg = services.settings()
    data_key = new_data_key()
    uploads = PendingUploads(services.blob_store(), data_key, UploadBudget(cfg.max_report_bytes))
    accept_sealed_uploads(uploads.factory)
    values: dict[str, Any] = {}
    try:
        form = request.form
        request.files  # parse (and encrypt) every file part now, inside this try
        values = {name: form.get(name, "") for name in (*FIELDS, "category_hint")}
        if any("\ufffd" in str(v) for v in values.values()):
            raise InvalidReport(_("Part of the text could not be read (it is not valid UTF-8). Please check it and send again."))
        services.tickets().redeem(REPORT_TICKET, form.get("ticket"))
        content = build_content(str(get_locale() or "und"), values, values.get("category_hint") or None,
                                services.known_categories())
        session = db_session()
        recipients = current_recipients(session)
        envelope = build_envelope(encode_content(content), recipients, data_key)
        receipt = store_report(session, envelope, cfg.receipt_pepper, cfg.receipt_limits, recipients,
                               files=uploads.finish())
    except IntakeError as exc:
        uploads.discard_all()
        return _render_form(values, exc.message, exc.status)
    except RequestEntityTooLarge:
        uploads.discard_all()
        return _render_form(values, _("The files are too large: at most %(mb)s MB in all. Nothing was stored.",
                                              mb=cfg.max_report_bytes // (1024 * 1024)), 413)
    except NoServiceKey:
        uploads.discard_all()
        return _render_form(values, _("This service is not ready to receive reports yet. Nothing was stored."), 503)
    except BaseException:
        uploads.discard_all()
        raise
    enqueue_triage(redis_connection(), receipt.report_id, db_session())
    # The receipt is shown in this response only: no redirect, so it is in no URL or history.
    return render_template("public/receipt.html", receipt=receipt, deadlines=cfg.deadlines), 201
