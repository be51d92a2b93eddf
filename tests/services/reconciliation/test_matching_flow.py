"""Bank lines matched to invoices and payments, on both sides of the network."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.humanize import payment_state
from app.models import Document, Payment
from app.models.reconciliation import BankLine, Match, MatchItem, StatementImport
from app.services.errors import Conflict, DomainError, NotFound
from app.services.payments import state
from app.services.reconciliation import matching, queries
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user
from tests.payments_helpers import invoice, refreshed
from tests.services.reconciliation.helpers import bank_account, entry, statement, store


@pytest.fixture
def parties():
    supplier, buyer = make_company("Proveedor S.A.S."), make_company("Comprador S.A.S.")
    return supplier, buyer, make_user(supplier), make_user(buyer)


def test_a_credit_naming_the_invoice_closes_it_and_the_buyer_debit_matches_the_same_payment(
    parties,
):
    supplier, buyer, s_user, b_user = parties
    doc = invoice(supplier, buyer, "250000.00")
    s_account, b_account = bank_account(supplier), bank_account(buyer, number="987654321")

    result = store(supplier, s_account, statement(
        entry("250000.00", text=f"Pago factura {doc.number}", e2e="E2E-77", name="Comprador")))

    assert result.new_lines == 1 and result.confirmed == 1
    doc = refreshed(doc)
    assert doc.open_balance == 0 and doc.payment_status == "paid"
    payment = db.session.scalars(unscoped(select(Payment))).one()
    assert payment.method == "bank" and payment.payer_company_id == buyer.id
    assert payment.end_to_end_id == "E2E-77"

    # The buyer's own statement: the debit with the same end-to-end id ties to that payment.
    result = store(buyer, b_account, statement(
        entry("-250000.00", text="Transferencia", e2e="E2E-77", name="Proveedor")))
    with acting_as(buyer.id):
        item = db.session.scalars(select(MatchItem).where(
            MatchItem.company_id == buyer.id)).one()
    assert item.kind == "payment_out" and item.payment_id == payment.id
    assert db.session.scalars(unscoped(select(Payment))).all() == [payment]  # still one payment
    with acting_as(buyer.id):
        assert queries.document_statuses(buyer.id, [doc.id])[doc.id] == "matched"
    with acting_as(supplier.id):
        assert queries.document_statuses(supplier.id, [doc.id])[doc.id] == "matched"


def test_reimporting_the_same_statement_adds_nothing(parties):
    supplier, buyer, *_ = parties
    account = bank_account(supplier)
    st = statement(entry("1000.00", text="uno"), entry("1000.00", text="uno"),
                   entry("-50.00", text="comision"))
    first = store(supplier, account, st)
    again = store(supplier, account, st)
    assert (first.new_lines, first.duplicates) == (3, 0)
    assert (again.new_lines, again.duplicates) == (0, 3)
    assert db.session.scalar(unscoped(select(func.count(BankLine.id)))) == 3


def test_entries_not_booked_yet_are_counted_in_a_finding(parties):
    supplier, *_ = parties
    account = bank_account(supplier)
    st = dataclasses.replace(statement(entry("10.00")), pending=2)
    result = store(supplier, account, st)
    assert result.new_lines == 1
    assert any(("not booked yet" in f or "sin asentar" in f) and ": 2." in f
               for f in result.findings), result.findings


def test_a_statement_whose_balances_do_not_add_up_is_a_finding(parties):
    supplier, *_ = parties
    account = bank_account(supplier)
    result = store(supplier, account, statement(entry("1000.00"), opening="0", closing="900"))
    assert any("missing" in f or "falta" in f for f in result.findings)
    record = db.session.scalars(unscoped(select(StatementImport))).one()
    assert record.balance_gap == Decimal("-100.00000")


def test_a_statement_of_another_account_or_currency_is_refused(parties):
    supplier, *_ = parties
    account = bank_account(supplier)
    with pytest.raises(DomainError):
        store(supplier, account, statement(entry("1.00"), account="555555555"))
    db.session.rollback()
    with pytest.raises(DomainError):
        store(supplier, account, statement(entry("1.00", currency="USD"), currency="USD"))
    db.session.rollback()


def test_an_ambiguous_line_waits_with_suggestions_and_a_person_confirms_then_undoes(parties):
    supplier, buyer, s_user, _ = parties
    a = invoice(supplier, buyer, "500.00")
    b = invoice(supplier, buyer, "500.00")
    account = bank_account(supplier)
    result = store(supplier, account, statement(entry("500.00", text="pago")), user=s_user)
    assert result.confirmed == 0
    assert result.suggested == 1  # one line to review, though it has two suggestions
    with acting_as(supplier.id, s_user.id):
        line = db.session.scalars(select(BankLine)).one()
        assert line.status == "suggested"
        views = queries.line_matches(supplier.id, line.id, status="suggested")
        assert {v.items[0].document_id for v in views} == {a.id, b.id}
        chosen = next(v.match for v in views if v.items[0].document_id == b.id)
        matching.confirm_match(supplier.id, match_id=chosen.id, actor=s_user)
        db.session.commit()
    assert refreshed(b).open_balance == 0 and refreshed(a).open_balance == Decimal("500.00")
    with acting_as(supplier.id, s_user.id):
        matching.confirm_match(supplier.id, match_id=chosen.id, actor=s_user)  # again: no-op
        matching.undo_match(supplier.id, match_id=chosen.id, actor=s_user)
        db.session.commit()
    assert refreshed(b).open_balance == Decimal("500.00")
    assert refreshed(b).payment_status == "unpaid"
    with acting_as(supplier.id, s_user.id):
        recorded = db.session.scalars(select(Payment).where(Payment.method == "bank")).one()
        assert recorded.status == "reversed"  # kept, and told apart from a canceled checkout
        assert payment_state(recorded.status, locale="es") == "anulado"
        assert not state.move(recorded, "succeeded")  # a reversal is final
    with acting_as(supplier.id, s_user.id), pytest.raises(Conflict):
        matching.undo_match(supplier.id, match_id=chosen.id, actor=s_user)


def test_manual_match_pays_several_invoices_with_a_fee(parties):
    supplier, buyer, s_user, _ = parties
    a, b = invoice(supplier, buyer, "300.00"), invoice(supplier, buyer, "200.00")
    account = bank_account(supplier)
    store(supplier, account, statement(entry("495.00", text="varios")), user=s_user)
    with acting_as(supplier.id, s_user.id):
        line = db.session.scalars(select(BankLine)).one()
        matching.manual_match(supplier.id, line_id=line.id, items=[
            ("receivable", a.id, None), ("receivable", b.id, None)], fee=Decimal("5"),
            actor=s_user)
        db.session.commit()
        line = db.session.get(BankLine, line.id)
        assert line.status == "matched"
    assert refreshed(a).open_balance == 0 and refreshed(b).open_balance == 0
    payment = db.session.scalars(unscoped(select(Payment))).one()
    assert payment.fee == Decimal("5.00") and payment.amount == Decimal("500.00")


def test_other_companies_ids_are_not_found(parties):
    supplier, buyer, s_user, b_user = parties
    doc = invoice(supplier, buyer, "100.00")
    account = bank_account(supplier)
    store(supplier, account, statement(entry("100.00", text="x")))
    stranger = make_company("Ajena S.A.S.")
    s2 = make_user(stranger)
    with acting_as(supplier.id):
        line = db.session.scalars(select(BankLine)).one()
    with acting_as(stranger.id, s2.id):
        with pytest.raises(NotFound):
            matching.get_line(stranger.id, line.id)
        with pytest.raises(NotFound):
            matching.manual_match(stranger.id, line_id=line.id,
                                  items=[("receivable", doc.id, None)], actor=s2)
    # The buyer cannot settle the supplier's line either, nor use a money-in line for a payable.
    with acting_as(supplier.id, s_user.id), pytest.raises(DomainError):
        matching.manual_match(supplier.id, line_id=line.id, items=[("payable", doc.id, None)],
                              actor=s_user)
    assert refreshed(doc).open_balance == Decimal("100.00")
    assert db.session.scalar(unscoped(select(func.count(Match.id)))) >= 0
    assert db.session.get(Document, doc.id) is not None


def test_one_lines_fresh_suggestions_come_from_a_shortlist_by_number_amount_and_tax_id(parties):
    supplier, buyer, s_user, _ = parties
    account = bank_account(supplier)
    # Imported before the invoices exist (so nothing is confirmed), then asked again.
    store(supplier, account, statement(
        entry("1234.00", text="abono fact fe-9999-x"),
        entry("777.00", text="consignacion"),
        entry("750.00", text=f"NIT {buyer.tax_id} pago facturas")), user=s_user)
    named = invoice(supplier, buyer, "1234.00")
    named.number = "FE-9999-X"
    same_amount = invoice(supplier, buyer, "777.00")
    a, b = invoice(supplier, buyer, "300.00"), invoice(supplier, buyer, "450.00")
    db.session.commit()
    with acting_as(supplier.id, s_user.id):
        lines = {line.amount: line for line in db.session.scalars(select(BankLine))}
        by_number = matching.suggestions_of(supplier.id, lines[Decimal("1234.00")].id)
        by_amount = matching.suggestions_of(supplier.id, lines[Decimal("777.00")].id)
        combined = matching.suggestions_of(supplier.id, lines[Decimal("750.00")].id)
    assert by_number[0].items[0].id == named.id
    assert any(s.items[0].id == same_amount.id for s in by_amount)
    assert any({i.id for i in s.items} == {a.id, b.id} for s in combined)


def test_a_confirmation_teaches_the_account_and_the_name_for_the_next_line(parties):
    supplier, buyer, s_user, _ = parties
    first, second = invoice(supplier, buyer, "640.00"), invoice(supplier, buyer, "910.00")
    account = bank_account(supplier)
    store(supplier, account, statement(
        entry("640.00", text=f"pago {first.number}", name="INVERSIONES QUIMBAYA SAS",
              account="CO55001234")), user=s_user)
    assert refreshed(first).open_balance == 0
    with acting_as(supplier.id):
        hints = matching.engine_hints(supplier.id)
    assert hints.accounts == {"CO55001234": buyer.tax_id}
    assert hints.labels == {"inversiones": buyer.tax_id}
    # Next month: no number, only the account and the amount — the buyer's invoice is named.
    store(supplier, account, statement(entry("910.00", text="abono", account="CO55001234",
                                             day=__import__("datetime").date(2026, 12, 20))),
          user=s_user, digest="y")
    with acting_as(supplier.id):
        line = db.session.scalars(select(BankLine).where(BankLine.amount == Decimal("910"))).one()
        best = matching.suggestions_of(supplier.id, line.id)
    assert refreshed(second).open_balance == 0 or best[0].items[0].id == second.id


def test_open_invoices_are_read_as_the_engine_columns_with_exact_amounts_and_dates(parties):
    """A whole ledger is read column-wise through the driver: the amounts still come as exact
    Decimals (cents kept, the held part left out), the dates as dates, both sides apart."""
    from app.matching import model as m
    from app.services.reconciliation import candidates

    supplier, buyer, _s_user, _b_user = parties
    first = invoice(supplier, buyer, "1234567.89")
    second = invoice(supplier, buyer, "0.10")
    held = invoice(supplier, buyer, "500.55")
    held.held_amount = Decimal("200.05")
    invoice(buyer, supplier, "77.70")  # the buyer's own receivable: not the supplier's
    db.session.commit()
    with acting_as(supplier.id):
        columns = candidates.invoice_columns(supplier.id, m.RECEIVABLE)
        payables = candidates.invoice_columns(supplier.id, m.PAYABLE)
    assert len(columns) == 8 and {len(c) for c in columns} == {3}
    rows = {row[1]: row for row in zip(*columns, strict=True)}
    assert set(rows) == {first.id, second.id, held.id}
    assert rows[first.id][2] == Decimal("1234567.89") and type(rows[first.id][2]) is Decimal
    assert rows[second.id][2] == Decimal("0.10")
    assert rows[held.id][2] == Decimal("300.50")
    assert rows[first.id][0] == m.RECEIVABLE and rows[first.id][4] == first.number
    assert rows[first.id][5] == buyer.tax_id and rows[first.id][6] == buyer.legal_name
    assert rows[first.id][7] == first.due_date and type(rows[first.id][7]).__name__ == "date"
    assert [row[2] for row in zip(*payables, strict=True)] == [Decimal("77.70")]
    with acting_as(supplier.id):
        assert candidates.invoice_columns(supplier.id, m.RECEIVABLE, "USD") == [[]] * 8
