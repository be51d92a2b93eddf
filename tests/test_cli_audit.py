"""`flask --app wsgi audit verify`, and the migration that chains the events recorded before it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text

from app.cli import upgrade_database
from app.extensions import db
from app.models import AuditEvent
from app.models.audit import GENESIS_HASH
from app.services import audit
from app.tenancy import acting_as
from tests.conftest import make_company
from tests.test_migrations import empty_database  # noqa: F401 (a fixture)


def record(company, n):
    with acting_as(company.id if company else None):
        for i in range(n):
            audit.record_event("tester", company, "test.done", None, {"i": i})
        db.session.commit()


def test_does_verify_report_intact_chains(app):
    record(make_company("Uno"), 3)
    record(None, 1)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "2 chains, 4 records, all intact" in result.output


def test_does_verify_name_the_first_broken_link_and_fail(app):
    company = make_company()
    record(company, 3)
    event_id = db.session.scalar(
        text("SELECT id FROM audit_events WHERE seq = 2 AND company_id = :c"), {"c": company.id}
    )
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'nobody' WHERE id = :id"),
                     {"id": event_id})
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"company {company.id}: altered content at seq 2, record id {event_id}" in result.output
    assert "1 chains, 3 records, 1 broken" in result.output


def test_does_an_empty_trail_verify(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "0 chains, 0 records, all intact" in result.output


def test_does_the_migration_chain_the_events_recorded_before_it(empty_database):  # noqa: F811
    upgrade_database(empty_database, "0009_numbering")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO companies (legal_name, country, tax_id, contact_email, locale, created_at)"
            " VALUES ('Uno', 'CO', '9001', 'a@example.test', 'es', :now)"
        ), {"now": dt.datetime(2026, 1, 1)})
        company_id = conn.execute(text("SELECT id FROM companies")).scalar_one()
        for company in (company_id, None, company_id):
            conn.execute(text(
                "INSERT INTO audit_events (company_id, actor, action, details, created_at)"
                " VALUES (:c, 'old', 'legacy.event', '{\"k\": 1}', :at)"
            ), {"c": company, "at": dt.datetime(2026, 1, 2, 3, 4, 5, 123456)})
    upgrade_database(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(AuditEvent.__table__.select().order_by(AuditEvent.id)).mappings().all()
        heads = conn.execute(text("SELECT chain_key, last_seq, last_hash FROM audit_chain_heads"
                                  " ORDER BY chain_key")).all()
    engine.dispose()
    events = [AuditEvent(**row) for row in rows]
    assert [(e.company_id, e.seq) for e in events] == [(company_id, 1), (None, 1), (company_id, 2)]
    assert all(e.compute_hash() == e.hash for e in events)
    assert events[0].prev_hash == events[1].prev_hash == GENESIS_HASH
    assert events[2].prev_hash == events[0].hash
    assert [tuple(h) for h in heads] == [(0, 1, events[1].hash), (company_id, 2, events[2].hash)]
