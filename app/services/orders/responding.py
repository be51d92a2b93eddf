"""The supplier answers an order line by line (accept, reject, or accept with changes: quantity,
price, delivery date, a substitute item) as a Peppol OrderResponse (T76); the buyer confirms the
changes or cancels. Deliveries are recorded on agreed orders: the supplier's despatch advice
(T16) and what the buyer received."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.db import after_commit, begin_nested
from app.extensions import db
from app.models import Company, Order, OrderDelivery, OrderDeliveryLine, OrderLine, User, utcnow
from app.models.catalog import CatalogItem
from app.models.order import (
    ACCEPTED,
    CANCELLED,
    CHANGED,
    CONFIRMED,
    DESPATCH,
    LINE_ACCEPTED,
    LINE_CHANGED,
    LINE_REJECTED,
    RECEIPT,
    REJECTED,
    SENT,
)
from app.models.webhook import ORDER_RESPONDED
from app.numbers import parse_number
from app.realtime import notify_company
from app.services import audit, webhooks
from app.services.errors import Conflict, DomainError, FieldErrors, NotFound
from app.services.inputs import shown_number
from app.services.orders import documents, placing

MAX_QUANTITY = Decimal("1e9")
MAX_CANCEL_REASON = 500


@dataclass
class Answer:
    """The supplier's answer to one line (by position); changes only for ``changed``."""

    status: str
    quantity: str = ""
    price: str = ""
    delivery_date: dt.date | None = None
    substitute_code: str = ""


def order_of(company_id: int, order_id: int, *, side: str | None = None) -> Order:
    """An order the company is party to (as ``buyer`` or ``supplier`` when named), locked for
    the change about to be made, or NotFound."""
    stmt = select(Order).where(Order.id == order_id)
    if side == "buyer":
        stmt = stmt.where(Order.buyer_company_id == company_id)
    elif side == "supplier":
        stmt = stmt.where(Order.supplier_company_id == company_id)
    order = db.session.scalars(stmt.with_for_update().execution_options(
        populate_existing=True)).first()
    if order is None:
        raise NotFound(_l("This order is not one of yours."))
    return order


def lines_of(order: Order) -> list[OrderLine]:
    return list(db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ))


def respond(
    supplier_company_id: int, order_id: int, answers: dict[int, Answer], *, note: str = "",
    actor: User | None, today: dt.date, decimal_mark: str = ".",
) -> Order:
    """Answer a sent order: all accepted as ordered → accepted; all rejected → rejected;
    anything else → changed, for the buyer to confirm. Changed quantities and prices are text
    read with ``decimal_mark`` (the web form's language; the API writes a decimal point)."""
    order = order_of(supplier_company_id, order_id, side="supplier")
    if order.status != SENT:
        raise Conflict(_l("This order was already answered."))
    lines = lines_of(order)
    errors: dict[str, list[Any]] = {}
    if len(note) > 2000:
        errors["note"] = [_l("At most %(n)d characters.", n=2000)]
    unknown = set(answers) - {line.position for line in lines}
    if unknown:
        errors["lines"] = [_l("The order has no line %(n)s.", n=min(unknown))]
    for line in lines:
        answer = answers.get(line.position, Answer(LINE_ACCEPTED))
        problems = _apply(line, answer, supplier_company_id, today, decimal_mark)
        if problems:
            errors[f"line-{line.position}"] = problems
    if errors:
        raise FieldErrors(errors)
    statuses = {line.line_status for line in lines}
    if statuses == {LINE_ACCEPTED}:
        order.status, code = ACCEPTED, "AP"
    elif statuses == {LINE_REJECTED}:
        order.status, code = REJECTED, "RE"
    else:
        order.status, code = CHANGED, "CA"
    now = utcnow()
    order.response_note = note.strip()
    order.responded_at = order.updated_at = now
    if order.status == REJECTED:
        order.closed_at = now
    buyer, supplier = _companies(order)
    order.response_xml = documents.response_xml(
        order, lines, buyer, supplier, code=code, number=f"{order.number}-R", day=today)
    placing.refuse_invalid(order.response_xml)
    db.session.flush()
    audit.record_event(actor or "system", supplier_company_id, "order.responded", order,
                       {"number": order.number, "status": order.status})
    _announce(order)
    return order


def _apply(line: OrderLine, answer: Answer, supplier_id: int, today: dt.date,
           decimal_mark: str) -> list[Any]:
    """Set the line's answer; return what is wrong with it."""
    problems: list[Any] = []
    line.agreed_quantity = line.agreed_price = line.agreed_delivery_date = None
    line.substitute_seller_item_id = line.substitute_name = ""
    if answer.status not in (LINE_ACCEPTED, LINE_REJECTED, LINE_CHANGED):
        return [_l("Accept, reject or change each line.")]
    line.line_status = answer.status
    if answer.status != LINE_CHANGED:
        return problems
    changed = False
    try:
        quantity = parse_number(answer.quantity, decimal_mark=decimal_mark)
        price = parse_number(answer.price, decimal_mark=decimal_mark)
    except ValueError:
        return [_l("Quantity and price must be numbers.")]
    if quantity is not None:
        if quantity <= 0 or quantity > MAX_QUANTITY:
            problems.append(_l("A changed quantity must be above 0 (reject the line instead)."))
        elif quantity != line.quantity:
            line.agreed_quantity, changed = quantity, True
    if price is not None:
        if price < 0 or price > Decimal("1e13"):
            problems.append(_l("A changed price must be 0 or more."))
        elif price != line.price:
            line.agreed_price, changed = price, True
    if answer.delivery_date is not None:
        if answer.delivery_date < today:
            problems.append(_l("The delivery date cannot be before today."))
        else:
            line.agreed_delivery_date, changed = answer.delivery_date, True
    code = answer.substitute_code.strip()
    if code:
        item = db.session.scalars(select(CatalogItem).where(
            CatalogItem.company_id == supplier_id, func.upper(CatalogItem.seller_item_id)
            == code.upper()).order_by(  # the code as written first ("abc" and "ABC" may exist)
                (CatalogItem.seller_item_id == code).desc(), CatalogItem.id)).first()
        if item is None:
            problems.append(_l("No item of your catalog has the code %(code)s.", code=code))
        elif item.seller_item_id != line.seller_item_id:
            line.substitute_seller_item_id, line.substitute_name = item.seller_item_id, item.name
            changed = True
    if not changed and not problems:
        problems.append(_l("Say what changes: quantity, price, delivery date or a substitute "
                           "item (or accept the line)."))
    return problems


def accept_as_ordered(
    supplier_company_id: int, order_ids: list[int], *, actor: User | None, today: dt.date
) -> tuple[int, list[Any]]:
    """Accept several sent orders as they were ordered, each on its own (one that cannot be
    accepted is left as it is); return how many were accepted and why the others were not."""
    accepted, refused = 0, []
    for order_id in order_ids:
        savepoint = begin_nested(db.session())
        try:
            respond(supplier_company_id, order_id, {}, actor=actor, today=today)
        except DomainError as error:
            savepoint.rollback()
            refused.append(error.message)
            continue
        savepoint.commit()
        accepted += 1
    return accepted, refused


def confirm(buyer_company_id: int, order_id: int, *, actor: User | None) -> Order:
    """The buyer agrees to the supplier's changes."""
    order = order_of(buyer_company_id, order_id, side="buyer")
    if order.status != CHANGED:
        raise Conflict(_l("Only an order the supplier changed waits for your confirmation."))
    order.status = CONFIRMED
    order.updated_at = order.closed_at = utcnow()
    audit.record_event(actor or "system", buyer_company_id, "order.confirmed", order,
                       {"number": order.number})
    _announce(order)
    return order


def cancel(buyer_company_id: int, order_id: int, *, reason: str = "", actor: User | None
           ) -> Order:
    """The buyer withdraws an order not answered yet, or refuses the supplier's changes, and
    may say why (at most ``MAX_CANCEL_REASON`` characters, kept with the order)."""
    reason = reason.strip()
    if len(reason) > MAX_CANCEL_REASON:
        raise FieldErrors({"reason": [_l("At most %(n)d characters.", n=MAX_CANCEL_REASON)]})
    order = order_of(buyer_company_id, order_id, side="buyer")
    if order.status not in (SENT, CHANGED):
        raise Conflict(_l("An order already agreed or closed cannot be cancelled here."))
    order.status = CANCELLED
    order.cancel_reason = reason
    order.updated_at = order.closed_at = utcnow()
    audit.record_event(actor or "system", buyer_company_id, "order.cancelled", order,
                       {"number": order.number, "reason": reason})
    _announce(order)
    return order


def _companies(order: Order) -> tuple[Company, Company]:
    buyer = db.session.get(Company, order.buyer_company_id)
    supplier = db.session.get(Company, order.supplier_company_id)
    assert buyer is not None and supplier is not None
    return buyer, supplier


def _announce(order: Order) -> None:
    data = placing.order_data(order)
    for company_id in (order.buyer_company_id, order.supplier_company_id):
        webhooks.enqueue(company_id, ORDER_RESPONDED, data)
    payload = {"id": order.id, "number": order.number}
    for company_id in (order.buyer_company_id, order.supplier_company_id):
        after_commit(db.session(), lambda c=company_id: notify_company(c, "order:changed",
                                                                        payload))


# -------------------------------------------------------------------------------- deliveries


def record_delivery(
    company_id: int, order_id: int, quantities: dict[int, str], *, kind: str, day: dt.date,
    today: dt.date, note: str = "", actor: User | None, decimal_mark: str = ".",
) -> OrderDelivery:
    """The supplier's despatch (written as a DespatchAdvice) or what the buyer received, per
    line (by position, its quantity text read with ``decimal_mark``); never more than
    agreed."""
    side = "supplier" if kind == DESPATCH else "buyer"
    if kind not in (DESPATCH, RECEIPT):
        raise DomainError(_l("Unknown delivery."))
    order = order_of(company_id, order_id, side=side)
    if not order.agreed:
        raise Conflict(_l("Deliveries are recorded on agreed orders only."))
    lines = {line.position: line for line in lines_of(order)}
    errors: dict[str, list[Any]] = {}
    taken: list[tuple[OrderLine, Decimal]] = []
    for position, raw in quantities.items():
        line = lines.get(position)
        if line is None:
            errors["lines"] = [_l("The order has no line %(n)s.", n=position)]
            continue
        try:
            quantity = parse_number(raw, decimal_mark=decimal_mark)
        except ValueError:
            errors[f"line-{position}"] = [_l("The quantity is not a number.")]
            continue
        if quantity is None or quantity == 0:
            continue
        done = line.despatched_quantity if kind == DESPATCH else line.received_quantity
        if quantity < 0:
            errors[f"line-{position}"] = [_l("A quantity cannot be negative.")]
        elif done + quantity > line.final_quantity:
            errors[f"line-{position}"] = [_l(
                "%(name)s: %(done)s of %(agreed)s already recorded; %(quantity)s more is too much.",
                name=line.name, done=shown_number(done),
                agreed=shown_number(line.final_quantity), quantity=shown_number(quantity))]
        else:
            taken.append((line, quantity))
    if not taken and not errors:
        errors["lines"] = [_l("Give the quantity of at least one line.")]
    if day > today + dt.timedelta(days=1):
        errors["day"] = [_l("A delivery cannot be dated in the future.")]
    if errors:
        raise FieldErrors(errors)
    count = db.session.scalar(select(func.count()).select_from(OrderDelivery).where(
        OrderDelivery.order_id == order.id, OrderDelivery.kind == kind)) or 0
    number = f"{order.number}-{'D' if kind == DESPATCH else 'E'}{count + 1}"
    delivery = OrderDelivery(
        order_id=order.id, buyer_company_id=order.buyer_company_id,
        supplier_company_id=order.supplier_company_id, kind=kind, number=number, day=day,
        note=note.strip()[:2000], created_by_user_id=actor.id if actor else None,
    )
    if kind == DESPATCH:
        buyer, supplier = _companies(order)
        delivery.xml = documents.despatch_xml(order, taken, buyer, supplier, number=number,
                                              day=day, note=delivery.note)
        placing.refuse_invalid(delivery.xml)
    db.session.add(delivery)
    db.session.flush()
    for line, quantity in taken:
        db.session.add(OrderDeliveryLine(
            delivery_id=delivery.id, order_line_id=line.id,
            buyer_company_id=order.buyer_company_id,
            supplier_company_id=order.supplier_company_id, quantity=quantity))
        if kind == DESPATCH:
            line.despatched_quantity += quantity
        else:
            line.received_quantity += quantity
    order.updated_at = utcnow()
    audit.record_event(actor or "system", company_id, f"order.{kind}_recorded", order,
                       {"number": number, "lines": len(taken)})
    payload = {"id": order.id, "number": order.number}
    for other in (order.buyer_company_id, order.supplier_company_id):
        after_commit(db.session(), lambda c=other: notify_company(c, "order:changed", payload))
    return delivery
