"""Three-way match: an invoice that names an order (``cac:OrderReference``) checked line by line
against what was ordered (as agreed), what was received, and what was invoiced before, with the
tolerances the buyer sets per supplier (percent of quantity, percent or amount of price; 0 means
none). The answer is "matched", or an exception naming each line and why.

Invoice lines are paired with order lines by the supplier's item code, else by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Document, DocumentLine, MatchTolerance, Order, OrderDelivery, OrderLine, User
from app.models.document import INVOICE
from app.models.order import AGREED, RECEIPT
from app.numbers import parse_number
from app.services import audit
from app.services.errors import FieldErrors
from app.services.inputs import shown_number as _n
from app.services.orders.queries import STATUS_NAMES

MATCHED, EXCEPTION = "matched", "exception"


@dataclass
class Tolerance:
    quantity_percent: Decimal = Decimal(0)
    price_percent: Decimal = Decimal(0)
    price_amount: Decimal = Decimal(0)


@dataclass
class LineCheck:
    position: int  # the invoice line's
    code: str
    name: str
    ordered: Decimal | None = None
    received: Decimal | None = None
    invoiced: Decimal = Decimal(0)  # this invoice and the earlier ones
    order_price: Decimal | None = None
    invoice_price: Decimal | None = None
    problems: list[Any] = field(default_factory=list)


@dataclass
class ThreeWay:
    status: str
    order_number: str
    order_id: int | None = None
    lines: list[LineCheck] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)  # about the whole invoice

    @property
    def matched(self) -> bool:
        return self.status == MATCHED

    @property
    def reasons(self) -> list[Any]:
        out = list(self.problems)
        for line in self.lines:
            out.extend(_l("Line %(n)d (%(name)s): %(problem)s", n=line.position,
                          name=line.name or line.code, problem=p) for p in line.problems)
        return out


def line_key(code: str, name: str) -> str:
    """How an invoice line and an order line are paired: the item code, else the name."""
    return ("c:" + code.strip().upper()) if code.strip() else ("n:" + " ".join(
        name.lower().split()))


def set_tolerance(
    buyer_company_id: int, supplier_company_id: int | None, *, quantity_percent: str,
    price_percent: str, price_amount: str, actor: User, decimal_mark: str = ".",
) -> MatchTolerance:
    """Save the buyer's tolerances (for one supplier, or every one), typed as text read with
    ``decimal_mark`` (the web form's language; the API writes a decimal point)."""
    errors: dict[str, list[Any]] = {}
    values = {}
    for name, raw, most in (("quantity_percent", quantity_percent, Decimal(100)),
                            ("price_percent", price_percent, Decimal(100)),
                            ("price_amount", price_amount, Decimal("1e12"))):
        try:
            value = parse_number(raw, decimal_mark=decimal_mark) or Decimal(0)
        except ValueError:
            errors[name] = [_l("Give a number, like 1250.50.")]
            continue
        if value < 0 or value > most:
            errors[name] = [_l("Give a number from 0 to %(most)s.", most=_n(most))]
            continue
        values[name] = value
    if errors:
        raise FieldErrors(errors)
    row = db.session.scalars(select(MatchTolerance).where(
        MatchTolerance.company_id == buyer_company_id,
        MatchTolerance.supplier_company_id.is_(None) if supplier_company_id is None
        else MatchTolerance.supplier_company_id == supplier_company_id)).first()
    if row is None:
        row = MatchTolerance(company_id=buyer_company_id, supplier_company_id=supplier_company_id)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    audit.record_event(actor, buyer_company_id, "order.tolerance_set", None,
                       {"supplier": supplier_company_id,
                        **{k: str(v) for k, v in values.items()}})
    return row


def tolerances(buyer_company_id: int) -> list[MatchTolerance]:
    return list(db.session.scalars(select(MatchTolerance).where(
        MatchTolerance.company_id == buyer_company_id)))


def invoiced(order: Order, *, before_document_id: int | None = None) -> dict[str, Decimal]:
    """Quantities invoiced against the order so far, by item (code, else name)."""
    stmt = (
        select(DocumentLine.seller_item_id, DocumentLine.name, DocumentLine.description,
               DocumentLine.quantity)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(Document.sender_company_id == order.supplier_company_id,
               Document.receiver_company_id == order.buyer_company_id,
               Document.document_type == INVOICE,
               Document.order_reference == order.number)
    )
    if before_document_id is not None:
        stmt = stmt.where(Document.id < before_document_id)
    out: dict[str, Decimal] = {}
    for code, name, description, quantity in db.session.execute(stmt):
        key = line_key(code, name or description)
        out[key] = out.get(key, Decimal(0)) + (quantity or 0)
    return out


def check(document: Document) -> ThreeWay | None:
    """The three-way match of an invoice that names an order; None when it names none."""
    return summaries([document]).get(document.id)


def summaries(documents: Iterable[Document]) -> dict[int, ThreeWay]:
    """The three-way match of each invoice that names an order (a tray page's, a bulk
    acceptance's): what they need is read in a few queries for all of them, not per invoice."""
    invoices = [d for d in documents if d.document_type == INVOICE and d.order_reference]
    if not invoices:
        return {}
    orders = _orders_of(invoices)
    found = list({order.id: order for order in orders.values()}.values())
    order_ids = [order.id for order in found]
    order_lines: dict[int, list[OrderLine]] = {}
    for line in db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids))
                                   .order_by(OrderLine.order_id, OrderLine.position)):
        order_lines.setdefault(line.order_id, []).append(line)
    receipts = dict(db.session.execute(
        select(OrderDelivery.order_id, func.count()).where(
            OrderDelivery.order_id.in_(order_ids), OrderDelivery.kind == RECEIPT)
        .group_by(OrderDelivery.order_id)).all()) if order_ids else {}
    tolerances = _tolerances({(o.buyer_company_id, o.supplier_company_id) for o in found})
    history = _invoiced_lines(found)
    lines: dict[int, list[DocumentLine]] = {}
    for line in db.session.scalars(
        select(DocumentLine).where(DocumentLine.document_id.in_([d.id for d in invoices]))
        .order_by(DocumentLine.document_id, DocumentLine.position)
    ):
        lines.setdefault(line.document_id, []).append(line)
    out = {}
    for document in invoices:
        order = orders.get(_order_key(document))
        if order is None:
            out[document.id] = ThreeWay(EXCEPTION, document.order_reference, problems=[
                _l("Order %(number)s was not placed through the portal with this supplier.",
                   number=document.order_reference)])
            continue
        earlier: dict[str, Decimal] = {}
        for document_id, key, quantity in history.get(order.id, ()):
            if document_id < document.id:
                earlier[key] = earlier.get(key, Decimal(0)) + quantity
        out[document.id] = _matched(
            order, order_lines.get(order.id, []), bool(receipts.get(order.id)),
            tolerances.get((order.buyer_company_id, order.supplier_company_id), Tolerance()),
            earlier, lines.get(document.id, []))
    return out


def _order_key(document: Document) -> tuple[int | None, int, str | None]:
    return (document.receiver_company_id, document.sender_company_id, document.order_reference)


def _orders_of(invoices: list[Document]) -> dict[tuple, Order]:
    """The order each invoice names, by (buyer, supplier, number): the first placed."""
    named = {_order_key(d) for d in invoices if d.receiver_company_id is not None}
    if not named:
        return {}
    out: dict[tuple, Order] = {}
    for order in db.session.scalars(select(Order).where(
        Order.buyer_company_id.in_({k[0] for k in named}),
        Order.supplier_company_id.in_({k[1] for k in named}),
        Order.number.in_({k[2] for k in named}),
    ).order_by(Order.id.desc())):
        key = (order.buyer_company_id, order.supplier_company_id, order.number)
        if key in named:
            out[key] = order  # (the lowest id last)
    return out


def _tolerances(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Tolerance]:
    """Each (buyer, supplier)'s tolerance: the one set for the supplier, else the buyer's
    default for every supplier, else none."""
    if not pairs:
        return {}
    rows = db.session.scalars(select(MatchTolerance).where(
        MatchTolerance.company_id.in_({buyer for buyer, _ in pairs})))
    by = {(row.company_id, row.supplier_company_id): row for row in rows}
    out = {}
    for buyer, supplier in pairs:
        row = by.get((buyer, supplier)) or by.get((buyer, None))
        if row is not None:
            out[(buyer, supplier)] = Tolerance(row.quantity_percent, row.price_percent,
                                               row.price_amount)
    return out


def _invoiced_lines(orders: list[Order]) -> dict[int, list[tuple[int, str, Decimal]]]:
    """(invoice id, item key, quantity) of every invoice line against each of the orders."""
    if not orders:
        return {}
    by_key = {(o.supplier_company_id, o.buyer_company_id, o.number): o.id for o in orders}
    stmt = (
        select(Document.id, Document.sender_company_id, Document.receiver_company_id,
               Document.order_reference, DocumentLine.seller_item_id, DocumentLine.name,
               DocumentLine.description, DocumentLine.quantity)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(Document.sender_company_id.in_({o.supplier_company_id for o in orders}),
               Document.receiver_company_id.in_({o.buyer_company_id for o in orders}),
               Document.document_type == INVOICE,
               Document.order_reference.in_({o.number for o in orders}))
    )
    out: dict[int, list[tuple[int, str, Decimal]]] = {}
    for doc_id, sender, receiver, number, code, name, description, quantity in \
            db.session.execute(stmt):
        order_id = by_key.get((sender, receiver, number))
        if order_id is not None:
            out.setdefault(order_id, []).append(
                (doc_id, line_key(code, name or description), quantity or Decimal(0)))
    return out


def _matched(
    order: Order, order_lines: list[OrderLine], received: bool, tolerance: Tolerance,
    earlier: dict[str, Decimal], lines: list[DocumentLine],
) -> ThreeWay:
    """An invoice's lines against its order's (plain data in: what ``summaries`` read)."""
    result = ThreeWay(MATCHED, order.number, order.id)
    if order.status not in AGREED:
        result.problems.append(_l("Order %(number)s is not agreed (its status: %(status)s).",
                                  number=order.number, status=STATUS_NAMES[order.status]))
    by_code = {line_key(line.substitute_seller_item_id or line.seller_item_id, ""): line
               for line in order_lines}
    by_name = {line_key("", line.substitute_name or line.name): line for line in order_lines}
    if not lines:
        result.problems.append(_l("The invoice's lines could not be read."))
    for invoice_line in lines:
        name = invoice_line.name or invoice_line.description
        check_line = LineCheck(invoice_line.position, invoice_line.seller_item_id, name)
        result.lines.append(check_line)
        key = line_key(invoice_line.seller_item_id, name)
        line = by_code.get(key) if key.startswith("c:") else None
        if line is None:
            line = by_name.get(line_key("", name))
        if line is None:
            check_line.problems.append(_l("not on the order"))
            continue
        check_line.ordered = line.final_quantity
        check_line.received = line.received_quantity if received else None
        quantity = invoice_line.quantity or Decimal(0)
        check_line.invoiced = earlier.get(key, Decimal(0)) + quantity
        limit = check_line.received if check_line.received is not None else line.final_quantity
        allowed = limit * (1 + tolerance.quantity_percent / 100)
        if check_line.invoiced > allowed:
            check_line.problems.append(
                _l("%(invoiced)s invoiced, %(limit)s received", invoiced=_n(check_line.invoiced),
                   limit=_n(limit)) if check_line.received is not None else
                _l("%(invoiced)s invoiced, %(limit)s ordered", invoiced=_n(check_line.invoiced),
                   limit=_n(limit)))
        price = _unit_price(invoice_line)
        check_line.order_price, check_line.invoice_price = line.final_price, price
        if price is not None:
            room = max(line.final_price * tolerance.price_percent / 100, tolerance.price_amount)
            if abs(price - line.final_price) > room:
                check_line.problems.append(_l("price %(price)s, the order says %(agreed)s",
                                              price=_n(price), agreed=_n(line.final_price)))
    if result.problems or any(line.problems for line in result.lines):
        result.status = EXCEPTION
    return result


def _unit_price(line: DocumentLine) -> Decimal | None:
    if line.price is not None:
        base = line.base_quantity
        return line.price / base if base not in (None, 0) else line.price
    if line.line_extension is not None and line.quantity:
        return line.line_extension / line.quantity
    return None




def exceptions_among(document_ids: list[int]) -> list[tuple[str, ThreeWay]]:
    """(number, match) of each of these invoices (those the acting company may read) that names
    an order and does not match it."""
    found = db.session.scalars(
        select(Document).where(Document.id.in_(document_ids or [-1]),
                               Document.order_reference.is_not(None))
        .order_by(Document.id)
    ).all()
    matches = summaries(found)
    return [(document.number, matches[document.id]) for document in found
            if document.id in matches and not matches[document.id].matched]
