"""What a payer may pay, and starting a payment: a checkout at the supplier's gateway, or a
bank transfer with proof that the supplier confirms.

A payment is a set of allocations (invoice, amount) of one supplier's invoices in one
currency. Starting it holds each amount of the invoice's open balance (``balances.hold``:
two payers cannot both take it), then asks the gateway for a checkout with the payment's fixed
idempotency key, so a retry after a timeout finds the same checkout.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.extensions import db
from app.gateways import base as gw
from app.gateways import currencies
from app.models.base import utcnow
from app.models.company import Company
from app.models.document import DEBIT_NOTE, INVOICE, Document
from app.models.payment import (
    AWAITING_CONFIRMATION,
    CANCELED,
    CREATED,
    GATEWAYS,
    TRANSFER,
    Payment,
    PaymentAllocation,
    PaymentSettings,
    Refund,
)
from app.models.user import User
from app.numbers import parse_number
from app.services import audit
from app.services.errors import Conflict, DomainError, FieldErrors, NotFound
from app.services.payments import balances, connections, effects, state
from app.tenancy import unscoped

MAX_INVOICES = 100
#: A checkout not finished after this long gives its holds back (``expire_abandoned``).
ABANDONED_AFTER = dt.timedelta(hours=24)
#: Someone else's unfinished checkout for the same invoice is given up after this long.
GIVE_UP_AFTER = dt.timedelta(minutes=30)
#: Attempts at creating a checkout when the gateway times out (same idempotency key each time).
CHECKOUT_ATTEMPTS = 3
#: Proof of a transfer: a photo or a PDF, at most this many bytes.
MAX_PROOF_BYTES = 8 * 1024 * 1024
PROOF_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"}
_ZERO = Decimal("0")


class OverBalance(DomainError):
    """An amount above what is still open on an invoice (the API's 422)."""


@dataclass(frozen=True)
class Item:
    document_id: int
    amount: Decimal | None = None  # None: all that is open


@dataclass(frozen=True)
class Method:
    code: str  # "sandbox", "stripe", "wompi", "transfer"
    label: str
    test_mode: bool = False


@dataclass
class Selection:
    """Invoices one payer chose to pay one supplier, as the review page shows them."""

    supplier: Company
    currency: str
    invoices: list[Document]
    settings: PaymentSettings
    methods: list[Method] = field(default_factory=list)

    def available(self, document: Document) -> Decimal:
        return balances.available(document)

    @property
    def total(self) -> Decimal:
        return sum((balances.available(d) for d in self.invoices), _ZERO)


@dataclass(frozen=True)
class ReturnUrls:
    """Where the gateway sends the payer back; ``{token}`` becomes the payment's access token."""

    success: str
    cancel: str


def parse_amount(text: object, currency: str) -> Decimal:
    """A typed amount ("1234.50", "1.234,50" is refused: one decimal point, no thousands
    separators; ``app.numbers.parse_number``) in the currency."""
    try:
        value = parse_number(text, decimal_mark=".", fixed_mark=True, thousands=False)
    except ValueError:
        value = None
    if value is None:
        raise FieldErrors({"amount": [_l("Write the amount as a number, like 1234.50.")]})
    try:
        return currencies.normalize(value, currency)
    except currencies.CurrencyError:
        raise FieldErrors(
            {"amount": [_l("That amount has more decimals than its currency.")]}
        ) from None


def _documents(ids: Sequence[int], *, payer_company_id: int | None) -> list[Document]:
    """The payer's received invoices with those ids (others' ids are simply not found)."""
    stmt = select(Document).where(Document.id.in_(list(ids)))
    if payer_company_id is None:
        stmt = unscoped(stmt)
    else:
        stmt = stmt.where(Document.receiver_company_id == payer_company_id)
    found = {d.id: d for d in db.session.scalars(stmt.execution_options(populate_existing=True))}
    return [found[i] for i in ids if i in found]


def select_invoices(
    payer_company_id: int | None, document_ids: Sequence[int], *, link: bool = False
) -> Selection:
    """Check that the invoices can be paid together; NotFound for any that is not the payer's."""
    ids = list(dict.fromkeys(int(i) for i in document_ids))
    if not ids:
        raise DomainError(_l("Choose at least one invoice to pay."))
    if len(ids) > MAX_INVOICES:
        raise DomainError(_l("Pay at most %(n)s invoices at a time.", n=MAX_INVOICES))
    documents = _documents(ids, payer_company_id=None if link else payer_company_id)
    if len(documents) != len(ids):
        raise NotFound(_l("That document does not exist."))
    if any(d.document_type not in (INVOICE, DEBIT_NOTE) for d in documents):
        raise DomainError(_l("Only invoices and debit notes are paid; credit notes lower them."))
    suppliers = {d.sender_company_id for d in documents}
    if len(suppliers) != 1:
        raise DomainError(_l("Choose invoices of one supplier: each supplier is paid apart."))
    currencies_ = {d.currency for d in documents}
    if len(currencies_) != 1:
        raise DomainError(_l("Choose invoices in one currency."))
    closed = [d.number for d in documents if balances.available(d) <= 0]
    if closed:
        raise DomainError(_l("Nothing is left to pay on %(numbers)s.", numbers=", ".join(closed)))
    supplier = db.session.scalars(
        unscoped(select(Company).where(Company.id == suppliers.pop()))
    ).one()
    currency = currencies_.pop()
    settings = connections.settings_of(supplier.id)
    selection = Selection(supplier, currency, documents, settings)
    selection.methods = methods_for(supplier.id, currency, settings)
    return selection


def methods_for(payee_company_id: int, currency: str, settings: PaymentSettings) -> list[Method]:
    """The supplier's gateways that take the currency, then its bank transfer."""
    found: list[Method] = []
    seen: set[str] = set()
    for connection in db.session.scalars(
        unscoped(
            select(connections.GatewayConnection).where(
                connections.GatewayConnection.company_id == payee_company_id,
                connections.GatewayConnection.active.is_(True),
            )
        )
    ):
        if connection.gateway in seen:
            continue
        try:
            caps = connections.adapter_for(connection).capabilities()
        except Exception:  # noqa: BLE001, S112 - a connection whose keys do not read is not offered
            continue
        if currency in caps.currencies:
            seen.add(connection.gateway)
            found.append(
                Method(
                    connection.gateway,
                    str(connections.GATEWAY_NAMES[connection.gateway]),
                    connection.test_mode,
                )
            )
    if settings.accept_transfers and (settings.account_number or settings.instructions):
        found.append(Method(TRANSFER, str(_l("Bank transfer"))))
    return found


def _allocations(selection: Selection, items: Sequence[Item]) -> list[tuple[Document, Decimal]]:
    chosen = {item.document_id: item.amount for item in items}
    settings = selection.settings
    result: list[tuple[Document, Decimal]] = []
    for document in selection.invoices:
        open_now = balances.available(document)
        amount = chosen.get(document.id)
        amount = open_now if amount is None else amount
        amount = parse_amount(amount, document.currency)
        if amount <= 0:
            raise FieldErrors({"amount": [_l("Each amount must be more than zero.")]})
        if amount > open_now:
            raise OverBalance(
                _l(
                    "%(number)s has %(open)s open: pay that much at most.",
                    number=document.number,
                    open=f"{open_now} {document.currency}",
                )
            )
        if amount < open_now:
            if not settings.allow_partial:
                raise FieldErrors(
                    {"amount": [_l("This supplier takes each invoice paid in full.")]}
                )
            if amount < settings.partial_minimum:
                raise FieldErrors(
                    {
                        "amount": [
                            _l(
                                "This supplier takes partial payments of %(minimum)s or more.",
                                minimum=f"{settings.partial_minimum} {document.currency}",
                            )
                        ]
                    }
                )
        result.append((document, amount))
    return result


def _again(payer_company_id: int | None, key: str, items: Sequence[Item]) -> Payment | None:
    """The payment already started with this key for these invoices (a double submit, an API
    retry); a Conflict when the key was used for other invoices or amounts. Without a payer
    company (a pay link) only a payment over exactly these invoices is found."""
    stmt = select(Payment).where(Payment.idempotency_key == key)
    if payer_company_id is not None:
        stmt = stmt.where(Payment.payer_company_id == payer_company_id)
    asked = {(i.document_id, i.amount) for i in items}
    for payment in db.session.scalars(unscoped(stmt).execution_options(populate_existing=True)):
        held = {
            (a.document_id, a.amount)
            for a in db.session.scalars(
                unscoped(
                    select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
                )
            )
        }
        same_documents = {d for d, _a in held} == {d for d, _a in asked}
        if payer_company_id is None and not same_documents:
            continue
        if not same_documents or any(a is not None and (d, a) not in held for d, a in asked):
            raise Conflict(_l("That payment was already started with other invoices."))
        return payment
    return None


def _existing(payee_company_id: int, key: str) -> Payment | None:
    return db.session.scalars(
        unscoped(
            select(Payment).where(
                Payment.payee_company_id == payee_company_id, Payment.idempotency_key == key
            )
        )
    ).first()


def start_payment(
    payer_company_id: int | None,
    *,
    items: Sequence[Item],
    method: str,
    actor: User | None,
    urls: ReturnUrls,
    idempotency_key: str | None = None,
    link: bool = False,
    payer_email: str | None = None,
    payer_name: str = "",
) -> Payment:
    """Hold the amounts and open a checkout at the supplier's gateway; the payment, ``created``.

    ``link`` is a payment by a pay link (no account: the documents come from a signed token,
    so they are read across companies). The same ``idempotency_key`` again returns the same
    payment (a double submit, an API retry) — with other items it is a Conflict.
    """
    if idempotency_key:
        again = _again(None if link else payer_company_id, idempotency_key[:80], items)
        if again is not None:
            return again
    _give_up_abandoned(
        None if link else payer_company_id, [i.document_id for i in items], actor=actor
    )
    selection = select_invoices(payer_company_id, [i.document_id for i in items], link=link)
    if link:
        payer_company_id = selection.invoices[0].receiver_company_id
    chosen = _allocations(selection, items)
    key = (idempotency_key or secrets.token_urlsafe(16))[:80]
    existing = _existing(selection.supplier.id, key)
    if existing is not None:
        same = {(a.document_id, a.amount) for a in state.allocations(existing.id)} == {
            (d.id, amount) for d, amount in chosen
        }
        if not same or existing.payer_company_id != payer_company_id:
            raise Conflict(_l("That payment was already started with other invoices."))
        return existing
    if method not in GATEWAYS or method not in {m.code for m in selection.methods}:
        raise FieldErrors({"method": [_l("Choose one of the ways this supplier takes.")]})
    connection = connections.active_connection(selection.supplier.id, method)
    if connection is None:  # pragma: no cover - methods_for offered it a moment ago
        raise FieldErrors({"method": [_l("Choose one of the ways this supplier takes.")]})
    payment = _new_payment(
        selection, chosen, payer_company_id, key, actor, method=method, connection_id=connection.id
    )
    payment.payer_email = payer_email
    payment.payer_name = payer_name[:200]
    request = gw.CheckoutRequest(
        reference=str(payment.id),
        amount=payment.amount,
        currency=payment.currency,
        lines=tuple(gw.CheckoutLine(str(d.id), f"{d.number}", amount) for d, amount in chosen),
        success_url=urls.success.replace("{token}", payment.access_token),
        cancel_url=urls.cancel.replace("{token}", payment.access_token),
        idempotency_key=f"payment-{payment.id}-{key}",
        customer_email=payer_email,
        description=f"{selection.supplier.legal_name}",
    )
    checkout = _create_checkout(connections.adapter_for(connection), request)
    payment.gateway_reference = checkout.gateway_reference
    payment.checkout_url = checkout.url
    db.session.flush()
    audit.record_event(
        actor,
        payer_company_id or selection.supplier.id,
        "payments.started",
        ("payment", payment.id),
        {"amount": str(payment.amount), "currency": payment.currency, "method": method},
    )
    effects.changed(payment)
    return payment


def _give_up_abandoned(
    payer_company_id: int | None, document_ids: list[int], *, actor: User | None
) -> None:
    """The payer's own checkouts for these invoices that were never finished (it left the
    gateway's page, then came back to pay again) give their holds back: otherwise its own
    abandoned attempt would stop it. Only the same person's, or any left for ``GIVE_UP_AFTER``:
    a colleague paying the same invoice right now keeps its hold. Should the old checkout still
    be paid, the gateway's event credits it if the invoice is open, or marks it for review
    (``state.FROM``)."""
    stmt = (
        select(Payment)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(
            Payment.status == CREATED,
            Payment.method.in_(GATEWAYS),
            PaymentAllocation.document_id.in_(document_ids),
        )
        .execution_options(populate_existing=True)
    )
    old = Payment.created_at < utcnow() - GIVE_UP_AFTER
    if actor is not None:
        stmt = stmt.where(or_(Payment.created_by_user_id == actor.id, old))
    else:
        stmt = stmt.where(old)
    if payer_company_id is None:  # a pay link: its invoices come from the signed token
        stmt = unscoped(stmt)
    else:
        stmt = stmt.where(Payment.payer_company_id == payer_company_id)
    for payment in list(db.session.scalars(stmt).unique()):
        if state.fail(payment, CANCELED, reason="replaced by a new attempt"):
            effects.changed(payment)


def expire_abandoned(now: dt.datetime | None = None) -> int:
    """Checkouts left unfinished for a day give their holds back (a periodic job)."""
    now = now or utcnow()
    stale = db.session.scalars(
        unscoped(
            select(Payment).where(
                Payment.status == CREATED,
                Payment.method.in_(GATEWAYS),
                Payment.created_at < now - ABANDONED_AFTER,
            )
        ).limit(500)
    ).all()
    count = 0
    for payment in stale:
        if state.fail(payment, CANCELED, reason="the checkout was never finished"):
            count += 1
    return count


def _create_checkout(adapter: gw.Gateway, request: gw.CheckoutRequest) -> gw.Checkout:
    last: gw.GatewayError | None = None
    for _attempt in range(CHECKOUT_ATTEMPTS):
        try:
            return adapter.create_checkout(request)
        except gw.GatewayError as error:
            last = error
            if not error.retryable:
                break
    raise DomainError(
        _l("The payment gateway did not answer: nothing was charged. Try again in a moment.")
        if last is None or last.retryable
        else _l("The payment gateway refused the payment: %(reason)s", reason=str(last))
    )


def _new_payment(
    selection: Selection,
    chosen: list[tuple[Document, Decimal]],
    payer_company_id: int | None,
    key: str,
    actor: User | None,
    *,
    method: str,
    connection_id: int | None,
    status: str | None = None,
) -> Payment:
    payment = Payment(
        payee_company_id=selection.supplier.id,
        payer_company_id=payer_company_id,
        payer_name=(selection.invoices[0].customer_name or "")[:200],
        method=method,
        connection_id=connection_id,
        currency=selection.currency,
        amount=sum((amount for _d, amount in chosen), _ZERO),
        idempotency_key=key,
        access_token=secrets.token_urlsafe(32),
        created_by_user_id=actor.id if actor else None,
        **({"status": status} if status else {}),
    )
    db.session.add(payment)
    db.session.flush()
    for document, amount in chosen:
        if not balances.hold(document.id, amount):
            raise OverBalance(
                _l(
                    "Someone else is paying %(number)s right now: what is left open is less "
                    "than that.",
                    number=document.number,
                )
            )
        db.session.add(
            PaymentAllocation(
                payment_id=payment.id,
                document_id=document.id,
                payee_company_id=payment.payee_company_id,
                payer_company_id=payer_company_id,
                amount=amount,
            )
        )
    db.session.flush()
    return payment


# ------------------------------------------------------------------- bank transfer with proof


def record_transfer(
    payer_company_id: int,
    *,
    items: Sequence[Item],
    actor: User,
    transfer_date: object,
    reference: str,
    proof: bytes | None,
    proof_filename: str = "",
    proof_content_type: str = "",
    idempotency_key: str | None = None,
) -> Payment:
    """The payer says it transferred the money: the amounts are held until the supplier
    confirms (only then they count) or rejects."""
    if idempotency_key:
        again = _again(payer_company_id, idempotency_key[:80], items)
        if again is not None:
            return again
    selection = select_invoices(payer_company_id, [i.document_id for i in items])
    if not selection.settings.accept_transfers:
        raise FieldErrors({"method": [_l("This supplier does not take bank transfers.")]})
    chosen = _allocations(selection, items)
    errors: dict[str, list[object]] = {}
    if not isinstance(transfer_date, dt.date):
        errors["transfer_date"] = [_l("Give the day of the transfer.")]
    elif transfer_date > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        errors["transfer_date"] = [_l("A transfer cannot be dated in the future.")]
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        errors["reference"] = [
            _l("Give the bank's reference of the transfer (100 characters at most).")
        ]
    if proof is not None:
        if len(proof) > MAX_PROOF_BYTES:
            errors["proof"] = [_l("The receipt is too large (8 MB at most).")]
        elif _sniff(proof) not in PROOF_TYPES:
            errors["proof"] = [_l("The receipt must be a photo (JPEG, PNG, WebP, HEIC) or a PDF.")]
    if errors:
        raise FieldErrors(errors)
    key = (idempotency_key or secrets.token_urlsafe(16))[:80]
    existing = _existing(selection.supplier.id, key)
    if existing is not None:
        return existing
    payment = _new_payment(
        selection,
        chosen,
        payer_company_id,
        key,
        actor,
        method=TRANSFER,
        connection_id=None,
        status=AWAITING_CONFIRMATION,
    )
    payment.transfer_date = transfer_date  # type: ignore[assignment]
    payment.payer_reference = reference
    if proof is not None:
        payment.proof = proof
        payment.proof_filename = (proof_filename or "receipt")[-255:]
        payment.proof_content_type = _sniff(proof)
    db.session.flush()
    audit.record_event(
        actor,
        payer_company_id,
        "payments.transfer_recorded",
        ("payment", payment.id),
        {"amount": str(payment.amount), "currency": payment.currency, "reference": reference},
    )
    effects.transfer_recorded(payment)
    effects.changed(payment)
    return payment


def _sniff(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "image/heic"
    return "application/octet-stream"


def decide_transfer(
    payee_company_id: int, *, payment_id: int, confirm: bool, actor: User, reason: str = ""
) -> Payment:
    """The supplier confirms the transfer arrived (it counts now) or rejects it."""
    payment = db.session.get(Payment, payment_id)
    if (
        payment is None
        or payment.payee_company_id != payee_company_id
        or payment.method != TRANSFER
    ):
        raise NotFound(_l("No such payment."))
    if payment.status != AWAITING_CONFIRMATION:
        raise Conflict(_l("This transfer was already decided."))
    payment.decided_by_user_id = actor.id
    if confirm:
        reached = state.succeed(payment, confirmed=payment.amount)
        if reached is None:
            raise Conflict(_l("This transfer was already decided."))
        action = "payments.transfer_confirmed"
    else:
        if not state.fail(payment, reason=reason or "rejected by the supplier"):
            raise Conflict(_l("This transfer was already decided."))
        action = "payments.transfer_rejected"
    audit.record_event(
        actor, payee_company_id, action, ("payment", payment.id), {"reason": reason[:200]}
    )
    effects.settled(payment)
    return payment


def adopt_link_payments(company_id: int) -> int:
    """A company that registers (and so received the invoices waiting for it) becomes the payer
    of what was paid on them by pay link before: the payments keep their history and count."""
    rows = (
        db.session.execute(
            unscoped(
                select(PaymentAllocation.payment_id)
                .join(Document, Document.id == PaymentAllocation.document_id)
                .where(
                    Document.receiver_company_id == company_id,
                    PaymentAllocation.payer_company_id.is_(None),
                )
                .distinct()
            )
        )
        .scalars()
        .all()
    )
    payment_ids = list(rows)
    if not payment_ids:
        return 0
    db.session.execute(
        update(PaymentAllocation)
        .where(PaymentAllocation.payment_id.in_(payment_ids))
        .values(payer_company_id=company_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Payment)
        .where(Payment.id.in_(payment_ids), Payment.payer_company_id.is_(None))
        .values(payer_company_id=company_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Refund)
        .where(Refund.payment_id.in_(payment_ids), Refund.payer_company_id.is_(None))
        .values(payer_company_id=company_id)
        .execution_options(synchronize_session=False)
    )
    return len(payment_ids)
