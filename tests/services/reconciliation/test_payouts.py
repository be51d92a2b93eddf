"""A sandbox payout on the bank statement closes the payments it settles (their fees recorded),
which closed the invoices: the chain is visible from the invoice."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Payment
from app.models.base import utcnow
from app.models.reconciliation import GatewayPayout, GatewayPayoutLine
from app.services import sandbox_gateway
from app.services.payments.paying import Item
from app.services.reconciliation import payouts, queries
from app.tenancy import acting_as, unscoped
from tests.conftest import make_user
from tests.payments_helpers import invoice
from tests.services.payments.test_sandbox_flow import decide, shop, start  # noqa: F401
from tests.services.reconciliation.helpers import bank_account, entry, statement, store


def paid_out(shop, amounts):  # noqa: F811
    supplier, buyer, payer, _account = shop
    docs, pays = [], []
    for amount in amounts:
        doc = invoice(supplier, buyer, amount)
        payment = start(buyer, payer, [Item(doc.id)])
        decide(payment, "approve")
        docs.append(doc)
        pays.append(payment)
    (payout,) = sandbox_gateway.pay_out(utcnow().date())
    db.session.commit()
    return docs, pays, payout


def test_sync_copies_the_payout_with_its_lines_and_fills_the_payments_fees(shop):  # noqa: F811
    supplier = shop[0]
    _docs, pays, sandbox_payout = paid_out(shop, ["100000.00", "50000.00"])
    with acting_as(supplier.id):
        report = payouts.sync_payouts(supplier.id)
        again = payouts.sync_payouts(supplier.id)
        db.session.commit()
        payout = db.session.scalars(select(GatewayPayout)).one()
        lines = db.session.scalars(select(GatewayPayoutLine)).all()
    assert (report.new, again.new, again.updated) == (1, 0, 1)
    assert payout.settlement_id == sandbox_payout.payout_id
    assert payout.amount == sandbox_payout.amount
    assert {line.payment_id for line in lines} == {p.id for p in pays}
    fees = db.session.scalars(unscoped(select(Payment.fee).where(
        Payment.id.in_([p.id for p in pays])))).all()
    assert all(fee and fee > 0 for fee in fees)
    assert sum(fees) == payout.fees


def test_the_payout_on_the_statement_reconciles_its_payments_and_invoices(shop):  # noqa: F811
    supplier = shop[0]
    user = make_user(supplier)
    docs, pays, sandbox_payout = paid_out(shop, ["100000.00", "50000.00", "25000.00"])
    # Not synced beforehand: importing the statement copies the payouts first.
    account = bank_account(supplier)
    store(supplier, account, statement(entry(
        str(sandbox_payout.amount), text=f"SANDBOX PAYOUT {sandbox_payout.payout_id}",
        name="Sandbox Payments")), user=user)
    with acting_as(supplier.id, user.id):
        payout = db.session.scalars(select(GatewayPayout)).one()
        db.session.expire_all()
        payout = db.session.scalars(select(GatewayPayout)).one()
        assert payout.reconciled
        statuses = queries.payment_statuses(supplier.id, [p.id for p in pays])
        assert set(statuses.values()) == {"matched"}
        assert set(queries.document_statuses(supplier.id, [d.id for d in docs]).values()) == {
            "matched"}
        chain = queries.document_chain(supplier.id, docs[0].id)
    assert chain[0].payout.id == payout.id and chain[0].lines[0].amount == sandbox_payout.amount
