"""Stripe, through its official SDK: Checkout Sessions, signed webhooks, refunds, payouts.

One ``stripe.StripeClient`` per adapter, built from the connection's secret key (never the
SDK's global ``stripe.api_key``, which every connection would share). Tests hand in their own
``stripe.HTTPClient``; nothing here reaches the network otherwise.

The portal's payment id travels as the session's ``client_reference_id`` and as
``metadata[payment_reference]`` on the session and on its PaymentIntent, from which Stripe
copies it to the charge, so refunds and payouts name the payment too. Every amount crosses
through :func:`currencies.to_minor` / :func:`currencies.from_minor` with ``gateway="stripe"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import stripe

from app.gateways import base
from app.gateways.currencies import CurrencyError, from_minor, to_minor

GATEWAY = "stripe"

# (key, label in English, secret?) for the connect form, which translates the labels.
CREDENTIAL_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("secret_key", "Secret key (sk_live_…, sk_test_… or a restricted key rk_…)", True),
    ("webhook_secret", "Webhook signing secret (whsec_…)", True),
)

CURRENCIES = ("USD", "EUR", "MXN", "COP", "CLP")
MAX_LINES = 100
METADATA_KEY = "payment_reference"

_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
_TEST_PREFIXES = ("sk_test_", "rk_test_")
_WEBHOOK_PREFIX = "whsec_"

# The SDK retries connection errors, 409 and 5xx; every POST carries an idempotency key, so a
# retry never creates a second session or refund.
_NETWORK_RETRIES = 2

# Stripe's own refund reasons; any other reason text travels in the refund's metadata only.
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_REFUND_STATUS = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}
_PAYOUT_STATUS = {
    "paid": "paid",
    "pending": "pending",
    "in_transit": "in_transit",
    "failed": "failed",
    "canceled": "failed",
}
# Balance transaction types → settlement line kinds. Any other type (transfers, reserves,
# failed refunds…) is an "adjustment", so the lines still add up to the payout; the payout's
# own transaction is not a line.
_LINE_KINDS = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "stripe_fee": "fee",
    "application_fee": "fee",
    "stripe_fx_fee": "fee",
    "tax_fee": "fee",
    "adjustment": "adjustment",
}
_SESSION_EVENTS = {
    "checkout.session.async_payment_succeeded": base.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": base.PAYMENT_FAILED,
    "checkout.session.expired": base.PAYMENT_CANCELED,
}
_INTENT_KINDS = {
    "succeeded": base.PAYMENT_SUCCEEDED,
    "canceled": base.PAYMENT_CANCELED,
}
IGNORED = "ignored"


def is_test_mode(credentials: Mapping[str, str]) -> bool:
    """Tell whether the credentials' secret key is a test-mode key (sk_test_/rk_test_)."""
    return (credentials.get("secret_key") or "").strip().startswith(_TEST_PREFIXES)


def credential_problems(credentials: Mapping[str, str]) -> dict[str, str]:
    """Name the keys that cannot be Stripe's (a publishable key pasted for the secret one…)."""
    problems = {}
    if not (credentials.get("secret_key") or "").strip().startswith(_KEY_PREFIXES):
        problems["secret_key"] = ", ".join(_KEY_PREFIXES)  # prefixes, not keys
    if not (credentials.get("webhook_secret") or "").strip().startswith(_WEBHOOK_PREFIX):
        problems["webhook_secret"] = _WEBHOOK_PREFIX
    return problems


class StripeGateway:
    """The Stripe adapter: Checkout Sessions for cards, webhooks, refunds and payouts."""

    name = GATEWAY

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        secret_key = (credentials.get("secret_key") or "").strip()
        if not secret_key.startswith(_KEY_PREFIXES):
            raise base.GatewayError(
                "Stripe: the secret key must start with sk_live_, sk_test_, rk_live_ or rk_test_"
                " (a publishable key pk_… cannot be used on the server)"
            )
        self._webhook_secret = (credentials.get("webhook_secret") or "").strip()
        self._test_mode = secret_key.startswith(_TEST_PREFIXES)
        self._client = stripe.StripeClient(
            secret_key,
            # A payer waits on the page while the checkout is created: 10 s per attempt
            # (connect, read), not the SDK's 80, so a slow Stripe fails in seconds.
            http_client=http_client or stripe.RequestsClient(timeout=(5, 10)),
            max_network_retries=_NETWORK_RETRIES,
        )

    def capabilities(self) -> base.Capabilities:
        """Describe what this connection offers: cards, five currencies, 100 lines."""
        return base.Capabilities(
            methods=(base.CARD,),
            currencies=CURRENCIES,
            max_lines=MAX_LINES,
            test_mode=self._test_mode,
        )

    # -- checkout -------------------------------------------------------------------------

    def create_checkout(self, request: base.CheckoutRequest) -> base.Checkout:
        """Create a Checkout Session (one line per invoice) and return where to send the payer."""
        params = _session_params(request)
        _require_key(request.idempotency_key)
        with _stripe_errors("creating the checkout"):
            session = self._client.v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": request.idempotency_key},
            ).to_dict()
        if not session.get("id") or not session.get("url"):
            raise base.GatewayError("Stripe: the checkout session came back without its URL")
        return base.Checkout(
            gateway_reference=session["id"],
            url=session["url"],
            expires_at=_moment(session.get("expires_at")),
        )

    def fetch_payment(self, gateway_reference: str) -> base.PaymentStatus:
        """Ask Stripe how the Checkout Session (or a PaymentIntent, ``pi_…``) stands."""
        if (gateway_reference or "").startswith("pi_"):
            return self._intent_status(gateway_reference)
        session = self._session(gateway_reference)
        status, paid = session.get("status"), session.get("payment_status")
        if status == "complete" and paid == "paid":
            kind = base.PAYMENT_SUCCEEDED
        elif status == "expired":
            kind = base.PAYMENT_CANCELED
        else:  # open, or complete while an asynchronous payment is still on its way
            kind = base.PAYMENT_PENDING
        with _stripe_errors("reading the checkout"):
            amount, currency = _money(session.get("amount_total"), session.get("currency"))
        return base.PaymentStatus(
            gateway_reference=session.get("id") or gateway_reference,
            kind=kind,
            reference=_session_reference(session),
            amount=amount,
            currency=currency,
            method=_method(session),
        )

    def _intent_status(self, intent_id: str) -> base.PaymentStatus:
        """A PaymentIntent as a payment status: the events about charges (refunds, disputes)
        name the PaymentIntent, whose metadata holds the portal's payment id."""
        with _stripe_errors("reading the payment"):
            intent = self._client.v1.payment_intents.retrieve(intent_id).to_dict()
            status = intent.get("status")
            received = intent.get("amount_received") if status == "succeeded" else None
            amount, currency = _money(received or intent.get("amount"), intent.get("currency"))
        kind = _INTENT_KINDS.get(status or "", base.PAYMENT_PENDING)
        types = intent.get("payment_method_types") or []
        return base.PaymentStatus(
            gateway_reference=intent.get("id") or intent_id,
            kind=kind,
            reference=_metadata_reference(intent),
            amount=amount,
            currency=currency,
            method=base.CARD if base.CARD in types else None,
        )

    # -- refunds --------------------------------------------------------------------------

    def refund(self, request: base.RefundRequest) -> base.RefundResult:
        """Refund part or all of the session's payment (its PaymentIntent)."""
        _require_key(request.idempotency_key)
        session = self._session(request.gateway_reference)
        payment_intent = session.get("payment_intent")
        if isinstance(payment_intent, dict):
            payment_intent = payment_intent.get("id")
        if not payment_intent:
            raise base.GatewayError("Stripe: this checkout was never paid, nothing to refund")
        currency = (request.currency or "").upper()
        if currency != (session.get("currency") or "").upper():
            raise base.GatewayError(
                f"Stripe: the refund is in {currency} but the payment was in "
                f"{(session.get('currency') or '').upper()}"
            )
        amount = _minor(request.amount, currency)
        if amount <= 0:
            raise base.GatewayError("Stripe: a refund must be more than zero")
        metadata = {}
        reference = _session_reference(session)
        if reference:
            metadata[METADATA_KEY] = reference
        if request.reason:
            metadata["reason"] = request.reason[:500]
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": metadata,
        }
        if request.reason in _REFUND_REASONS:
            params["reason"] = request.reason
        with _stripe_errors("refunding"):
            refund = self._client.v1.refunds.create(
                params=params,
                options={"idempotency_key": request.idempotency_key},
            ).to_dict()
            refunded, _ = _money(refund.get("amount"), refund.get("currency") or currency)
        return base.RefundResult(
            refund_reference=refund["id"],
            status=_REFUND_STATUS.get(refund.get("status") or "", "pending"),
            amount=refunded if refunded is not None else request.amount,
        )

    # -- payouts --------------------------------------------------------------------------

    def list_settlements(self, *, since: date | None = None) -> list[base.Settlement]:
        """List the payouts created since ``since`` with the balance transactions each settles."""
        params: dict[str, Any] = {"limit": 100}
        if since is not None:
            start = datetime.combine(since, time.min, tzinfo=UTC)
            params["created"] = {"gte": int(start.timestamp())}
        settlements = []
        with _stripe_errors("listing payouts"):
            for payout in _each(self._client.v1.payouts.list, params):
                lines = tuple(
                    line
                    for txn in _each(
                        self._client.v1.balance_transactions.list,
                        {"payout": payout["id"], "limit": 100, "expand": ["data.source"]},
                    )
                    if (line := _settlement_line(txn)) is not None
                )
                settlements.append(
                    base.Settlement(
                        settlement_id=payout["id"],
                        currency=(payout.get("currency") or "").upper(),
                        paid_on=_day(payout.get("arrival_date")),
                        amount=from_minor(payout["amount"], payout["currency"], GATEWAY),
                        status=_PAYOUT_STATUS.get(payout.get("status") or "", "pending"),
                        lines=lines,
                    )
                )
        return settlements

    # -- webhooks -------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[base.GatewayEvent]:
        """Verify the Stripe-Signature header (5 minutes' tolerance) and read the event."""
        signature = base.header(headers, "Stripe-Signature")
        if not signature:
            raise base.SignatureError("Stripe: the webhook has no Stripe-Signature header")
        if not self._webhook_secret:
            raise base.SignatureError("Stripe: no webhook signing secret is configured")
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise base.SignatureError("Stripe: the webhook body is not UTF-8") from None
        try:
            event = self._client.construct_event(text, signature, self._webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise base.SignatureError(f"Stripe: {exc.user_message}") from exc
        except ValueError as exc:  # signed, yet not a snapshot event's JSON
            raise base.GatewayError(f"Stripe: unreadable webhook ({exc})") from exc
        try:
            return [self._event(event.to_dict())]
        except (CurrencyError, KeyError, TypeError, AttributeError) as exc:
            raise base.GatewayError(f"Stripe: unreadable webhook ({exc!r})") from exc

    def _event(self, event: dict[str, Any]) -> base.GatewayEvent:
        raw_type = str(event.get("type") or "")
        data = event.get("data") or {}
        obj = data.get("object") if isinstance(data, dict) else None
        ignored = base.GatewayEvent(
            event_id=event["id"],
            kind=IGNORED,
            reference=None,
            gateway_reference=None,
            occurred_at=_moment(event.get("created")),
            raw_type=raw_type,
        )
        # A test-mode event on a live connection (or the reverse) moved no real money here.
        if not isinstance(obj, dict) or bool(event.get("livemode")) == self._test_mode:
            return ignored
        if raw_type == "checkout.session.completed" or raw_type in _SESSION_EVENTS:
            if obj.get("mode") != "payment":
                return ignored
            if raw_type == "checkout.session.completed":
                paid = obj.get("payment_status") == "paid"
                kind = base.PAYMENT_SUCCEEDED if paid else base.PAYMENT_PENDING
            else:
                kind = _SESSION_EVENTS[raw_type]
            amount, currency = _money(obj.get("amount_total"), obj.get("currency"))
            return replace(
                ignored,
                kind=kind,
                reference=_session_reference(obj),
                gateway_reference=obj.get("id"),
                amount=amount,
                currency=currency,
                method=_method(obj),
            )
        if raw_type == "charge.refunded":
            latest = _latest_refund(obj)
            amount, currency = _money(latest.get("amount") if latest else None, obj.get("currency"))
            refunded_total, _ = _money(obj.get("amount_refunded"), obj.get("currency"))
            return replace(
                ignored,
                kind=base.REFUND_SUCCEEDED,
                reference=_metadata_reference(obj) or _expanded_reference(obj, "payment_intent"),
                gateway_reference=_id(obj.get("payment_intent")) or obj.get("id"),
                amount=amount,
                currency=currency,
                method=_charge_method(obj),
                refund_reference=latest.get("id") if latest else None,
                refunded_total=refunded_total,
            )
        if raw_type == "charge.dispute.created":
            # A dispute's own metadata is empty: the payment's id is on its PaymentIntent (and
            # the charge), readable here only when the event carries them expanded. Otherwise
            # the reference is None and the service asks fetch_payment(<the PaymentIntent id>).
            amount, currency = _money(obj.get("amount"), obj.get("currency"))
            return replace(
                ignored,
                kind=base.PAYMENT_DISPUTED,
                reference=_metadata_reference(obj)
                or _expanded_reference(obj, "payment_intent")
                or _expanded_reference(obj, "charge"),
                gateway_reference=_id(obj.get("payment_intent")) or _id(obj.get("charge")),
                amount=amount,
                currency=currency,
            )
        return ignored

    def _session(self, gateway_reference: str) -> dict[str, Any]:
        if not gateway_reference:
            raise base.GatewayError("Stripe: no checkout session id")
        with _stripe_errors("reading the checkout"):
            return self._client.v1.checkout.sessions.retrieve(gateway_reference).to_dict()


# -- helpers ------------------------------------------------------------------------------


def _session_params(request: base.CheckoutRequest) -> dict[str, Any]:
    currency = (request.currency or "").upper()
    if currency not in CURRENCIES:
        raise base.GatewayError(f"Stripe: {request.currency!r} is not offered for checkout")
    lines = tuple(request.lines)
    if not lines:
        raise base.GatewayError("Stripe: a checkout needs at least one invoice")
    if len(lines) > MAX_LINES:
        raise base.GatewayError(
            f"Stripe: a checkout takes at most {MAX_LINES} invoices ({len(lines)} given)"
        )
    amounts = [_minor(line.amount, currency) for line in lines]
    if any(amount <= 0 for amount in amounts):
        raise base.GatewayError("Stripe: every invoice paid must be more than zero")
    if sum(amounts) != _minor(request.amount, currency):
        raise base.GatewayError("Stripe: the invoices do not add up to the payment's amount")
    reference = {METADATA_KEY: request.reference}
    payment_intent_data: dict[str, Any] = {"metadata": dict(reference)}
    if request.description:
        payment_intent_data["description"] = request.description
    params: dict[str, Any] = {
        "mode": "payment",
        # Cards only, as capabilities() says: no asynchronous method the portal does not offer.
        "payment_method_types": [base.CARD],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": amount,
                    "product_data": {"name": line.description or line.reference},
                },
            }
            for line, amount in zip(lines, amounts, strict=True)
        ],
        "client_reference_id": request.reference,
        "metadata": reference,
        "payment_intent_data": payment_intent_data,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    return params


def _require_key(idempotency_key: str) -> None:
    # Without one the SDK would make up a random key per call, and a retry would pay or
    # refund twice.
    if not (idempotency_key or "").strip():
        raise base.GatewayError("Stripe: an idempotency key is required")


def _minor(amount: Decimal, currency: str) -> int:
    try:
        return to_minor(amount, currency, GATEWAY)
    except CurrencyError as exc:
        raise base.GatewayError(f"Stripe: {exc}") from exc


def _money(value: Any, currency: Any) -> tuple[Decimal | None, str | None]:
    """A Stripe integer and currency as (Decimal, 'USD'); (None, …) when either is missing."""
    if not currency:
        return None, None
    code = str(currency).upper()
    if value is None:
        return None, code
    return from_minor(value, code, GATEWAY), code


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, UTC)


def _day(value: Any) -> date | None:
    moment = _moment(value)
    return moment.date() if moment else None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _metadata_reference(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        value = metadata.get(METADATA_KEY)
        if isinstance(value, str) and value:
            return value
    return None


def _expanded_reference(obj: Mapping[str, Any], key: str) -> str | None:
    """The payment id in the metadata of a related object, when it came expanded (a dict)."""
    related = obj.get(key)
    return _metadata_reference(related) if isinstance(related, dict) else None


def _session_reference(session: Mapping[str, Any]) -> str | None:
    return _metadata_reference(session) or session.get("client_reference_id") or None


def _method(session: Mapping[str, Any]) -> str | None:
    types = session.get("payment_method_types") or []
    return base.CARD if base.CARD in types else None


def _charge_method(charge: Mapping[str, Any]) -> str | None:
    details = charge.get("payment_method_details")
    return base.CARD if isinstance(details, dict) and details.get("type") == "card" else None


def _latest_refund(charge: Mapping[str, Any]) -> dict[str, Any] | None:
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, dict) else None
    candidates = [r for r in data or [] if isinstance(r, dict) and r.get("id")]
    if not candidates:
        return None
    return max(candidates, key=lambda refund: refund.get("created") or 0)


def _settlement_line(txn: Mapping[str, Any]) -> base.SettlementLine | None:
    kind = txn.get("type") or ""
    if kind == "payout":
        return None
    currency = txn["currency"]
    source = txn.get("source")
    metadata_owner = source if isinstance(source, dict) else {}
    return base.SettlementLine(
        kind=_LINE_KINDS.get(kind, "adjustment"),
        gateway_reference=_id(source) or txn["id"],
        amount=from_minor(txn["amount"], currency, GATEWAY),
        fee=from_minor(txn.get("fee") or 0, currency, GATEWAY),
        net=from_minor(txn["net"], currency, GATEWAY),
        reference=_metadata_reference(metadata_owner),
        description=txn.get("description") or kind,
    )


def _each(
    list_call: Callable[..., stripe.ListObject[Any]], params: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Every object of a Stripe list, page after page, as plain dicts."""
    for item in list_call(params=params).auto_paging_iter():
        yield item.to_dict()


def _retryable(exc: stripe.StripeError) -> bool:
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)):
        return True
    status = exc.http_status
    if status is None:
        return isinstance(exc, stripe.APIError)
    return status >= 500 or status in (409, 429)


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    """Turn the SDK's errors (and amounts Stripe sent that cannot be read) into GatewayError."""
    try:
        yield
    except stripe.StripeError as exc:
        message = exc.user_message or type(exc).__name__
        raise base.GatewayError(
            f"Stripe: {action} failed: {message}", retryable=_retryable(exc)
        ) from exc
    except CurrencyError as exc:
        raise base.GatewayError(f"Stripe: {action}: {exc}") from exc
