"""One named exception per way a submission can be refused."""
from __future__ import annotations


class IntakeError(Exception):
    """A refusal with a stable machine code, a human message and an HTTP status."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class MalformedEnvelope(IntakeError):
    code = "malformed_envelope"


class UnknownVersion(IntakeError):
    code = "unsupported_version"


class MissingRecipient(IntakeError):
    code = "missing_recipient"


class TooLarge(IntakeError):
    code = "too_large"
    status = 413


class InvalidReport(IntakeError):
    code = "invalid_report"
    status = 422


class TicketRefused(IntakeError):
    code = "ticket_refused"


class UnknownReceipt(IntakeError):
    code = "unknown_receipt"
    status = 403


class NotReady(IntakeError):
    code = "not_ready"
    status = 409
