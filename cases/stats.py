"""Statistics after ISO 37002's measures, from metadata only: volumes per category and month,
time to acknowledge, time to conclude, the share of open cases that are overdue, and outcomes.

Durations are counted in SQL into fixed buckets (a million cases never travel to Python); the
median is reported as the bucket that holds it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cases.deadlines import DeadlineState, deadlines_for
from cases.queue import effective_category
from core.config import Deadlines
from store.models import Report, Status

DAY = 86400.0
ACK_BUCKETS = ((1, "< 1 day"), (2, "1–2 days"), (3, "2–3 days"), (5, "3–5 days"), (7, "5–7 days"),
               (14, "1–2 weeks"), (30, "2–4 weeks"), (None, "> 4 weeks"))
CONCLUDE_BUCKETS = ((7, "< 1 week"), (30, "1–4 weeks"), (91, "1–3 months"), (182, "3–6 months"),
                    (365, "6–12 months"), (None, "> 1 year"))
_OPEN_BATCH = 5000


@dataclass(frozen=True)
class Distribution:
    labels: list[str]
    counts: list[int]
    mean_days: float | None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def median_bucket(self) -> str | None:
        half, seen = self.total / 2, 0
        for label, count in zip(self.labels, self.counts):
            seen += count
            if count and seen >= half:
                return label
        return None

    def share_within(self, buckets: int) -> float | None:
        return sum(self.counts[:buckets]) / self.total if self.total else None


@dataclass(frozen=True)
class Statistics:
    since: datetime
    months: list[str]
    per_category: dict[str, list[int]]  # category -> count per month ('' = not yet classified)
    acknowledge: Distribution
    conclude: Distribution
    open_cases: int
    overdue_cases: int
    outcomes: dict[str, int]

    @property
    def overdue_share(self) -> float | None:
        return self.overdue_cases / self.open_cases if self.open_cases else None


def _month(dialect: str, column: ColumnElement[datetime]) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _seconds_between(dialect: str, start: ColumnElement[datetime], end: ColumnElement[datetime]) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.date_part("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * DAY


def month_labels(since: datetime, now: datetime) -> list[str]:
    labels, year, month = [], since.year, since.month
    while (year, month) <= (now.year, now.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def cases_per_category(session: Session, since: datetime, months: list[str]) -> dict[str, list[int]]:
    dialect = session.get_bind().dialect.name
    month = _month(dialect, Report.received_at)
    category = func.coalesce(effective_category(), "")
    rows = session.execute(select(category, month, func.count()).where(Report.received_at >= since)
                           .group_by(category, month))
    table: dict[str, list[int]] = {}
    for name, label, count in rows:
        if label in months:
            table.setdefault(name, [0] * len(months))[months.index(label)] += count
    return table


def distribution(session: Session, start: ColumnElement[datetime], end: ColumnElement[datetime],
                 since: datetime, buckets: tuple[tuple[int | None, str], ...]) -> Distribution:
    dialect = session.get_bind().dialect.name
    seconds = _seconds_between(dialect, start, end)
    bucket = case(*[(seconds < limit * DAY, index) for index, (limit, _label) in enumerate(buckets) if limit],
                  else_=len(buckets) - 1)
    where = (end.is_not(None), end >= since)
    counts = [0] * len(buckets)
    for index, count in session.execute(select(bucket, func.count()).where(*where).group_by(bucket)):
        counts[int(index)] += count
    mean = session.scalar(select(func.avg(seconds)).where(*where))
    return Distribution([label for _limit, label in buckets], counts,
                        float(mean) / DAY if mean is not None else None)


def overdue_now(session: Session, rules: Deadlines, now: datetime) -> tuple[int, int]:
    """(open cases, of which overdue), decided exactly by cases/deadlines.py."""
    columns = (Report.id, Report.received_at, Report.acknowledged_at, Report.feedback_at, Report.status)
    open_cases = overdue = 0
    last_id = 0
    while True:
        rows = session.execute(select(*columns).where(Report.status != Status.CONCLUDED.value, Report.id > last_id)
                               .order_by(Report.id).limit(_OPEN_BATCH)).all()
        if not rows:
            return open_cases, overdue
        for row in rows:
            open_cases += 1
            if deadlines_for(row, rules, now).worst is DeadlineState.OVERDUE:  # type: ignore[arg-type]
                overdue += 1
        last_id = rows[-1].id


def outcomes(session: Session, since: datetime) -> dict[str, int]:
    rows = session.execute(select(Report.outcome, func.count()).where(
        Report.status == Status.CONCLUDED.value, Report.concluded_at >= since).group_by(Report.outcome))
    return {outcome or "unknown": count for outcome, count in rows}


def compute(session: Session, rules: Deadlines, months_back: int = 12, now: datetime | None = None) -> Statistics:
    now = now or datetime.now(timezone.utc)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)).replace(day=1)
    for _ in range(months_back - 2):
        first = (first - timedelta(days=1)).replace(day=1)
    since = first if months_back > 1 else now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = month_labels(since, now)
    open_cases, overdue = overdue_now(session, rules, now)
    return Statistics(
        since=since, months=months, per_category=cases_per_category(session, since, months),
        acknowledge=distribution(session, Report.received_at, Report.acknowledged_at, since, ACK_BUCKETS),
        conclude=distribution(session, Report.received_at, Report.concluded_at, since, CONCLUDE_BUCKETS),
        open_cases=open_cases, overdue_cases=overdue, outcomes=outcomes(session, since),
    )
