"""The audit trail as a hash chain: is every record linked, and is tampering detected?"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEvent
from app.models.audit import GENESIS_HASH, AuditChainHead
from app.services import audit
from app.tenancy import acting_as, unscoped
from tests.conftest import isolated, make_company, make_user
from tests.services.inbox_helpers import make_document


def chain(company_id):
    stmt = unscoped(select(AuditEvent).where(AuditEvent.company_id.is_(company_id)
                                             if company_id is None
                                             else AuditEvent.company_id == company_id))
    return list(db.session.scalars(stmt.order_by(AuditEvent.seq)))


def as_column(conn, column):
    """Return the SQL for the :value parameter as the column's type (PostgreSQL: json)."""
    if column == "details" and conn.dialect.name == "postgresql":
        return "CAST(:value AS JSON)"
    return ":value"


def record(company, n=1, action="test.done", **details):
    with acting_as(company.id if company else None, ip="203.0.113.7", user_agent="pytest"):
        for i in range(n):
            audit.record_event("tester", company, action, ("thing", i), {"i": i, **details})
        db.session.commit()


def test_does_each_record_link_to_the_previous_one_of_its_company():
    first, second = make_company("Uno"), make_company("Dos")
    record(first, 3)
    record(second, 2)
    record(first, 1)
    events = chain(first.id)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert all(e.compute_hash() == e.hash for e in events)
    assert [e.seq for e in chain(second.id)] == [1, 2]
    head = db.session.get(AuditChainHead, first.id)
    assert (head.last_seq, head.last_hash) == (4, events[-1].hash)


def test_are_events_without_a_company_a_chain_of_their_own():
    record(None, 2, action="auth.sign_in_failed")
    events = chain(None)
    assert [e.seq for e in events] == [1, 2]
    assert db.session.get(AuditChainHead, 0).last_seq == 2
    assert audit.verify_chains().intact


def test_does_a_rolled_back_transaction_leave_neither_record_nor_head():
    company = make_company()
    record(company, 1)
    with acting_as(company.id):
        audit.record_event("tester", company, "test.undone")
        db.session.rollback()
    record(company, 1)
    assert [e.seq for e in chain(company.id)] == [1, 2]
    assert audit.verify_chains().intact


def test_do_two_sessions_in_turn_keep_one_linear_chain():
    """Writers of one company in separate sessions (as two requests) never fork the chain."""
    company = make_company()

    def write(label):
        with acting_as(company.id):
            audit.record_event(label, company.id, "test.done")
            db.session.commit()
        db.session.remove()

    for label in ("a", "b", "a", "b"):
        isolated(write, label)
    events = chain(company.id)
    assert [(e.seq, e.actor) for e in events] == [(1, "a"), (2, "b"), (3, "a"), (4, "b")]
    assert audit.verify_chains().intact


def test_is_the_hash_stable_when_read_back_from_the_database():
    company = make_company()
    record(company, 1, nested={"b": [1, 2], "a": "ñandú"})
    db.session.expire_all()
    event = chain(company.id)[0]
    assert event.created_at.tzinfo is not None
    assert event.compute_hash() == event.hash
    assert (event.ip, event.user_agent) == ("203.0.113.7", "pytest")


def test_does_an_api_call_record_its_token():
    company = make_company()
    with acting_as(company.id):
        audit.record_event("api-token:7", company, "api.call", token_id=7)
        db.session.commit()
    assert chain(company.id)[0].actor_token_id == 7
    assert audit.verify_chains().intact


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("details", '{"i": 99}', "altered content"),
        ("actor", "someone else", "altered content"),
        ("ip", "198.51.100.1", "altered content"),
        ("action", "test.hidden", "altered content"),
        ("prev_hash", "1" * 64, "broken link"),
    ],
)
def test_is_an_altered_record_detected(column, value, problem):
    company = make_company()
    record(company, 4)
    target = chain(company.id)[2]
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_events SET {column} = {as_column(conn, column)} "
                          "WHERE id = :id"), {"id": target.id, "value": value})
    db.session.expire_all()
    report = audit.verify_chains()
    assert not report.intact
    (broken,) = [c for c in report.chains if not c.intact]
    assert (broken.company_id, broken.seq, broken.event_id, broken.problem) == (
        company.id, 3, target.id, problem)


def test_is_a_removed_record_detected():
    company = make_company()
    record(company, 4)
    middle = chain(company.id)[1]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": middle.id})
    db.session.expire_all()
    (broken,) = [c for c in audit.verify_chains().chains if not c.intact]
    assert (broken.seq, broken.problem) == (3, "missing record")


def test_is_a_removed_last_record_detected():
    company = make_company()
    record(company, 3)
    last = chain(company.id)[-1]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last.id})
    db.session.expire_all()
    (broken,) = [c for c in audit.verify_chains().chains if not c.intact]
    assert (broken.seq, broken.problem) == (3, "missing record at the end")


def test_are_untouched_chains_reported_intact_beside_a_broken_one():
    first, second = make_company("Uno"), make_company("Dos")
    record(first, 2)
    record(second, 2)
    record(None, 1)
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_events SET details = {as_column(conn, 'details')} "
                          "WHERE company_id = :c"), {"c": second.id, "value": "{}"})
    db.session.expire_all()
    report = audit.verify_chains(batch=2)  # crosses batches and chains
    assert report.records == 5
    assert {c.company_id: c.intact for c in report.chains} == {
        None: True, first.id: True, second.id: False}


def test_does_the_filtered_list_find_a_users_document_events_in_a_period():
    company, other = make_company("Uno"), make_company("Dos")
    alice, bob = make_user(company, email="alice@example.test"), make_user(company)
    document = make_document(company, other, number="FV-77")
    with acting_as(company.id, alice.id):
        audit.record_event(alice, company, "document.viewed", document)
        audit.record_event(bob, company, "document.viewed", document)
        audit.record_event(alice, company, "company.updated", company)
        db.session.commit()
        by_alice = audit.EventFilters(user_id=alice.id, document="FV-77")
        found = db.session.scalars(audit.events(company.id, filters=by_alice)).all()
        assert [(e.actor, e.action) for e in found] == [("alice@example.test", "document.viewed")]
        by_id = audit.EventFilters(document=str(document.id), action="document.viewed")
        assert len(db.session.scalars(audit.events(company.id, filters=by_id)).all()) == 2
        today = dt.datetime.now(dt.UTC).date()
        past = audit.EventFilters(date_to=today - dt.timedelta(days=1))
        assert db.session.scalars(audit.events(company.id, filters=past)).all() == []
        now = audit.EventFilters(date_from=today, date_to=today)
        assert len(db.session.scalars(audit.events(company.id, filters=now)).all()) == 3
        first = audit.page(audit.events(company.id), limit=2)
        assert [e.seq for e in first.events] == [3, 2]
        rest = audit.page(audit.events(company.id), cursor=first.next_cursor, limit=2)
        assert [e.seq for e in rest.events] == [1] and rest.next_cursor is None


def test_does_a_company_see_only_its_own_trail():
    company, other = make_company("Uno"), make_company("Dos")
    record(company, 2)
    record(other, 1)
    with acting_as(other.id):
        assert db.session.scalars(audit.events(company.id)).all() == []


def test_can_views_be_left_out_of_the_trail(app, monkeypatch):
    company = make_company()
    monkeypatch.setitem(app.config, "AUDIT_ACCESS_EVENTS", False)
    with acting_as(company.id):
        assert audit.record_access("x", company, "document.viewed", ("documents", 1)) is None
        audit.record_event("x", company, "company.updated")
        db.session.commit()
    assert [e.action for e in chain(company.id)] == ["company.updated"]


def test_does_a_transaction_that_commits_later_take_the_later_position():
    """The chain follows commit order: positions are taken just before each commit."""
    company = make_company()

    def quick():
        with acting_as(company.id):
            audit.record_event("quick", company.id, "test.done")
            db.session.commit()
        db.session.remove()

    with acting_as(company.id):
        slow = audit.record_event("slow", company.id, "test.done")
        other = threading.Thread(target=quick)  # another request (its own session) commits
        other.start()  # while this transaction is still working
        other.join()
        db.session.commit()
    assert [(e.seq, e.actor) for e in chain(company.id)] == [(1, "quick"), (2, "slow")]
    assert slow.seq == 2 and audit.verify_chains().intact


def test_are_a_transactions_events_chained_in_the_order_recorded():
    first, second = make_company("Uno"), make_company("Dos")
    with acting_as(first.id):
        audit.record_event("a", first, "test.one")
        audit.record_event("a", second, "test.other")
        db.session.flush()  # already inserted: chaining updates them
        audit.record_event("a", first, "test.two")
        db.session.commit()
    assert [e.action for e in chain(first.id)] == ["test.one", "test.two"]
    assert [e.seq for e in chain(second.id)] == [1]
    assert audit.verify_chains().intact


def test_is_an_event_of_a_rolled_back_savepoint_left_out_of_the_chain():
    from app.db import begin_nested

    company = make_company()
    with acting_as(company.id):
        audit.record_event("a", company, "test.kept")
        savepoint = begin_nested(db.session)
        audit.record_event("a", company, "test.undone")
        db.session.flush()
        savepoint.rollback()
        audit.record_event("a", company, "test.after")
        db.session.commit()
    assert [(e.seq, e.action) for e in chain(company.id)] == [(1, "test.kept"), (2, "test.after")]
    assert audit.verify_chains().intact


def test_is_a_record_written_around_the_chain_detected():
    company = make_company()
    record(company, 2)
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_events (company_id, actor, action, details, created_at)"
            " VALUES (:c, 'forger', 'test.forged', '{}', :at)"
        ), {"c": company.id, "at": dt.datetime(2026, 1, 1)})
    (broken,) = [c for c in audit.verify_chains().chains if not c.intact]
    assert (broken.company_id, broken.problem, broken.records) == (
        company.id, "record outside the chain", 3)


def test_do_concurrent_writers_of_one_company_keep_one_linear_chain():
    """Threads (each its own session, as requests) commit at once: no fork, no gap."""
    company = make_company()
    errors = []

    def writer(label):
        try:
            for i in range(15):
                with acting_as(company.id):
                    audit.record_event(label, company.id, "test.done", None, {"i": i})
                    db.session.commit()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [e.seq for e in chain(company.id)] == list(range(1, 46))
    assert audit.verify_chains().intact
