"""`flask --app wsgi cases list --json`: metadata of every case, never content."""
from __future__ import annotations

import json
import uuid
from datetime import datetime

from tests.cases.helpers import file_report, triage_directly


def test_cases_list_json_prints_metadata_only(app, runner, investigator):
    marker = f"CANARY-{uuid.uuid4().hex}"
    first, receipt = file_report(app, f"Minister took {marker}", details=marker)
    second, _ = file_report(app, "Customs officer asked for money")
    triage_directly(app, first, "gifts-or-favours", ["money-laundering"], 0.87, evidence=[marker])
    result = runner.invoke(args=["cases", "list", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [row["report"] for row in lines] == [first, second]
    one, two = lines
    assert one["status"] == "received" and one["triage_state"] == "classified"
    assert one["category"] == "gifts-or-favours" and one["flags"] == ["money-laundering"]
    assert one["confidence"] == 0.87
    datetime.fromisoformat(one["received_at"])
    assert two["triage_state"] == "pending" and two["category"] is None and two["flags"] == []
    for key in ("report", "status", "received_at", "triage_state", "category", "flags", "confidence"):
        assert key in two
    assert marker not in result.output and receipt not in result.output


def test_cases_list_shows_the_human_correction_as_the_category(app, runner, investigator):
    public_id, _ = file_report(app, "Something about a permit")
    triage_directly(app, public_id, "other", [], 0.4)
    from sqlalchemy import select

    from store.models import Report

    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        report.human_category, report.human_flags = "conflict-of-interest", ["organized-crime"]
    (row,) = [json.loads(line) for line in runner.invoke(args=["cases", "list", "--json"]).output.splitlines()]
    assert row["category"] == "conflict-of-interest" and row["machine_category"] == "other"
    assert row["flags"] == ["organized-crime"] and row["machine_flags"] == []
