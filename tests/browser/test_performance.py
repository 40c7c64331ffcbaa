"""Figures for docs/anti-abuse.md: how long the page's proof of work takes at the default difficulty,
and how fast the page encrypts a 20 MB file, in headless Chromium with and without its JIT (Tor
Browser's "Safer" level runs without one). Written to test-artifacts/browser-figures.json."""
from __future__ import annotations

import json
import statistics
from dataclasses import replace
from typing import Any

import pytest

from core.config import AbuseLimits
from intake.antiabuse import ProofOfWork, Purpose
from tests.browser.conftest import ROOT, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFAULT_BITS = AbuseLimits().pow_difficulty_bits
FIGURES = ROOT / "test-artifacts" / "browser-figures.json"
ROUNDS = 12
MiB = 1024 * 1024


@pytest.fixture
def test_config(test_config: dict[str, Any]) -> dict[str, Any]:
    abuse = test_config["abuse"]
    assert isinstance(abuse, AbuseLimits)
    return {**test_config, "abuse": replace(abuse, pow_difficulty_bits=DEFAULT_BITS)}


def record(name: str, figures: dict[str, Any]) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    known[name] = figures
    FIGURES.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    print(name, figures)


SOLVE = """async ([powUrl, workerUrl]) => {
  const started = performance.now();
  const proof = await ProbityApi.obtainProof(powUrl, workerUrl, "report", null);
  return {proof: proof, seconds: (performance.now() - started) / 1000};
}"""

ENCRYPT = """async (size) => {
  const parts = [];
  for (let made = 0; made < size; made += 65536) {
    parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, size - made))));
  }
  const file = new Blob(parts);
  const key = nacl.randomBytes(32);
  const started = performance.now();
  const sealed = await ProbityCrypto.encryptFile(file, key, null);
  return {seconds: (performance.now() - started) / 1000, size: sealed.size};
}"""

HASH_RATE = """(count) => {
  const challenge = nacl.randomBytes(43);
  const started = performance.now();
  ProbityPow.search(challenge, 64, 0, count);  // 64 bits: never solved, so exactly `count` hashes
  return count / ((performance.now() - started) / 1000);
}"""


def measure(live_server: LiveServer, browser: Any, name: str, encrypt_size: int) -> dict[str, Any]:
    """Solve ROUNDS real challenges from the server through the page's workers, then encrypt."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    page.wait_for_function("() => self.ProbityApi && self.ProbityCrypto")
    settings = live_server.app.config["PROBITY"]
    checker = ProofOfWork(None, settings.secret_key, DEFAULT_BITS, 60)  # type: ignore[arg-type]
    page_lanes = page.evaluate("Math.min(4, navigator.hardwareConcurrency || 1)")
    times = []
    for _ in range(ROUNDS):
        solved = page.evaluate(SOLVE, ["/api/v1/pow", "/static/js/pow-worker.js"])
        checker.check(solved["proof"], Purpose.REPORT)  # a real proof, at the default difficulty
        times.append(solved["seconds"])
    encrypted = page.evaluate(ENCRYPT, encrypt_size)
    rate = page.evaluate(HASH_RATE, 200_000)
    context.close()
    figures = {
        "pow_bits": DEFAULT_BITS,
        "pow_rounds": ROUNDS,
        "pow_mean_seconds": round(statistics.mean(times), 3),
        "pow_median_seconds": round(statistics.median(times), 3),
        "pow_max_seconds": round(max(times), 3),
        "pow_workers": page_lanes,
        "hashes_per_second_one_thread": round(rate),
        "encrypt_bytes": encrypt_size,
        "encrypt_seconds": round(encrypted["seconds"], 3),
        "encrypt_mib_per_second": round(encrypt_size / MiB / encrypted["seconds"], 1),
    }
    record(name, figures)
    return figures


def test_proof_of_work_and_encryption_speed_in_chromium(live_server: LiveServer, browser: Any,
                                                        investigator: Any) -> None:
    figures = measure(live_server, browser, "chromium", 20 * MiB)
    # Loose bounds: a desktop-class machine must stay far inside what a phone can bear.
    assert figures["pow_median_seconds"] < 5
    assert figures["encrypt_mib_per_second"] > 5


def test_encryption_speed_and_hash_rate_without_jit(live_server: LiveServer, browser_without_wasm: Any,
                                                     investigator: Any) -> None:
    # Solving at the default difficulty without a JIT takes minutes, so this measures the rate the
    # solver hashes at (one thread) and derives the expected time from it.
    context = browser_without_wasm.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/report")
    page.wait_for_function("() => self.ProbityPow && self.ProbityCrypto")
    rate = page.evaluate(HASH_RATE, 20_000)
    encrypted = page.evaluate(ENCRYPT, 4 * MiB)
    context.close()
    figures = {
        "pow_bits": DEFAULT_BITS,
        "hashes_per_second_one_thread": round(rate),
        "pow_expected_seconds_one_thread": round(2 ** DEFAULT_BITS / rate, 1),
        "encrypt_bytes": 4 * MiB,
        "encrypt_seconds": round(encrypted["seconds"], 3),
        "encrypt_mib_per_second": round(4 / encrypted["seconds"], 2),
    }
    record("chromium-jitless", figures)
    assert rate > 100
