"""The queue sorted by the next deadline, read from indexes rather than by sorting every case.

An open case owes the reporter either an acknowledgement (status `received`: due `received_at`
plus the acknowledgement days) or feedback (acknowledged, no feedback yet: due `acknowledged_at`
plus the feedback months). Each open status is therefore a stream that an index already returns
in deadline order — (status, received_at) for received cases, (status, acknowledged_at) for the
others — and a page is the merge of the streams' heads, ranked by the exact deadline (the same
calendar as cases/deadlines.py).

Calendar months make `acknowledged_at + months` slightly non-monotonic (30 November at 09:00
and 28 November at 17:00 plus three months give 28 February 09:00 and 17:00), by at most three
days; the bounds below allow for that, and tests/cases/test_queue.py checks them at month ends.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from cases.deadlines import deadlines_for
from core.config import Deadlines
from store.models import Report, Status

_MONTH_SLACK = timedelta(days=3)  # how far adding months can pull two dates out of order
_SAFE_MARGIN = timedelta(days=7)  # five days provably suffice; a little more costs nothing


@dataclass(frozen=True)
class _Stream:
    where: tuple[ColumnElement[bool], ...]
    order: InstrumentedAttribute[datetime]
    due: Callable[[datetime], datetime]  # the deadline of a case with this order value
    lower_bound: Callable[[datetime], datetime]  # no case due at or after D has order < lower_bound(D)
    due_floor: Callable[[datetime], datetime]  # every case with order >= o is due at or after this


def _streams(rules: Deadlines) -> list[_Stream]:
    days = timedelta(days=rules.acknowledge_days)
    months = relativedelta(months=rules.feedback_months)
    # A received case is never acknowledged (cases/workflow.py keeps it so); saying so in SQL
    # would tempt SQLite into the (status, acknowledged_at) index and a sort.
    streams = [_Stream((Report.status == Status.RECEIVED.value,), Report.received_at,
                       lambda order: order + days, lambda due: due - days, lambda order: order + days)]
    for status in (Status.ACKNOWLEDGED, Status.ASSESSING, Status.INVESTIGATING):
        streams.append(_Stream(
            (Report.status == status.value, Report.acknowledged_at.is_not(None), Report.feedback_at.is_(None)),
            Report.acknowledged_at, lambda order: order + months, lambda due: due - months - _SAFE_MARGIN,
            lambda order: order + months - _MONTH_SLACK))
    return streams


Ranked = tuple[datetime, int]
# Enough to rank a case and to decide a deadline filter; whole rows are loaded for the page only.
_COLUMNS = (Report.id, Report.received_at, Report.acknowledged_at, Report.feedback_at, Report.status)


def _read_stream(session: Session, stream: _Stream, where: list[ColumnElement[bool]],
                 anchor: Ranked | None, need: int, keep: Callable[[Any], bool]) -> list[Ranked]:
    """The `need` cases of one stream that come first after the anchor, in exact deadline order."""
    query = select(*_COLUMNS).where(*where, *stream.where).order_by(stream.order, Report.id)
    if anchor is not None:
        query = query.where(stream.order >= stream.lower_bound(anchor[0]))
    batch_size = need + 16 if anchor is None else 4 * need + 16
    kept: list[Ranked] = []
    last: tuple[datetime, int] | None = None
    while True:
        page = query if last is None else query.where(
            and_(stream.order >= last[0], or_(stream.order > last[0], Report.id > last[1])))
        batch = session.execute(page.limit(batch_size)).all()
        for row in batch:
            due = stream.due(getattr(row, stream.order.key))
            if (anchor is not None and (due, row.id) <= anchor) or not keep(row):
                continue
            kept.append((due, row.id))
        if len(batch) < batch_size:
            break
        last = (getattr(batch[-1], stream.order.key), batch[-1].id)
        kept.sort()
        if len(kept) >= need and stream.due_floor(last[0]) > kept[need - 1][0]:
            break
    kept.sort()
    return kept[:need]


def deadline_page(session: Session, where: list[ColumnElement[bool]], rules: Deadlines, after: int | None,
                  size: int, keep: Callable[[Any], bool]) -> tuple[list[Report], int | None]:
    """One page of open cases by next deadline (then id), after case `after`; and the next cursor."""
    anchor = None
    if after is not None:
        previous = session.get(Report, after)
        due = deadlines_for(previous, rules).next_due if previous is not None else None
        anchor = (due, after) if due is not None else None
    ranked: list[Ranked] = []
    for stream in _streams(rules):
        ranked += _read_stream(session, stream, where, anchor, size + 1, keep)
    ids = [report_id for _due, report_id in sorted(ranked)[: size + 1]]
    loaded = {r.id: r for r in session.scalars(select(Report).options(defer(Report.body), defer(Report.triage_explanation))
                                                  .where(Report.id.in_(ids)))} if ids else {}
    rows = [loaded[i] for i in ids if i in loaded]
    return rows[:size], rows[size - 1].id if len(rows) > size else None
