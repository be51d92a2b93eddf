"""What the API answers: one pydantic model per JSON response body, errors included.

The views build every JSON body through these models (``Document.of(...)``, ``Error.of(...)``),
and the same models are the responses' schemas in ``/api/v1/openapi.json`` (``spec.py``
declares them per operation), so a body and its description cannot drift apart: a body that
does not fit the model declared for its status is a server error (``spec.py`` checks each one).
Money goes out as text with two decimals and times as ISO 8601 with their offset, as before.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, RootModel, WithJsonSchema

from app.blueprints.api.schemas import EVENT_CODES
from app.matching.model import KINDS as MATCH_KINDS
from app.models import Document as DocumentRow
from app.models import DocumentEvent, Partnership
from app.models.catalog import AVAILABILITIES as CATALOG_AVAILABILITIES
from app.models.catalog import VISIBILITIES as CATALOG_VISIBILITIES
from app.models.document import DOCUMENT_TYPES, PAYMENT_STATUSES, STATUSES
from app.models.order import LINE_STATUSES as ORDER_LINE_STATUSES
from app.models.order import ORDER_STATUSES
from app.models.payment import PAYMENT_STATUSES as PAYMENT_STATES
from app.models.reconciliation import (
    LINE_STATUSES,
    MATCH_CONFIRMED,
    MATCH_REJECTED,
    MATCH_SUGGESTED,
    MATCH_UNDONE,
)
from app.services.lifecycle import transitions
from app.web.findings import finding_message

#: The API's names for every DIAN event a document can carry (034 is recorded by the portal).
EVENT_NAMES = {code: name for name, code in EVENT_CODES.items()} | {"034": "tacit_acceptance"}
MATCH_STATUSES = (MATCH_SUGGESTED, MATCH_CONFIRMED, MATCH_UNDONE, MATCH_REJECTED)


class Body(BaseModel):
    """A response body: exactly the fields it declares."""

    model_config = ConfigDict(extra="forbid")


Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "examples": ["1190000.00"]}
    ),
]
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# ------------------------------------------------------------------------------------ errors


class ErrorDetail(Body):
    code: str = Field(
        description="Stable and machine-readable, e.g. not_found",
        examples=["not_found", "invalid_token", "validation", "unprocessable"],
    )
    message: str = Field(description="For people, in the request's language")
    details: dict[str, Any] = Field(
        description="What the error concerns; `fields` maps each refused input's path to why"
    )


class Error(Body):
    """Every error of the API, whatever its status."""

    error: ErrorDetail

    @classmethod
    def of(cls, code: str, message: Any, details: dict[str, Any] | None = None) -> Self:
        """Return the error body for a code, a message for people and its details."""
        return cls(error=ErrorDetail(code=code, message=str(message), details=details or {}))


# ---------------------------------------------------------------------------------- partners


class Partner(Body):
    id: int = Field(description="The partnership's id")
    relation: Literal["supplier", "customer"] = Field(description="What the partner is to you")
    status: Literal["pending", "active"]
    awaiting_your_answer: bool = Field(
        description="The partner asked to connect; the company must answer"
    )
    name: str
    on_network: bool
    company_id: int | None
    country: str | None = Field(examples=["CO"])
    tax_id: str | None = Field(description="Digits only")
    created_at: Timestamp

    @classmethod
    def of(cls, partnership: Partnership, company_id: int) -> Self:
        """Return the partner of a partnership, as company_id sees it."""
        other = partnership.partner_of(company_id)
        return cls(
            id=partnership.id,
            relation=partnership.relation_for(company_id),
            status=partnership.status,
            awaiting_your_answer=partnership.awaits_answer_from(company_id),
            name=partnership.partner_name_for(company_id),
            on_network=other is not None,
            company_id=other.id if other else None,
            country=other.country if other else partnership.invited_country,
            tax_id=other.tax_id if other else partnership.invited_tax_id,
            created_at=partnership.created_at,
        )


class PartnerList(Body):
    data: list[Partner]


# --------------------------------------------------------------------------------- documents


class Finding(Body):
    severity: Literal["error", "warning"]
    code: str
    message: str
    path: str

    @classmethod
    def stored(cls, finding: dict[str, Any], language: str) -> Self:
        """Return a finding kept with a document, in the reader's language."""
        return cls(
            severity=finding.get("severity", ""),
            code=finding.get("code", ""),
            message=finding_message(finding, language),
            path=finding.get("path", ""),
        )


class Supplier(Body):
    name: str
    tax_id: str
    company_id: int


class Customer(Body):
    name: str
    tax_id: str
    country: str
    company_id: int | None = Field(description="null while it is not on the network")


class Document(Body):
    id: int
    direction: Literal["received", "sent"]
    document_type: Literal[DOCUMENT_TYPES]  # type: ignore[valid-type]
    number: str
    cufe: str | None
    issue_date: dt.date
    due_date: dt.date | None
    currency: str = Field(examples=["COP"])
    payable: Money
    open_balance: Money
    status: Literal[STATUSES]  # type: ignore[valid-type]
    payment_status: Literal[PAYMENT_STATUSES]  # type: ignore[valid-type]
    is_legal: bool
    waiting: bool = Field(description="The customer is not on the network yet")
    supplier: Supplier
    customer: Customer
    related_document_id: int | None
    created_at: Timestamp
    received_at: Timestamp | None

    @classmethod
    def of(cls, document: DocumentRow, company_id: int, **more: Any) -> Self:
        """Return a document as company_id sees it (more: the fields a subclass adds)."""
        return cls(
            id=document.id,
            direction="sent" if document.sender_company_id == company_id else "received",
            document_type=document.document_type,
            number=document.number,
            cufe=document.cufe,
            issue_date=document.issue_date,
            due_date=document.due_date,
            currency=document.currency,
            payable=document.payable,
            open_balance=document.open_balance,
            status=document.status,
            payment_status=document.payment_status,
            is_legal=document.is_legal,
            waiting=document.waiting,
            supplier=Supplier(
                name=document.supplier_name,
                tax_id=document.supplier_tax_id,
                company_id=document.sender_company_id,
            ),
            customer=Customer(
                name=document.customer_name,
                tax_id=document.customer_tax_id,
                country=document.customer_country,
                company_id=document.receiver_company_id,
            ),
            related_document_id=document.related_document_id,
            created_at=document.created_at,
            received_at=document.received_at,
            **more,
        )


class DocumentPayment(Body):
    id: int = Field(description="The payment's id (GET /payments/{id})")
    status: Literal[PAYMENT_STATES]  # type: ignore[valid-type]
    method: str
    amount: Money = Field(description="What the payment allocates to this document")
    refunded_amount: Money
    created_at: dt.datetime


class DocumentDetail(Document):
    next_events: list[Literal[tuple(EVENT_CODES)]] = Field(  # type: ignore[valid-type]
        description="What the company may record now"
    )
    findings: list[Finding]
    payments: list[DocumentPayment] = Field(
        default_factory=list, description="The payments allocated to it, newest first"
    )

    @classmethod
    def detail(cls, document: DocumentRow, company_id: int, *, language: str) -> Self:
        """Return one document with what may follow and its findings."""
        receiving = document.receiver_company_id == company_id
        return cls.of(
            document,
            company_id,
            next_events=[EVENT_NAMES[c] for c in transitions.next_events(document.status)]
            if receiving
            else [],
            findings=[Finding.stored(f, language) for f in document.findings or []],
        )


class SubmittedDocument(Document):
    """A document just accepted, with the findings of its checks."""

    findings: list[Finding]


class DocumentList(Body):
    data: list[Document]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page")


class BatchDocument(Body):
    """A file of a batch that was accepted."""

    filename: str
    status: Literal[201]
    document: SubmittedDocument


class BatchError(Body):
    """A file of a batch that was refused (409, 422) or failed and was rolled back (500)."""

    filename: str
    status: Literal[409, 422, 500]
    error: ErrorDetail


class BatchResults(Body):
    results: list[BatchDocument | BatchError] = Field(description="One per file, in order")


# ------------------------------------------------------------------------------------ events


class Event(Body):
    id: int
    document_id: int
    code: Literal[tuple(sorted(EVENT_NAMES.values()))]  # type: ignore[valid-type]
    dian_code: Literal[tuple(sorted(EVENT_NAMES))]  # type: ignore[valid-type]
    claim_reason: str | None
    note: str
    number: str
    cude: str | None
    actor_company_id: int
    created_at: Timestamp

    @classmethod
    def of(cls, event: DocumentEvent) -> Self:
        """Return a recorded DIAN event."""
        return cls(
            id=event.id,
            document_id=event.document_id,
            code=EVENT_NAMES.get(event.code, event.code),
            dian_code=event.code,
            claim_reason=event.claim_reason,
            note=event.note,
            number=event.number,
            cude=event.cude,
            actor_company_id=event.actor_company_id,
            created_at=event.created_at,
        )


class EventList(Body):
    data: list[Event]


class OpenApiDocument(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document."""


# ---------------------------------------------------------------------------------- payments


class Allocation(Body):
    document_id: int
    amount: Money
    refunded_amount: Money


class PaymentRefund(Body):
    id: int
    amount: Money
    status: Literal["pending", "succeeded", "failed"]
    reason: str
    created_at: dt.datetime


class Payment(Body):
    id: int
    status: Literal[PAYMENT_STATES]  # type: ignore[valid-type]
    method: Literal["sandbox", "stripe", "wompi", "transfer", "bank"]
    amount: Money
    currency: str
    refunded_amount: Money
    fee: Money | None
    checkout_url: str | None = Field(description="Where the payer pays (absolute URL)")
    payee_company_id: int
    payer_company_id: int | None
    gateway_reference: str | None
    payer_reference: str | None = Field(description="For a transfer: the payer's reference")
    created_at: dt.datetime
    succeeded_at: dt.datetime | None
    allocations: list[Allocation]
    refunds: list[PaymentRefund]

    @classmethod
    def of(cls, payment: Any, allocations: list[Any], refunds: list[Any], base_url: str) -> Self:
        url = payment.checkout_url
        if url and url.startswith("/"):
            url = base_url.rstrip("/") + url
        return cls(
            id=payment.id,
            status=payment.status,
            method=payment.method,
            amount=payment.amount,
            currency=payment.currency,
            refunded_amount=payment.refunded_amount,
            fee=payment.fee,
            checkout_url=url,
            payee_company_id=payment.payee_company_id,
            payer_company_id=payment.payer_company_id,
            gateway_reference=payment.gateway_reference,
            payer_reference=payment.payer_reference or None,
            created_at=payment.created_at,
            succeeded_at=payment.succeeded_at,
            allocations=[
                Allocation(
                    document_id=a.document_id, amount=a.amount, refunded_amount=a.refunded_amount
                )
                for a in allocations
            ],
            refunds=[
                PaymentRefund(
                    id=r.id,
                    amount=r.amount,
                    status=r.status,
                    reason=r.reason,
                    created_at=r.created_at,
                )
                for r in refunds
            ],
        )


class PaymentList(Body):
    data: list[Payment]


# ---------------------------------------------------------------------------- reconciliation


def _line_amount(value: Decimal) -> str:
    """A bank amount as text: two decimals, or up to five where the statement gave them."""
    text = f"{value:.5f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


LineAmount = Annotated[
    Decimal,
    PlainSerializer(_line_amount, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2,5}$", "examples": ["-250000.00"]}
    ),
]
Day = Annotated[
    dt.date,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


class BankAccount(Body):
    id: int
    name: str
    bank_name: str
    currency: str = Field(examples=["COP"])
    number: str = Field(description="Compact: an IBAN without spaces, or the local number")
    is_iban: bool
    created_at: Timestamp

    @classmethod
    def of(cls, account: Any) -> Self:
        return cls(
            id=account.id,
            name=account.name,
            bank_name=account.bank_name,
            currency=account.currency,
            number=account.number,
            is_iban=account.is_iban,
            created_at=account.created_at,
        )


class BankAccountList(Body):
    data: list[BankAccount]


class StatementImported(Body):
    """What an upload added: the lines new to the account, those already there, the findings
    of the balance check, and what matching did with the new lines."""

    account_id: int
    format: str = Field(examples=["camt053", "mt940", "ofx", "csv"])
    statements: int = Field(description="Statements of the file imported into the account")
    new_lines: int
    duplicates: int = Field(description="Lines already in the account (re-imports add nothing)")
    findings: list[str] = Field(description="For people: a balance that does not add up, …")
    auto_confirmed: int = Field(description="New lines matched automatically")
    suggested: int = Field(description="New lines waiting with suggestions for a person")
    line_ids: list[int] = Field(description="The new lines' ids")
    matching_pending: bool = Field(
        default=False,
        description="True for a long statement, or when the company's payouts are first "
        "fetched from a gateway reached over the network: a job matches its lines in a moment "
        "(list the lines again, or listen for reconciliation.matched)",
    )

    @classmethod
    def of(cls, result: Any, *, waiting: int) -> Self:
        """Return the summary of an ImportResult; waiting: its new lines with suggestions."""
        return cls(
            account_id=result.account.id,
            format=result.format,
            statements=len(result.imports),
            new_lines=result.new_lines,
            duplicates=result.duplicates,
            findings=[str(f) for f in result.findings],
            auto_confirmed=result.confirmed,
            suggested=waiting,
            line_ids=list(result.line_ids),
            matching_pending=result.pending,
        )


class BankLine(Body):
    id: int
    account_id: int
    booking_date: Day
    value_date: Day | None
    amount: LineAmount = Field(description="Signed: money in positive, money out negative")
    currency: str
    reference: str
    end_to_end_id: str
    counterparty_name: str
    counterparty_account: str
    description: str
    status: Literal[LINE_STATUSES]  # type: ignore[valid-type]
    matched_amount: LineAmount = Field(description="How much confirmed matches account for")
    created_at: Timestamp

    @classmethod
    def of(cls, line: Any) -> Self:
        return cls(
            id=line.id,
            account_id=line.bank_account_id,
            booking_date=line.booking_date,
            value_date=line.value_date,
            amount=line.amount,
            currency=line.currency,
            reference=line.reference,
            end_to_end_id=line.end_to_end_id,
            counterparty_name=line.counterparty_name,
            counterparty_account=line.counterparty_account,
            description=line.description,
            status=line.status,
            matched_amount=line.matched_amount,
            created_at=line.created_at,
        )


class BankLineList(Body):
    data: list[BankLine]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page")


class Evidence(Body):
    code: str = Field(examples=["amount_exact", "reference", "end_to_end"])
    label: str = Field(description="The evidence named for people, in the request's language")
    points: float
    detail: str


class MatchItem(Body):
    kind: Literal[MATCH_KINDS]  # type: ignore[valid-type]
    document_id: int | None
    payment_id: int | None
    payout_id: int | None
    amount: LineAmount
    label: str = Field(description="For people: the invoice number and partner, PAY-000123, …")


class Match(Body):
    id: int
    bank_line_id: int
    status: Literal[MATCH_STATUSES]  # type: ignore[valid-type]
    score: float = Field(description="0 to 100")
    auto: bool = Field(description="Confirmed without a person")
    manual: bool = Field(description="Chosen by a person")
    fee: LineAmount
    evidence: list[Evidence]
    items: list[MatchItem]
    confirmed_at: Timestamp | None
    undone_at: Timestamp | None

    @classmethod
    def of(cls, view: Any, labels: dict[str, str]) -> Self:
        """Return a match with what it settles (a queries.MatchView)."""
        match = view.match
        return cls(
            id=match.id,
            bank_line_id=match.bank_line_id,
            status=match.status,
            score=match.score,
            auto=match.auto,
            manual=match.manual,
            fee=match.fee,
            evidence=[
                Evidence(
                    code=str(e.get("code", "")),
                    label=labels.get(str(e.get("code", "")), str(e.get("code", ""))),
                    points=float(e.get("points") or 0),
                    detail=str(e.get("detail") or ""),
                )
                for e in match.evidence or []
                if isinstance(e, dict)
            ],
            items=[
                MatchItem(
                    kind=i.kind,
                    document_id=i.document_id,
                    payment_id=i.payment_id,
                    payout_id=i.payout_id,
                    amount=i.amount,
                    label=i.label,
                )
                for i in view.items
            ],
            confirmed_at=match.confirmed_at,
            undone_at=match.undone_at,
        )


class MatchList(Body):
    data: list[Match]


# The outbound webhook reconciliation.matched (described in the document's `webhooks`).


class MatchedLine(Body):
    id: int
    booking_date: str = Field(description="YYYY-MM-DD")
    amount: str = Field(description="Signed decimal text, as the statement gave it")
    currency: str
    reference: str | None
    end_to_end_id: str | None


class MatchedItem(Body):
    kind: Literal[MATCH_KINDS]  # type: ignore[valid-type]
    document_id: int | None
    payment_id: int | None = Field(description="For an invoice: the payment the match recorded")
    payout_id: int | None
    amount: str


class MatchedData(Body):
    match_id: int
    bank_line: MatchedLine
    auto: bool
    fee: str
    items: list[MatchedItem]


class ReconciliationMatched(Body):
    """The body POSTed to an endpoint subscribed to reconciliation.matched."""

    type: Literal["reconciliation.matched"]
    created_at: str = Field(description="ISO 8601, UTC")
    data: MatchedData


# ------------------------------------------------------------------------------------ orders


def _decimal_text(value: Decimal) -> str:
    """A quantity or a price as text: as many decimals as it has (at most six), no exponent."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


DecimalText = Annotated[
    Decimal,
    PlainSerializer(_decimal_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,6})?$", "examples": ["12"]}),
]


class OrderLine(Body):
    position: int
    item_id: int | None = Field(description="The catalog item (null once it was deleted)")
    item_code: str = Field(description="The supplier's code of the item, as ordered")
    gtin: str
    name: str
    unit_code: str = Field(examples=["94", "KGM"])
    quantity: DecimalText
    price: DecimalText = Field(description="The unit price the buyer was offered")
    tax_percent: DecimalText | None
    line_extension: Money
    status: Literal[ORDER_LINE_STATUSES] | None = Field(  # type: ignore[valid-type]
        description="The supplier's answer (null until it answers)"
    )
    agreed_quantity: DecimalText | None = Field(description="Changed by the supplier")
    agreed_price: DecimalText | None = Field(description="Changed by the supplier")
    agreed_delivery_date: Day | None
    substitute_item_code: str | None = Field(description="The item the supplier sends instead")
    substitute_name: str | None
    despatched_quantity: DecimalText
    received_quantity: DecimalText

    @classmethod
    def of(cls, line: Any) -> Self:
        """Return an order line with the supplier's answer and what was delivered."""
        return cls(
            position=line.position,
            item_id=line.item_id,
            item_code=line.seller_item_id,
            gtin=line.standard_item_id,
            name=line.name,
            unit_code=line.unit_code,
            quantity=line.quantity,
            price=line.price,
            tax_percent=line.tax_percent,
            line_extension=line.line_extension,
            status=line.line_status,
            agreed_quantity=line.agreed_quantity,
            agreed_price=line.agreed_price,
            agreed_delivery_date=line.agreed_delivery_date,
            substitute_item_code=line.substitute_seller_item_id or None,
            substitute_name=line.substitute_name or None,
            despatched_quantity=line.despatched_quantity,
            received_quantity=line.received_quantity,
        )


class OrderParty(Body):
    company_id: int
    name: str
    tax_id: str
    country: str


class Order(Body):
    id: int
    number: str
    side: Literal["buyer", "supplier"] = Field(description="What the company is to this order")
    status: Literal[ORDER_STATUSES] = Field(  # type: ignore[valid-type]
        description="sent → accepted, rejected or changed (by the supplier) → confirmed or "
        "cancelled (by the buyer); accepted and confirmed orders are agreed"
    )
    buyer: OrderParty
    supplier: OrderParty
    issue_date: Day
    delivery_date: Day | None
    delivery_address: str
    buyer_reference: str
    note: str
    currency: str = Field(examples=["COP"])
    line_extension: Money = Field(description="The lines' total before tax")
    tax_amount: Money
    payable: Money
    origin: str = Field(examples=["portal", "api"])
    response_note: str = Field(description="The supplier's note with its answer")
    created_at: Timestamp
    responded_at: Timestamp | None
    closed_at: Timestamp | None = Field(description="Confirmed, cancelled or rejected")
    cancel_reason: str = Field(description="The buyer's reason, when it cancelled (or empty)")
    lines: list[OrderLine]

    @classmethod
    def of(cls, view: Any, company_id: int) -> Self:
        """Return an order (a queries.OrderView) as company_id sees it."""
        order = view.order
        return cls(
            id=order.id,
            number=order.number,
            side="buyer" if order.buyer_company_id == company_id else "supplier",
            status=order.status,
            buyer=_party(view.buyer),
            supplier=_party(view.supplier),
            issue_date=order.issue_date,
            delivery_date=order.delivery_date,
            delivery_address=order.delivery_address,
            buyer_reference=order.buyer_reference,
            note=order.note,
            currency=order.currency,
            line_extension=order.line_extension,
            tax_amount=order.tax_amount,
            payable=order.payable,
            origin=order.origin,
            response_note=order.response_note,
            created_at=order.created_at,
            responded_at=order.responded_at,
            closed_at=order.closed_at,
            cancel_reason=order.cancel_reason,
            lines=[OrderLine.of(line) for line in view.lines],
        )


def _party(company: Any) -> OrderParty:
    return OrderParty(
        company_id=company.id,
        name=company.trade_name or company.legal_name,
        tax_id=company.tax_id,
        country=company.country,
    )


class DeliveryLine(Body):
    position: int = Field(description="The order line's position")
    item_code: str
    name: str
    unit_code: str
    quantity: DecimalText = Field(description="Despatched or received with this delivery")


class Delivery(Body):
    """A despatch the supplier recorded (written as a DespatchAdvice) or a receipt the buyer
    recorded."""

    id: int
    order_id: int
    kind: Literal["despatch", "receipt"]
    number: str = Field(examples=["OC-000001-D1", "OC-000001-E1"])
    day: Day
    note: str
    has_document: bool = Field(
        description="A despatch's UBL DespatchAdvice: GET /orders/{order_id}/deliveries/{id}/xml"
    )
    created_at: Timestamp
    lines: list[DeliveryLine]

    @classmethod
    def of(cls, delivery: Any, parts: list[tuple[Any, Decimal]]) -> Self:
        """Return a delivery with its (order line, quantity) parts."""
        return cls(
            id=delivery.id,
            order_id=delivery.order_id,
            kind=delivery.kind,
            number=delivery.number,
            day=delivery.day,
            note=delivery.note,
            has_document=delivery.kind == "despatch",
            created_at=delivery.created_at,
            lines=[
                DeliveryLine(position=line.position, item_code=line.seller_item_id,
                             name=line.name, unit_code=line.unit_code, quantity=quantity)
                for line, quantity in parts
            ],
        )


class DeliveryList(Body):
    data: list[Delivery] = Field(description="Oldest first")


class OrderSummary(Body):
    """An order in a list (GET /orders/{id} for its lines)."""

    id: int
    number: str
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    buyer_company_id: int
    supplier_company_id: int
    partner_name: str = Field(description="The other company")
    issue_date: Day
    delivery_date: Day | None
    buyer_reference: str
    currency: str
    payable: Money
    origin: str
    created_at: Timestamp

    @classmethod
    def of(cls, order: Any, partner: Any) -> Self:
        return cls(
            id=order.id,
            number=order.number,
            status=order.status,
            buyer_company_id=order.buyer_company_id,
            supplier_company_id=order.supplier_company_id,
            partner_name=partner.trade_name or partner.legal_name,
            issue_date=order.issue_date,
            delivery_date=order.delivery_date,
            buyer_reference=order.buyer_reference,
            currency=order.currency,
            payable=order.payable,
            origin=order.origin,
            created_at=order.created_at,
        )


class OrderList(Body):
    data: list[OrderSummary]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page")


# ----------------------------------------------------------------------------------- catalog


class CatalogItem(Body):
    id: int
    seller_item_id: str = Field(description="The company's code for the item")
    standard_item_id: str = Field(description="GTIN, or empty")
    name: str
    description: str
    unit_code: str
    price: DecimalText
    currency: str
    tax_percent: DecimalText | None
    min_quantity: DecimalText
    pack_size: DecimalText
    availability: Literal[CATALOG_AVAILABILITIES]  # type: ignore[valid-type]
    lead_time_days: int | None
    categories: list[str]
    visibility: Literal[CATALOG_VISIBILITIES]  # type: ignore[valid-type]
    customers: list[int] = Field(description="For visibility chosen: who sees it")
    published: bool
    has_image: bool
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, item: Any, customers: list[int]) -> Self:
        return cls(
            id=item.id,
            seller_item_id=item.seller_item_id,
            standard_item_id=item.standard_item_id,
            name=item.name,
            description=item.description,
            unit_code=item.unit_code,
            price=item.price,
            currency=item.currency,
            tax_percent=item.tax_percent,
            min_quantity=item.min_quantity,
            pack_size=item.pack_size,
            availability=item.availability,
            lead_time_days=item.lead_time_days,
            categories=item.category_list,
            visibility=item.visibility,
            customers=customers,
            published=item.published,
            has_image=item.image_type is not None,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


class CatalogItemList(Body):
    data: list[CatalogItem]
    next_offset: int | None = Field(description="Pass it as `offset` for the next page")


class ImportedRow(Body):
    line: int = Field(description="The row's number in the file")
    code: str
    name: str
    accepted: bool
    created: bool = Field(description="Added (true) or an existing item changed (false)")
    message: str = Field(description="For people: added, updated, or why it was refused")


class SkippedRow(Body):
    line: int
    reason: str


class CatalogImported(Body):
    """The report of an import: every row, taken or refused (a refused row changes nothing)."""

    accepted: int
    refused: int
    rows: list[ImportedRow]
    skipped: list[SkippedRow] = Field(
        description="Rows not read as items (the header, and any title lines above it)")

    @classmethod
    def of(cls, report: Any) -> Self:
        return cls(
            accepted=report.accepted,
            refused=report.refused,
            rows=[
                ImportedRow(
                    line=r.line,
                    code=r.code,
                    name=r.name,
                    accepted=r.accepted,
                    created=r.created,
                    message=str(r.message),
                )
                for r in report.rows
            ],
            skipped=[SkippedRow(line=line, reason=str(why)) for line, why in report.skipped],
        )


class CatalogHit(Body):
    """An item a buyer may order, at the price it pays today."""

    item_id: int
    supplier_id: int
    supplier_name: str
    item_code: str = Field(description="The supplier's code: use it in POST /orders")
    gtin: str
    name: str
    snippet: str = Field(description="The start of the description")
    unit_code: str
    price: DecimalText = Field(description="What you pay today")
    list_price: DecimalText
    customer_price: bool = Field(description="`price` is your own negotiated price")
    currency: str
    tax_percent: DecimalText | None
    min_quantity: DecimalText
    pack_size: DecimalText
    availability: Literal[CATALOG_AVAILABILITIES]  # type: ignore[valid-type]
    lead_time_days: int | None
    own: bool = Field(description="An item of your own catalog")

    @classmethod
    def of(cls, hit: Any) -> Self:
        return cls(
            item_id=hit.item_id,
            supplier_id=hit.supplier_id,
            supplier_name=hit.supplier_name,
            item_code=hit.code,
            gtin=hit.gtin,
            name=hit.name,
            snippet=hit.snippet,
            unit_code=hit.unit_code,
            price=hit.price,
            list_price=hit.list_price,
            customer_price=hit.customer_price,
            currency=hit.currency,
            tax_percent=hit.tax_percent,
            min_quantity=hit.min_quantity,
            pack_size=hit.pack_size,
            availability=hit.availability,
            lead_time_days=hit.lead_time_days,
            own=hit.own,
        )


class CatalogHits(Body):
    data: list[CatalogHit]
    next_offset: int | None = Field(description="Pass it as `offset` for the next page")


# The outbound webhooks order.received and order.responded (the document's `webhooks`): the
# order as ``app.services.orders.placing.order_data`` writes it.


class OrderDataLine(Body):
    position: int
    item_code: str
    name: str
    quantity: str = Field(description="Decimal text")
    unit_code: str
    price: str = Field(description="Decimal text")
    status: Literal[ORDER_LINE_STATUSES] | None  # type: ignore[valid-type]
    agreed_quantity: str | None
    agreed_price: str | None


class OrderData(Body):
    id: int = Field(description="GET /orders/{id} reads it")
    number: str
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    buyer_company_id: int
    supplier_company_id: int
    issue_date: str = Field(description="YYYY-MM-DD")
    delivery_date: str | None = Field(description="YYYY-MM-DD")
    currency: str
    payable: str = Field(description="Decimal text")
    buyer_reference: str
    cancel_reason: str = Field(description="The buyer's reason, when it cancelled (or empty)")
    lines: list[OrderDataLine]


class OrderReceived(Body):
    """The body POSTed to the supplier's endpoints subscribed to order.received."""

    type: Literal["order.received"]
    created_at: str = Field(description="ISO 8601, UTC")
    data: OrderData


class OrderResponded(Body):
    """The body POSTed to both companies' endpoints subscribed to order.responded."""

    type: Literal["order.responded"]
    created_at: str = Field(description="ISO 8601, UTC")
    data: OrderData
