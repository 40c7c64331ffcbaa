"""The API's proof of work: required, checked, single use (through the real Redis), and a refusal
stores nothing."""
from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from core.config import AbuseLimits, load_settings
from crypto.filestream import encrypt_bytes
from crypto.proofofwork import solve, verify
from intake.antiabuse import CHALLENGE_SIZE, SPENT_PREFIX, ProofOfWork, ProofRefused, Purpose
from tests.intake.helpers import client_envelope, plaintext, pow_headers, proof_of_work
from tests.intake.inspect import files_on_disk, row_counts


def pow_for(app, purpose: Purpose = Purpose.REPORT, bits: int | None = None, now: float | None = None) -> str:  # type: ignore[no-untyped-def]
    """A proof made with the server's own secret, for challenges the API would not hand out."""
    settings = app.config["PROBITY"]
    bits = bits or settings.abuse.pow_difficulty_bits
    issued = ProofOfWork(None, settings.secret_key, bits, 60).issue(purpose, now=now)  # type: ignore[arg-type]
    return f"{base64.b64encode(issued.challenge).decode()}:{solve(issued.challenge, bits)}"


def a_wrong_nonce(challenge: bytes, bits: int) -> int:
    return next(n for n in range(1_000_000) if not verify(challenge, n, bits))


def test_challenge_shape(client, app) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/pow").get_json()
    assert set(answer) == {"challenge", "difficulty_bits", "expires", "purpose"}
    assert len(base64.b64decode(answer["challenge"])) == CHALLENGE_SIZE
    assert answer["difficulty_bits"] == app.config["PROBITY"].abuse.pow_difficulty_bits
    assert answer["purpose"] == "report"
    assert client.get("/api/v1/pow?purpose=file").get_json()["purpose"] == "file"
    assert client.get("/api/v1/pow?purpose=other").status_code == 400


def test_issuing_challenges_stores_nothing(client, redis_conn) -> None:  # type: ignore[no-untyped-def]
    before = redis_conn.dbsize()
    challenges = {client.get("/api/v1/pow").get_json()["challenge"] for _ in range(50)}
    assert len(challenges) == 50
    assert redis_conn.dbsize() == before


def test_a_report_without_a_proof_is_refused_and_nothing_stored(app, client, investigator) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("An unpaid-for report"))
    del request_json["pow"]
    before = row_counts(app)
    response = client.post("/api/v1/reports", json=request_json)
    assert response.status_code == 428
    assert response.get_json()["error"] == "pow_required"
    assert row_counts(app) == before


def test_the_proof_may_travel_in_the_header(app, client, investigator) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("Header proof"))
    del request_json["pow"]
    response = client.post("/api/v1/reports", json=request_json, headers=pow_headers(client))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("damage", ["wrong nonce", "forged challenge", "not base64", "no nonce", "huge nonce",
                                    "wrong purpose", "too easy", "expired"])
def test_a_bad_proof_is_refused_and_nothing_stored(app, client, investigator, damage: str) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("A report with a bad proof"))
    encoded, nonce = request_json["pow"].split(":")
    challenge = base64.b64decode(encoded)
    bits = app.config["PROBITY"].abuse.pow_difficulty_bits
    forged = bytearray(challenge)
    forged[20] ^= 1
    request_json["pow"] = {
        "wrong nonce": f"{encoded}:{a_wrong_nonce(challenge, bits)}",
        "forged challenge": f"{base64.b64encode(bytes(forged)).decode()}:{solve(bytes(forged), bits)}",
        "not base64": f"!!{encoded[2:]}:{nonce}",
        "no nonce": encoded,
        "huge nonce": f"{encoded}:{2 ** 64}",
        "wrong purpose": pow_for(app, Purpose.FILE),
        "too easy": pow_for(app, bits=bits - 4),
        "expired": pow_for(app, now=1_000_000_000),
    }[damage]
    before = row_counts(app)
    response = client.post("/api/v1/reports", json=request_json)
    assert response.status_code in (403, 428), response.get_json()
    assert response.get_json()["error"] in {"pow_invalid", "pow_expired"}
    assert response.get_json()["message"]
    assert row_counts(app) == before


def test_a_replayed_proof_is_refused_and_nothing_more_stored(app, client, investigator) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("First"))
    assert client.post("/api/v1/reports", json=request_json).status_code == 201
    again, _ = client_envelope(client, plaintext("Second, with the first one's proof"))
    again["pow"] = request_json["pow"]
    before = row_counts(app)
    response = client.post("/api/v1/reports", json=again)
    assert response.status_code == 409
    assert response.get_json()["error"] == "pow_replayed"
    assert row_counts(app) == before


def test_a_proof_survives_an_envelope_the_server_refused(app, client, investigator) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("Fixed on the second try"))
    broken = {**request_json, "body": "not base64!!"}
    assert client.post("/api/v1/reports", json=broken).get_json()["error"] == "malformed_envelope"
    assert client.post("/api/v1/reports", json=request_json).status_code == 201


def test_only_one_of_two_simultaneous_spends_wins(app, redis_conn) -> None:  # type: ignore[no-untyped-def]
    settings = app.config["PROBITY"]
    work = ProofOfWork(redis_conn, settings.secret_key, 4, 60)
    issued = work.issue(Purpose.REPORT)
    proof = work.check(f"{base64.b64encode(issued.challenge).decode()}:{solve(issued.challenge, 4)}", Purpose.REPORT)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def spend() -> None:
        start.wait()
        try:
            work.spend(proof)
            outcomes.append("spent")
        except ProofRefused as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["pow_replayed"] * 7 + ["spent"]
    [key] = list(redis_conn.scan_iter(f"{SPENT_PREFIX}*"))
    assert 0 < redis_conn.ttl(key) <= 61


def upload(client, created: dict, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/reports/{created['report']}/files", data=encrypt_bytes(b"k" * 32, b"evidence"),
                       headers={"X-Probity-Upload-Token": created["upload_token"],
                                "X-Probity-File-Meta": base64.b64encode(b"m" * 60).decode(), **headers})


def test_each_file_upload_needs_its_own_proof(app, client, investigator, test_config) -> None:  # type: ignore[no-untyped-def]
    request_json, _ = client_envelope(client, plaintext("With files"))
    created = client.post("/api/v1/reports", json=request_json).get_json()
    before = row_counts(app)
    missing = upload(client, created, {})
    assert missing.status_code == 428 and missing.get_json()["error"] == "pow_required"
    for_a_report = upload(client, created, {"X-Probity-Proof": proof_of_work(client, "report")})
    assert for_a_report.status_code == 403 and for_a_report.get_json()["error"] == "pow_invalid"
    assert row_counts(app) == before
    assert files_on_disk(test_config["files_path"]) == []
    headers = pow_headers(client, "file")
    assert upload(client, created, headers).status_code == 201
    replayed = upload(client, created, headers)
    assert replayed.status_code == 409 and replayed.get_json()["error"] == "pow_replayed"
    assert len(files_on_disk(test_config["files_path"])) == 1


def test_difficulty_comes_from_the_environment(tmp_path: Path) -> None:
    assert load_settings({"PROBITY_POW_BITS": "21"}, tmp_path).abuse.pow_difficulty_bits == 21
    assert load_settings({}, tmp_path).abuse.pow_difficulty_bits == AbuseLimits().pow_difficulty_bits


def test_raising_the_difficulty_voids_easier_outstanding_challenges(app, redis_conn) -> None:  # type: ignore[no-untyped-def]
    settings = app.config["PROBITY"]
    easy = ProofOfWork(redis_conn, settings.secret_key, 4, 60)
    issued = easy.issue(Purpose.REPORT)
    token = f"{base64.b64encode(issued.challenge).decode()}:{solve(issued.challenge, 4)}"
    harder = ProofOfWork(redis_conn, settings.secret_key, 6, 60)
    with pytest.raises(ProofRefused) as refused:
        harder.check(token, Purpose.REPORT)
    assert refused.value.code == "pow_expired"


def test_the_documented_vector_checks_out_with_hashlib_alone() -> None:
    import hashlib
    import json
    import re

    document = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    block = re.search(r"```json\n(.*?)\n```", document, re.S)
    assert block
    vector = json.loads(block.group(1))["proof_of_work"]
    challenge = base64.b64decode(vector["challenge"], validate=True)
    bits = vector["difficulty_bits"]

    def zero_bits(nonce: int) -> int:
        digest = hashlib.sha512(challenge + nonce.to_bytes(8, "big")).digest()
        return 512 - int.from_bytes(digest, "big").bit_length()

    assert zero_bits(vector["nonce"]) >= bits
    assert not [n for n in range(vector["nonce"]) if zero_bits(n) >= bits]
    assert hashlib.sha512(challenge + vector["nonce"].to_bytes(8, "big")).hexdigest().startswith(
        vector["digest_prefix_hex"])
    assert vector["header"] == f"{vector['challenge']}:{vector['nonce']}"
