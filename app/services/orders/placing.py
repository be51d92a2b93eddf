"""A buyer places an order with a supplier: from its cart, from a spreadsheet of item codes and
quantities, again from an earlier order, or from its ERP (the API, JSON or a UBL Order).

Every order is written as a Peppol BIS Ordering 3 Order (T01), checked against the UBL schema and
the Peppol ordering rules where the server has them, and kept; its supplier hears of it (live,
and through its ``order.received`` webhook).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.db import after_commit
from app.einvoice.ordering import check_ordering
from app.extensions import db
from app.gateways.currencies import quantum
from app.models import CartLine, Company, Order, OrderLine, User, utcnow
from app.models.catalog import CatalogItem
from app.models.webhook import ORDER_RECEIVED
from app.numbers import decimal_mark_of, parse_number
from app.realtime import notify_company
from app.services import audit, webhooks
from app.services.catalogs import items as catalog
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.orders import cart, documents
from app.spreadsheets import TableError, read_table

MAX_LINES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class Wanted:
    """An item and the quantity the buyer wants of it."""

    item: CatalogItem
    quantity: Decimal


@dataclass
class OrderInput:
    delivery_date: dt.date | None = None
    delivery_address: str = ""
    buyer_reference: str = ""
    note: str = ""
    number: str = ""  # the buyer's own number (an ERP's); the portal numbers it when empty


def place_from_cart(
    buyer_company_id: int, supplier_company_id: int, details: OrderInput, *, actor: User,
    today: dt.date,
) -> Order:
    """Order everything in the buyer's cart for one supplier; the cart for it empties."""
    basket = cart.cart_of(buyer_company_id, supplier_company_id, today=today)
    order = place(buyer_company_id, supplier_company_id,
                  [Wanted(row.item, row.line.quantity) for row in basket.rows], details,
                  actor=actor, today=today)
    db.session.execute(delete(CartLine).where(
        CartLine.company_id == buyer_company_id,
        CartLine.supplier_company_id == supplier_company_id,
    ))
    return order


def place(
    buyer_company_id: int, supplier_company_id: int, wanted: Sequence[Wanted],
    details: OrderInput, *, actor: User | None, today: dt.date, origin: str = "portal",
) -> Order:
    """Write, check and keep an order of ``wanted`` items from one supplier."""
    buyer = db.session.get(Company, buyer_company_id)
    supplier = db.session.get(Company, supplier_company_id)
    if buyer is None or supplier is None or supplier.id == buyer.id:
        raise NotFound(_l("This supplier is not on the network."))
    errors: dict[str, list[Any]] = {}
    if not wanted:
        errors["lines"] = [_l("Add at least one item to the order.")]
    if len(wanted) > MAX_LINES:
        errors["lines"] = [_l("An order has at most %(n)d lines.", n=MAX_LINES)]
    currencies = {w.item.currency for w in wanted}
    if len(currencies) > 1:
        errors["lines"] = [_l("Items priced in different currencies go in separate orders.")]
    for index, w in enumerate(wanted):
        if w.item.company_id != supplier.id:
            errors[f"lines-{index}"] = [_l("%(name)s is not this supplier's item.",
                                           name=w.item.name)]
            continue
        try:
            cart.check_quantity(w.item, w.quantity)
        except DomainError as error:
            errors[f"lines-{index}"] = [error.message]
    if details.delivery_date is not None and details.delivery_date < today:
        errors["delivery_date"] = [_l("The delivery date cannot be before today.")]
    if len(details.delivery_address) > 1000:
        errors["delivery_address"] = [_l("At most %(n)d characters.", n=1000)]
    if len(details.buyer_reference) > 100:
        errors["buyer_reference"] = [_l("At most %(n)d characters.", n=100)]
    if len(details.note) > 2000:
        errors["note"] = [_l("At most %(n)d characters.", n=2000)]
    number = details.number.strip()
    if number and (len(number) > 40 or not number.isprintable()):
        errors["number"] = [_l("An order number has at most 40 characters.")]
    elif number and _number_taken(buyer.id, number):
        errors["number"] = [_l("You already have an order numbered %(number)s.", number=number)]
    if errors:
        raise FieldErrors(errors)
    currency = currencies.pop()
    cent = quantum(currency)
    now = utcnow()
    order = Order(
        buyer_company_id=buyer.id, supplier_company_id=supplier.id,
        number=number or _next_number(buyer.id), currency=currency, issue_date=today,
        delivery_date=details.delivery_date, delivery_address=details.delivery_address.strip(),
        buyer_reference=details.buyer_reference.strip(), note=details.note.strip(),
        origin=origin, created_by_user_id=actor.id if actor else None, created_at=now,
        updated_at=now, xml=b"",
    )
    db.session.add(order)
    db.session.flush()
    lines = []
    for position, w in enumerate(wanted, start=1):
        price = catalog.price_for(w.item, buyer.id, today)
        amount = (price * w.quantity).quantize(cent)
        lines.append(OrderLine(
            order_id=order.id, buyer_company_id=buyer.id, supplier_company_id=supplier.id,
            position=position, item_id=w.item.id, seller_item_id=w.item.seller_item_id,
            standard_item_id=w.item.standard_item_id, name=w.item.name,
            unit_code=w.item.unit_code, quantity=w.quantity, price=price,
            tax_percent=w.item.tax_percent, line_extension=amount,
        ))
    db.session.add_all(lines)
    set_totals(order, lines)
    order.xml = documents.order_xml(order, lines, buyer, supplier)
    refuse_invalid(order.xml)
    db.session.flush()
    audit.record_event(actor or "system", buyer.id, "order.placed", order,
                       {"number": order.number, "supplier": supplier.id,
                        "lines": len(lines), "payable": str(order.payable)})
    announce_received(order)
    return order


def set_totals(order: Order, lines: Sequence[OrderLine]) -> None:
    cent = quantum(order.currency)
    order.line_extension = sum((line.line_extension for line in lines), Decimal(0))
    order.tax_amount = sum(
        ((line.line_extension * (line.tax_percent or 0) / 100).quantize(cent) for line in lines),
        Decimal(0),
    )
    order.payable = order.line_extension + order.tax_amount


def refuse_invalid(xml: bytes) -> None:
    """Check a written ordering document against the official rules (when the server has
    them); an error means the portal wrote it wrong: nothing is kept."""
    rules_dir = current_app.config.get("EINVOICE_RULES_DIR") or None
    if rules_dir is None:
        return
    errors = [f for f in check_ordering(xml, rules_dir=rules_dir) if f.severity == "error"]
    if errors:
        raise DomainError(_l("The document could not be written as the Peppol rules want: "
                             "%(problems)s", problems="; ".join(
                                 f"{f.code}: {f.message_en}" for f in errors[:3])))


def announce_received(order: Order) -> None:
    webhooks.enqueue(order.supplier_company_id, ORDER_RECEIVED, order_data(order))
    payload = {"id": order.id, "number": order.number}
    supplier_id, buyer_id = order.supplier_company_id, order.buyer_company_id
    after_commit(db.session(), lambda: notify_company(supplier_id, "order:changed", payload))
    after_commit(db.session(), lambda: notify_company(buyer_id, "order:changed", payload))


def order_data(order: Order) -> dict[str, Any]:
    """An order as webhooks and the API carry it."""
    lines = db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ).all()
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "buyer_company_id": order.buyer_company_id,
        "supplier_company_id": order.supplier_company_id,
        "issue_date": order.issue_date.isoformat(),
        "delivery_date": order.delivery_date.isoformat() if order.delivery_date else None,
        "currency": order.currency,
        "payable": str(order.payable),
        "buyer_reference": order.buyer_reference,
        "cancel_reason": order.cancel_reason,
        "lines": [
            {"position": line.position, "item_code": line.seller_item_id,
             "name": line.name, "quantity": str(line.quantity), "unit_code": line.unit_code,
             "price": str(line.price), "status": line.line_status,
             "agreed_quantity": None if line.agreed_quantity is None
             else str(line.agreed_quantity),
             "agreed_price": None if line.agreed_price is None else str(line.agreed_price)}
            for line in lines
        ],
    }


def _number_taken(buyer_id: int, number: str) -> bool:
    return db.session.scalar(
        select(Order.id).where(Order.buyer_company_id == buyer_id, Order.number == number)
    ) is not None


def _next_number(buyer_id: int) -> str:
    count = db.session.scalar(
        select(func.count()).select_from(Order).where(Order.buyer_company_id == buyer_id)
    ) or 0
    n = count + 1
    while _number_taken(buyer_id, f"OC-{n:06d}"):
        n += 1
    return f"OC-{n:06d}"


# ------------------------------------------------------------------------- other ways in


def reorder(buyer_company_id: int, order_id: int, *, today: dt.date) -> tuple[int, list[str]]:
    """Put an earlier order's items back in the cart at the quantities agreed; return how many
    went in and the names of those that cannot be ordered any more (and why)."""
    order = db.session.scalars(
        select(Order).where(Order.id == order_id, Order.buyer_company_id == buyer_company_id)
    ).first()
    if order is None:
        raise NotFound(_l("This order is not one of yours."))
    added, left = 0, []
    for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ):
        quantity = line.final_quantity or line.quantity
        try:
            if line.item_id is None:
                raise NotFound(_l("no longer in the catalog"))
            cart.add(buyer_company_id, line.item_id, quantity)
        except DomainError as error:
            left.append(f"{line.name}: {error.message}")
            continue
        added += 1
    return added, left


_CODE_TITLES = frozenset(
    ("code", "item", "item code", "sku", "código", "codigo", "referencia", "item id")
)
_QUANTITY_TITLES = frozenset(("quantity", "qty", "cantidad"))


@dataclass
class FileRow:
    line: int
    code: str
    quantity: str
    accepted: bool = False
    message: Any = ""


def cart_from_file(
    buyer_company_id: int, supplier_company_id: int, content: bytes, *,
    decimal_comma: bool = False,
) -> list[FileRow]:
    """Fill the cart for a supplier from a CSV/XLSX of item codes and quantities; report each
    row (a row that cannot go in changes nothing). Quantities are read with the decimal
    separator the column shows, else ``1.000`` is a thousand for a reader who writes a decimal
    comma (``decimal_comma``) and one for the others (``app.numbers.parse_number``)."""
    if len(content) > MAX_FILE_BYTES:
        raise DomainError(_l("The file is larger than 5 MB."), field="file")
    try:
        table = read_table(content, max_rows=MAX_LINES + 1)
    except TableError as error:
        raise DomainError(
            {
                "empty": _l("The file is empty."),
                "too_large": _l("The workbook unpacks to too much data; split it into "
                                "smaller files."),
            }.get(error.reason, _l("The file is not a CSV or XLSX table.")),
            field="file",
        ) from None
    known = catalog.CodeIndex()
    for code, item_id in db.session.execute(
        select(CatalogItem.seller_item_id, CatalogItem.id)
        .where(CatalogItem.company_id == supplier_company_id)
    ):
        known.add(code, item_id)

    def item_of(code: str) -> int | None:
        found = known.find(code)
        return None if found == catalog.AMBIGUOUS else found

    first = [cell.strip().lower() for cell in table[0][1]]
    code_at, quantity_at = 0, 1
    # A title row: it names a column, or it is not an item of the supplier and shows no quantity.
    # (A first row "TOR-38;" or "TOR-38;10 und" is an order line, reported as such.)
    titled = any(cell in _CODE_TITLES or cell in _QUANTITY_TITLES for cell in first) or (
        bool(first) and item_of(table[0][1][0]) is None
        and any(not _is_number(cell) for cell in first[1:2])
    )
    if titled:
        for index, title in enumerate(first):
            if title in _CODE_TITLES:
                code_at = index
            if title in _QUANTITY_TITLES:
                quantity_at = index
        table = table[1:]
    if len(table) > MAX_LINES:
        raise DomainError(_l("An order has at most %(n)d lines.", n=MAX_LINES), field="file")
    decimal_mark = decimal_mark_of(
        (cells[quantity_at] for _, cells in table if quantity_at < len(cells)),
        decimal_comma=decimal_comma,
    )
    rows: list[FileRow] = []
    for number, cells in table:
        code = cells[code_at] if code_at < len(cells) else ""
        raw = cells[quantity_at] if quantity_at < len(cells) else ""
        row = FileRow(number, code, raw)
        rows.append(row)
        item_id = item_of(code)
        if item_id is None:
            row.message = _l("No item of this supplier has this code.")
            continue
        try:
            quantity = parse_number(raw, decimal_mark=decimal_mark)
            if quantity is None:
                raise ValueError(raw)
        except ValueError:
            row.message = _l("The quantity is not a number.")
            continue
        try:
            cart.add(buyer_company_id, item_id, quantity)
        except DomainError as error:
            row.message = error.message
            continue
        row.accepted, row.message = True, _l("In the cart.")
    return rows


def _is_number(text: str) -> bool:
    try:
        return parse_number(text) is not None
    except ValueError:
        return False
