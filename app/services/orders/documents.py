"""The UBL documents of an order, written from its rows: the buyer's Order (Peppol T01), the
supplier's OrderResponse (T76) and DespatchAdvice (T16)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from app.einvoice import ordering_writer as w
from app.models import Company, Order, OrderLine
from app.models.order import LINE_ACCEPTED, LINE_CHANGED, LINE_REJECTED
from app.services.parties import ordering_party

# A line's answer as the OrderResponse codes it (UNCL 1229 subset of the Peppol T76).
LINE_CODES = {LINE_ACCEPTED: w.ACCEPTED, LINE_REJECTED: w.REJECTED, LINE_CHANGED: w.CHANGED}
TAX_CATEGORY_STANDARD, TAX_CATEGORY_ZERO = "S", "Z"


def _item(line: OrderLine) -> w.Item:
    percent = line.tax_percent
    return w.Item(
        name=line.name or line.seller_item_id,
        seller_item_id=line.seller_item_id,
        standard_item_id=line.standard_item_id,
        tax_category=(TAX_CATEGORY_STANDARD if percent else TAX_CATEGORY_ZERO)
        if percent is not None else "",
        tax_percent=percent if percent is not None else None,
    )


def _address(text: str, buyer: Company) -> w.PostalAddress | None:
    if not text.strip():
        return None
    lines = [part.strip() for part in text.replace("\r", "").split("\n") if part.strip()]
    return w.PostalAddress(country=buyer.country, street=lines[0][:200],
                           additional_street=" ".join(lines[1:])[:200])


def order_xml(order: Order, lines: Sequence[OrderLine], buyer: Company, supplier: Company) -> bytes:
    return w.write_order(w.Order(
        number=order.number,
        issue_date=order.issue_date,
        currency=order.currency,
        buyer=ordering_party(buyer),
        seller=ordering_party(supplier),
        lines=[
            w.OrderLine(id=str(line.position), item=_item(line), quantity=line.quantity,
                        unit_code=line.unit_code, price=line.price,
                        line_amount=line.line_extension)
            for line in lines
        ],
        note=order.note,
        customer_reference=order.buyer_reference or order.number,
        delivery_start=order.delivery_date,
        delivery_end=order.delivery_date,
        delivery_address=_address(order.delivery_address, buyer),
    ))


def response_xml(
    order: Order, lines: Sequence[OrderLine], buyer: Company, supplier: Company, *,
    code: str, number: str, day: dt.date,
) -> bytes:
    """AP (accepted as ordered), RE (rejected) or CA (with each line's answer)."""
    answers: list[w.ResponseLine] = []
    if code == "CA":
        for line in lines:
            status = line.line_status or LINE_ACCEPTED
            changed = status == LINE_CHANGED
            substitute = None
            if changed and line.substitute_seller_item_id:
                substitute = w.Item(name=line.substitute_name or line.substitute_seller_item_id,
                                    seller_item_id=line.substitute_seller_item_id)
            answers.append(w.ResponseLine(
                id=str(line.position), status_code=LINE_CODES[status], item=_item(line),
                order_line_id=str(line.position),
                quantity=(line.agreed_quantity if changed and line.agreed_quantity is not None
                          else None),
                unit_code=line.unit_code,
                price=line.agreed_price if changed and line.agreed_price is not None else None,
                delivery_start=line.agreed_delivery_date if changed else None,
                delivery_end=line.agreed_delivery_date if changed else None,
                substitute=substitute,
            ))
    return w.write_order_response(w.OrderResponse(
        number=number, issue_date=day, currency=order.currency, order_reference=order.number,
        response_code=code, seller=ordering_party(supplier), buyer=ordering_party(buyer),
        lines=answers, note=order.response_note, customer_reference=order.buyer_reference,
    ))


def despatch_xml(
    order: Order, quantities: Sequence[tuple[OrderLine, Decimal]], buyer: Company,
    supplier: Company, *, number: str, day: dt.date, note: str = "",
) -> bytes:
    return w.write_despatch_advice(w.DespatchAdvice(
        number=number, issue_date=day, order_reference=order.number,
        despatch_supplier=ordering_party(supplier), delivery_customer=ordering_party(buyer),
        lines=[
            w.DespatchLine(id=str(i), item=_item(line), delivered_quantity=quantity,
                           order_line_id=str(line.position), unit_code=line.unit_code,
                           outstanding_quantity=_outstanding(line, quantity),
                           outstanding_reason="Entrega pendiente"
                           if _outstanding(line, quantity) else "")
            for i, (line, quantity) in enumerate(quantities, start=1)
        ],
        note=note,
        delivery_address=_address(order.delivery_address, buyer),
    ))


def _outstanding(line: OrderLine, quantity: Decimal) -> Decimal | None:
    """What is still to despatch of the line after this despatch (None when nothing)."""
    left = line.final_quantity - line.despatched_quantity - quantity
    return left if left > 0 else None
