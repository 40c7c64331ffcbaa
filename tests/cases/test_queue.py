"""The queue: filters, sorts, keyset pages, counts — and only the cases sealed to the viewer."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cases.deadlines import DeadlineState, deadlines_for
from cases.queue import QueueFilter, Sort, category_counts, fetch_page, offset_page
from core.config import Deadlines
from store.models import Recusal, Report
from tests.cases.helpers import insert_cases, signed_in, staff_id

RULES = Deadlines()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def session_of(app):
    return app.extensions["probity.db"].session_scope()


def all_pages(session, filters, viewer, size=7, now=NOW):
    seen, after = [], None
    while True:
        page = fetch_page(session, filters, viewer, RULES, after=after, size=size, now=now)
        seen += [row.report.public_id for row in page.rows]
        if page.next_after is None:
            return seen
        after = page.next_after


def test_filters_use_the_effective_category_and_flags(app, investigator):
    ids = insert_cases(app, [
        {"category": "gifts-or-favours", "flags": ["money-laundering"], "language": "fr", "received_at": NOW - timedelta(hours=5)},
        {"category": "gifts-or-favours", "human_category": "conflict-of-interest", "human_flags": [],
         "flags": ["terrorism"], "received_at": NOW - timedelta(hours=4)},
        {"category": "other", "status": "assessing", "language": "fr", "received_at": NOW - timedelta(hours=3)},
        {"received_at": NOW - timedelta(hours=2)},  # not yet classified
    ], [investigator])
    me = staff_id(app, investigator)
    with app.app_context(), session_of(app) as session:
        def shown(**kw):
            return all_pages(session, QueueFilter(**kw), me)
        assert shown() == ids[::-1]
        assert shown(category="gifts-or-favours") == [ids[0]]
        assert shown(category="conflict-of-interest") == [ids[1]]
        assert shown(flag="money-laundering") == [ids[0]]
        assert shown(flag="terrorism") == []  # the human cleared it
        assert shown(flag=QueueFilter.ANY_FLAG) == [ids[0]]
        assert shown(status="assessing") == [ids[2]]
        assert shown(language="fr") == [ids[2], ids[0]]
        assert shown(sort=Sort.OLDEST) == ids
        counts = category_counts(session, QueueFilter(), me, RULES, now=NOW)
        assert counts == {"gifts-or-favours": 1, "conflict-of-interest": 1, "other": 1, "": 1}
        assert category_counts(session, QueueFilter(language="fr"), me, RULES, now=NOW) == {"gifts-or-favours": 1, "other": 1}


def test_assigned_to_me(app, investigator, colleague):
    me, other = staff_id(app, investigator), staff_id(app, colleague)
    ids = insert_cases(app, [{"assignee_id": me}, {"assignee_id": other}, {}], [investigator, colleague])
    with app.app_context(), session_of(app) as session:
        assert all_pages(session, QueueFilter(assigned_to=me), me) == [ids[0]]


def test_only_cases_sealed_to_the_viewer_and_not_recused(app, investigator, colleague):
    mine = insert_cases(app, [{}, {}], [investigator])
    theirs = insert_cases(app, [{}], [colleague])
    shared = insert_cases(app, [{}], [investigator, colleague])
    me = staff_id(app, investigator)
    with app.app_context(), session_of(app) as session:
        report = session.scalar(select(Report).where(Report.public_id == mine[0]))
        session.add(Recusal(report_id=report.id, staff_id=me))
    with app.app_context(), session_of(app) as session:
        assert all_pages(session, QueueFilter(), me) == [shared[0], mine[1]]
        assert theirs[0] not in all_pages(session, QueueFilter(), me)


def sample_cases(rng: random.Random, count: int) -> list[dict]:
    """Cases in every open state, with ties on received_at and acknowledgements at month ends."""
    month_ends = [datetime(2025, m, d, rng.randint(0, 23), tzinfo=timezone.utc)
                  for m, d in [(10, 31), (11, 28), (11, 29), (11, 30), (12, 1), (11, 27), (12, 31)]]
    specs = []
    for i in range(count):
        received = NOW - timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 600))
        if i % 10 == 0:
            received = NOW - timedelta(days=3)  # ties on purpose
        ack = rng.choice([None, None, received + timedelta(days=rng.randint(1, 9)), rng.choice(month_ends)])
        if ack is not None and ack < received:
            received = ack - timedelta(hours=5)
        status = "concluded" if rng.random() < 0.2 else (rng.choice(["acknowledged", "assessing", "investigating"])
                                                          if ack else "received")
        specs.append({"received_at": received, "acknowledged_at": ack, "status": status,
                      "feedback_at": NOW - timedelta(days=2) if ack and rng.random() < 0.2 else None,
                      "confidence": rng.choice([None, 0.3, 0.5, 0.5, 0.9])})
    return specs


@pytest.mark.parametrize("sort", list(Sort))
def test_keyset_pages_match_one_big_ordered_read(app, investigator, sort):
    insert_cases(app, sample_cases(random.Random(7), 90), [investigator])
    me = staff_id(app, investigator)
    with app.app_context(), session_of(app) as session:
        paged = all_pages(session, QueueFilter(sort=sort), me, size=7)
        reports = session.scalars(select(Report)).all()
        if sort is Sort.DEADLINE:
            # Exactly the calendar of cases/deadlines.py, month ends included.
            due = {r.public_id: deadlines_for(r, RULES, NOW).next_due for r in reports}
            ids = {r.public_id: r.id for r in reports}
            whole = sorted((p for p in due if due[p] is not None), key=lambda p: (due[p], ids[p]))
        else:
            whole = [r.public_id for r in offset_page(session, QueueFilter(sort=sort), me, RULES, 0, size=1000,
                                                      now=NOW)]
        expected = {
            Sort.DEADLINE: {r.public_id for r in reports if deadlines_for(r, RULES, NOW).next_due is not None},
            Sort.CONFIDENCE: {r.public_id for r in reports if r.confidence is not None},
        }.get(sort, {r.public_id for r in reports})
        assert paged == whole and len(paged) == len(set(paged)) and set(paged) == expected


def test_deadline_order_with_filters_and_many_month_end_ties(app, investigator):
    """Many cases acknowledged on the last days of months: the streams must still merge exactly."""
    rng = random.Random(5)
    specs = []
    for _ in range(150):
        # 26-30 November + 3 months all land on 26-28 February: clipped, so out of order by hours.
        ack = datetime(2025, 11, rng.choice([26, 27, 28, 29, 30]), rng.randint(0, 23), rng.randint(0, 59),
                       tzinfo=timezone.utc)
        specs.append({"received_at": ack - timedelta(days=2), "acknowledged_at": ack,
                      "status": rng.choice(["acknowledged", "assessing"]),
                      "language": rng.choice(["fr", "en"])})
    specs += sample_cases(rng, 40)
    insert_cases(app, specs, [investigator])
    me = staff_id(app, investigator)
    with app.app_context(), session_of(app) as session:
        reports = session.scalars(select(Report)).all()
        for filters in (QueueFilter(sort=Sort.DEADLINE), QueueFilter(sort=Sort.DEADLINE, language="fr"),
                        QueueFilter(sort=Sort.DEADLINE, deadline=DeadlineState.OVERDUE)):
            chosen = [r for r in reports if deadlines_for(r, RULES, NOW).next_due is not None
                      and (filters.language is None or r.language == filters.language)
                      and (filters.deadline is None or deadlines_for(r, RULES, NOW).worst is filters.deadline)]
            expected = [r.public_id for r in sorted(chosen, key=lambda r: (deadlines_for(r, RULES, NOW).next_due, r.id))]
            for size in (3, 10, 50):
                assert all_pages(session, filters, me, size=size) == expected, (filters, size)


def test_deadline_filters_agree_exactly_with_the_case_deadlines(app, investigator):
    """Month ends are where calendar months and SQL windows differ: use them on purpose."""
    rng = random.Random(11)
    specs = []
    month_ends = [datetime(2025, m, d, rng.randint(0, 23), tzinfo=timezone.utc)
                  for m, d in [(10, 31), (11, 28), (11, 29), (11, 30), (12, 1), (11, 27)]]
    for _ in range(120):
        received = NOW - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
        ack = rng.choice([None, received + timedelta(days=rng.randint(0, 8)), rng.choice(month_ends)])
        if ack is not None and ack < received:
            received = ack - timedelta(days=1)
        specs.append({"received_at": received, "acknowledged_at": ack,
                      "feedback_at": NOW - timedelta(days=1) if rng.random() < 0.1 else None,
                      "status": "concluded" if rng.random() < 0.1 else "assessing"})
    insert_cases(app, specs, [investigator])
    me = staff_id(app, investigator)
    with app.app_context(), session_of(app) as session:
        reports = session.scalars(select(Report)).all()
        for state in (DeadlineState.OVERDUE, DeadlineState.DUE_SOON):
            expected = {r.public_id for r in reports if deadlines_for(r, RULES, NOW).worst is state}
            got = all_pages(session, QueueFilter(deadline=state), me, size=5)
            assert set(got) == expected and len(got) == len(expected)
            assert expected, f"the sample has no {state.value} case"


def test_queue_page_shows_the_viewers_cases_with_category(app, investigator, colleague):
    ids = insert_cases(app, [{"category": "gifts-or-favours", "confidence": 0.9,
                              "received_at": datetime.now(timezone.utc) - timedelta(days=8)}], [investigator])
    hidden = insert_cases(app, [{"category": "other"}], [colleague])
    client = signed_in(app, investigator)
    page = client.get("/staff/cases").get_data(as_text=True)
    assert ids[0] in page and hidden[0] not in page
    assert "Gifts" in page or "gifts" in page.lower()
    assert 'class="case-row overdue"' in page
    assert 'data-category="gifts-or-favours">1<' in page
    filtered = client.get("/staff/cases?category=other").get_data(as_text=True)
    assert ids[0] not in filtered


def test_queue_is_for_investigators_only(app, auditor, admin):
    for person in (auditor, admin):
        assert signed_in(app, person).get("/staff/cases").status_code == 403


def test_queue_pages_via_next_links(app, investigator):
    ids = insert_cases(app, [{"received_at": NOW - timedelta(minutes=i)} for i in range(120)], [investigator])
    client = signed_in(app, investigator)
    url, seen = "/staff/cases", []
    import re
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'id="case-([0-9a-f]+)"', page)
        link = re.search(r'rel="next" href="([^"]+)"', page)
        url = link.group(1).replace("&amp;", "&") if link else None
    assert seen == ids
