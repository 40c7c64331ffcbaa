"""The very scripts the report page loads, run in Chromium, against PyNaCl and crypto/: sealed boxes
are libsodium's crypto_box_seal both ways, the file stream and the report plaintext are byte-exact,
and the proof of work finds the same nonce as the server's reference solver."""
from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import Box, PrivateKey, PublicKey, SealedBox

from crypto.filestream import decrypt_bytes, encrypted_size
from crypto.proofofwork import solve
from intake.content import build_content, encode_content
from intake.files import open_meta
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def page(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    page.wait_for_function("() => self.ProbityCrypto && self.ProbityPow && self.nacl && self.sealedBox")
    yield page
    context.close()


def test_a_box_sealed_in_the_browser_is_libsodiums_crypto_box_seal(page: Any) -> None:
    recipient = PrivateKey.generate()
    public = bytes(recipient.public_key)
    message = os.urandom(32)
    sealed = base64.b64decode(page.evaluate(
        "([message, key]) => ProbityCrypto.toBase64(sealedBox.seal(ProbityCrypto.fromBase64(message),"
        " ProbityCrypto.fromBase64(key)))", [b64(message), b64(public)]))
    assert len(sealed) == 80
    assert SealedBox(recipient).decrypt(sealed) == message
    # The nonce is BLAKE2b-192(ephemeral public key || recipient public key), as libsodium derives it.
    ephemeral = sealed[:32]
    nonce = blake2b(ephemeral + public, digest_size=24, encoder=RawEncoder)
    assert Box(recipient, PublicKey(ephemeral)).decrypt(sealed[32:], nonce) == message


def test_the_browser_opens_a_box_sealed_by_pynacl(page: Any) -> None:
    recipient = PrivateKey.generate()
    message = os.urandom(32)
    sealed = SealedBox(recipient.public_key).encrypt(message)
    opened = page.evaluate(
        "([box, pk, sk]) => { const m = sealedBox.open(ProbityCrypto.fromBase64(box), ProbityCrypto.fromBase64(pk),"
        " ProbityCrypto.fromBase64(sk)); return m && ProbityCrypto.toBase64(m); }",
        [b64(sealed), b64(bytes(recipient.public_key)), b64(bytes(recipient))])
    assert opened == b64(message)


def test_a_report_envelope_sealed_in_the_browser_opens_for_every_recipient(page: Any) -> None:
    recipients = [PrivateKey.generate() for _ in range(3)]
    listed = [{"id": f"{index:016x}", "public_key": b64(bytes(r.public_key))} for index, r in enumerate(recipients)]
    envelope = page.evaluate(
        "(recipients) => ProbityCrypto.sealReport(recipients, new TextEncoder().encode('{\"lang\":\"en\"}')).envelope",
        listed)
    assert envelope["version"] == 1 and sorted(envelope["keys"]) == [r["id"] for r in listed]
    from nacl.secret import SecretBox

    for entry, private in zip(listed, recipients):
        data_key = SealedBox(private).decrypt(base64.b64decode(envelope["keys"][entry["id"]]))
        assert SecretBox(data_key).decrypt(base64.b64decode(envelope["body"])) == b'{"lang":"en"}'


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536, 200_000])
def test_a_file_encrypted_in_the_browser_decrypts_with_crypto_filestream(page: Any, size: int) -> None:
    key = os.urandom(32)
    data = os.urandom(size)
    stream = base64.b64decode(page.evaluate(
        """async ([data, key]) => {
             const blob = await ProbityCrypto.encryptFile(new Blob([ProbityCrypto.fromBase64(data)]),
                                                          ProbityCrypto.fromBase64(key), null);
             return ProbityCrypto.toBase64(new Uint8Array(await blob.arrayBuffer()));
           }""", [b64(data), b64(key)]))
    assert len(stream) == encrypted_size(size) == page.evaluate("(n) => ProbityCrypto.encryptedSize(n)", size)
    assert decrypt_bytes(key, stream) == data


def test_file_metadata_sealed_in_the_browser_opens_like_the_servers(page: Any) -> None:
    key = os.urandom(32)
    sealed = page.evaluate(
        "(key) => ProbityCrypto.sealFileMeta(ProbityCrypto.fromBase64(key),"
        " new File(['abc'], 'déclaration « signée ».pdf', {type: 'application/pdf'}))", b64(key))
    meta = open_meta(key, base64.b64decode(sealed))
    assert (meta.name, meta.media_type, meta.size) == ("déclaration « signée ».pdf", "application/pdf", 3)


TRICKY_VALUES = [
    ({"summary": "  Le maire a exigé 5 000 € « en liquide »  ", "details": "ligne 1\nligne 2\ttab"}, None, "fr"),
    ({"summary": "طلب الموظف رشوة", "who": "مدير \"المكتب\" \\ نائبه", "when": ""}, "gifts-or-favours", "ar"),
    ({"summary": "海关官员索要贿赂 🙁", "where": "口岸\u2028二号", "how_known": "\u0001 control"}, None, "zh"),
    ({"summary": "x", "details": "   ", "when": "2024", "where": "a/b <c> & d"}, "conflict-of-interest", ""),
]


@pytest.mark.parametrize("values, hint, lang", TRICKY_VALUES)
def test_the_browser_builds_the_report_plaintext_exactly_like_encode_content(
        page: Any, values: dict[str, str], hint: str | None, lang: str) -> None:
    known = frozenset({"gifts-or-favours", "conflict-of-interest"})
    expected = encode_content(build_content(lang, dict(values), hint, known))
    produced = page.evaluate(
        "([lang, values, hint]) => ProbityCrypto.toBase64(ProbityCrypto.reportPlaintext(lang, values, hint))",
        [lang, values, hint or ""])
    assert base64.b64decode(produced) == expected


@pytest.mark.parametrize("bits", [1, 5, 8, 12])
def test_the_browser_finds_the_same_proof_of_work_nonce_as_the_server(page: Any, bits: int) -> None:
    challenge = os.urandom(43)
    found = page.evaluate("([c, bits]) => ProbityPow.search(ProbityCrypto.fromBase64(c), bits, 0, 1 << 24)",
                          [b64(challenge), bits])
    assert found == solve(challenge, bits)
