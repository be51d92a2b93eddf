"""Three-way match: an invoice naming an order, line by line against what was agreed, received
and invoiced before, with the buyer's tolerances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.models import DocumentLine
from app.services.errors import FieldErrors
from app.services.orders import matching, responding
from app.services.orders.responding import Answer
from app.tenancy import acting_as
from tests.services.inbox_helpers import make_document
from tests.services.orders.helpers import TODAY, parties, place


@pytest.fixture
def p():
    return parties()


@pytest.fixture(autouse=True)
def _english(app):
    """The reasons are read in English, the source language."""
    with force_locale("en"):
        yield


def agreed(p, quantities, answers=None) -> str:
    order_id = place(p, quantities)
    with acting_as(p.supplier.id, p.seller.id):
        order = responding.respond(p.supplier.id, order_id, answers or {}, actor=p.seller,
                                   today=TODAY)
        db.session.commit()
    if order.status == "changed":
        with acting_as(p.buyer.id, p.purchaser.id):
            responding.confirm(p.buyer.id, order_id, actor=p.purchaser)
            db.session.commit()
    return order_id, order.number


def receive(p, order_id, quantities):
    with acting_as(p.buyer.id, p.purchaser.id):
        responding.record_delivery(p.buyer.id, order_id, quantities, kind="receipt", day=TODAY,
                                   today=TODAY, actor=p.purchaser)
        db.session.commit()


def invoice(p, number, *lines, day=dt.date(2026, 12, 8)):
    """A received invoice naming order ``number``: lines (code, name, quantity, unit price)."""
    doc = make_document(p.supplier, p.buyer, issue_date=day)
    doc.order_reference = number
    for position, (code, name, quantity, price) in enumerate(lines, start=1):
        db.session.add(DocumentLine(
            document_id=doc.id, sender_company_id=p.supplier.id,
            receiver_company_id=p.buyer.id, position=position, line_id=str(position),
            seller_item_id=code, name=name, quantity=Decimal(quantity), unit_code="94",
            price=Decimal(price), line_extension=Decimal(quantity) * Decimal(price)))
    db.session.commit()
    return doc


def check(p, doc):
    with acting_as(p.buyer.id):
        return matching.check(doc)


def test_an_invoice_of_what_was_ordered_and_received_is_matched(p):
    order_id, number = agreed(p, {"TOR-38": "100", "CEM-50": "10"})
    receive(p, order_id, {1: "100", 2: "10"})
    doc = invoice(p, number, ("TOR-38", "Tornillo", "100", "1250.50"),
                  ("CEM-50", "Cemento", "10", "32000"))
    result = check(p, doc)
    assert result.matched and result.reasons == []
    assert [line.received for line in result.lines] == [100, 10]


def test_invoicing_more_than_was_received_is_an_exception_naming_the_line(p):
    order_id, number = agreed(p, {"TOR-38": "100", "CEM-50": "10"})
    receive(p, order_id, {1: "80", 2: "10"})
    doc = invoice(p, number, ("TOR-38", "Tornillo", "100", "1250.50"),
                  ("CEM-50", "Cemento", "10", "32000"))
    result = check(p, doc)
    assert result.status == matching.EXCEPTION
    (reason,) = [str(r) for r in result.reasons]
    assert "Line 1" in reason and "100" in reason and "80" in reason


def test_without_receipts_the_agreed_quantity_is_the_limit(p):
    order_id, number = agreed(p, {"GUA-01": "4"}, {1: Answer("changed", quantity="2")})
    assert check(p, invoice(p, number, ("GUA-01", "Guantes", "2", "9000"))).matched
    second = invoice(p, number, ("GUA-01", "Guantes", "2", "9000"))
    result = check(p, second)  # 2 invoiced before + 2 now > 2 agreed
    assert not result.matched and result.lines[0].invoiced == 4


def test_a_price_beyond_the_tolerance_is_an_exception_within_it_is_not(p):
    _order_id, number = agreed(p, {"CEM-50": "10"})
    doc = invoice(p, number, ("CEM-50", "Cemento", "10", "32500"))
    assert "price" in str(check(p, doc).reasons[0])
    with acting_as(p.buyer.id, p.purchaser.id):
        matching.set_tolerance(p.buyer.id, p.supplier.id, quantity_percent="0",
                               price_percent="2", price_amount="0", actor=p.purchaser)
        db.session.commit()
    assert check(p, doc).matched  # 500 on 32000 is 1.6 %
    with acting_as(p.buyer.id, p.purchaser.id):
        matching.set_tolerance(p.buyer.id, p.supplier.id, quantity_percent="0",
                               price_percent="0", price_amount="100", actor=p.purchaser)
        db.session.commit()
    assert not check(p, doc).matched


def test_a_quantity_tolerance_lets_a_little_more_through(p):
    _order_id, number = agreed(p, {"TOR-38": "100"})
    doc = invoice(p, number, ("TOR-38", "Tornillo", "104", "1250.50"))
    assert not check(p, doc).matched
    with acting_as(p.buyer.id, p.purchaser.id):
        matching.set_tolerance(p.buyer.id, None, quantity_percent="5", price_percent="0",
                               price_amount="0", actor=p.purchaser)
        db.session.commit()
    assert check(p, doc).matched  # the tolerance for every supplier applies


def test_lines_are_paired_by_name_when_the_invoice_has_no_codes(p):
    _order_id, number = agreed(p, {"CEM-50": "10"})
    doc = invoice(p, number, ("", "CEMENTO  gris 50 KG", "10", "32000"),
                  ("", "Flete", "1", "50000"))
    result = check(p, doc)
    assert result.lines[0].problems == []
    assert "not on the order" in str(result.lines[1].problems[0])


def test_an_unknown_or_unagreed_order_is_an_exception(p):
    doc = invoice(p, "OC-999999", ("CEM-50", "Cemento", "1", "32000"))
    assert "OC-999999" in str(check(p, doc).reasons[0])
    order_id = place(p, {"CEM-50": "10"})  # sent, not answered
    from app.models import Order

    with acting_as(p.buyer.id):
        number = db.session.get(Order, order_id).number
    result = check(p, invoice(p, number, ("CEM-50", "Cemento", "10", "32000")))
    assert not result.matched and "not agreed" in str(result.reasons[0])


def test_an_invoice_naming_no_order_has_no_match(p):
    doc = make_document(p.supplier, p.buyer)
    assert check(p, doc) is None


@pytest.mark.parametrize("bad", ["abc", "-1", "101"])
def test_wrong_tolerances_are_named(p, bad):
    with acting_as(p.buyer.id, p.purchaser.id), pytest.raises(FieldErrors):
        matching.set_tolerance(p.buyer.id, None, quantity_percent=bad, price_percent="0",
                               price_amount="0", actor=p.purchaser)


def test_the_exceptions_among_a_selection_are_named_for_a_bulk_acceptance(p):
    order_id, number = agreed(p, {"CEM-50": "10"})
    good = invoice(p, number, ("CEM-50", "Cemento", "10", "32000"))
    bad = invoice(p, number, ("CEM-50", "Cemento", "1", "99999"))
    plain = make_document(p.supplier, p.buyer)
    with acting_as(p.buyer.id):
        found = matching.exceptions_among([good.id, bad.id, plain.id])
    assert [n for n, _match in found] == [bad.number]
    other = parties()
    with acting_as(other.buyer.id):  # another company's invoices are not read
        assert matching.exceptions_among([bad.id]) == []


def test_a_page_of_invoices_is_checked_in_a_few_queries_with_each_its_own_answer(p):
    """A tray page's marks: the invoices' orders, lines, receipts, tolerances and earlier
    invoices are read once for the page (not per invoice), and each invoice gets what
    checking it alone gives — a second invoice against one order counts the first."""
    from sqlalchemy import event

    first_id, first = agreed(p, {"TOR-38": "100"})
    second_id, second = agreed(p, {"CEM-50": "10"})
    receive(p, second_id, {1: "4"})
    with acting_as(p.buyer.id, p.purchaser.id):
        matching.set_tolerance(p.buyer.id, p.supplier.id, quantity_percent="10",
                               price_percent="0", price_amount="0", actor=p.purchaser)
        db.session.commit()
    docs = [
        invoice(p, first, ("TOR-38", "Tornillo", "60", "1250.50")),
        invoice(p, first, ("TOR-38", "Tornillo", "50", "1250.50")),  # 110 of 100 (+10 %)
        invoice(p, first, ("TOR-38", "Tornillo", "1", "1250.50")),  # 111: past the tolerance
        invoice(p, second, ("CEM-50", "Cemento", "4", "32000")),
        invoice(p, second, ("CEM-50", "Cemento", "1", "32000")),  # 5 of 4 received
        invoice(p, "OC-NO-EXISTE", ("X", "Otra cosa", "1", "1")),
    ]
    alone = {doc.id: check(p, doc) for doc in docs}
    assert [alone[d.id].matched for d in docs] == [True, True, False, True, False, False]
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with acting_as(p.buyer.id):
            together = matching.summaries(docs)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 7
    assert {i: (r.status, r.reasons) for i, r in together.items()} == {
        i: (r.status, r.reasons) for i, r in alone.items()}
    assert together[docs[2].id].lines[0].invoiced == 111
    with acting_as(p.buyer.id):
        assert [n for n, _ in matching.exceptions_among([d.id for d in docs])] == [
            docs[2].number, docs[4].number, docs[5].number]
