"""Ordering from a catalog: the cart's rules, placing an order (its UBL Order checked against the
Peppol rules), the supplier's answer line by line, the buyer's confirmation or cancellation,
deliveries, reordering and a cart filled from a spreadsheet."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from flask_babel import force_locale
from lxml import etree
from openpyxl import Workbook
from sqlalchemy import select

from app.einvoice.ordering import check_ordering, read_ordering
from app.extensions import db
from app.models import CartLine, Order, OrderLine, WebhookDelivery, WebhookEndpoint
from app.models.order import ACCEPTED, CANCELLED, CHANGED, CONFIRMED, REJECTED, SENT
from app.services.errors import Conflict, DomainError, FieldErrors, NotFound
from app.services.orders import cart, placing, responding
from app.services.orders.responding import Answer
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user, shared_data
from tests.services.orders.helpers import TODAY, item, parties, place


@pytest.fixture
def p():
    return parties()


@pytest.fixture
def rules():
    """The official rules folder (../shared/data), or a skip where it is absent."""
    return shared_data()


def order(order_id: int) -> Order:
    return db.session.scalars(unscoped(select(Order).where(Order.id == order_id))
                              .execution_options(populate_existing=True)).one()


def lines(order_id: int) -> list[OrderLine]:
    return list(db.session.scalars(unscoped(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position))
        .execution_options(populate_existing=True)))


# ------------------------------------------------------------------------------------ cart


def test_the_cart_takes_only_what_the_supplier_sells_and_how(p):
    with acting_as(p.buyer.id, p.purchaser.id):
        with pytest.raises(DomainError):  # below the minimum of 2
            cart.add(p.buyer.id, p.items["GUA-01"], Decimal(1))
        with pytest.raises(DomainError):  # not a whole pack of 2
            cart.add(p.buyer.id, p.items["GUA-01"], Decimal(3))
        for bad in (Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("1e12")):
            with pytest.raises(DomainError):
                cart.add(p.buyer.id, p.items["CEM-50"], bad)
        cart.add(p.buyer.id, p.items["GUA-01"], Decimal(4))
        cart.add(p.buyer.id, p.items["GUA-01"], Decimal(2))  # adds up to 6
        (basket,) = cart.carts(p.buyer.id, today=TODAY)
        assert basket.rows[0].line.quantity == 6 and basket.total == Decimal(54000)


def test_a_stranger_cannot_put_a_connected_only_item_in_its_cart(p):
    stranger = make_company("Extraña")
    with acting_as(stranger.id), pytest.raises(NotFound):
        cart.add(stranger.id, p.items["CEM-50"], Decimal(1))
    hidden = item(p.supplier, "OCULTO", "Oculto", "10", published=False)
    with acting_as(p.buyer.id), pytest.raises(NotFound):
        cart.add(p.buyer.id, hidden.id, Decimal(1))
    # The supplier cannot order its own item.
    with acting_as(p.supplier.id), pytest.raises(NotFound):
        cart.add(p.supplier.id, p.items["CEM-50"], Decimal(1))


def test_the_buyers_own_price_is_the_one_it_pays(p):
    from app.models.catalog import CustomerPrice

    db.session.add(CustomerPrice(company_id=p.supplier.id, item_id=p.items["CEM-50"],
                                 customer_company_id=p.buyer.id, price=Decimal("30000")))
    db.session.commit()
    order_id = place(p, {"CEM-50": "10"})
    (line,) = lines(order_id)
    assert line.price == Decimal("30000") and line.line_extension == Decimal("300000.00")
    assert order(order_id).payable == Decimal("357000.00")  # IVA 19 %


# ---------------------------------------------------------------------------------- placing


def test_an_order_is_written_as_a_peppol_order_and_the_cart_empties(p):
    order_id = place(p, {"TOR-38": "100", "CEM-50": "10", "GUA-01": "4"},
                     delivery_date=TODAY + dt.timedelta(days=3),
                     delivery_address="Obra Calle 80 # 12-30\nBogotá",
                     buyer_reference="CC-OBRA-12", note="Entregar en portería")
    found = order(order_id)
    assert found.status == SENT and found.number == "OC-000001"
    assert found.line_extension == Decimal("125050.00") + Decimal("320000.00") + 36000
    doc, findings = read_ordering(found.xml)
    assert not [f for f in findings if f.severity == "error"]
    assert doc.document_type == "Order" and doc.line_count == 3
    assert doc.number == "OC-000001"
    assert {line.seller_item_id for line in doc.lines} == {"TOR-38", "CEM-50", "GUA-01"}
    assert "ñandú" in found.xml.decode()
    with acting_as(p.buyer.id):
        assert cart.count(p.buyer.id) == 0
    # The supplier sees it; another company does not.
    with acting_as(p.supplier.id):
        assert db.session.scalars(select(Order)).all()[0].id == order_id
    with acting_as(make_company("Otra").id):
        assert db.session.scalars(select(Order)).all() == []


@pytest.mark.shared_data
def test_a_written_order_passes_the_official_rules(p, rules):
    order_id = place(p, {"TOR-38": "100", "GUA-01": "2"}, buyer_reference="CC-1",
                     delivery_date=TODAY, delivery_address="Calle 1")
    findings = check_ordering(order(order_id).xml, rules_dir=rules)
    assert [f for f in findings if f.severity == "error"] == []


@pytest.mark.parametrize(("details", "field"), [
    ({"delivery_date": TODAY - dt.timedelta(days=1)}, "delivery_date"),
    ({"buyer_reference": "x" * 101}, "buyer_reference"),
    ({"note": "x" * 2001}, "note"),
    ({"number": "y" * 41}, "number"),
])
def test_wrong_order_details_are_named(p, details, field):
    with acting_as(p.buyer.id, p.purchaser.id):
        cart.add(p.buyer.id, p.items["CEM-50"], Decimal(1))
        with pytest.raises(FieldErrors) as raised:
            placing.place_from_cart(p.buyer.id, p.supplier.id, placing.OrderInput(**details),
                                    actor=p.purchaser, today=TODAY)
    assert field in raised.value.errors
    db.session.rollback()
    assert db.session.scalars(unscoped(select(Order))).all() == []


def test_an_erps_own_number_is_kept_once(p):
    with acting_as(p.buyer.id, p.purchaser.id):
        wanted = [placing.Wanted(cart.visible_item(p.buyer.id, p.items["CEM-50"]), Decimal(2))]
        placing.place(p.buyer.id, p.supplier.id, wanted, placing.OrderInput(number="PO-77"),
                      actor=None, today=TODAY, origin="api")
        with pytest.raises(FieldErrors):
            placing.place(p.buyer.id, p.supplier.id, wanted, placing.OrderInput(number="PO-77"),
                          actor=None, today=TODAY, origin="api")


def test_the_supplier_hears_of_an_order_through_its_webhook(p):
    db.session.add(WebhookEndpoint(company_id=p.supplier.id, url="https://erp.example/hook",
                                   secret="s", events=["order.received"]))
    db.session.commit()
    order_id = place(p, {"CEM-50": "1"})
    (delivery,) = db.session.scalars(unscoped(select(WebhookDelivery))).all()
    assert delivery.payload["type"] == "order.received"
    assert delivery.payload["data"]["id"] == order_id
    assert delivery.payload["data"]["lines"][0]["item_code"] == "CEM-50"


# ---------------------------------------------------------------------------------- answers


def respond(p, order_id, answers, **kwargs):
    with acting_as(p.supplier.id, p.seller.id):
        result = responding.respond(p.supplier.id, order_id, answers, actor=p.seller,
                                    today=TODAY, **kwargs)
        db.session.commit()
        return result


def test_accepting_every_line_agrees_the_order(p):
    order_id = place(p, {"TOR-38": "100", "CEM-50": "10"})
    assert respond(p, order_id, {}).status == ACCEPTED
    doc, _ = read_ordering(order(order_id).response_xml)
    assert doc.document_type == "OrderResponse" and doc.response_code == "AP"
    with pytest.raises(Conflict):
        respond(p, order_id, {})


def test_rejecting_every_line_rejects_the_order(p):
    order_id = place(p, {"CEM-50": "10"})
    assert respond(p, order_id, {1: Answer("rejected")}).status == REJECTED


@pytest.mark.shared_data
def test_changes_wait_for_the_buyer_and_are_written_per_line(p, rules):
    order_id = place(p, {"TOR-38": "100", "CEM-50": "10", "GUA-01": "4"})
    found = respond(p, order_id, {
        1: Answer("accepted"), 2: Answer("accepted"),
        3: Answer("changed", quantity="2", delivery_date=TODAY + dt.timedelta(days=5)),
    }, note="Solo quedan 2 pares")
    assert found.status == CHANGED
    third = lines(order_id)[2]
    assert third.final_quantity == 2 and third.agreed_delivery_date == TODAY + dt.timedelta(5)
    doc, _ = read_ordering(found.response_xml)
    assert doc.response_code == "CA"
    assert [line.status_code for line in doc.lines] == ["5", "5", "3"]
    findings = check_ordering(found.response_xml, rules_dir=rules)
    assert [f for f in findings if f.severity == "error"] == []
    with acting_as(p.buyer.id, p.purchaser.id):
        assert responding.confirm(p.buyer.id, order_id, actor=p.purchaser).status == CONFIRMED
        db.session.commit()
    assert order(order_id).agreed


@pytest.mark.parametrize("answer", [
    Answer("changed"),  # nothing changes
    Answer("changed", quantity="0"),
    Answer("changed", quantity="abc"),
    Answer("changed", price="-5"),
    Answer("changed", delivery_date=TODAY - dt.timedelta(days=1)),
    Answer("changed", substitute_code="NO-EXISTE"),
    Answer("maybe"),
])
def test_a_wrong_answer_is_named_and_changes_nothing(p, answer):
    order_id = place(p, {"CEM-50": "10"})
    with pytest.raises(FieldErrors) as raised:
        respond(p, order_id, {1: answer})
    assert "line-1" in raised.value.errors
    db.session.rollback()
    assert order(order_id).status == SENT


def test_a_substitute_item_is_named_by_its_code(p):
    item(p.supplier, "CEM-50B", "Cemento blanco 50 kg", "41000")
    order_id = place(p, {"CEM-50": "10"})
    respond(p, order_id, {1: Answer("changed", substitute_code="cem-50b", price="41000")})
    (line,) = lines(order_id)
    assert line.substitute_seller_item_id == "CEM-50B" and line.final_price == 41000
    # With "cem-50b" in the catalog too, the code as written names that one.
    item(p.supplier, "cem-50b", "Cemento blanco (otro)", "40000")
    second = place(p, {"CEM-50": "10"})
    respond(p, second, {1: Answer("changed", substitute_code="cem-50b", price="40000")})
    assert lines(second)[0].substitute_seller_item_id == "cem-50b"


def test_only_its_supplier_answers_and_only_its_buyer_confirms_or_cancels(p):
    order_id = place(p, {"CEM-50": "10"})
    other = make_company("Otra")
    intruder = make_user(other)
    with acting_as(other.id, intruder.id):
        with pytest.raises(NotFound):
            responding.respond(other.id, order_id, {}, actor=intruder, today=TODAY)
        with pytest.raises(NotFound):
            responding.cancel(other.id, order_id, actor=intruder)
    with acting_as(p.supplier.id, p.seller.id), pytest.raises(NotFound):
        responding.cancel(p.supplier.id, order_id, actor=p.seller)  # the buyer's to cancel
    with acting_as(p.buyer.id, p.purchaser.id), pytest.raises(NotFound):
        responding.respond(p.buyer.id, order_id, {}, actor=p.purchaser, today=TODAY)
    with acting_as(p.buyer.id, p.purchaser.id):
        with pytest.raises(Conflict):  # nothing to confirm yet
            responding.confirm(p.buyer.id, order_id, actor=p.purchaser)
        assert responding.cancel(p.buyer.id, order_id, actor=p.purchaser).status == CANCELLED
        db.session.commit()
    with pytest.raises(Conflict):
        respond(p, order_id, {})


def test_the_buyers_reason_for_cancelling_is_kept_and_limited(p):
    order_id = place(p, {"CEM-50": "1"})
    with acting_as(p.buyer.id, p.purchaser.id):
        with pytest.raises(FieldErrors) as raised:
            responding.cancel(p.buyer.id, order_id, reason="x" * 501, actor=p.purchaser)
        assert list(raised.value.errors) == ["reason"]
        db.session.rollback()
        cancelled = responding.cancel(p.buyer.id, order_id, reason="  Ya no lo necesitamos \n",
                                      actor=p.purchaser)
        db.session.commit()
        assert (cancelled.status, cancelled.cancel_reason) == (CANCELLED, "Ya no lo necesitamos")


# ------------------------------------------------------------------------------- deliveries


@pytest.mark.shared_data
def test_despatches_and_receipts_count_up_to_what_was_agreed(p, rules):
    order_id = place(p, {"TOR-38": "100", "CEM-50": "10"})
    with acting_as(p.buyer.id, p.purchaser.id), pytest.raises(Conflict):
        responding.record_delivery(p.buyer.id, order_id, {1: "1"}, kind="receipt", day=TODAY,
                                   today=TODAY, actor=p.purchaser)  # not agreed yet
    db.session.rollback()
    respond(p, order_id, {2: Answer("changed", quantity="8")})
    with acting_as(p.buyer.id, p.purchaser.id):
        responding.confirm(p.buyer.id, order_id, actor=p.purchaser)
        db.session.commit()
    with acting_as(p.supplier.id, p.seller.id):
        despatch = responding.record_delivery(p.supplier.id, order_id, {1: "60", 2: "8"},
                                              kind="despatch", day=TODAY, today=TODAY,
                                              actor=p.seller)
        db.session.commit()
        assert not [f for f in check_ordering(despatch.xml, rules_dir=rules)
                    if f.severity == "error"]
        with pytest.raises(FieldErrors) as raised:  # 8 of 8 already
            responding.record_delivery(p.supplier.id, order_id, {2: "1"}, kind="despatch",
                                       day=TODAY, today=TODAY, actor=p.seller)
        assert "line-2" in raised.value.errors
    db.session.rollback()
    with acting_as(p.buyer.id, p.purchaser.id):
        for bad in ({1: "-1"}, {1: "abc"}, {1: "0"}, {9: "1"}):
            with pytest.raises(FieldErrors):
                responding.record_delivery(p.buyer.id, order_id, bad, kind="receipt",
                                           day=TODAY, today=TODAY, actor=p.purchaser)
            db.session.rollback()
        responding.record_delivery(p.buyer.id, order_id, {1: "60", 2: "7"}, kind="receipt",
                                   day=TODAY, today=TODAY, actor=p.purchaser)
        db.session.commit()
    first, second = lines(order_id)
    assert (first.despatched_quantity, first.received_quantity) == (60, 60)
    assert (second.despatched_quantity, second.received_quantity) == (8, 7)
    doc, _ = read_ordering(despatch.xml)
    assert doc.document_type == "DespatchAdvice" and doc.order_reference == order(
        order_id).number


# --------------------------------------------------------------------------- other ways in


def test_reordering_puts_the_agreed_quantities_back_in_the_cart(p):
    order_id = place(p, {"TOR-38": "100", "GUA-01": "4"})
    respond(p, order_id, {2: Answer("changed", quantity="2")})
    from app.models.catalog import CatalogItem

    db.session.delete(db.session.scalars(unscoped(
        select(CatalogItem).where(CatalogItem.id == p.items["TOR-38"]))).one())
    db.session.commit()
    with acting_as(p.buyer.id):
        added, left = placing.reorder(p.buyer.id, order_id, today=TODAY)
        db.session.commit()
        assert added == 1 and len(left) == 1 and "Tornillo" in left[0]
        (basket,) = cart.carts(p.buyer.id, today=TODAY)
        assert [row.line.quantity for row in basket.rows] == [2]
    other = make_company("Otra")
    with acting_as(other.id), pytest.raises(NotFound):
        placing.reorder(other.id, order_id, today=TODAY)


def test_a_spreadsheet_of_codes_and_quantities_fills_the_cart_row_by_row(p):
    content = "código;cantidad\nTOR-38;100\ncem-50;1,5\nNO-EXISTE;3\nGUA-01;3\nCEM-50;abc\n"
    with acting_as(p.buyer.id):
        rows = placing.cart_from_file(p.buyer.id, p.supplier.id, content.encode("cp1252"))
        db.session.commit()
        assert [row.accepted for row in rows] == [True, True, False, False, False]
        assert cart.count(p.buyer.id) == 2
        for bad in (b"", b"\x00\x01", b"PK\x03\x04broken"):
            with pytest.raises(DomainError):
                placing.cart_from_file(p.buyer.id, p.supplier.id, bad)
    assert db.session.scalars(unscoped(select(CartLine))).all()


@pytest.mark.parametrize(
    ("content", "accepted"),
    [
        ("TOR-38;\nCEM-50;3\n", [False, True]),  # no titles: the first row is an order line
        ("TOR-38;10 und\nCEM-50;3\n", [False, True]),
        ("Referencia;Unidades\nCEM-50;3\n", [True]),  # a title row with one name known
        ("Producto;Unidades\nCEM-50;3\n", [True]),  # no code there and no quantity: titles
    ],
)
def test_a_spreadsheets_first_row_is_a_title_row_only_when_it_reads_as_one(p, content, accepted):
    """A first row that is an order line (an item's code) is reported like any other row, even
    without a quantity; only a row that names the columns, or holds no code and no number, is
    taken for the titles."""
    with acting_as(p.buyer.id):
        rows = placing.cart_from_file(p.buyer.id, p.supplier.id, content.encode())
        assert [row.accepted for row in rows] == accepted, [str(r.message) for r in rows]
        assert rows[-1].code == "CEM-50" and rows[0].line == (1 if len(accepted) == 2 else 2)


def test_a_code_differing_only_in_case_finds_the_item_written_so(p):
    """A supplier may have "abc" and "ABC": the file's code finds the one written exactly so;
    case aside only when that names one item."""
    lower = item(p.supplier, "tor-38", "Otro tornillo", "5")
    with acting_as(p.buyer.id):
        rows = placing.cart_from_file(p.buyer.id, p.supplier.id, b"tor-38;2\nTOR-38;1\ncem-50;1\n")
        assert [row.accepted for row in rows] == [True, True, True]
        (basket,) = cart.carts(p.buyer.id, today=TODAY)
        assert {row.line.item_id for row in basket.rows} == {
            lower.id, p.items["TOR-38"], p.items["CEM-50"]}


@pytest.mark.parametrize(
    ("content", "decimal_comma", "quantities"),
    [
        # A decimal comma elsewhere in the column: 1.000 is a thousand, whoever uploads it.
        ("código;cantidad\nTOR-38;1.000\nCEM-50;2,5\n", False, [1000, Decimal("2.5")]),
        # Nothing in the column says: the uploader's language decides.
        ("código;cantidad\nTOR-38;1.000\nCEM-50;3\n", True, [1000, 3]),
        ("código;cantidad\nTOR-38;1.000\nCEM-50;3\n", False, [1, 3]),
        ('code,quantity\nTOR-38,"1,000"\nCEM-50,1.5\n', True, [1000, Decimal("1.5")]),
    ],
)
def test_a_spreadsheets_quantities_are_read_as_its_column_writes_them(
    p, content, decimal_comma, quantities
):
    with acting_as(p.buyer.id):
        rows = placing.cart_from_file(p.buyer.id, p.supplier.id, content.encode(),
                                      decimal_comma=decimal_comma)
        assert all(row.accepted for row in rows), [str(row.message) for row in rows]
        (basket,) = cart.carts(p.buyer.id, today=TODAY)
        assert sorted(row.line.quantity for row in basket.rows) == sorted(quantities)


def test_a_spreadsheets_bad_quantities_are_refused_row_by_row(p):
    content = ("code;quantity\nTOR-38;1e3\nTOR-38;1.2.3\nTOR-38;-5\nTOR-38;" + "9" * 300
               + "\nCEM-50;2\n")
    workbook = Workbook()
    for row in (["code", "quantity"], ["TOR-38", 1.5], ["CEM-50", 1000]):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    with acting_as(p.buyer.id), force_locale("en"):
        rows = placing.cart_from_file(p.buyer.id, p.supplier.id, content.encode(),
                                      decimal_comma=True)
        assert [row.accepted for row in rows] == [False, False, False, False, True]
        assert [str(row.message) for row in rows[:2]] == ["The quantity is not a number."] * 2
        assert str(rows[3].message) == "The quantity is not a number."
        db.session.rollback()
        typed = placing.cart_from_file(p.buyer.id, p.supplier.id, out.getvalue(),
                                       decimal_comma=True)
        assert [row.accepted for row in typed] == [True, True]
        (basket,) = cart.carts(p.buyer.id, today=TODAY)
        assert sorted(row.line.quantity for row in basket.rows) == [Decimal("1.5"), 1000]


def test_a_workbook_that_unpacks_to_too_much_says_so_and_fills_nothing(p):
    from tests.test_spreadsheets import zip_bomb

    with acting_as(p.buyer.id), force_locale("en"), pytest.raises(DomainError) as raised:
        placing.cart_from_file(p.buyer.id, p.supplier.id, zip_bomb())
    with force_locale("en"):
        assert str(raised.value.message) == ("The workbook unpacks to too much data; split it "
                                             "into smaller files.")
    with acting_as(p.buyer.id):
        assert cart.count(p.buyer.id) == 0


def test_an_order_document_is_wellformed_utf8(p):
    order_id = place(p, {"TOR-38": "1"})
    root = etree.fromstring(order(order_id).xml)
    assert root.tag.endswith("}Order")
