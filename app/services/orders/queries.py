"""Reading orders: the supplier's tray and the buyer's list (filters, newest first, pages), one
order with its lines and deliveries, and an agreed order as the lines of its invoice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from app.extensions import db
from app.models import Company, Order, OrderDelivery, OrderDeliveryLine, OrderLine
from app.models.order import ORDER_STATUSES

PAGE = 25

#: An order's status as people read it.
STATUS_NAMES = {
    "sent": _l("Sent to the supplier"), "accepted": _l("Accepted by the supplier"),
    "rejected": _l("Rejected by the supplier"), "changed": _l("Changed by the supplier"),
    "confirmed": _l("Confirmed"),
    "cancelled": _l("Cancelled"),
}


@dataclass
class Filters:
    status: str = ""
    partner: int | None = None  # the other company
    query: str = ""  # number or reference
    since: dt.date | None = None
    until: dt.date | None = None


def orders(company_id: int, *, side: str, filters: Filters) -> Select[tuple[Order, Company]]:
    """The company's orders as ``supplier`` (received) or ``buyer`` (placed), with the other
    company, newest first."""
    mine = Order.supplier_company_id if side == "supplier" else Order.buyer_company_id
    other = Order.buyer_company_id if side == "supplier" else Order.supplier_company_id
    stmt = (
        select(Order, Company).join(Company, Company.id == other)
        .where(mine == company_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    if filters.status in ORDER_STATUSES:
        stmt = stmt.where(Order.status == filters.status)
    if filters.partner:
        stmt = stmt.where(other == filters.partner)
    if filters.query.strip():
        like = "%" + filters.query.strip().lower().replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(or_(func.lower(Order.number).like(like),
                              func.lower(Order.buyer_reference).like(like)))
    if filters.since:
        stmt = stmt.where(Order.issue_date >= filters.since)
    if filters.until:
        stmt = stmt.where(Order.issue_date <= filters.until)
    return stmt


def partners(company_id: int, *, side: str) -> list[tuple[int, str]]:
    other = Order.buyer_company_id if side == "supplier" else Order.supplier_company_id
    mine = Order.supplier_company_id if side == "supplier" else Order.buyer_company_id
    rows = db.session.execute(
        select(Company.id, Company.legal_name, Company.trade_name)
        .where(Company.id.in_(select(other).where(mine == company_id)))
        .order_by(Company.legal_name)
    )
    return [(cid, trade or legal) for cid, legal, trade in rows]


def version(company_id: int) -> str:
    """What changes when any order the company buys with changes (answers, deliveries): the
    received tray's three-way match marks depend on it."""
    latest, count = db.session.execute(
        select(func.max(Order.updated_at), func.count())
        .where(Order.buyer_company_id == company_id)
    ).one()
    return f"{count}:{latest.isoformat() if latest else ''}"


def waiting(company_id: int) -> int:
    """Orders waiting for this company: sent to it as supplier, or changed for it as buyer."""
    return db.session.scalar(
        select(func.count()).select_from(Order).where(or_(
            (Order.supplier_company_id == company_id) & (Order.status == "sent"),
            (Order.buyer_company_id == company_id) & (Order.status == "changed"),
        ))
    ) or 0


@dataclass
class OrderView:
    order: Order
    lines: list[OrderLine]
    buyer: Company
    supplier: Company
    deliveries: list[tuple[OrderDelivery, list[tuple[OrderLine, Decimal]]]]


def view(order_id: int) -> OrderView | None:
    """One order the acting company is party to (the tenancy rule decides), or None."""
    order = db.session.scalars(select(Order).where(Order.id == order_id)).first()
    if order is None:
        return None
    lines = list(db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)))
    by_id = {line.id: line for line in lines}
    deliveries = []
    for delivery in db.session.scalars(select(OrderDelivery).where(
            OrderDelivery.order_id == order.id).order_by(OrderDelivery.id)):
        parts = [(by_id[row.order_line_id], row.quantity) for row in db.session.scalars(
            select(OrderDeliveryLine).where(OrderDeliveryLine.delivery_id == delivery.id))
            if row.order_line_id in by_id]
        deliveries.append((delivery, parts))
    buyer = db.session.get(Company, order.buyer_company_id)
    supplier = db.session.get(Company, order.supplier_company_id)
    assert buyer is not None and supplier is not None
    return OrderView(order, lines, buyer, supplier, deliveries)


def document_of(order_id: int, kind: str, delivery_id: int | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of an order's UBL document: ``order``, ``response`` or a delivery's
    ``despatch`` advice; empty bytes when there is none."""
    found = view(order_id)
    if found is None:
        return "", b""
    order = found.order
    if kind == "order":
        return f"{order.number}.xml", order.xml or b""
    if kind == "response":
        return f"{order.number}-response.xml", order.response_xml or b""
    for delivery, _parts in found.deliveries:
        if delivery.id == delivery_id and delivery.xml:
            return f"{delivery.number}.xml", delivery.xml
    return "", b""


@dataclass
class InvoiceLine:
    code: str
    name: str
    unit_code: str
    quantity: Decimal
    price: Decimal
    tax_percent: Decimal | None


def to_invoice(supplier_company_id: int, order_id: int) -> tuple[Order, list[InvoiceLine]]:
    """What is left to invoice of an agreed order: what was delivered when deliveries were
    recorded (what the buyer received when it recorded any, else what the supplier
    despatched), else what was agreed; less what was invoiced already."""
    found = view(order_id)
    if found is None or found.order.supplier_company_id != supplier_company_id:
        return None, []  # type: ignore[return-value]
    from app.services.orders.matching import invoiced, line_key

    done = invoiced(found.order)
    kinds = {delivery.kind for delivery, _parts in found.deliveries}
    out = []
    for line in found.lines:
        if "receipt" in kinds:  # what the buyer says it received
            base = line.received_quantity
        elif "despatch" in kinds:  # else what the supplier despatched
            base = line.despatched_quantity
        else:
            base = line.final_quantity
        code = line.substitute_seller_item_id or line.seller_item_id
        left = base - done.get(line_key(code, line.substitute_name or line.name), 0)
        if left > 0:
            out.append(InvoiceLine(line.substitute_seller_item_id or line.seller_item_id,
                                   line.substitute_name or line.name, line.unit_code, left,
                                   line.final_price, line.tax_percent))
    return found.order, out


def suppliers_to_order_from(buyer_company_id: int) -> list[tuple[int, str]]:
    """Suppliers with items published to the buyer (the catalog's tenancy rule decides)."""
    from app.models.catalog import CatalogItem

    rows = db.session.execute(
        select(Company.id, Company.legal_name, Company.trade_name)
        .where(Company.id.in_(
            select(CatalogItem.company_id).where(CatalogItem.published.is_(True),
                                                 CatalogItem.company_id != buyer_company_id)
            .distinct()))
        .order_by(Company.legal_name)
        .limit(500)
    )
    return [(cid, trade or legal) for cid, legal, trade in rows]
