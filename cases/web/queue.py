"""The case queue: only cases whose data key is sealed to the investigator, metadata only."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from flask import render_template, request
from sqlalchemy.orm import Session

from cases import audit
from cases.deadlines import DeadlineState
from cases.queue import QueueFilter, Sort, category_counts, fetch_page, with_assignees
from core.config import Deadlines
from core.redis import redis_connection
from cases.web import roles, settings, signed_in, staff
from intake.services import taxonomy
from store.db import db_session
from store.models import Role, Status

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
DEADLINE_FILTERS = {"overdue": DeadlineState.OVERDUE, "due-soon": DeadlineState.DUE_SOON}
FILTER_ARGS = ("category", "flag", "status", "language", "deadline", "mine", "sort")
# Counting a million cases takes seconds; paging through them must not. Counts may lag a minute.
COUNTS_TTL_SECONDS = 60


def cached_counts(db: Session, filters: QueueFilter, viewer_id: int, rules: Deadlines) -> dict[str, int]:
    """Per-category counts for these filters (the category filter does not change them), cached
    in Redis briefly. Counts are metadata: no content is ever cached."""
    basis = replace(filters, category=None)
    digest = hashlib.sha256(repr(basis).encode()).hexdigest()[:24]
    key = f"probity:queue-counts:{viewer_id}:{digest}"
    connection = redis_connection()
    cached = connection.get(key)
    if cached is not None:
        return {str(k): int(v) for k, v in json.loads(cached).items()}
    counts = category_counts(db, filters, viewer_id, rules)
    connection.set(key, json.dumps(counts), ex=COUNTS_TTL_SECONDS)
    return counts


def filters_from(args: dict[str, str], viewer_id: int) -> QueueFilter:
    """Read the filter form; anything unknown is ignored rather than guessed at."""
    known = taxonomy()
    flag = args.get("flag") or None
    if flag not in (None, QueueFilter.ANY_FLAG) and not known.is_flag(flag):
        flag = None
    status = args.get("status") or None
    sort = args.get("sort") or Sort.RECEIVED.value
    return QueueFilter(
        category=args.get("category") if known.is_primary(args.get("category")) else None,
        flag=flag,
        status=status if status in {s.value for s in Status} else None,
        language=args.get("language") if args.get("language") in LANGUAGES else None,
        deadline=DEADLINE_FILTERS.get(args.get("deadline") or ""),
        assigned_to=viewer_id if args.get("mine") == "1" else None,
        sort=Sort(sort) if sort in {s.value for s in Sort} else Sort.RECEIVED,
    )


@staff.get("/cases")
@roles(Role.INVESTIGATOR)
def queue() -> tuple[str, int]:
    viewer = signed_in().member
    db = db_session()
    rules = settings().deadlines
    filters = filters_from(request.args.to_dict(), viewer.id)
    page = with_assignees(db, fetch_page(db, filters, viewer.id, rules, after=request.args.get("after", type=int)))
    counts = cached_counts(db, filters, viewer.id, rules)
    args = {k: v[:64] for k, v in request.args.items() if k in FILTER_ARGS and v}
    audit.record(db, "queue.viewed", actor=viewer, filters=args or None)
    db.commit()
    return render_template("cases/queue.html", page=page, counts=counts, filters=filters, args=args,
                           taxonomy=taxonomy(), statuses=[s.value for s in Status], languages=LANGUAGES,
                           sorts=[s.value for s in Sort]), 200
