"""/api/v1/orders: a buyer's ERP places orders (JSON or a UBL Order) and confirms or cancels
the supplier's changes; a supplier's ERP reads the orders it received and answers them line by
line; both read the orders and their UBL documents.

The supplier hears of a new order through ``order.received``, both companies of an answer, a
confirmation or a cancellation through ``order.responded`` (the document's ``webhooks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from spectree import Response
from sqlalchemy import and_, or_

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.documents import download, file_answer
from app.blueprints.api.order_input import Requested, place_order, read_order_xml, supplier_of
from app.blueprints.api.replay import answer_once
from app.blueprints.api.responses import (
    Delivery,
    DeliveryList,
    Error,
    Order,
    OrderList,
    OrderSummary,
)
from app.blueprints.api.schemas import (
    MAX_ID,
    CancelOrder,
    DocumentHeaders,
    NewDelivery,
    NewOrder,
    NewOrderResponse,
    OrderQuery,
    OrderXmlQuery,
)
from app.blueprints.api.spec import NOT_FOUND, UNPROCESSABLE, api
from app.extensions import db
from app.models import Company
from app.models import Order as OrderRow
from app.models.api import ORDERS_READ, ORDERS_WRITE
from app.models.order import DESPATCH
from app.services.documents.queries import Cursor
from app.services.errors import FieldErrors, Forbidden, NotFound
from app.services.orders import placing, queries, responding

ID = f"int(min=1, max={MAX_ID})"
ORDER_ID = {"order_id": "The order's id"}
TAGS = ["orders"]
BAD_JSON = (Error, "The body is not JSON that can be read")
NOT_JSON = (Error, "The body is not sent as application/json")


def _company_id() -> int:
    return current_token().company_id


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _view(order_id: int) -> queries.OrderView:
    """The order, when the token's company is its buyer or its supplier; else a 404."""
    found = queries.view(order_id)
    if found is None:
        raise NotFound(_l("This order is not one of yours."))
    return found


def visible_order(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 for another company's order before reading any input."""

    @wraps(view)
    def wrapped(*args: Any, order_id: int, **kwargs: Any) -> Any:
        _view(order_id)
        return view(*args, order_id=order_id, **kwargs)

    return wrapped


def _answer(order_id: int) -> Order:
    return Order.of(_view(order_id), _company_id())


def _side(order_id: int, side: str, *, refusal: Any = None) -> None:
    """Refuse (403) an action of the order's other side, saying ``refusal`` when given."""
    order = _view(order_id).order
    mine = order.supplier_company_id if side == "supplier" else order.buyer_company_id
    if mine != _company_id():
        raise Forbidden(refusal or (
            _l("Only the order's supplier answers it.")
            if side == "supplier"
            else _l("Only the order's buyer confirms or cancels it.")
        ))


# ------------------------------------------------------------------------------------ placing


@bp.post("/orders")
@require_token(ORDERS_WRITE)
@api.validate(
    json=NewOrder,
    headers=DocumentHeaders,
    xml_body=True,
    resp=Response(
        HTTP_201=(Order, "The order, placed and sent to the supplier"),
        HTTP_400=BAD_JSON,
        HTTP_413=(Error, "The body is larger than a request may be"),
        HTTP_415=(Error, "Neither application/json nor application/xml"),
        HTTP_422=(
            Error,
            "Refused; `details.fields` names each input: `supplier_id`, "
            "`lines[2].item_code` (no item with this code you can see), `lines[2].quantity` "
            "(below the minimum, not whole packs, out of stock), `delivery_date` (before "
            "today), `number` (used already); for XML, `body` (not a UBL Order) or "
            "`Order.SellerSupplierParty`",
        ),
    ),
    tags=TAGS,
    operation_id="createOrder",
)
def create_order() -> Any:
    """Place an order with a supplier, as JSON or as a UBL Order

    As JSON: the supplier by `supplier_id` or `supplier_tax_id`, and `lines` of the supplier's
    item codes (as GET /catalog/search shows them) with quantities as decimal text. As XML
    (Content-Type application/xml): a Peppol BIS Ordering 3 Order; its seller is the supplier
    (the endpoint `0203` `CO<tax id>` the portal writes, or its tax id), each OrderLine's
    SellersItemIdentification and Quantity an item and how many, its ID the order's number.
    Prices are the supplier's for you today. The order is written as a Peppol Order, and the
    supplier told (`order.received`). The same `Idempotency-Key` header again within 24 hours
    answers the first order. Needs the `orders:write` scope.
    """
    company_id = _company_id()
    parts = ("POST /orders", request.mimetype, request.get_data(cache=True))
    response = answer_once(company_id, parts, lambda: (201, _place(company_id)))
    if response.status_code == 201:
        response.headers["Location"] = url_for("api.get_order", order_id=response.get_json()["id"])
    return response


def _place(company_id: int) -> Order:
    buyer = db.session.get(Company, company_id)
    assert buyer is not None
    body: NewOrder | None = request.context.json  # type: ignore[attr-defined]
    if body is None:  # a UBL Order
        requested = read_order_xml(buyer, request.get_data(cache=True), language=_language())
    else:
        field = "supplier_tax_id" if body.supplier_id is None else "supplier_id"
        if body.supplier_id is not None and body.supplier_tax_id is not None:
            raise FieldErrors({"supplier_tax_id": [_l("Name the supplier once.")]})
        supplier_id = supplier_of(
            buyer, company_id=body.supplier_id, tax_id=body.supplier_tax_id, field=field
        )
        requested = Requested(
            supplier_id,
            [(line.item_code, Decimal(line.quantity)) for line in body.lines],
            placing.OrderInput(
                delivery_date=body.delivery_date,
                delivery_address=body.delivery_address,
                buyer_reference=body.buyer_reference,
                note=body.note,
                number=body.number,
            ),
        )
    order = place_order(buyer, requested, actor=acting_user(), today=_today())
    return _answer(order.id)


# ------------------------------------------------------------------------------------ reading


@bp.get("/orders")
@require_token(ORDERS_READ)
@api.validate(
    resp=Response(HTTP_200=(OrderList, "One page of orders, newest first"), HTTP_422=UNPROCESSABLE),
    tags=TAGS,
    operation_id="listOrders",
)
def list_orders(query: OrderQuery) -> Any:
    """The orders the company placed (`side=buyer`) or received (`side=supplier`)

    Narrow by status and issue day. Paged by cursor: pass the `next_cursor` of a page as
    `cursor` to read the next one (null on the last page). Needs the `orders:read` scope.
    """
    filters = queries.Filters(status=query.status or "", since=query.since, until=query.until)
    stmt = queries.orders(_company_id(), side=query.side, filters=filters)
    stmt = stmt.order_by(None).order_by(OrderRow.issue_date.desc(), OrderRow.id.desc())
    if query.cursor:
        after = Cursor.decode(query.cursor)
        stmt = stmt.where(
            or_(
                OrderRow.issue_date < after.issue_date,
                and_(OrderRow.issue_date == after.issue_date, OrderRow.id < after.id),
            )
        )
    rows = db.session.execute(stmt.limit(query.limit + 1)).all()
    shown = rows[: query.limit]
    following = None
    if len(rows) > query.limit:
        last = shown[-1][0]
        following = Cursor(last.issue_date, last.id).encode()
    return OrderList(data=[OrderSummary.of(o, p) for o, p in shown], next_cursor=following)


@bp.get(f"/orders/<{ID}:order_id>")
@require_token(ORDERS_READ)
@api.validate(
    resp=Response(
        HTTP_200=(Order, "The order with its lines"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE
    ),
    tags=TAGS,
    operation_id="getOrder",
    path_parameter_descriptions=ORDER_ID,
)
def get_order(order_id: int) -> Any:
    """One order the company placed or received, with its lines and the supplier's answer

    Needs the `orders:read` scope.
    """
    return _answer(order_id)


@bp.get(f"/orders/<{ID}:order_id>/xml")
@require_token(ORDERS_READ)
@api.validate(
    resp=Response(
        HTTP_200=(None, "The UBL document"),
        HTTP_404=(Error, "No such order of yours, or no answer yet (`kind=response`)"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="getOrderXml",
    path_parameter_descriptions=ORDER_ID,
    openapi_extra=file_answer("application/xml"),
)
def get_order_xml(order_id: int, query: OrderXmlQuery) -> Any:
    """The order's UBL document: the buyer's Order, or the supplier's OrderResponse

    Needs the `orders:read` scope.
    """
    _view(order_id)
    filename, data = queries.document_of(order_id, query.kind)
    if not data:
        raise NotFound(_l("The supplier has not answered this order yet."))
    return download(data, "application/xml", filename)


# ---------------------------------------------------------------------------------- answering


@bp.post(f"/orders/<{ID}:order_id>/response")
@require_token(ORDERS_WRITE)
@visible_order
@api.validate(
    json=NewOrderResponse,
    resp=Response(
        HTTP_200=(Order, "The order, answered (the buyer is told: `order.responded`)"),
        HTTP_400=BAD_JSON,
        HTTP_403=(Error, "The token lacks the scope, or the company is the order's buyer"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The order was answered already"),
        HTTP_415=NOT_JSON,
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="respondOrder",
    path_parameter_descriptions=ORDER_ID,
)
def respond_order(order_id: int, json: NewOrderResponse) -> Any:
    """Answer an order received, line by line

    Each line (by `position`) is `accepted`, `rejected`, or `changed` with what changes:
    `quantity`, `price`, `delivery_date` or `substitute_item_code` (an item of your catalog);
    lines left out are accepted. All accepted: the order is `accepted`; all rejected:
    `rejected`; else `changed`, for the buyer to confirm or cancel. Written as a Peppol
    OrderResponse. Only the supplier answers, once (409 after). Needs `orders:write`.
    """
    _side(order_id, "supplier")
    index = _positions(order_id, json.lines, twice=_l("This line is answered twice."))
    answers = {
        line.position: responding.Answer(
            status=line.status,
            quantity=line.quantity or "",
            price=line.price or "",
            delivery_date=line.delivery_date,
            substitute_code=line.substitute_item_code or "",
        )
        for line in json.lines
    }
    try:
        responding.respond(
            _company_id(), order_id, answers, note=json.note, actor=acting_user(), today=_today()
        )
    except FieldErrors as error:
        raise FieldErrors(
            {_response_path(name, index): m for name, m in error.errors.items()}
        ) from None
    db.session.commit()
    return _answer(order_id)


def _positions(order_id: int, lines: Sequence[Any], *, twice: Any) -> dict[int, int]:
    """Where each position named is in the request's lines; refuse unknown or repeated ones
    (saying ``twice``)."""
    known = {line.position for line in _view(order_id).lines}
    index: dict[int, int] = {}
    errors: dict[str, list[Any]] = {}
    for i, line in enumerate(lines):
        if line.position not in known:
            errors[f"lines[{i}].position"] = [_l("The order has no line %(n)s.", n=line.position)]
        elif line.position in index:
            errors[f"lines[{i}].position"] = [twice]
        index.setdefault(line.position, i)
    if errors:
        raise FieldErrors(errors)
    return index


def _response_path(name: str, index: dict[int, int]) -> str:
    """The API's path for a field a service names: ``line-3`` is the request's line of
    position 3."""
    if name.startswith("line-") and name[5:].isdigit() and int(name[5:]) in index:
        return f"lines[{index[int(name[5:])]}]"
    return name


@bp.post(f"/orders/<{ID}:order_id>/confirm")
@require_token(ORDERS_WRITE)
@visible_order
@api.validate(
    resp=Response(
        HTTP_200=(Order, "The order, confirmed: agreed with the supplier's changes"),
        HTTP_403=(Error, "The token lacks the scope, or the company is the order's supplier"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The order is not waiting for a confirmation (not `changed`)"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="confirmOrder",
    path_parameter_descriptions=ORDER_ID,
)
def confirm_order(order_id: int) -> Any:
    """Agree to the supplier's changes to an order

    Only for an order the supplier `changed`; it becomes `confirmed` (agreed). Needs the
    `orders:write` scope; only the buyer confirms.
    """
    _side(order_id, "buyer")
    responding.confirm(_company_id(), order_id, actor=acting_user())
    db.session.commit()
    return _answer(order_id)


@bp.post(f"/orders/<{ID}:order_id>/cancel")
@require_token(ORDERS_WRITE)
@visible_order
@api.validate(
    json=CancelOrder,
    optional_body=True,
    resp=Response(
        HTTP_200=(Order, "The order, cancelled, with `cancel_reason`"),
        HTTP_400=BAD_JSON,
        HTTP_403=(Error, "The token lacks the scope, or the company is the order's supplier"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The order was agreed or closed already"),
        HTTP_415=NOT_JSON,
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="cancelOrder",
    path_parameter_descriptions=ORDER_ID,
)
def cancel_order(order_id: int) -> Any:
    """Withdraw an order not answered yet, or refuse the supplier's changes

    Only while the order is `sent` or `changed`. The body is optional: `{"reason": "…"}` (at
    most 500 characters) tells the supplier why; the order carries it as `cancel_reason`.
    Needs the `orders:write` scope; only the buyer cancels.
    """
    _side(order_id, "buyer")
    body: CancelOrder | None = request.context.json  # type: ignore[attr-defined]
    responding.cancel(_company_id(), order_id, reason=body.reason if body else "",
                      actor=acting_user())
    db.session.commit()
    return _answer(order_id)


# --------------------------------------------------------------------------------- deliveries


@bp.get(f"/orders/<{ID}:order_id>/deliveries")
@require_token(ORDERS_READ)
@api.validate(
    resp=Response(
        HTTP_200=(DeliveryList, "The order's despatches and receipts, oldest first"),
        HTTP_404=NOT_FOUND,
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="listOrderDeliveries",
    path_parameter_descriptions=ORDER_ID,
)
def list_deliveries(order_id: int) -> Any:
    """The despatches the supplier and the receipts the buyer recorded on an order

    Both companies of the order read them. Needs the `orders:read` scope.
    """
    found = _view(order_id)
    return DeliveryList(data=[Delivery.of(d, parts) for d, parts in found.deliveries])


@bp.post(f"/orders/<{ID}:order_id>/deliveries")
@require_token(ORDERS_WRITE)
@visible_order
@api.validate(
    json=NewDelivery,
    headers=DocumentHeaders,
    resp=Response(
        HTTP_201=(Delivery, "The delivery, recorded (a despatch with its DespatchAdvice)"),
        HTTP_400=BAD_JSON,
        HTTP_403=(Error, "The token lacks the scope, or a despatch by the buyer or a receipt "
                  "by the supplier"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The order is not agreed (accepted or confirmed)"),
        HTTP_415=NOT_JSON,
        HTTP_422=(
            Error,
            "Refused; `details.fields` names each input: `lines[1].position` (no such line, "
            "or given twice), `lines[1]` (more than agreed with the earlier deliveries), "
            "`day` (in the future), `lines` (every quantity 0)",
        ),
    ),
    tags=TAGS,
    operation_id="createOrderDelivery",
    path_parameter_descriptions=ORDER_ID,
)
def create_delivery(order_id: int, json: NewDelivery) -> Any:
    """Record a despatch (the supplier) or a receipt (the buyer) of an agreed order

    Quantities per line (by `position`, decimal text); with the earlier deliveries of the same
    kind, a line never goes past the quantity agreed. A despatch is written as a Peppol
    DespatchAdvice (T16), as the portal writes it. The same `Idempotency-Key` header again
    within 24 hours answers the first delivery. Needs the `orders:write` scope.
    """
    if json.kind == DESPATCH:
        _side(order_id, "supplier", refusal=_l("Only the order's supplier records a despatch."))
    else:
        _side(order_id, "buyer", refusal=_l("Only the order's buyer records a receipt."))
    index = _positions(order_id, json.lines, twice=_l("This line is given twice."))
    company_id = _company_id()
    parts = (f"POST /orders/{order_id}/deliveries", request.get_data(cache=True))
    return answer_once(company_id, parts, lambda: (201, _deliver(order_id, json, index)))


def _deliver(order_id: int, json: NewDelivery, index: dict[int, int]) -> Delivery:
    try:
        delivery = responding.record_delivery(
            _company_id(), order_id, {line.position: line.quantity for line in json.lines},
            kind=json.kind, day=json.day or _today(), today=_today(), note=json.note,
            actor=acting_user(),
        )
    except FieldErrors as error:
        raise FieldErrors(
            {_response_path(name, index): m for name, m in error.errors.items()}
        ) from None
    found = _view(order_id)
    return next(Delivery.of(d, p) for d, p in found.deliveries if d.id == delivery.id)


@bp.get(f"/orders/<{ID}:order_id>/deliveries/<{ID}:delivery_id>/xml")
@require_token(ORDERS_READ)
@api.validate(
    resp=Response(
        HTTP_200=(None, "The UBL DespatchAdvice"),
        HTTP_404=(Error, "No such order of yours, no such delivery of it, or a receipt (which "
                  "has no document)"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="getOrderDeliveryXml",
    path_parameter_descriptions={**ORDER_ID, "delivery_id": "The delivery's id"},
    openapi_extra=file_answer("application/xml"),
)
def get_delivery_xml(order_id: int, delivery_id: int) -> Any:
    """A despatch's UBL DespatchAdvice (Peppol BIS T16), as the supplier's despatch wrote it

    Needs the `orders:read` scope.
    """
    _view(order_id)
    filename, data = queries.document_of(order_id, DESPATCH, delivery_id)
    if not data:
        raise NotFound(_l("This order has no such despatch."))
    return download(data, "application/xml", filename)


def _language() -> str:
    return "en" if str(get_locale() or "es").startswith("en") else "es"
