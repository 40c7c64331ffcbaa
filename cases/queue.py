"""The case queue: filters, sorting and keyset pagination over metadata only.

Pages are found by keyset ("the 50 rows after case X in this order"), never by OFFSET, so the
thousandth page costs what the first does. The cursor is just the id of the last case shown; its
sort value is looked up in the same query (deadline order: see cases/deadline_order.py). Deadline filters are first narrowed in SQL with a
slightly wider window (calendar months vary in length) and then decided exactly by
cases/deadlines.py, so the queue and the case page always agree.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.elements import ColumnElement

from cases.access import holds_key
from cases.deadline_order import deadline_page
from cases.deadlines import CaseDeadlines, DeadlineState, deadlines_for
from core.config import Deadlines
from store.models import Report, StaffMember, Status

PAGE_SIZE = 50
_BATCH = 200


class Sort(str, enum.Enum):
    RECEIVED = "received"  # newest first
    OLDEST = "oldest"
    DEADLINE = "deadline"  # cases with an outstanding deadline, soonest first
    CONFIDENCE = "confidence"  # classified cases, least sure first


@dataclass(frozen=True)
class QueueFilter:
    category: str | None = None
    flag: str | None = None  # a flag slug, or ANY_FLAG
    status: str | None = None
    language: str | None = None
    deadline: DeadlineState | None = None  # OVERDUE or DUE_SOON
    assigned_to: int | None = None
    sort: Sort = Sort.RECEIVED

    ANY_FLAG = "any"


@dataclass(frozen=True)
class QueueRow:
    report: Report
    deadlines: CaseDeadlines
    assignee: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: int | None
    counts: dict[str, int] = field(default_factory=dict)


def effective_category() -> ColumnElement[str]:
    return func.coalesce(Report.human_category, Report.category)


def effective_flags_text() -> ColumnElement[str]:
    """The effective flags as JSON text: the human's list when there is one, else the machine's."""
    human = cast(Report.human_flags, String)
    return case((or_(Report.human_flags.is_(None), human == "null"), cast(Report.flags, String)), else_=human)


OPEN_STATUSES = tuple(s.value for s in Status if s is not Status.CONCLUDED)


def is_open() -> ColumnElement[bool]:
    """SQL: not concluded, written as IN so the (status, received_at) index can serve it."""
    return Report.status.in_(OPEN_STATUSES)


def _months_in_days(months: int, longest: bool) -> timedelta:
    return timedelta(days=months * (31 if longest else 28) + (2 if longest else 0))


def _deadline_window(state: DeadlineState, rules: Deadlines, now: datetime) -> ColumnElement[bool]:
    """A superset of the cases in `state`, cheap to find in SQL (refined exactly afterwards)."""
    # Written with != rather than IN on purpose: no index can then serve both branches, so the
    # database walks the received_at index in page order instead of collecting and sorting
    # every overdue case (SQLite otherwise picks a multi-index OR and a sort: 0.5 s at 1M cases).
    not_concluded = Report.status != Status.CONCLUDED.value
    ack_pending = and_(Report.acknowledged_at.is_(None), not_concluded)
    feedback_pending = and_(Report.feedback_at.is_(None), Report.acknowledged_at.is_not(None), not_concluded)
    ack_due_before = now - timedelta(days=rules.acknowledge_days)
    soon = timedelta(hours=rules.due_soon_hours)
    if state is DeadlineState.OVERDUE:
        return or_(and_(ack_pending, Report.received_at < ack_due_before),
                   and_(feedback_pending,
                        Report.acknowledged_at < now - _months_in_days(rules.feedback_months, longest=False)))
    return or_(and_(ack_pending, Report.received_at >= ack_due_before, Report.received_at < ack_due_before + soon),
               and_(feedback_pending,
                    Report.acknowledged_at >= now - _months_in_days(rules.feedback_months, longest=True),
                    Report.acknowledged_at < now + soon - _months_in_days(rules.feedback_months, longest=False)))


def outstanding_deadline() -> ColumnElement[bool]:
    """SQL: the case still owes the reporter an acknowledgement or feedback."""
    return and_(is_open(), or_(Report.acknowledged_at.is_(None), Report.feedback_at.is_(None)))


def due_expression(dialect: str, rules: Deadlines) -> ColumnElement[object]:
    """SQL for the next outstanding deadline of a case that has one (for OFFSET reads only: pages
    come from cases/deadline_order.py, which follows the indexes and the exact calendar)."""
    if dialect == "postgresql":
        ack_due = Report.received_at + func.make_interval(0, 0, 0, rules.acknowledge_days)
        feedback_due: ColumnElement[object] = Report.acknowledged_at + func.make_interval(0, rules.feedback_months)
    else:
        ack_due = func.datetime(Report.received_at, f"+{rules.acknowledge_days} days")
        feedback_due = func.datetime(Report.acknowledged_at, f"+{rules.feedback_months} months")
    return case((Report.acknowledged_at.is_(None), ack_due), else_=feedback_due)


def _order(sort: Sort, dialect: str, rules: Deadlines) -> tuple[ColumnElement[object], bool]:
    """(sort expression, descending?) — ties are always broken by id in the same direction."""
    if sort is Sort.OLDEST:
        return Report.received_at, False
    if sort is Sort.DEADLINE:
        return due_expression(dialect, rules), False
    if sort is Sort.CONFIDENCE:
        return Report.confidence, False
    return Report.received_at, True


def conditions(filters: QueueFilter, viewer_id: int | None, rules: Deadlines, now: datetime,
               with_category: bool = True) -> list[ColumnElement[bool]]:
    """The SQL filters; `viewer_id` None means every case (operators' tools, benchmarks)."""
    where: list[ColumnElement[bool]] = []
    if viewer_id is not None:
        where.append(holds_key(viewer_id))
    if with_category and filters.category:
        where.append(effective_category() == filters.category)
    if filters.flag == QueueFilter.ANY_FLAG:
        where.append(effective_flags_text().like('%"%'))
    elif filters.flag:
        where.append(effective_flags_text().like(f'%"{filters.flag}"%'))
    if filters.status:
        where.append(Report.status == filters.status)
    if filters.language:
        where.append(Report.language == filters.language)
    if filters.assigned_to is not None:
        where.append(Report.assignee_id == filters.assigned_to)
    if filters.deadline is not None:
        where.append(_deadline_window(filters.deadline, rules, now))
    if filters.sort is Sort.DEADLINE:
        where.append(outstanding_deadline())
    if filters.sort is Sort.CONFIDENCE:
        where.append(Report.confidence.is_not(None))
    return where


def _refiner(filters: QueueFilter, rules: Deadlines, now: datetime) -> Callable[[Report], bool]:
    if filters.deadline is None:
        return lambda report: True
    return lambda report: deadlines_for(report, rules, now).worst is filters.deadline


def fetch_page(session: Session, filters: QueueFilter, viewer_id: int | None, rules: Deadlines,
               after: int | None = None, size: int = PAGE_SIZE, now: datetime | None = None) -> QueuePage:
    """One page of the queue, in the chosen order, starting after case id `after`."""
    now = now or datetime.now(timezone.utc)
    if filters.sort is Sort.DEADLINE:
        where = conditions(replace(filters, sort=Sort.RECEIVED), viewer_id, rules, now)
        found, next_cursor = deadline_page(session, where, rules, after, size, _refiner(filters, rules, now))
        return QueuePage([QueueRow(r, deadlines_for(r, rules, now), None) for r in found], next_cursor)
    dialect = session.get_bind().dialect.name
    sort_expr, descending = _order(filters.sort, dialect, rules)
    base = select(Report).options(defer(Report.body), defer(Report.triage_explanation)) \
        .where(*conditions(filters, viewer_id, rules, now))
    if descending:
        base = base.order_by(sort_expr.desc(), Report.id.desc())
    else:
        base = base.order_by(sort_expr.asc(), Report.id.asc())
    keep = _refiner(filters, rules, now)
    rows: list[Report] = []
    cursor, exhausted = after, False
    # Without a deadline filter every fetched row is kept: one query of size + 1 rows.
    batch = size + 1 if filters.deadline is None else max(_BATCH, size + 1)
    while len(rows) <= size and not exhausted:
        query = base.limit(batch)
        if cursor is not None:
            query = query.where(_after(sort_expr, descending, cursor))
        fetched = list(session.scalars(query))
        exhausted = len(fetched) < batch
        if fetched:
            cursor = fetched[-1].id
        rows += [r for r in fetched if keep(r)]
    rows = rows[: size + 1]
    next_after = rows[size - 1].id if len(rows) > size else None
    shown = rows[:size]
    return QueuePage([QueueRow(r, deadlines_for(r, rules, now), None) for r in shown], next_after)


def _after(sort_expr: ColumnElement[object], descending: bool, last_id: int) -> ColumnElement[bool]:
    """Rows after the anchor case in (sort, id) order. The leading `<=` / `>=` on the sort column
    alone lets the database seek straight to the anchor in the index instead of scanning to it."""
    anchor = select(sort_expr).where(Report.id == last_id).scalar_subquery()
    if descending:
        return and_(sort_expr <= anchor, or_(sort_expr < anchor, Report.id < last_id))
    return and_(sort_expr >= anchor, or_(sort_expr > anchor, Report.id > last_id))


def offset_page(session: Session, filters: QueueFilter, viewer_id: int | None, rules: Deadlines,
                page: int, size: int = PAGE_SIZE, now: datetime | None = None) -> list[Report]:
    """The same page by OFFSET: only the benchmark's baseline uses it."""
    now = now or datetime.now(timezone.utc)
    sort_expr, descending = _order(filters.sort, session.get_bind().dialect.name, rules)
    order = (sort_expr.desc(), Report.id.desc()) if descending else (sort_expr.asc(), Report.id.asc())
    query = select(Report).options(defer(Report.body), defer(Report.triage_explanation)) \
        .where(*conditions(filters, viewer_id, rules, now)).order_by(*order).offset(page * size).limit(size)
    return list(session.scalars(query))


def category_counts(session: Session, filters: QueueFilter, viewer_id: int | None, rules: Deadlines,
                    now: datetime | None = None) -> dict[str, int]:
    """Cases per effective category under the other filters (unclassified under '').

    Under a deadline filter the count uses the SQL window alone, which at month ends may include
    a case whose feedback deadline is a day or two either side of the line.
    """
    now = now or datetime.now(timezone.utc)
    category = func.coalesce(effective_category(), "")
    query = select(category, func.count()).where(
        *conditions(filters, viewer_id, rules, now, with_category=False)).group_by(category)
    return {name: count for name, count in session.execute(query)}


def with_assignees(session: Session, page: QueuePage) -> QueuePage:
    """Fill in assignee emails for the rows shown (one small query per page)."""
    ids = {row.report.assignee_id for row in page.rows if row.report.assignee_id}
    emails = dict(session.execute(select(StaffMember.id, StaffMember.email).where(StaffMember.id.in_(ids)))
                  .tuples().all()) if ids else {}
    rows = [replace(row, assignee=emails.get(row.report.assignee_id or 0)) for row in page.rows]
    return replace(page, rows=rows)

