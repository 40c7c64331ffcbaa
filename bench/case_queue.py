"""How fast is the case queue with a million cases? Keyset pages against OFFSET pages.

Inserts N synthetic report rows (metadata as the triage job leaves it, random bytes for the
sealed body) with bulk inserts, plus a sealed key for each to one investigator, into a fresh
SQLite file and a fresh PostgreSQL database; then times, for typical filters, the first page
and a deep page (page 1,000, i.e. after 50,000 cases, or the last page when there are fewer)
with keyset pagination, the same deep page by OFFSET, and the per-category counts. Every query
runs through the investigator's need-to-know filter, as the web page does. Prints figures only.

    .venv/bin/python bench/case_queue.py [--rows 1000000] [--backend sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from cases.deadlines import DeadlineState  # noqa: E402
from cases.queue import (PAGE_SIZE, QueueFilter, Sort, category_counts, conditions, fetch_page,  # noqa: E402
                         offset_page)
from core.config import Deadlines  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Report, SealedKey, StaffMember  # noqa: E402

RULES = Deadlines()
NOW = datetime.now(timezone.utc)
CATEGORIES = [("general-principles", 14), ("conflict-of-interest", 22), ("disclosure-of-assets", 8),
              ("gifts-or-favours", 25), ("confidential-information", 9), ("political-activity", 4), ("other", 18)]
FLAGS = ["money-laundering", "organized-crime", "trafficking", "terrorism", "document-fraud"]
LANGUAGES = [("en", 40), ("fr", 15), ("es", 15), ("ar", 10), ("ru", 10), ("zh", 10)]
DEEP_PAGE = 1000
BATCH = 20_000


def synthetic_rows(count: int, investigator_id: int, seed: int = 37) -> Callable[[int], tuple[list[dict], list[dict]]]:
    rng = random.Random(seed)
    cats, cat_weights = zip(*CATEGORIES)
    langs, lang_weights = zip(*LANGUAGES)

    def batch(start: int) -> tuple[list[dict], list[dict]]:
        reports, keys = [], []
        for n in range(start, min(start + BATCH, count)):
            received = NOW - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
            age_days = (NOW - received).days
            category = rng.choices(cats, cat_weights)[0]
            if age_days > 180:
                status = "concluded" if rng.random() < 0.96 else rng.choice(["assessing", "investigating"])
            else:
                status = rng.choice(["received", "acknowledged", "assessing", "investigating", "concluded"])
            acknowledged = received + timedelta(hours=rng.uniform(2, 24 * 10)) if status != "received" else None
            feedback = acknowledged + timedelta(days=rng.uniform(5, 100)) if acknowledged and rng.random() < 0.7 else None
            reports.append({
                "id": n + 1, "public_id": f"{n + 1:016x}", "received_at": received,
                "receipt_lookup": rng.randbytes(32), "reporter_public_key": rng.randbytes(32),
                "body": rng.randbytes(48), "status": status, "status_changed_at": acknowledged or received,
                "outcome": rng.choice(["substantiated", "unsubstantiated", "referred", "not-actionable"])
                if status == "concluded" else None,
                "acknowledged_at": acknowledged, "feedback_at": feedback,
                "concluded_at": (feedback or acknowledged or received) + timedelta(days=1) if status == "concluded" else None,
                "assignee_id": investigator_id if rng.random() < 0.1 else None,
                "triage_state": "classified", "triage_attempts": 1, "category": category,
                "flags": rng.sample(FLAGS, 1) if rng.random() < 0.05 else [],
                "confidence": round(rng.uniform(0.3, 1.0), 3), "language": rng.choices(langs, lang_weights)[0],
                "model_version": "bench", "human_category": rng.choice(cats) if rng.random() < 0.03 else None,
            })
            keys.append({"report_id": n + 1, "recipient_kind": "staff", "key_id": "bench-investigator",
                         "staff_id": investigator_id, "sealed_key": rng.randbytes(80), "created_at": received})
        return reports, keys

    return batch


def populate(url: str, rows: int) -> float:
    upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(StaffMember.__table__), [{
            "id": 1, "email": "bench@example.org", "role": "investigator", "password_hash": "x", "totp_secret": "x",
            "totp_last_step": 0, "key_id": "bench-investigator", "public_key": b"\0" * 32,
            "key_wrapped_by_password": b"x", "key_wrapped_by_recovery": b"x", "active": True, "created_at": NOW}])
    make = synthetic_rows(rows, investigator_id=1)
    for start in range(0, rows, BATCH):
        reports, keys = make(start)
        with engine.begin() as connection:
            connection.execute(insert(Report.__table__), reports)
            connection.execute(insert(SealedKey.__table__), keys)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


FILTERS = [
    ("all cases, newest first", QueueFilter()),
    ("category conflict-of-interest", QueueFilter(category="conflict-of-interest")),
    ("status received", QueueFilter(status="received")),
    ("any crime flag", QueueFilter(flag=QueueFilter.ANY_FLAG)),
    ("language fr", QueueFilter(language="fr")),
    ("overdue", QueueFilter(deadline=DeadlineState.OVERDUE)),
    ("assigned to me", QueueFilter(assigned_to=1)),
    ("sorted by deadline", QueueFilter(sort=Sort.DEADLINE)),
    ("sorted by confidence", QueueFilter(sort=Sort.CONFIDENCE)),
]


def matching(session: Session, filters: QueueFilter) -> int:
    query = select(func.count()).select_from(Report).where(*conditions(filters, 1, RULES, NOW))
    return int(session.scalar(query) or 0)


def measure(url: str, label: str) -> None:
    engine = create_engine(url)
    print(f"\n{label}: milliseconds, median of 3; viewer = one investigator holding every case's key")
    print(f"{'filter':<31}{'matching':>9}{'first page':>11}{'deep page':>10}{'page no.':>9}"
          f"{'by OFFSET':>10}{'counts':>8}")
    with Session(engine) as session:
        for name, filters in FILTERS:
            total = matching(session, filters)
            deep = max(1, min(DEEP_PAGE, -(-total // PAGE_SIZE))) - 1  # 0-based index of the deep page
            # The deep page's cursor (the last case of the page before it), found once, untimed.
            after = offset_page(session, filters, 1, RULES, deep - 1, now=NOW)[-1].id if deep else None
            first = timed(lambda: fetch_page(session, filters, 1, RULES, now=NOW))
            keyset = timed(lambda: fetch_page(session, filters, 1, RULES, after=after, now=NOW))
            offset = timed(lambda: offset_page(session, filters, 1, RULES, deep, now=NOW))
            counts = timed(lambda: category_counts(session, filters, 1, RULES, now=NOW), repeat=1)
            print(f"{name:<31}{total:>9,}{first:>11.1f}{keyset:>10.1f}{deep + 1:>9}{offset:>10.1f}{counts:>8.0f}")
    engine.dispose()


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'bench.sqlite3'}"


def postgres_database() -> tuple[str, Callable[[], None]]:
    import psycopg

    host = os.environ.get("PROBITY_TEST_PG_HOST", "127.0.0.1")
    port = os.environ.get("PROBITY_TEST_PG_PORT", "5432")
    user = os.environ.get("PROBITY_TEST_PG_USER", "postgres")
    name = f"probity_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+psycopg://{user}@{host}:{port}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    print(f"Case queue benchmark: {args.rows:,} reports, page size {PAGE_SIZE}, deep page {DEEP_PAGE}")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = sqlite_url(Path(folder))
            seconds = populate(url, args.rows)
            print(f"SQLite: inserted {args.rows:,} reports + {args.rows:,} sealed keys in {seconds:.0f} s")
            measure(url, "SQLite")
    if args.backend in ("postgresql", "both"):
        url, drop = postgres_database()
        try:
            seconds = populate(url, args.rows)
            print(f"\nPostgreSQL: inserted {args.rows:,} reports + {args.rows:,} sealed keys in {seconds:.0f} s")
            measure(url, "PostgreSQL")
        finally:
            drop()


if __name__ == "__main__":
    main()
