"""A catalog suggested by the supplier's own invoices: grouped items, last prices, price history
per customer, the diff against the catalog, publishing and setting aside."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DocumentLine
from app.models.catalog import CatalogItem
from app.services.catalogs import suggestions
from app.services.errors import DomainError
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.services.inbox_helpers import make_document


@pytest.fixture
def supplier():
    return make_company("Ferretería")


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="sales", name="Sara Ventas")


def invoice(supplier, customer, day, *lines, document_type="Invoice"):
    """An issued invoice with lines (code, name, quantity, unit price[, unit, gtin])."""
    doc = make_document(supplier, customer, issue_date=day, document_type=document_type,
                        customer_name=customer.legal_name)
    for position, line in enumerate(lines, start=1):
        code, name, quantity, price, *rest = line
        unit = rest[0] if rest else "94"
        gtin = rest[1] if len(rest) > 1 else ""
        db.session.add(DocumentLine(
            document_id=doc.id, sender_company_id=supplier.id,
            receiver_company_id=customer.id, position=position, line_id=str(position),
            seller_item_id=code, standard_item_id=gtin, name=name,
            quantity=Decimal(quantity), unit_code=unit,
            price=Decimal(price) if price is not None else None,
            line_extension=Decimal(quantity) * Decimal(price or "0"),
            tax_percent=Decimal("19"),
        ))
    db.session.commit()
    return doc


def review(supplier):
    with acting_as(supplier.id):
        return suggestions.review(supplier.id)


def test_invoice_lines_become_items_with_their_last_price_and_history(supplier):
    a, b = make_company("Cliente A"), make_company("Cliente B")
    invoice(supplier, a, dt.date(2026, 1, 10), ("TOR-38", "Tornillo 3/8", "100", "120"),
            ("CEM-50", "Cemento gris 50 kg", "10", "32000"))
    invoice(supplier, b, dt.date(2026, 2, 10), ("TOR-38", "Tornillo 3/8", "50", "125"))
    invoice(supplier, a, dt.date(2026, 3, 10), ("tor-38", "Tornillo 3/8\"", "20", "130"))
    found = review(supplier)
    assert found.lines == 4
    by_code = {s.seller_item_id.upper(): s for s in found.new}
    screw = by_code["TOR-38"]
    assert screw.last_price == Decimal("130")
    assert screw.invoices == 3 and screw.quantity == Decimal("170")
    assert screw.last_sold == dt.date(2026, 3, 10) and screw.first_sold == dt.date(2026, 1, 10)
    histories = {h.name: [p.price for p in h.points] for h in screw.customers}
    assert histories[a.legal_name] == [Decimal("130"), Decimal("120")]  # newest first
    assert histories[b.legal_name] == [Decimal("125")]
    assert by_code["CEM-50"].last_price == Decimal("32000")
    # The most sold first.
    assert found.new[0].seller_item_id.upper() == "TOR-38"


def test_lines_without_item_code_group_by_gtin_then_by_name_and_unit(supplier):
    c = make_company("Cliente")
    invoice(supplier, c, dt.date(2026, 1, 1), ("", "Arena de río", "2", "50000", "MTQ"),
            ("", "ARENA DE RIO", "3", "52000", "MTQ"), ("", "Arena de río", "1", "100", "KGM"),
            ("", "Guantes", "1", "9000", "94", "7702004003508"),
            ("", "Guantes de carnaza", "1", "9500", "94", "7702004003508"))
    found = review(supplier)
    assert len(found.new) == 3
    sand = [s for s in found.new if s.unit_code == "MTQ"]
    assert len(sand) == 1 and sand[0].last_price == Decimal("52000")
    assert sand[0].seller_item_id  # a code made from the name
    gloves = [s for s in found.new if s.standard_item_id == "7702004003508"]
    assert len(gloves) == 1 and gloves[0].invoices == 1


def test_only_the_suppliers_issued_invoices_count(supplier):
    customer = make_company("Cliente")
    invoice(supplier, customer, dt.date(2026, 1, 1), ("A-1", "Uno", "1", "10"))
    # A credit note, and an invoice the supplier received, suggest nothing.
    invoice(supplier, customer, dt.date(2026, 1, 2), ("CN-1", "Nota", "1", "10"),
            document_type="CreditNote")
    invoice(customer, supplier, dt.date(2026, 1, 3), ("IN-1", "Comprado", "1", "10"))
    assert [s.seller_item_id for s in review(supplier).new] == ["A-1"]
    assert [s.seller_item_id for s in review(customer).new] == ["IN-1"]


def test_publishing_adds_new_items_and_reprices_only_what_is_ticked(supplier, seller):
    c = make_company("Cliente")
    invoice(supplier, c, dt.date(2026, 1, 1), ("A-1", "Uno", "1", "10"), ("B-2", "Dos", "1", "20"),
            ("C-3", "Tres", "1", "30"))
    with acting_as(supplier.id, seller.id):
        added, repriced = suggestions.publish(
            supplier.id, ["id:A-1", "id:B-2"], actor=seller, prices={"id:B-2": "19,90"})
        db.session.commit()
    assert (added, repriced) == (2, 0)
    with acting_as(supplier.id):
        prices = {i.seller_item_id: i.price for i in db.session.scalars(select(CatalogItem))}
    assert prices == {"A-1": Decimal("10"), "B-2": Decimal("19.90")}
    # A new invoice at another price: a changed price to review, the catalog keeps its own.
    invoice(supplier, c, dt.date(2026, 2, 1), ("A-1", "Uno", "1", "11"))
    found = review(supplier)
    changed = {s.seller_item_id: s for s in found.changed}
    assert changed["A-1"].catalog_price == Decimal("10") and changed["A-1"].last_price == 11
    # B-2 was published at a typed price: the invoices' 20 stays a change to review.
    assert set(changed) == {"A-1", "B-2"}
    assert [s.seller_item_id for s in found.new] == ["C-3"]
    with acting_as(supplier.id, seller.id):
        assert suggestions.publish(supplier.id, ["id:A-1"], actor=seller) == (0, 1)
        db.session.commit()
    with acting_as(supplier.id):
        item = db.session.scalars(select(CatalogItem).where(CatalogItem.seller_item_id == "A-1")
                                  ).one()
    assert item.price == Decimal("11")


def test_a_suggestion_set_aside_comes_back_when_its_invoices_change(supplier, seller):
    c = make_company("Cliente")
    invoice(supplier, c, dt.date(2026, 1, 1), ("A-1", "Uno", "1", "10"))
    with acting_as(supplier.id, seller.id):
        assert suggestions.set_aside(supplier.id, ["id:A-1"], actor=seller) == 1
        db.session.commit()
    found = review(supplier)
    assert found.new == [] and found.set_aside == 1
    invoice(supplier, c, dt.date(2026, 2, 1), ("A-1", "Uno", "1", "12"))
    assert [s.last_price for s in review(supplier).new] == [Decimal("12")]


def test_publishing_nothing_or_stale_keys_says_so(supplier, seller):
    with acting_as(supplier.id, seller.id):
        with pytest.raises(DomainError):
            suggestions.publish(supplier.id, [], actor=seller)
        with pytest.raises(DomainError):
            suggestions.publish(supplier.id, ["id:NOPE"], actor=seller)
        with pytest.raises(DomainError):
            suggestions.publish(supplier.id, ["id:A"], actor=seller, visibility="all")


def test_a_typed_price_that_is_not_a_number_is_refused(supplier, seller):
    c = make_company("Cliente")
    invoice(supplier, c, dt.date(2026, 1, 1), ("A-1", "Uno", "1", "10"))
    with acting_as(supplier.id, seller.id), pytest.raises(DomainError):
        suggestions.publish(supplier.id, ["id:A-1"], actor=seller, prices={"id:A-1": "diez"})


def test_dian_issuer_codes_and_the_portals_line_numbers_are_read_for_what_they_are(supplier):
    """DIAN's scheme 999 holds the issuer's own code (an item code); the portal's own invoices
    write L1, L2… there (line numbers): those lines are told apart by their description."""
    customer = make_company("Cliente")
    for day, rows in ((dt.date(2026, 1, 5), [("L1", "Tornillo drywall 6x1", "18500"),
                                              ("L2", "Chazo plástico 1/4", "9200")]),
                      (dt.date(2026, 2, 5), [("L1", "Chazo plástico 1/4", "9300")]),
                      (dt.date(2026, 3, 5), [("PRD-77", "Broca 1/2", "12000")])):
        doc = make_document(supplier, customer, issue_date=day)
        for position, (code, description, price) in enumerate(rows, start=1):
            db.session.add(DocumentLine(
                document_id=doc.id, sender_company_id=supplier.id,
                receiver_company_id=customer.id, position=position, line_id=str(position),
                standard_item_id=code, standard_item_scheme="999", name="",
                description=description, quantity=Decimal(1), unit_code="94",
                price=Decimal(price), line_extension=Decimal(price)))
    db.session.commit()
    found = {s.name: s for s in review(supplier).new}
    assert set(found) == {"Tornillo drywall 6x1", "Chazo plástico 1/4", "Broca 1/2"}
    assert found["Chazo plástico 1/4"].last_price == Decimal("9300")
    assert found["Broca 1/2"].seller_item_id == "PRD-77"
    assert all(s.standard_item_id == "" for s in found.values())  # none is a GTIN
