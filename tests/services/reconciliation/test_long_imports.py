"""A long statement is matched by a job, not in the request that imports it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.extensions import db
from app.jobs import tasks
from app.models.base import utcnow
from app.models.reconciliation import BankLine, StatementImport
from app.services.reconciliation import importing
from app.tenancy import unscoped
from tests.conftest import make_company, make_user
from tests.payments_helpers import invoice, refreshed
from tests.services.reconciliation.helpers import bank_account, entry, statement, store


def _long_statement(doc, extra: int):
    lines = [entry("1.00", text=f"movimiento {i}") for i in range(extra)]
    lines.append(entry(str(doc.payable), text=f"pago {doc.number}"))
    return statement(*lines)


def test_a_long_import_waits_for_its_job_which_matches_it_once(held_jobs):
    supplier, buyer = make_company("Larga S.A.S."), make_company("Cliente S.A.S.")
    user = make_user(supplier)
    doc = invoice(supplier, buyer, "98765.00")
    account = bank_account(supplier)
    result = store(supplier, account, _long_statement(doc, importing.INLINE_LINES), user=user)
    assert result.pending and result.confirmed == 0
    assert refreshed(doc).open_balance == doc.payable  # not yet: the job has not run
    held_jobs.run()
    assert refreshed(doc).open_balance == 0
    record = db.session.scalars(unscoped(select(StatementImport))).one()
    assert record.matching_state == "done"
    # Run again (a retried job): nothing changes.
    assert tasks.match_statement_import.call_local(supplier.id, record.id) is None
    assert db.session.scalar(unscoped(select(BankLine.status).where(
        BankLine.amount == doc.payable))) == "matched"


def test_the_sweep_re_enqueues_an_import_whose_job_was_lost(held_jobs):
    supplier, buyer = make_company("Perdida S.A.S."), make_company("Cliente S.A.S.")
    doc = invoice(supplier, buyer, "4321.00")
    account = bank_account(supplier)
    store(supplier, account, _long_statement(doc, importing.INLINE_LINES))
    held_jobs.clear()  # the job was lost (a worker died)
    assert tasks.sweep.call_local()["statement_imports"] == 0  # not stale yet
    db.session.execute(unscoped(update(StatementImport).values(
        created_at=utcnow() - dt.timedelta(minutes=11))))
    db.session.commit()
    assert tasks.sweep.call_local()["statement_imports"] == 1


def test_with_a_gateway_over_the_network_even_a_short_import_waits_for_its_job(
    held_jobs, monkeypatch
):
    """A company connected to Stripe or Wompi: their payouts are fetched page after page over
    the network, so a statement with credits is matched by the job (which fetches them first),
    never while the upload waits; with the embedded sandbox alone it is matched at once."""
    from app.services.reconciliation import payouts
    from tests.payments_helpers import connect_fake

    fetched: list[list[str]] = []  # the gateways asked for payouts, each time
    real_sync = payouts._sync

    def watched(active, since):
        fetched.append(sorted(c.gateway for c in active))
        return real_sync([c for c in active if c.gateway == "sandbox"], since)  # (no network)

    monkeypatch.setattr(payouts, "_sync", watched)
    supplier, buyer = make_company("Remota S.A.S."), make_company("Cliente S.A.S.")
    doc = invoice(supplier, buyer, "5500.00")
    account = bank_account(supplier)
    connect_fake(supplier, gateway="sandbox")
    result = store(supplier, account, statement(entry("5500.00", text=f"pago {doc.number}")))
    assert not result.pending and result.confirmed == 1  # the sandbox alone: at once
    assert fetched == [["sandbox"]]

    other = make_company("Con Stripe S.A.S.")
    second = invoice(other, buyer, "7700.00")
    connect_fake(other, gateway="stripe")
    fetched.clear()
    other_account = bank_account(other)
    result = store(other, other_account, statement(entry("7700.00", text=f"pago {second.number}")),
                   digest="first")
    assert result.pending and result.confirmed == 0 and fetched == []
    assert refreshed(second).open_balance == second.payable
    held_jobs.run()
    assert fetched == [["stripe"]]  # the job fetched every gateway's payouts
    assert refreshed(second).open_balance == 0
    # Debits only (no payout can be among them): matched at once, nothing fetched.
    fetched.clear()
    result = store(other, other_account, statement(entry("-10.00", text="comision")),
                   digest="second")
    assert not result.pending and fetched == []
