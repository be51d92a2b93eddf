"""What the API accepts: one pydantic model per JSON body and per query string.

The models are the checks and the description at once: each view declares the ones it takes
(``spec.api.validate``: a view's ``query`` and ``json`` arguments), the API's spectree backend
reads the request through ``query_arguments`` and ``json_body`` before the view runs, and the
OpenAPI document describes the parameters and bodies from the same models. Every model is
strict (no list, object, number or boolean is coerced into text) and forbids unknown fields; a
refusal is a 422 naming each field by its path (``person.id_number``), in the API's one error
shape.

Query strings are text by nature, so their typed values (dates, whole numbers, amounts,
booleans) are read from text by the small parsers below, which accept one spelling each
(``2024-03-31``, ``25``, ``1250.50``, ``true``) rather than everything pydantic's lax mode would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated, Any, Literal, TypeVar

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError
from werkzeug.exceptions import UnsupportedMediaType

from app.einvoice.events import CLAIM_REASONS, PERSON_ID_TYPES
from app.matching.model import KINDS as MATCH_KINDS
from app.models.catalog import AVAILABILITIES as CATALOG_AVAILABILITIES
from app.models.catalog import VISIBILITIES as CATALOG_VISIBILITIES
from app.models.document import DOCUMENT_TYPES, PAYMENT_STATUSES, STATUSES
from app.models.order import LINE_STATUSES as ORDER_LINE_STATUSES
from app.models.order import ORDER_STATUSES
from app.models.payment import PAYMENT_STATUSES as PAYMENT_STATES
from app.models.reconciliation import LINE_STATUSES
from app.services import idempotency, network
from app.services.documents import queries
from app.services.errors import DomainError

#: The API's names for the buyer's DIAN events.
EVENT_CODES = {"acknowledge": "030", "receipt": "032", "accept": "033", "claim": "031"}
MAX_ID = 2**31 - 1
MAX_AMOUNT = Decimal(10) ** 15


class Schema(BaseModel):
    """A request's input: strict types, no field the API does not know."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ------------------------------------------------------------------------ query-string values


def _text_parser(name: str, pattern: str, convert: Callable[[str], Any]) -> Callable[[Any], Any]:
    """Return a validator that reads one spelling of a value from a query string's text."""

    def parse(value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise PydanticCustomError(name, name)
        try:
            return convert(value)
        except (ValueError, ArithmeticError):
            raise PydanticCustomError(name, name) from None

    return parse


def _amount(rounding: str) -> Callable[[str], Decimal]:
    # Stored amounts have cents: "at least 0.001" is "at least 0.01", "at most 9.999" is 9.99.
    def convert(text: str) -> Decimal:
        value = Decimal(text)
        if not value.is_finite() or abs(value) > MAX_AMOUNT:
            raise ValueError(text)
        return value.quantize(Decimal("0.01"), rounding=rounding)

    return convert


_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]{1,4})?"
_AMOUNT_SCHEMA = {"type": "number", "minimum": -(10**15), "maximum": 10**15}

QueryDate = Annotated[
    dt.date,
    BeforeValidator(_text_parser("date", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", dt.date.fromisoformat)),
    WithJsonSchema({"type": "string", "format": "date"}),
]
_whole_number = _text_parser("whole_number", r"[0-9]{1,10}", int)

QueryId = Annotated[
    int,
    BeforeValidator(_whole_number),
    Field(ge=1, le=MAX_ID),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
]
QueryAmountMin = Annotated[
    Decimal,
    BeforeValidator(_text_parser("amount", _NUMBER, _amount(ROUND_CEILING))),
    WithJsonSchema(_AMOUNT_SCHEMA),
]
QueryAmountMax = Annotated[
    Decimal,
    BeforeValidator(_text_parser("amount", _NUMBER, _amount(ROUND_FLOOR))),
    WithJsonSchema(_AMOUNT_SCHEMA),
]
QueryBool = Annotated[
    bool,
    BeforeValidator(_text_parser("boolean", r"true|false|1|0", lambda t: t in ("true", "1"))),
    WithJsonSchema({"type": "boolean"}),
]


def printable(text: str) -> str:
    """Drop control characters (PostgreSQL refuses NUL in text)."""
    return "".join(c for c in text if c.isprintable())


def _cursor(text: str) -> str:
    """Accept only a cursor this server wrote (what it holds is the server's business)."""
    try:
        position = queries.Cursor.decode(text)
    except DomainError:
        raise PydanticCustomError("cursor", "cursor") from None
    if not 0 <= position.id <= 2**63 - 1:
        raise PydanticCustomError("cursor", "cursor")
    return text


def _as_parameters(schema: dict[str, Any]) -> None:
    """Describe a query model's fields as query parameters: left out, never null."""
    for field_schema in schema.get("properties", {}).values():
        field_schema.pop("title", None)
        if field_schema.get("default", 0) in (None, "", False):
            del field_schema["default"]
        options = [o for o in field_schema.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            (only,) = options
            field_schema |= only


class QuerySchema(Schema):
    """A query string's parameters (text by nature, read by the parsers above)."""

    model_config = ConfigDict(json_schema_extra=_as_parameters)


class NoQuery(QuerySchema):
    """An operation that takes no query parameter: any one sent is refused by name."""


class PartnerQuery(QuerySchema):
    relation: Literal[network.RELATIONS] | None = Field(  # type: ignore[valid-type]
        None, description="Only suppliers, or only customers, of the company."
    )


class DocumentQuery(QuerySchema):
    direction: Literal["received", "sent"] | None = Field(
        None,
        description="Only the documents the company received, or only those it sent. "
        "Without it: every document the company can see, received and sent.",
    )
    date_from: QueryDate | None = Field(None, description="Issued on or after this day.")
    date_to: QueryDate | None = Field(None, description="Issued on or before this day.")
    counterparty_id: QueryId | None = Field(None, description="The other company's id.")
    tax_id: str = Field(
        "", max_length=40, description="The other party's tax id, or its first digits."
    )
    document_type: Literal[DOCUMENT_TYPES] | None = Field(  # type: ignore[valid-type]
        None, description="Only this kind of document."
    )
    status: Literal[STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="Only documents in this status."
    )
    amount_min: QueryAmountMin | None = Field(None, description="Payable amount at least this.")
    amount_max: QueryAmountMax | None = Field(None, description="Payable amount at most this.")
    overdue: QueryBool = Field(False, description="Only unpaid invoices past their due date.")
    payment_status: Literal[PAYMENT_STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="unpaid, partially_paid, paid or refunded."
    )
    q: Annotated[str, AfterValidator(printable)] = Field(
        "", max_length=100, description="Search in the number and the counterparty's name."
    )
    cursor: Annotated[str, AfterValidator(_cursor)] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The `next_cursor` of the previous page, as it was given (opaque).",
    )
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        queries.PAGE_SIZE,
        ge=1,
        le=queries.MAX_PAGE_SIZE,
        description=f"Documents per page (default {queries.PAGE_SIZE}).",
    )

    def filters(self) -> queries.DocumentFilters:
        """Return the Inbox filters these arguments ask for."""
        return queries.DocumentFilters(
            date_from=self.date_from,
            date_to=self.date_to,
            counterparty_id=self.counterparty_id,
            tax_id=self.tax_id,
            document_type=self.document_type,
            status=self.status,
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            overdue=self.overdue,
            search=self.q,
            payment_status=self.payment_status,
        )


# ------------------------------------------------------------------------------- JSON bodies


class EventPerson(Schema):
    """Who records an acknowledgement or a receipt (DIAN names them on 030 and 032). Without
    it, the token's creator by the identity document on their profile; a token nobody created
    must send it."""

    id_type: Literal[tuple(sorted(PERSON_ID_TYPES))] = Field(  # type: ignore[valid-type]
        description="DIAN's identity document type: "
        + ", ".join(f"{code} {name}" for code, name in sorted(PERSON_ID_TYPES.items()))
    )
    id_number: str = Field(max_length=40)
    first_name: str = Field(max_length=120)
    family_name: str = Field(max_length=120)
    job_title: str = Field("", max_length=120)
    department: str = Field("", max_length=120)


class NewEvent(Schema):
    code: Literal[tuple(EVENT_CODES)] = Field(  # type: ignore[valid-type]
        description="acknowledge (030), receipt (032), accept (033) or claim (031)"
    )
    reason: Literal[tuple(sorted(CLAIM_REASONS))] | None = Field(  # type: ignore[valid-type]
        None,
        description="For a claim: 01 inconsistent document, 02 goods not fully delivered, "
        "03 partially delivered, 04 service not rendered",
    )
    note: str = Field("", max_length=2000)
    person: EventPerson | None = None


#: The most files one multipart request may carry (several parts named "file").
MAX_BATCH_FILES = 100


class DocumentUpload(BaseModel):
    """A multipart upload: one signed XML file, or several (a batch).

    The view reads the files itself (a batch past its size is a 413, an upload without a file
    a 422 naming "file"); this model is how the upload is described.
    """

    file: Annotated[
        list[bytes],
        WithJsonSchema(
            {
                "description": "One XML file, or several (a batch)",
                "oneOf": [
                    {"type": "string", "format": "binary"},
                    {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": MAX_BATCH_FILES,
                        "items": {"type": "string", "format": "binary"},
                    },
                ],
            }
        ),
    ]


class DocumentHeaders(BaseModel):
    """The headers a document upload may carry; ``idempotency.check_key`` checks the key."""

    model_config = ConfigDict(json_schema_extra=_as_parameters)

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description="Any unique string of yours; retries reuse it.",
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        pattern="^[A-Za-z0-9_.:-]+$",
    )


# ------------------------------------------------------------------------------- reading them

M = TypeVar("M", bound=Schema)

#: What each refusal says, by pydantic's error type (or ours); context fills the placeholders.
MESSAGES: dict[str, Any] = {
    "missing": _l("This field is required."),
    "extra_forbidden": _l("This field or parameter is not known here: leave it out."),
    "model_type": _l("Send a JSON object."),
    "model_attributes_type": _l("Send a JSON object."),
    "dict_type": _l("Send a JSON object."),
    "string_type": _l("Write a text (a JSON string)."),
    "literal_error": _l("Choose one of: %(expected)s."),
    "string_too_long": _l("Write at most %(max_length)s characters."),
    "string_too_short": _l("Write at least %(min_length)s characters."),
    "greater_than_equal": _l("Write a number of at least %(ge)s."),
    "less_than_equal": _l("Write a number of at most %(le)s."),
    "date": _l("Write the date as YYYY-MM-DD."),
    "whole_number": _l("Write a whole number."),
    "amount": _l("Write an amount such as 1250.50."),
    "boolean": _l("Write true or false."),
    "cursor": _l("This page link is not valid."),
    "repeated": _l("Send this parameter once."),
}


class InvalidInput(DomainError):
    """The request's input does not have the shape the API describes (code ``validation``)."""

    code = "validation"

    def __init__(self, errors: dict[str, list[str]], *, status: int = 422) -> None:
        path, messages = next(iter(errors.items()))
        super().__init__(f"{path}: {messages[0]}", field=path)
        self.errors = errors
        self.status = status


def _message(error: Any) -> str:
    """Say what is wrong with one field, in the request's language."""
    template = MESSAGES.get(error["type"])
    if template is None:
        return str(error["msg"])
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return str(template) % context if "%(" in str(template) else str(template)
    except (KeyError, ValueError, TypeError):
        return str(error["msg"])


def _errors(problem: ValidationError, *, root: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in problem.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or root
        errors.setdefault(path, []).append(_message(error))
    return errors


def query_arguments(model: type[M]) -> M:
    """Read the request's query string into model, or raise InvalidInput naming each field."""
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, given in request.args.lists():
        if len(given) > 1:
            errors[name] = [str(MESSAGES["repeated"])]
        values[name] = given[0]
    try:
        arguments = model.model_validate(values)
    except ValidationError as problem:
        raise InvalidInput(errors | _errors(problem, root="query")) from None
    if errors:
        raise InvalidInput(errors)
    return arguments


def json_body(model: type[M]) -> M:
    """Read the request's JSON body into model, or refuse it.

    415 when it is not sent as JSON; 400 when it cannot be parsed (numbers past any range and
    nesting past 200 levels included); 422 naming each field whose type or value is wrong (a
    NaN or Infinity is no text and no choice, so it is refused as a wrong type).
    """
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise UnsupportedMediaType(_("Send the body as JSON, with Content-Type application/json."))
    data = request.get_data(cache=True)
    try:
        return model.model_validate_json(data or b"null", strict=True)
    except ValidationError as problem:
        unparsable = [e for e in problem.errors(include_url=False) if e["type"] == "json_invalid"]
        if unparsable:
            detail = str(unparsable[0]["msg"]).removeprefix("Invalid JSON: ")
            raise InvalidInput(
                {"body": [_("The body is not valid JSON: %(problem)s.", problem=detail)]},
                status=400,
            ) from None
        raise InvalidInput(_errors(problem, root="body")) from None


# ---------------------------------------------------------------------------------- payments

#: A decimal amount written as text ("1234.50"): never a JSON number (no float on the way).
AmountText = Annotated[
    str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", description="A decimal amount as text")
]


class PaymentItem(Schema):
    id: int = Field(ge=1, le=MAX_ID, description="The invoice's document id")
    amount: AmountText | None = Field(
        None, description="How much of it to pay; without it, all that is open"
    )


class NewPayment(Schema):
    documents: list[PaymentItem] = Field(min_length=1, max_length=100)
    method: Literal["sandbox", "stripe", "wompi"] = Field(
        description="The supplier's gateway to pay through"
    )


class NewRefund(Schema):
    amount: AmountText | None = Field(None, description="Without it: all that is left")
    reason: str = Field("", max_length=500)


class PaymentQuery(QuerySchema):
    status: Literal[PAYMENT_STATES] | None = Field(  # type: ignore[valid-type]
        None, description="Only payments in this status."
    )
    counterparty_id: QueryId | None = Field(None, description="The other company's id.")
    date_from: QueryDate | None = Field(None, description="Started on or after this day.")
    date_to: QueryDate | None = Field(None, description="Started on or before this day.")
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        100, ge=1, le=500, description="Payments to answer (newest first)."
    )


# ---------------------------------------------------------------------------- reconciliation


class NewBankAccount(Schema):
    name: str = Field(min_length=1, max_length=100, description="How the company calls it")
    bank_name: str = Field("", max_length=100)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, like COP or EUR")
    number: str = Field(
        min_length=1, max_length=60, description="The account number, or an IBAN (checked)"
    )


class StatementQuery(QuerySchema):
    filename: Annotated[str, AfterValidator(printable)] = Field(
        "",
        max_length=255,
        description="For a raw body: the file's name (its extension helps tell the format).",
    )


class StatementUpload(BaseModel):
    """A multipart upload of one statement file; the view reads it (see the operation)."""

    file: Annotated[
        bytes,
        WithJsonSchema(
            {
                "type": "string",
                "format": "binary",
                "description": "camt.053, MT940, OFX, CSV or XLSX",
            }
        ),
    ]


class BankLineQuery(QuerySchema):
    account_id: QueryId | None = Field(None, description="Only the lines of this bank account.")
    status: Literal[LINE_STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="unmatched, suggested, matched or ignored."
    )
    since: QueryDate | None = Field(None, description="Booked on or after this day.")
    until: QueryDate | None = Field(None, description="Booked on or before this day.")
    cursor: Annotated[str, AfterValidator(_cursor)] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The `next_cursor` of the previous page, as it was given (opaque).",
    )
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        50, ge=1, le=200, description="Lines per page (default 50), newest first."
    )


class ManualItem(Schema):
    kind: Literal[MATCH_KINDS] = Field(  # type: ignore[valid-type]
        description="receivable or payment_in or payout for money in; payable or payment_out "
        "for money out"
    )
    id: int = Field(ge=1, le=MAX_ID, description="The document's, payment's or payout's id")
    amount: AmountText | None = Field(
        None, description="How much of it the line settles; without it, all that is open"
    )


class NewManualMatch(Schema):
    items: list[ManualItem] = Field(min_length=1, max_length=100)
    fee: AmountText | None = Field(
        None, description="The part of the items' total the bank kept (a fee); default 0"
    )


# ------------------------------------------------------------------------------------ orders

#: A quantity written as text ("12", "2.5"): never a JSON number.
QuantityText = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$", description="A decimal quantity as text"),
]
#: A price written as text, up to six decimals as catalogs keep them.
PriceText = Annotated[
    str, Field(pattern=r"^[0-9]{1,13}(\.[0-9]{1,6})?$", description="A decimal price as text")
]
ItemCode = Annotated[str, AfterValidator(printable), Field(min_length=1, max_length=100)]


class NewOrderLine(Schema):
    item_code: ItemCode = Field(description="The supplier's code of a catalog item you can see")
    quantity: QuantityText = Field(
        description="How many, in the item's unit: at least its minimum, in whole packs"
    )


class NewOrder(Schema):
    """An order placed with one supplier; name it by `supplier_id` or `supplier_tax_id`."""

    supplier_id: int | None = Field(None, ge=1, le=MAX_ID, description="The supplier's company id")
    supplier_tax_id: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z-]{1,20}$",
        description="The supplier's tax id (compact, in your company's country), instead of "
        "`supplier_id`",
    )
    number: str = Field(
        "", max_length=40, description="Your own order number; the portal numbers it without"
    )
    delivery_date: dt.date | None = Field(None, description="Wanted on this day (not before today)")
    delivery_address: str = Field("", max_length=1000)
    buyer_reference: str = Field("", max_length=100)
    note: str = Field("", max_length=2000)
    lines: list[NewOrderLine] = Field(min_length=1, max_length=500)


class OrderQuery(QuerySchema):
    side: Literal["buyer", "supplier"] = Field(
        "buyer",
        description="The orders the company placed (`buyer`, the default) or received "
        "(`supplier`).",
    )
    status: Literal[ORDER_STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="Only orders in this status."
    )
    since: QueryDate | None = Field(None, description="Issued on or after this day.")
    until: QueryDate | None = Field(None, description="Issued on or before this day.")
    cursor: Annotated[str, AfterValidator(_cursor)] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The `next_cursor` of the previous page, as it was given (opaque).",
    )
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        50, ge=1, le=200, description="Orders per page (default 50), newest first."
    )


class OrderXmlQuery(QuerySchema):
    kind: Literal["order", "response"] = Field(
        "order",
        description="The buyer's UBL Order (default), or the supplier's OrderResponse.",
    )


class ResponseLine(Schema):
    position: int = Field(ge=1, le=100_000, description="The order line's position")
    status: Literal[ORDER_LINE_STATUSES] = Field(  # type: ignore[valid-type]
        description="accepted, rejected, or changed (say what changes)"
    )
    quantity: QuantityText | None = Field(None, description="For changed: the quantity you send")
    price: PriceText | None = Field(None, description="For changed: your price")
    delivery_date: dt.date | None = Field(None, description="For changed: when you deliver")
    substitute_item_code: ItemCode | None = Field(
        None, description="For changed: the code of the item of your catalog you send instead"
    )


class NewOrderResponse(Schema):
    lines: list[ResponseLine] = Field(
        default_factory=list, max_length=500, description="Lines left out are accepted"
    )
    note: str = Field("", max_length=2000)


class CancelOrder(Schema):
    reason: str = Field(
        "", max_length=500, description="Why you cancel; the supplier reads it with the order"
    )


class DeliveredLine(Schema):
    position: int = Field(ge=1, le=100_000, description="The order line's position")
    quantity: QuantityText = Field(
        description="How many went out (despatch) or came in (receipt) with this delivery; "
        "with the earlier ones, at most the quantity agreed"
    )


class NewDelivery(Schema):
    """A despatch (the supplier's) or a receipt (the buyer's) of an agreed order."""

    kind: Literal["despatch", "receipt"] = Field(
        description="`despatch` for the supplier (written as a DespatchAdvice), `receipt` for "
        "the buyer"
    )
    day: dt.date | None = Field(None, description="When it went out or came in; default today")
    note: str = Field("", max_length=2000)
    lines: list[DeliveredLine] = Field(min_length=1, max_length=500)


# ----------------------------------------------------------------------------------- catalog


class CatalogItemQuery(QuerySchema):
    q: Annotated[str, AfterValidator(printable)] = Field(
        "", max_length=100, description="Words in the code, GTIN, name or description."
    )
    category: Annotated[str, AfterValidator(printable)] = Field(
        "", max_length=100, description="Only items naming this category."
    )
    published: QueryBool | None = Field(
        None, description="Only published (true) or withdrawn (false) items."
    )
    offset: Annotated[int, BeforeValidator(_whole_number)] = Field(
        0, ge=0, le=1_000_000, description="Items to skip (the `next_offset` of a page)."
    )
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        50, ge=1, le=200, description="Items per page (default 50), by name."
    )


class NewCatalogItem(Schema):
    """An item of the company's catalog: the fields of the catalog page and its import."""

    seller_item_id: str = Field(max_length=100, description="Your code for the item (unique)")
    name: str = Field(max_length=300)
    price: PriceText
    currency: str = Field("COP", pattern=r"^[A-Z]{3}$")
    standard_item_id: str = Field("", max_length=100, description="GTIN (checked)")
    description: str = Field("", max_length=4000)
    unit_code: str = Field("94", max_length=10, description="UN/ECE Rec 20, e.g. 94, KGM")
    tax_percent: PriceText | None = Field(None, description="0 to 100")
    min_quantity: QuantityText = Field("1")
    pack_size: QuantityText = Field("1")
    availability: Literal[CATALOG_AVAILABILITIES] = "in_stock"  # type: ignore[valid-type]
    lead_time_days: int | None = Field(None, ge=0, le=3650)
    categories: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    visibility: Literal[CATALOG_VISIBILITIES] = Field(  # type: ignore[valid-type]
        "connected",
        description="network (everyone), connected (your customers) or chosen (`customers`)",
    )
    customers: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=1000, description="For chosen: the customers' ids"
    )
    published: bool = True

    def values(self) -> dict[str, Any]:
        """The item's fields as the catalog's checks read them (text, as typed)."""
        values = self.model_dump()
        for name in ("tax_percent", "lead_time_days"):
            values[name] = "" if values[name] is None else str(values[name])
        values["categories"] = ", ".join(self.categories)
        return values


class CatalogUpload(BaseModel):
    """A multipart upload of one catalog file; the view reads it (see the operation)."""

    file: Annotated[
        bytes,
        WithJsonSchema(
            {
                "type": "string",
                "format": "binary",
                "description": "CSV or XLSX: code, name, price and the other columns",
            }
        ),
    ]


class CatalogSearchQuery(QuerySchema):
    q: Annotated[str, AfterValidator(printable)] = Field(
        "", max_length=200, description="Words; each may be the start of a word."
    )
    supplier_id: QueryId | None = Field(None, description="Only this supplier's items.")
    category: Annotated[str, AfterValidator(printable)] = Field(
        "", max_length=100, description="Only items in this category."
    )
    price_min: QueryAmountMin | None = Field(None, description="What you pay, at least this.")
    price_max: QueryAmountMax | None = Field(None, description="What you pay, at most this.")
    offset: Annotated[int, BeforeValidator(_whole_number)] = Field(
        0, ge=0, le=10_000, description="Hits to skip (the `next_offset` of a page)."
    )
    limit: Annotated[int, BeforeValidator(_whole_number)] = Field(
        25, ge=1, le=100, description="Hits per page (default 25), best first."
    )
