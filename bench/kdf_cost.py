"""What one Argon2id derivation costs at each of Probity's KDF limits.

Prints, for TEST_LIMITS, STAFF_LIMITS (staff passphrase and recovery-key
wrapping) and RECEIPT_LIMITS (receipt derivation): wall time of one
derivation, how far it raised the process's peak memory, its cost relative to
TEST_LIMITS, and what that means for an attacker guessing offline.

Each setting is measured in a fresh child process so that peak memory is its
own. Run from the repository root:

    .venv/bin/python bench/kdf_cost.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Running as a plain script puts bench/ first on sys.path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crypto.kdf import SALT_SIZE, KdfLimits, derive  # noqa: E402
from crypto.receipts import RECEIPT_BITS, RECEIPT_LIMITS, derive_receipt_secrets  # noqa: E402
from crypto.wrapping import STAFF_LIMITS, TEST_LIMITS  # noqa: E402

LIMITS = {"TEST_LIMITS": TEST_LIMITS, "STAFF_LIMITS": STAFF_LIMITS, "RECEIPT_LIMITS": RECEIPT_LIMITS}
# A single fast derivation is too short to time on its own.
FAST_BATCH = 500
SECONDS_PER_YEAR = 365.25 * 24 * 3600
STORED_RECEIPTS = (1, 10_000, 1_000_000)


def derivation(name: str) -> Callable[[], object]:
    """Return a call that performs one derivation at the named limits."""
    limits = LIMITS[name]
    if name == "RECEIPT_LIMITS":
        pepper = bytes(range(32))
        return lambda: derive_receipt_secrets("K7QM-2XRD-9HVT-4PNB", pepper, limits)
    salt = bytes(SALT_SIZE)
    return lambda: derive(32, b"correct horse battery staple", salt, limits)


def measure(name: str, repeat: int) -> dict[str, float]:
    run = derivation(name)
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    after_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batch = FAST_BATCH if name == "TEST_LIMITS" else 1
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(batch):
            run()
        samples.append((time.perf_counter() - started) / batch)
    return {"seconds": statistics.median(samples), "peak_growth_mib": (after_kib - before_kib) / 1024}


def in_child(name: str, repeat: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", name, "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def describe(limits: KdfLimits) -> str:
    if limits.memlimit < 2**20:
        return f"opslimit {limits.opslimit}, memlimit {limits.memlimit / 2**10:g} KiB"
    return f"opslimit {limits.opslimit}, memlimit {limits.memlimit / 2**20:g} MiB"


def report(repeat: int) -> None:
    results = {name: in_child(name, repeat) for name in LIMITS}
    base = results["TEST_LIMITS"]["seconds"]
    print(f"{'limits':<15} {'parameters':<32} {'time/derivation':>16} {'peak +MiB':>10} "
          f"{'x TEST':>8} {'guesses/s/core':>15}")
    for name, result in results.items():
        seconds = result["seconds"]
        print(f"{name:<15} {describe(LIMITS[name]):<32} {seconds * 1000:>13.3f} ms "
              f"{result['peak_growth_mib']:>10.1f} {seconds / base:>8.0f} {1 / seconds:>15.1f}")

    rate = 1 / results["RECEIPT_LIMITS"]["seconds"]
    print()
    print("Receipts: the salt is one per deployment, so an attacker who holds the database AND")
    print("the pepper tests every guess against all stored receipts at once. Expected work to")
    print(f"find one of N receipts ({RECEIPT_BITS}-bit space) at {rate:.1f} guesses/s per core:")
    for stored in STORED_RECEIPTS:
        core_years = 2 ** (RECEIPT_BITS - 1) / stored / rate / SECONDS_PER_YEAR
        print(f"  N = {stored:>9,}: {core_years:.2e} core-years")
    print("Without the pepper the database alone gives no way to test a guess.")
    staff_rate = 1 / results["STAFF_LIMITS"]["seconds"]
    print(f"Staff passphrases: salted per blob, {staff_rate:.1f} guesses/s per core per account;")
    print("recovery keys carry 160 bits and are out of reach at any rate.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed samples per setting (median is shown)")
    parser.add_argument("--child", choices=sorted(LIMITS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
    else:
        report(args.repeat)


if __name__ == "__main__":
    main()
