"""docs/protocol.md is enough: its vectors check out with PyNaCl alone, and a client written only
from it submits a report that an investigator's key decrypts. Nothing here imports crypto/."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import nacl.pwhash.argon2id as argon2id
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random
from sqlalchemy import select

from store.models import Attachment, Report, SealedKey
from tests.intake.helpers import pow_headers

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
MAGIC = b"PRBFS\x00\x01\x00"
CHUNK = 65536


def vectors() -> dict:
    block = re.search(r"```json\n(.*?)\n```", DOC.read_text(), re.S)
    assert block, "docs/protocol.md has no JSON test vectors"
    return json.loads(block.group(1))


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def stream_encrypt(key: bytes, data: bytes, prefix: bytes) -> bytes:
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    out = MAGIC + prefix
    for index, chunk in enumerate(chunks):
        nonce = prefix + index.to_bytes(7, "big") + (b"\x01" if index == len(chunks) - 1 else b"\x00")
        out += SecretBox(key).encrypt(chunk, nonce).ciphertext
    return out


def test_recipient_and_envelope_vectors() -> None:
    v = vectors()
    private = PrivateKey(bytes.fromhex(v["recipient"]["private_key_hex"]))
    public = bytes(private.public_key)
    assert base64.b64encode(public).decode() == v["recipient"]["public_key"]
    assert blake2b(public, digest_size=8, encoder=RawEncoder).hex() == v["recipient"]["id"]
    env = v["envelope"]
    data_key = bytes.fromhex(env["data_key_hex"])
    body = SecretBox(data_key).encrypt(env["plaintext"].encode(), bytes.fromhex(env["nonce_hex"]))
    assert base64.b64encode(bytes(body)).decode() == env["body"]
    assert SealedBox(private).decrypt(b64d(env["sealed_key"])) == data_key


def test_receipt_vector() -> None:
    r = vectors()["receipt"]
    salt = blake2b(bytes.fromhex(r["pepper_hex"]), digest_size=16, encoder=RawEncoder)
    assert salt.hex() == r["salt_hex"]
    okm = argon2id.kdf(64, r["receipt"].replace("-", "").encode(), salt, opslimit=r["opslimit"], memlimit=r["memlimit"])
    assert blake2b(okm[:32], digest_size=32, person=b"probity-lookup", encoder=RawEncoder).hex() == r["lookup_hex"]
    seed = blake2b(okm[32:], digest_size=32, person=b"probity-reporter", encoder=RawEncoder)
    assert base64.b64encode(bytes(PrivateKey(seed).public_key)).decode() == r["reporter_public_key"]


def test_file_vectors() -> None:
    v = vectors()
    f = v["file_stream"]
    key, prefix = bytes.fromhex(f["key_hex"]), bytes.fromhex(f["prefix_hex"])
    assert base64.b64encode(stream_encrypt(key, f["plaintext"].encode(), prefix)).decode() == f["stream"]
    two = stream_encrypt(key, bytes(range(256)) * 300, prefix)
    assert len(two) == f["two_chunk_stream_size"]
    assert hashlib.sha256(two).hexdigest() == f["two_chunk_stream_sha256"]
    m = v["file_meta"]
    assert SecretBox(key).decrypt(b64d(m["sealed"])).decode() == m["plaintext"]


def test_a_client_written_from_the_document(app, client, investigator, test_config) -> None:
    recipients = client.get("/api/v1/keys").get_json()["recipients"]
    for r in recipients:
        assert blake2b(b64d(r["public_key"]), digest_size=8, encoder=RawEncoder).hex() == r["id"]
    data_key = random(32)
    text = json.dumps({"lang": "fr", "fields": {"summary": "Le maire a exigé une enveloppe",
                                                 "where": "Mairie", "category_hint": None}}).encode()
    request = {
        "version": 1,
        "body": base64.b64encode(bytes(SecretBox(data_key).encrypt(text))).decode(),
        "keys": {r["id"]: base64.b64encode(SealedBox(PublicKey(b64d(r["public_key"]))).encrypt(data_key)).decode()
                 for r in recipients},
    }
    created = client.post("/api/v1/reports", json=request, headers=pow_headers(client))
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", answer["receipt"])
    evidence = "Reçu signé".encode() * 40000  # two chunks and a bit
    meta = SecretBox(data_key).encrypt(json.dumps({"name": "recu.txt", "type": "text/plain",
                                                   "size": len(evidence)}).encode())
    upload = client.post(f"/api/v1/reports/{answer['report']}/files",
                         data=stream_encrypt(data_key, evidence, random(16)),
                         headers={"X-Probity-Upload-Token": answer["upload_token"],
                                  "X-Probity-File-Meta": base64.b64encode(bytes(meta)).decode(),
                                  **pow_headers(client, purpose="file")})
    assert upload.status_code == 201, upload.get_json()

    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == answer["report"]))
        sealed = session.scalar(select(SealedKey).where(SealedKey.report_id == report.id,
                                                        SealedKey.key_id == recipients[-1]["id"]))
        key = SealedBox(PrivateKey(investigator.keypair.private_key)).decrypt(sealed.sealed_key)
        assert json.loads(SecretBox(key).decrypt(report.body))["fields"]["summary"].startswith("Le maire")
        attachment = session.scalar(select(Attachment).where(Attachment.report_id == report.id))
        stored = (test_config["files_path"] / attachment.blob_name).read_bytes()
    assert stored.startswith(MAGIC)
