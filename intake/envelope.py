"""The v1 envelope: parsing what a client sent, and building the same thing on the server.

The server can check an envelope's structure (sizes, base64, recipients) but not its content:
it holds no key that opens it.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from crypto.envelope import check_sealed_body, check_sealed_key, new_data_key, seal_body, seal_for
from crypto.errors import MalformedInput
from intake.errors import MalformedEnvelope, MissingRecipient, TooLarge, UnknownVersion
from intake.recipients import Recipient

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Envelope:
    body: bytes
    keys: dict[str, bytes]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedEnvelope(f"{what} must be a base64 string.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelope(f"{what} is not valid base64.") from exc


def parse_envelope(document: Any, max_body: int) -> Envelope:
    """Check a decoded JSON request against protocol v1 and return its bytes."""
    if not isinstance(document, dict):
        raise MalformedEnvelope("The request must be a JSON object.")
    if document.get("version") != PROTOCOL_VERSION:
        raise UnknownVersion(f"Unsupported protocol version; this server speaks version {PROTOCOL_VERSION}.")
    body = _b64(document.get("body"), "'body'")
    if len(body) > max_body:
        raise TooLarge(f"The report body is larger than {max_body} bytes.")
    try:
        check_sealed_body(body, max_body)
    except MalformedInput as exc:
        raise MalformedEnvelope(f"'body' is not a sealed box: {exc}") from exc
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, dict) or not raw_keys:
        raise MalformedEnvelope("'keys' must be an object mapping key ids to sealed data keys.")
    keys: dict[str, bytes] = {}
    for key_id, sealed in raw_keys.items():
        blob = _b64(sealed, f"the key for '{str(key_id)[:40]}'")
        try:
            check_sealed_key(blob)
        except MalformedInput as exc:
            raise MalformedEnvelope(f"The key for '{str(key_id)[:40]}' has the wrong size.") from exc
        keys[str(key_id)] = blob
    return Envelope(body=body, keys=keys)


def check_recipients(envelope: Envelope, recipients: list[Recipient]) -> None:
    """Every listed recipient must get the data key; unknown ids are refused too."""
    expected = {r.key_id for r in recipients}
    missing = expected - envelope.keys.keys()
    if missing:
        raise MissingRecipient(
            "The data key is not sealed to every recipient; fetch GET /api/v1/keys again. "
            f"Missing: {', '.join(sorted(missing))}."
        )
    unknown = envelope.keys.keys() - expected
    if unknown:
        raise MissingRecipient(
            f"Unknown recipient key id(s): {', '.join(sorted(k[:40] for k in unknown))}; fetch GET /api/v1/keys again."
        )


def build_envelope(plaintext: bytes, recipients: list[Recipient], data_key: bytes | None = None) -> Envelope:
    """What the browser does, done in server memory for a reporter without JavaScript."""
    data_key = data_key or new_data_key()
    return Envelope(
        body=seal_body(data_key, plaintext),
        keys={r.key_id: seal_for(r.public_key, data_key) for r in recipients},
    )
