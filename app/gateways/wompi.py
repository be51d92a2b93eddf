"""Wompi (Colombia: cards, PSE, Nequi) behind the one gateway interface; no Flask, no database.

What Wompi's public developer documentation (docs.wompi.co, Colombia) says, and what this adapter
does with it:

* **Checkout** — the Web Checkout is a plain GET to ``https://checkout.wompi.co/p/`` with
  ``public-key``, ``currency`` (COP only), ``amount-in-cents``, ``reference``,
  ``signature:integrity`` and the optional ``redirect-url``, ``expiration-time``,
  ``customer-data:email``. The integrity signature is the SHA-256 hex of
  ``<reference><amount in cents><currency>[<expiration time>]<integrity secret>``. No API call
  is made: the URL is computed, so a retried creation gives the very same URL.
* **References** — Wompi refuses a reference once a transaction completed with it, so each
  payment attempt needs its own. The reference sent is ``<portal payment id>_<tag>``, where the
  tag is the first 16 hex digits of the SHA-256 of the attempt's idempotency key: the same
  attempt always sends the same reference (and URL), a new attempt a new one, and
  :func:`payment_reference` reads the portal's id back (the part before the last ``_``; the
  tag has no ``_``). That Wompi reference is the checkout's ``gateway_reference``; the
  transaction id (``1234-1610641025-49201``) only exists once the payer pays, and arrives in
  the events and on the redirect (``?id=``).
* **Events** — a POST with ``event``, ``data``, ``signature{properties, checksum}``,
  ``timestamp`` and ``environment``; the checksum (also in the ``X-Event-Checksum`` header) is
  the SHA-256 hex of the values of the listed ``properties`` (paths under ``data``), then the
  timestamp, then the events secret. Only those properties are signed (in practice
  ``transaction.id``, ``transaction.status``, ``transaction.amount_in_cents``), so an event's
  amount and currency are given only when the amount, the currency and the reference are all
  signed; otherwise they are None and the caller asks :meth:`WompiGateway.fetch_payment`, whose
  answer (from Wompi's API) is the one to trust, its ``reference`` included. Wompi events have no
  id: ``event_id`` is ``<transaction id>:<status>:<timestamp>``.
* **Statuses** — PENDING, APPROVED, DECLINED, VOIDED, ERROR.
* **API** — ``https://sandbox.wompi.co/v1`` for test keys (``pub_test_``…),
  ``https://production.wompi.co/v1`` for production keys. ``GET /transactions/{id}`` reads a
  transaction; ``POST /transactions/{id}/void`` (private key) voids an APPROVED card transaction.
  That is the only refund the API offers: PSE, Nequi and partial refunds are not available
  through it (:meth:`WompiGateway.refund` says so in a :class:`GatewayError`).
* **Settlements** — no public API: :meth:`WompiGateway.list_settlements` answers ``[]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import requests

from app.gateways import base
from app.gateways.currencies import CurrencyError, from_minor, to_minor

GATEWAY = "wompi"
CHECKOUT_URL = "https://checkout.wompi.co/p/"
SANDBOX_API = "https://sandbox.wompi.co/v1"
PRODUCTION_API = "https://production.wompi.co/v1"
TIMEOUT_SECONDS = 10
#: How far in the future an event's timestamp may be (clock skew) before it is refused.
MAX_FUTURE_SKEW_SECONDS = 300
CURRENCIES = ("COP",)

# (key, English label, secret?) — the connection form asks for these, in this order.
CREDENTIAL_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("public_key", "Public key", False),
    ("private_key", "Private key", True),
    ("events_secret", "Events secret", True),
    ("integrity_secret", "Integrity secret", True),
)

# Each key's prefix in the sandbox and in production, as Wompi's dashboard gives them.
_PREFIXES: dict[str, tuple[str, str]] = {
    "public_key": ("pub_test_", "pub_prod_"),
    "private_key": ("prv_test_", "prv_prod_"),
    "events_secret": ("test_events_", "prod_events_"),
    "integrity_secret": ("test_integrity_", "prod_integrity_"),
}

# Wompi's transaction status → what the portal calls it. VOIDED is a card payment annulled
# after its approval: the whole amount goes back, so it is a full refund.
_KINDS = {
    "PENDING": base.PAYMENT_PENDING,
    "APPROVED": base.PAYMENT_SUCCEEDED,
    "DECLINED": base.PAYMENT_FAILED,
    "ERROR": base.PAYMENT_FAILED,
    "VOIDED": base.REFUND_SUCCEEDED,
}

_METHODS = {
    "CARD": base.CARD,
    "PSE": base.PSE,
    "NEQUI": base.NEQUI,
    "BANCOLOMBIA_TRANSFER": base.BANK_TRANSFER,
}

# The portal's payment id travels inside Wompi's reference, which Wompi recommends keeping to
# letters, digits, "-" and "_".
_PORTAL_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TAG = re.compile(r"[0-9a-f]{16}")

Transport = Callable[[str, str, dict[str, str], dict[str, Any] | None], tuple[int, dict]]


def is_test_mode(credentials: Mapping[str, str]) -> bool:
    """Tell whether the connection's keys are Wompi sandbox keys (``pub_test_``…)."""
    for key, (test_prefix, _) in _PREFIXES.items():
        value = (credentials.get(key) or "").strip()
        if value:
            return value.startswith(test_prefix)
    return False


def credential_problems(credentials: Mapping[str, str]) -> dict[str, str]:
    """Name the keys without Wompi's prefix, or of the other environment than the public key."""
    test = is_test_mode(credentials)
    problems = {}
    for key, (test_prefix, prod_prefix) in _PREFIXES.items():
        expected = test_prefix if test else prod_prefix
        if not (credentials.get(key) or "").strip().startswith(expected):
            problems[key] = expected
    return problems


def integrity_signature(
    reference: str,
    amount_in_cents: int,
    currency: str,
    integrity_secret: str,
    expiration_time: str | None = None,
) -> str:
    """Return Wompi's ``signature:integrity`` for a checkout (SHA-256 hex, as documented)."""
    text = f"{reference}{amount_in_cents}{currency}{expiration_time or ''}{integrity_secret}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_checksum(values: list[str], timestamp: int, events_secret: str) -> str:
    """Return the checksum Wompi signs an event with (SHA-256 hex, lower case)."""
    text = "".join(values) + str(timestamp) + events_secret
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def wompi_reference(payment_reference: str, idempotency_key: str) -> str:
    """Return the reference sent to Wompi for one attempt at paying ``payment_reference``."""
    tag = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]
    return f"{payment_reference}_{tag}"


def payment_reference(reference: str | None) -> str | None:
    """Return the portal's payment id inside a Wompi reference (None when it holds none)."""
    if not isinstance(reference, str) or "_" not in reference:
        return None
    portal, tag = reference.rsplit("_", 1)
    if not _PORTAL_REFERENCE.fullmatch(portal) or not _TAG.fullmatch(tag):
        return None
    return portal


def requests_transport(
    method: str, url: str, headers: dict[str, str], json_body: dict[str, Any] | None
) -> tuple[int, dict]:
    """Send one request with ``requests`` (10 s timeout); a body that is not a JSON object is {}."""
    response = requests.request(
        method, url, headers=headers, json=json_body, timeout=TIMEOUT_SECONDS
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


class WompiGateway:
    """The Wompi adapter: built per call from a connection's credentials, holds no state."""

    name = GATEWAY

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        transport: Transport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._credentials = {k: (v or "").strip() for k, v in dict(credentials).items()}
        self._transport = transport or requests_transport
        self._clock = clock or time.time
        self.test_mode = is_test_mode(self._credentials)
        self.api_base = SANDBOX_API if self.test_mode else PRODUCTION_API

    # -- the interface ---------------------------------------------------------------------

    def capabilities(self) -> base.Capabilities:
        """Say what Wompi takes: cards, PSE and Nequi, in Colombian pesos."""
        return base.Capabilities(
            methods=(base.CARD, base.PSE, base.NEQUI),
            currencies=CURRENCIES,
            max_lines=100,
            test_mode=self.test_mode,
        )

    def create_checkout(self, request: base.CheckoutRequest) -> base.Checkout:
        """Build the signed Web Checkout URL (no API call: the same request gives the same URL).

        The payer comes back to ``success_url`` whatever happened (Wompi adds ``?id=`` with the
        transaction id; it has no separate cancel URL), so the outcome is read from the events
        or :meth:`fetch_payment`, never from the redirect. No ``expiration-time`` is sent: a
        deadline computed from the clock would change the URL of a retried creation.
        """
        public_key = self._key("public_key")
        secret = self._key("integrity_secret")
        currency = (request.currency or "").upper()
        if currency not in CURRENCIES:
            raise base.GatewayError(f"Wompi charges only in COP, not {request.currency!r}")
        if not _PORTAL_REFERENCE.fullmatch(request.reference or ""):
            raise base.GatewayError(
                "the payment reference must be 1 to 64 letters, digits, '-' or '_'"
            )
        if not request.idempotency_key:
            raise base.GatewayError("a checkout needs its attempt's idempotency key")
        if len(request.lines) > 100:
            raise base.GatewayError("a Wompi checkout pays at most 100 invoices")
        if request.lines and sum(line.amount for line in request.lines) != request.amount:
            raise base.GatewayError("the checkout's amount is not the sum of its lines")
        if request.amount <= 0:
            raise base.GatewayError("a checkout's amount must be positive")
        try:
            cents = to_minor(request.amount, currency, gateway=GATEWAY)
        except CurrencyError as exc:
            raise base.GatewayError(str(exc)) from exc
        if cents % 100:
            # Wompi takes amount_in_cents but only whole pesos (the last two digits must be 00).
            raise base.GatewayError(f"Wompi charges whole pesos; {request.amount} COP has cents")

        reference = wompi_reference(request.reference, request.idempotency_key)
        params = [
            ("public-key", public_key),
            ("currency", currency),
            ("amount-in-cents", str(cents)),
            ("reference", reference),
            ("signature:integrity", integrity_signature(reference, cents, currency, secret)),
        ]
        if request.success_url:
            params.append(("redirect-url", request.success_url))
        if request.customer_email:
            params.append(("customer-data:email", request.customer_email))
        return base.Checkout(gateway_reference=reference, url=f"{CHECKOUT_URL}?{urlencode(params)}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[base.GatewayEvent]:
        """Verify an event's checksum and read it; raise SignatureError when it does not verify.

        Older events are accepted (Wompi retries for 24 hours; the caller refuses an
        ``event_id`` it already stored); a timestamp more than 5 minutes ahead is refused.
        """
        secret = self._key("events_secret")
        try:
            event = json.loads(body)
        except (ValueError, TypeError) as exc:
            raise base.SignatureError("the Wompi event is not JSON") from exc
        if not isinstance(event, dict):
            raise base.SignatureError("the Wompi event is not a JSON object")
        data = event.get("data")
        signature = event.get("signature")
        timestamp = event.get("timestamp")
        if not isinstance(data, dict) or not isinstance(signature, dict):
            raise base.SignatureError("the Wompi event has no data or no signature")
        properties = signature.get("properties")
        if not isinstance(properties, list) or not all(isinstance(p, str) for p in properties):
            raise base.SignatureError("the Wompi event's signature lists no properties")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise base.SignatureError("the Wompi event has no integer timestamp")

        given = [
            value.strip().lower()
            for value in (signature.get("checksum"), base.header(headers, "X-Event-Checksum"))
            if isinstance(value, str) and value.strip()
        ]
        if not given:
            raise base.SignatureError("the Wompi event carries no checksum")
        expected = event_checksum([_signed_value(data, p) for p in properties], timestamp, secret)
        for checksum in given:
            if not hmac.compare_digest(expected.encode(), checksum.encode("utf-8")):
                raise base.SignatureError("the Wompi event's checksum does not verify")
        if timestamp > self._clock() + MAX_FUTURE_SKEW_SECONDS:
            raise base.SignatureError("the Wompi event's timestamp is in the future")

        occurred_at = datetime.fromtimestamp(timestamp, tz=UTC)
        raw_type = event.get("event") if isinstance(event.get("event"), str) else ""
        transaction = data.get("transaction")
        if raw_type != "transaction.updated" or not isinstance(transaction, dict):
            # nequi_token.updated, bancolombia_transfer_token.updated…: nothing to pay.
            return [
                base.GatewayEvent(
                    event_id=f"{raw_type or 'event'}:{timestamp}:{expected[:16]}",
                    kind="ignored",
                    reference=None,
                    gateway_reference=None,
                    occurred_at=occurred_at,
                    raw_type=raw_type,
                )
            ]
        return [self._transaction_event(transaction, set(properties), timestamp, occurred_at)]

    def fetch_payment(self, gateway_reference: str) -> base.PaymentStatus:
        """Ask Wompi for one transaction (by its id) and say where it stands."""
        transaction = self._transaction(gateway_reference)
        status = transaction.get("status")
        kind = _KINDS.get(status) if isinstance(status, str) else None
        if kind is None:
            raise base.GatewayError(f"Wompi answered an unknown transaction status {status!r}")
        amount, currency = _amount(transaction)
        if amount is None:
            raise base.GatewayError("Wompi's answer has no usable amount and currency")
        return base.PaymentStatus(
            gateway_reference=str(transaction.get("id") or gateway_reference),
            kind=kind,
            reference=payment_reference(transaction.get("reference")),
            amount=amount,
            currency=currency,
            method=_METHODS.get(transaction.get("payment_method_type")),
        )

    def refund(self, request: base.RefundRequest) -> base.RefundResult:
        """Void an approved card payment in full, the only refund Wompi's API offers.

        Wompi's API has no refund for PSE or Nequi payments and no partial refund: those raise a
        GatewayError saying so (they are arranged with Wompi outside the API). A transaction
        already VOIDED answers "succeeded", so retrying a refund is harmless (Wompi takes no
        idempotency key). The void's outcome arrives as a ``transaction.updated`` event with
        status VOIDED; until then the result is "pending".
        """
        private_key = self._key("private_key")
        if (request.currency or "").upper() not in CURRENCIES:
            raise base.GatewayError(f"Wompi refunds only COP, not {request.currency!r}")
        transaction = self._transaction(request.gateway_reference)
        transaction_id = str(transaction.get("id") or request.gateway_reference)
        refund_reference = f"{transaction_id}:void"
        amount, _ = _amount(transaction)
        cents = transaction.get("amount_in_cents")
        if amount is None or not isinstance(cents, int):
            raise base.GatewayError("Wompi's answer has no usable amount and currency")
        method = transaction.get("payment_method_type")
        status = transaction.get("status")
        if status == "VOIDED":
            return base.RefundResult(refund_reference, "succeeded", amount)
        if method != "CARD":
            raise base.GatewayError(
                f"Wompi's API cannot refund a {method or 'non-card'} payment: only card payments "
                "can be voided; arrange this refund with Wompi directly"
            )
        if status != "APPROVED":
            raise base.GatewayError(
                f"only an approved payment can be voided (this one is {status})"
            )
        if request.amount != amount:
            raise base.GatewayError(
                f"Wompi's API voids only the full amount ({amount} COP); partial refunds are not "
                "available through it"
            )
        answer = self._call(
            "POST",
            f"{self.api_base}/transactions/{_path(transaction_id)}/void",
            private_key,
            {"amount_in_cents": cents},
        )
        voided = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        if isinstance(voided.get("transaction"), dict):
            voided = voided["transaction"]
        state = "succeeded" if voided.get("status") == "VOIDED" else "pending"
        return base.RefundResult(refund_reference, state, amount)

    def list_settlements(self, *, since: date | None = None) -> list[base.Settlement]:
        """Answer [] — Wompi publishes no settlement (payout) API.

        Its payouts appear only in the merchant dashboard's reports; reconciliation reads them
        from the bank statements instead.
        """
        return []

    # -- helpers -----------------------------------------------------------------------------

    def _key(self, field: str) -> str:
        """Return one credential, refusing a missing one or one of the other environment."""
        value = self._credentials.get(field, "")
        label = next(lab for key, lab, _ in CREDENTIAL_FIELDS if key == field)
        test_prefix, prod_prefix = _PREFIXES[field]
        if not value:
            raise base.GatewayError(f"the Wompi connection has no {label.lower()}")
        expected = test_prefix if self.test_mode else prod_prefix
        if not value.startswith(expected):
            if value.startswith(test_prefix) or value.startswith(prod_prefix):
                raise base.GatewayError(
                    "the Wompi connection mixes sandbox and production keys "
                    f"(its {label.lower()} should start with {expected})"
                )
            raise base.GatewayError(f"the Wompi {label.lower()} should start with {expected}")
        return value

    def _transaction(self, transaction_id: str) -> dict[str, Any]:
        """GET one transaction (with the public key) and return its ``data``."""
        if not isinstance(transaction_id, str) or not transaction_id.strip():
            raise base.GatewayError("a Wompi transaction id is needed")
        answer = self._call(
            "GET",
            f"{self.api_base}/transactions/{_path(transaction_id.strip())}",
            self._key("public_key"),
            None,
        )
        data = answer.get("data")
        if not isinstance(data, dict):
            raise base.GatewayError("Wompi's answer holds no transaction")
        return data

    def _call(
        self, method: str, url: str, key: str, json_body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Send one request; turn transport failures and error answers into GatewayError."""
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        try:
            status, answer = self._transport(method, url, headers, json_body)
        except (requests.RequestException, OSError) as exc:
            raise base.GatewayError(
                f"Wompi could not be reached ({type(exc).__name__})", retryable=True
            ) from exc
        answer = answer if isinstance(answer, dict) else {}
        if 200 <= status < 300:
            return answer
        message = f"Wompi answered {status}{_error_text(answer)}"
        raise base.GatewayError(message, retryable=status == 429 or status >= 500)

    def _transaction_event(
        self, transaction: dict, signed: set[str], timestamp: int, occurred_at: datetime
    ) -> base.GatewayEvent:
        """Read a verified ``transaction.updated`` event."""
        if not {"transaction.id", "transaction.status"} <= signed:
            # The kind comes from the status: an event that does not sign it proves nothing.
            raise base.SignatureError("the Wompi event does not sign the transaction id and status")
        transaction_id = transaction.get("id")
        status = transaction.get("status")
        if not isinstance(transaction_id, str | int) or not isinstance(status, str):
            raise base.SignatureError("the Wompi event has no transaction id or status")
        amount = currency = None
        trusted = {"transaction.amount_in_cents", "transaction.currency", "transaction.reference"}
        if trusted <= signed:
            amount, currency = _amount(transaction)
        kind = _KINDS.get(status, "ignored")
        refunded = kind == base.REFUND_SUCCEEDED
        return base.GatewayEvent(
            event_id=f"{transaction_id}:{status}:{timestamp}",
            kind=kind,
            reference=payment_reference(transaction.get("reference")),
            gateway_reference=str(transaction_id),
            occurred_at=occurred_at,
            amount=amount,
            currency=currency if amount is not None else None,
            method=_METHODS.get(transaction.get("payment_method_type")),
            refund_reference=f"{transaction_id}:void" if refunded else None,
            refunded_total=amount if refunded else None,
            raw_type="transaction.updated",
        )


def _signed_value(data: dict, path: str) -> str:
    """Return the text of one signed property (a dotted path under ``data``), as Wompi joins it."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise base.SignatureError(f"the Wompi event lacks its signed property {path!r}")
        node = node[part]
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str | int):
        return str(node)
    raise base.SignatureError(f"the Wompi event's signed property {path!r} is not a plain value")


def _amount(transaction: dict) -> tuple[Decimal | None, str | None]:
    """Return a transaction's amount and currency, or (None, None) when unusable."""
    cents = transaction.get("amount_in_cents")
    currency = transaction.get("currency")
    if isinstance(cents, bool) or not isinstance(cents, int) or not isinstance(currency, str):
        return None, None
    try:
        return from_minor(cents, currency, gateway=GATEWAY), currency.upper()
    except CurrencyError:
        return None, None


def _path(segment: str) -> str:
    """Quote one URL path segment (a transaction id)."""
    return quote(segment, safe="")


def _error_text(answer: dict) -> str:
    """Return Wompi's error type and reason (or field messages), for the log."""
    error = answer.get("error")
    if not isinstance(error, dict):
        return ""
    parts = [str(error.get("type") or "")]
    if error.get("reason"):
        parts.append(str(error["reason"]))
    messages = error.get("messages")
    if isinstance(messages, dict):
        parts.extend(
            f"{field}: {', '.join(map(str, msgs))}"
            for field, msgs in messages.items()
            if isinstance(msgs, list)
        )
    text = "; ".join(p for p in parts if p)
    return f" ({text[:300]})" if text else ""
