"""Form tickets, the no-JavaScript path's defence: issuing stores nothing (a flood of page views
cannot fill Redis), and each ticket is spent once, even when copies race."""
from __future__ import annotations

import threading
import time

import pytest

from intake.errors import TicketRefused
from intake.tickets import PREFIX, FormTickets


@pytest.fixture
def tickets(redis_conn) -> FormTickets:  # type: ignore[no-untyped-def]
    return FormTickets(redis_conn, b"s" * 32, ttl_seconds=600, min_age_seconds=0)


def test_rendering_forms_stores_nothing(client, redis_conn, investigator) -> None:  # type: ignore[no-untyped-def]
    client.get("/report")
    before = redis_conn.dbsize()
    for _ in range(30):
        assert client.get("/report").status_code == 200
        assert client.get("/followup").status_code == 200
    assert redis_conn.dbsize() == before


def test_a_ticket_is_spent_once(tickets: FormTickets, redis_conn) -> None:  # type: ignore[no-untyped-def]
    ticket = tickets.issue("report")
    tickets.redeem("report", ticket)
    with pytest.raises(TicketRefused):
        tickets.redeem("report", ticket)
    [key] = list(redis_conn.scan_iter(f"{PREFIX}*"))
    assert 0 < redis_conn.ttl(key) <= 601


def test_only_one_of_racing_copies_is_accepted(tickets: FormTickets) -> None:
    ticket = tickets.issue("report")
    accepted: list[bool] = []
    start = threading.Barrier(8)

    def redeem() -> None:
        start.wait()
        try:
            tickets.redeem("report", ticket)
            accepted.append(True)
        except TicketRefused:
            accepted.append(False)

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(accepted) == [False] * 7 + [True]


def test_forged_stale_and_other_purpose_tickets_are_refused(tickets: FormTickets, redis_conn) -> None:  # type: ignore[no-untyped-def]
    nonce, issued, signature = tickets.issue("report").split(".")
    stale_issued = int(time.time()) - 601
    stale = f"{nonce}.{stale_issued}.{tickets._sign('report', nonce, stale_issued)}"
    for bad in (f"{nonce}.{issued}.{'0' * 32}", f"{nonce}.{int(issued) - 5}.{signature}", stale, "", "a.b"):
        with pytest.raises(TicketRefused):
            tickets.redeem("report", bad)
    with pytest.raises(TicketRefused):
        tickets.redeem("followup", f"{nonce}.{issued}.{signature}")
    assert list(redis_conn.scan_iter(f"{PREFIX}*")) == []


def test_a_too_fast_submission_keeps_its_ticket(redis_conn) -> None:  # type: ignore[no-untyped-def]
    patient = FormTickets(redis_conn, b"s" * 32, ttl_seconds=600, min_age_seconds=60)
    ticket = patient.issue("report")
    with pytest.raises(TicketRefused):
        patient.redeem("report", ticket)
    assert list(redis_conn.scan_iter(f"{PREFIX}*")) == []
