"""The audit trail: hash-chained, serialised appends, and a verify command that names tampering."""
from __future__ import annotations

import threading

from sqlalchemy import select, update

from cases import audit
from store.models import AuditEntry


def append(app, count: int, action: str = "test.event") -> None:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        for i in range(count):
            audit.record(session, action, actor_label="tester", report=f"r{i}", n=i)


def test_verify_reports_an_intact_trail(app, runner):
    append(app, 5)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


def test_an_empty_trail_is_intact(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 0 entries" in result.output


def test_verify_names_an_edited_entry(app, runner):
    append(app, 5)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        third = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[2]
        session.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(detail={"n": 99}))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry id={third.id}" in result.output and "altered" in result.output


def test_verify_names_the_entry_after_a_rehashed_edit(app, runner):
    """An editor who also recomputes the edited entry's hash breaks the link to the next one."""
    append(app, 5)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        entries[1].actor = "someone else"
        entries[1].entry_hash = audit.entry_hash_of(entries[1])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry id={entries[2].id}" in result.output and f"entry {entries[1].id}" in result.output


def test_verify_names_the_entry_after_a_removed_one(app, runner):
    append(app, 5)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        session.delete(session.get(AuditEntry, ids[3]))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"entry id={ids[4]}" in result.output


def test_a_cut_off_tail_is_caught_with_a_noted_head(app, runner):
    append(app, 4)
    head = runner.invoke(args=["audit", "verify"]).output.split("Head hash: ")[1].strip()
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        session.delete(last)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    result = runner.invoke(args=["audit", "verify", "--head", head])
    assert result.exit_code == 1 and "no longer in the trail" in result.output


def test_concurrent_writers_never_fork_the_chain(app, runner):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            append(app, 15, action=f"writer.{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        prevs = session.scalars(select(AuditEntry.prev_hash)).all()
    assert len(prevs) == 90 and len(set(prevs)) == 90  # no two entries share a predecessor
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_entries_carry_no_content_fields(app):
    append(app, 1)
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        entry = session.scalar(select(AuditEntry))
        assert set(entry.detail) == {"n"}
        assert len(entry.entry_hash) == 64 and entry.prev_hash == audit.GENESIS
