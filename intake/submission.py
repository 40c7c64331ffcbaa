"""One pipeline for every new report, whichever way it arrived.

The report row and its sealed keys are committed in one transaction; only then is the report
queued for triage (a report is never lost to a queue outage: the sweeper re-queues what is left).
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crypto.receipts import derive_receipt_secrets, new_receipt
from crypto.wrapping import KdfLimits
from intake.envelope import Envelope, check_recipients
from intake.recipients import NoServiceKey, Recipient, current_recipients
from store.models import Attachment, Direction, RecipientKind, Report, SealedKey

log = logging.getLogger("probity.intake")


@dataclass(frozen=True)
class Receipt:
    """What the reporter is shown once: the code to come back with, and the report's public id."""

    code: str
    report: str
    report_id: int


def new_public_id() -> str:
    return secrets.token_hex(8)


def store_report(session: Session, envelope: Envelope, pepper: bytes, limits: KdfLimits,
                 recipients: list[Recipient] | None = None,
                 files: Sequence[tuple[str, bytes, int]] = ()) -> Receipt:
    """Validate the envelope against today's recipients and store it with its files (blob name,
    sealed metadata, stored size), in one transaction; commit, but do not enqueue."""
    recipients = recipients if recipients is not None else current_recipients(session)
    if not any(r.kind is RecipientKind.SERVICE for r in recipients):
        raise NoServiceKey("no intake service key: run 'flask --app wsgi keys init'")
    check_recipients(envelope, recipients)
    code = new_receipt()
    receipt_secrets = derive_receipt_secrets(code, pepper, limits)
    report = Report(
        public_id=new_public_id(),
        receipt_lookup=receipt_secrets.lookup,
        reporter_public_key=receipt_secrets.keypair.public_key,
        body=envelope.body,
        flags=[],
    )
    report.sealed_keys = [
        SealedKey(recipient_kind=r.kind.value, key_id=r.key_id, staff_id=r.staff_id,
                  sealed_key=envelope.keys[r.key_id])
        for r in recipients
    ]
    session.add(report)
    session.flush()
    for blob_name, sealed_meta, stored_size in files:
        session.add(Attachment(public_id=new_public_id(), report_id=report.id,
                               direction=Direction.FROM_REPORTER.value, sealed_meta=sealed_meta,
                               stored_size=stored_size, blob_name=blob_name))
    session.commit()
    log.info("report stored id=%s", report.public_id)
    return Receipt(code=code, report=report.public_id, report_id=report.id)
