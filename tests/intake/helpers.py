"""Building reports the way outside clients do: PyNaCl only, from docs/protocol.md."""
from __future__ import annotations

import base64
import json
import re
from typing import Any

from flask.testing import FlaskClient
from nacl.public import PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random

from crypto.proofofwork import solve


def plaintext(summary: str, **fields: Any) -> bytes:
    document = {"lang": fields.pop("lang", "en"),
                "fields": {"summary": summary, "category_hint": fields.pop("category_hint", None), **fields}}
    return json.dumps(document).encode()


def proof_of_work(client: FlaskClient, purpose: str = "report") -> str:
    """Fetch a challenge and solve it, as a client must before each report or file upload."""
    challenge = client.get(f"/api/v1/pow?purpose={purpose}").get_json()
    nonce = solve(base64.b64decode(challenge["challenge"]), challenge["difficulty_bits"])
    return f"{challenge['challenge']}:{nonce}"


def pow_headers(client: FlaskClient, purpose: str = "report") -> dict[str, str]:
    """The header that carries a solved proof of work (docs/protocol.md §5)."""
    return {"X-Probity-Proof": proof_of_work(client, purpose)}


def client_envelope(client: FlaskClient, body: bytes) -> tuple[dict[str, Any], bytes]:
    """Fetch the recipients and seal `body` to all of them, with a solved proof of work.
    Returns (request JSON, data key)."""
    keys = client.get("/api/v1/keys").get_json()
    data_key = random(SecretBox.KEY_SIZE)
    sealed_body = SecretBox(data_key).encrypt(body)  # nonce first
    return {
        "version": 1,
        "body": base64.b64encode(bytes(sealed_body)).decode(),
        "keys": {r["id"]: base64.b64encode(SealedBox(PublicKey(base64.b64decode(r["public_key"]))).encrypt(data_key)).decode()
                 for r in keys["recipients"]},
        "pow": proof_of_work(client),
    }, data_key


def form_ticket(client: FlaskClient, path: str = "/report") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="ticket" value="([^"]+)"', page)
    assert match, "form has no ticket"
    return match.group(1)


def receipt_from(page: str) -> str:
    match = re.search(r'id="receipt-code"[^>]*>([0-9A-Z-]+)<', page)
    assert match, "no receipt on the page"
    return match.group(1)


def submit_form(client: FlaskClient, summary: str, files: list[tuple[bytes, str]] | None = None,
                **fields: str) -> Any:
    import io

    data: dict[str, Any] = {"ticket": form_ticket(client), "summary": summary, **fields}
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/report", data=data, content_type="multipart/form-data")


def open_mailbox(client: FlaskClient, receipt: str) -> Any:
    ticket = form_ticket(client, "/followup")
    return client.post("/followup", data={"ticket": ticket, "receipt": receipt})
