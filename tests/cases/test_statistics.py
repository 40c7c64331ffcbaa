"""Statistics from metadata, drawn as SVG without script or style attributes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from cases.stats import compute
from core.config import Deadlines
from tests.cases.helpers import insert_cases, signed_in

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


def test_measures(app, investigator):
    day = timedelta(days=1)
    insert_cases(app, [
        # acknowledged within a day, concluded after 10 days
        {"category": "gifts-or-favours", "received_at": NOW - 40 * day, "acknowledged_at": NOW - 39.5 * day,
         "status": "concluded", "outcome": "substantiated", "concluded_at": NOW - 30 * day},
        # acknowledged late (9 days), still open, feedback overdue? no: acknowledged 30 days ago
        {"category": "gifts-or-favours", "received_at": NOW - 39 * day, "acknowledged_at": NOW - 30 * day,
         "status": "assessing"},
        # never acknowledged, 20 days old: overdue
        {"category": "other", "received_at": NOW - 20 * day},
        # human correction counts under the human's category; concluded as referred
        {"category": "other", "human_category": "conflict-of-interest", "received_at": NOW - 70 * day,
         "acknowledged_at": NOW - 68 * day, "status": "concluded", "outcome": "referred",
         "concluded_at": NOW - 10 * day},
        # fresh and unclassified
        {"received_at": NOW - 1 * day},
        # outside a 3-month window
        {"category": "other", "received_at": NOW - 200 * day},
    ], [investigator])
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        figures = compute(session, Deadlines(), months_back=3, now=NOW)
    assert figures.months == ["2026-04", "2026-05", "2026-06"]
    assert figures.per_category == {"gifts-or-favours": [0, 2, 0], "conflict-of-interest": [1, 0, 0],
                                    "other": [0, 1, 0], "": [0, 0, 1]}
    assert figures.acknowledge.counts == [1, 0, 1, 0, 0, 1, 0, 0]  # 0.5 d, 2 d, 9 d
    assert figures.acknowledge.median_bucket == "2–3 days"
    assert round(figures.acknowledge.mean_days, 2) == round((0.5 + 2 + 9) / 3, 2)
    assert figures.conclude.counts == [0, 1, 1, 0, 0, 0]  # 10 days, 60 days
    assert figures.outcomes == {"substantiated": 1, "referred": 1}
    assert (figures.open_cases, figures.overdue_cases) == (4, 2)  # 20-day-old unacknowledged, 200-day-old


def test_statistics_page_for_auditors_draws_svg_without_style(app, auditor, investigator):
    now = datetime.now(timezone.utc)
    insert_cases(app, [{"category": "gifts-or-favours", "received_at": now - timedelta(days=3),
                        "acknowledged_at": now - timedelta(days=2), "status": "concluded", "outcome": "unsubstantiated",
                        "concluded_at": now - timedelta(days=1)}], [investigator])
    response = signed_in(app, auditor).get("/staff/statistics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<svg") == 4 and "<rect" in page
    assert not re.search(r"\sstyle\s*=", page, re.I) and "<script" not in page.lower() and "<style" not in page.lower()
    assert "unsubstantiated" in page
    assert len(set(re.findall(r'<svg[^>]* id="([^"]+)"', page))) == 4
