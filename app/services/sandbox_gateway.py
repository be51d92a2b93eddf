"""The sandbox gateway's own side: the embedded counterpart that stands in for a real gateway.

Test payments, no real money, but a real gateway's behaviour: merchant accounts with keys and a
webhook secret (``open_account``), hosted checkouts created idempotently (``BACKEND``, what the
adapter ``app.gateways.sandbox`` talks to, JSON in and out), a checkout page whose payer decides
the outcome (``checkout``, ``decide``: approve, decline, pending then approved or declined by
``settle_due``, a 3-D Secure challenge answered by ``answer_challenge``, cancel), refunds (full
or partial, idempotent by key, never above what is left), fees (the account's percent of the
amount plus a fixed part, rounded to the currency's quantum) and one payout a day per account
and currency (``pay_out``).

Every change of a charge is announced by a signed webhook. The rows (``SandboxWebhook``) are
written in the transaction of the change, honouring the account's ``delivery_options``
(``duplicate``: each event sent n more times with the same event id; ``delay_seconds``: due that
much later; ``reverse``: events due at once sent newest first), and sent by a job
(``deliver``) through the ``send`` callable the job layer passes — the portal's receiver: this
module never imports the payments area. A send that raises or answers 500 or more is retried
after 1 min, 5 min, 30 min, 2 h and 12 h, then the row is ``dead``; a 4xx answer is a refusal,
not retried.

Plain Python: no Flask request, the tables are the gateway's own (no company owns them, so no
tenancy), add/flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.db import begin_nested, forget_callbacks_after, pending_callbacks
from app.extensions import db
from app.gateways import currencies
from app.gateways import sandbox as adapter
from app.models import (
    SandboxAccount,
    SandboxCharge,
    SandboxPayout,
    SandboxRefund,
    SandboxWebhook,
    utcnow,
)
from app.services.errors import Conflict, DomainError, NotFound

GATEWAY = adapter.NAME
CURRENCIES = adapter.CURRENCIES
METHODS = adapter.METHODS
CHECKOUT_PATH = "/sandbox-gateway/checkout/{charge_id}"

# A charge's states.
OPEN, CHALLENGE, PENDING = "open", "challenge", "pending"
SUCCEEDED, FAILED, CANCELED = "succeeded", "failed", "canceled"

# What the payer may choose on the hosted page.
APPROVE, DECLINE = "approve", "decline"
PENDING_APPROVE, PENDING_DECLINE = "pending", "pending_decline"
CHALLENGE_OUTCOME, CANCEL = "challenge", "cancel"
OUTCOMES = (APPROVE, DECLINE, PENDING_APPROVE, PENDING_DECLINE, CHALLENGE_OUTCOME, CANCEL)
#: The 3-D Secure code that passes; any other fails the charge.
CHALLENGE_CODE = "123456"
ALREADY_DECIDED = _l("This payment was already decided; it cannot be decided again.")
#: How long a pending charge waits before ``settle_due`` approves or declines it.
SETTLE_AFTER = dt.timedelta(minutes=2)

# Webhook rows' states.
DUE, SENT, DEAD = "due", "sent", "dead"
#: Waits after failed attempts 1..5; the 6th failure gives up.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: Marks a row being sent; the claim commits with the outcome (the send is in-process), so a
#: run that dies rolls it back and the row stays due.
LEASE = dt.timedelta(minutes=2)
BATCH = 100
MAX_DUPLICATES = 5
MAX_DELAY_SECONDS = 24 * 3600

#: Sends one webhook: (target, body, headers) → HTTP status; raising counts as a failure.
Send = Callable[[str, bytes, Mapping[str, str]], int]


class Refused(DomainError):
    """The sandbox's API refuses a request; ``kind`` is the error type its answer names."""

    status = 400

    def __init__(self, message: Any, *, kind: str = "invalid_request") -> None:
        super().__init__(message)
        self.kind = kind


# ---------------------------------------------------------------------------------- accounts


def open_account(
    name: str,
    webhook_target: str,
    *,
    fee_percent: Decimal = Decimal("2.90"),
    fee_fixed: Decimal = Decimal("900"),
    delivery_options: Mapping[str, Any] | None = None,
) -> SandboxAccount:
    """Open a merchant account with fresh ids and secrets; its webhooks go to the target."""
    account = SandboxAccount(
        account_id="acct_" + secrets.token_hex(8),
        secret_key="sk_sandbox_" + secrets.token_urlsafe(24),
        webhook_secret="whsec_sandbox_" + secrets.token_urlsafe(24),
        webhook_target=(webhook_target or "")[:200],
        name=(name or "")[:200],
        fee_percent=fee_percent,
        fee_fixed=fee_fixed,
        delivery_options=_delivery_options(delivery_options or {}),
    )
    db.session.add(account)
    db.session.flush()
    return account


def credentials(account: SandboxAccount) -> dict[str, str]:
    """The credentials a portal connection keeps for the account (the adapter's fields)."""
    return {
        "account_id": account.account_id,
        "secret_key": account.secret_key,
        "webhook_secret": account.webhook_secret,
    }


def set_delivery_options(
    account_id: str, *, duplicate: int = 0, delay_seconds: int = 0, reverse: bool = False
) -> SandboxAccount:
    """Change how the account's webhooks are sent (duplicates, delay, newest first)."""
    account = db.session.scalars(
        select(SandboxAccount).where(SandboxAccount.account_id == account_id)
    ).first()
    if account is None:
        raise NotFound(_l("That sandbox account does not exist."))
    account.delivery_options = _delivery_options(
        {"duplicate": duplicate, "delay_seconds": delay_seconds, "reverse": reverse}
    )
    db.session.flush()
    return account


def _delivery_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as stored: whole numbers within bounds, a boolean."""

    def whole(value: Any, top: int) -> int:
        try:
            number = int(value or 0)
        except (TypeError, ValueError):
            number = 0
        return min(max(number, 0), top)

    return {
        "duplicate": whole(options.get("duplicate"), MAX_DUPLICATES),
        "delay_seconds": whole(options.get("delay_seconds"), MAX_DELAY_SECONDS),
        "reverse": bool(options.get("reverse", False)),
    }


def _account_by_key(secret_key: str) -> SandboxAccount:
    account = None
    if secret_key:
        account = db.session.scalars(
            select(SandboxAccount).where(SandboxAccount.secret_key == secret_key)
        ).first()
    if account is None:
        raise Refused("invalid secret key", kind="authentication")
    return account


def _account(row_account_id: int) -> SandboxAccount:
    account = db.session.get(SandboxAccount, row_account_id)
    assert account is not None  # a foreign key
    return account


# ---------------------------------------------------------------------------------- charges


def _charge(charge_id: str, *, account: SandboxAccount | None = None) -> SandboxCharge:
    stmt = select(SandboxCharge).where(SandboxCharge.charge_id == (charge_id or "")[:40])
    if account is not None:
        stmt = stmt.where(SandboxCharge.account_id == account.id)
    charge = db.session.scalars(stmt.execution_options(populate_existing=True)).first()
    if charge is None:
        if account is not None:
            raise Refused(f"no such charge: {charge_id}", kind="not_found")
        raise NotFound(_l("This payment does not exist."))
    return charge


def _minor(amount: Decimal, currency: str) -> int:
    return currencies.to_minor(amount, currency, GATEWAY)


def _from_minor(value: Any, currency: str, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(f"{what} must be an integer in minor units")
    return currencies.from_minor(value, currency, GATEWAY)


def _text(payload: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = payload.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused(f"{key} must be a string")
    if required and not value.strip():
        raise Refused(f"{key} is required")
    if len(value) > limit:
        raise Refused(f"{key} is longer than {limit} characters")
    return value


def create_checkout(secret_key: str, payload: Mapping[str, Any]) -> SandboxCharge:
    """Open a hosted checkout; the same idempotency key gives the account the same charge."""
    account = _account_by_key(secret_key)
    key = _text(payload, "idempotency_key", 80, required=True)
    reference = _text(payload, "reference", 80, required=True)
    currency = str(payload.get("currency") or "").upper()
    if currency not in CURRENCIES:
        raise Refused(f"currency must be one of {', '.join(CURRENCIES)}")
    amount = _from_minor(payload.get("amount"), currency, "amount")
    if amount <= 0:
        raise Refused("amount must be positive")
    lines = _lines(payload.get("lines"), currency, amount)
    existing = _charge_by_key(account, key)
    if existing is not None:
        return _same_request(existing, reference, amount, currency)
    email = payload.get("customer_email")
    charge = SandboxCharge(
        charge_id="ch_" + secrets.token_urlsafe(18),
        account_id=account.id,
        idempotency_key=key,
        reference=reference,
        amount=amount,
        currency=currency,
        description=_text(payload, "description", 500),
        lines=lines,
        success_url=_text(payload, "success_url", 2000),
        cancel_url=_text(payload, "cancel_url", 2000),
        customer_email=email[:254] if isinstance(email, str) and email else None,
        status=OPEN,
    )
    session = db.session()
    savepoint = begin_nested(session)
    try:
        session.add(charge)
        session.flush()
    except IntegrityError:  # the same key, at the same moment, from another request
        savepoint.rollback()
        raced = _charge_by_key(account, key)
        assert raced is not None
        return _same_request(raced, reference, amount, currency)
    savepoint.commit()
    return charge


def _charge_by_key(account: SandboxAccount, key: str) -> SandboxCharge | None:
    return db.session.scalars(
        select(SandboxCharge).where(
            SandboxCharge.account_id == account.id, SandboxCharge.idempotency_key == key
        )
    ).first()


def _same_request(
    charge: SandboxCharge, reference: str, amount: Decimal, currency: str
) -> SandboxCharge:
    if (charge.reference, charge.amount, charge.currency) != (reference, amount, currency):
        raise Refused("idempotency key already used for another checkout", kind="idempotency")
    return charge


def _lines(value: Any, currency: str, amount: Decimal) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 100:
        raise Refused("lines must be a list of at most 100 lines")
    lines, total = [], Decimal(0)
    for item in value:
        if not isinstance(item, dict):
            raise Refused("each line must be an object")
        line_amount = _from_minor(item.get("amount"), currency, "a line's amount")
        total += line_amount
        lines.append(
            {
                "reference": _text(item, "reference", 80),
                "description": _text(item, "description", 500),
                "amount": _minor(line_amount, currency),
            }
        )
    if lines and total != amount:
        raise Refused("the lines do not add up to the amount")
    return lines


@dataclass(frozen=True)
class CheckoutLine:
    description: str
    amount: Decimal


@dataclass(frozen=True)
class CheckoutPage:
    """What the hosted page shows of a charge."""

    charge: SandboxCharge
    merchant: str
    lines: tuple[CheckoutLine, ...]
    return_url: str | None


def checkout(charge_id: str) -> CheckoutPage:
    """The hosted page's charge, its merchant and lines; NotFound for an unknown id."""
    charge = _charge(charge_id)
    lines = tuple(
        CheckoutLine(
            description=str(line.get("description") or line.get("reference") or ""),
            amount=currencies.from_minor(int(line["amount"]), charge.currency, GATEWAY),
        )
        for line in charge.lines or []
    )
    return CheckoutPage(
        charge=charge,
        merchant=_account(charge.account_id).name,
        lines=lines,
        return_url=return_url(charge),
    )


def return_url(charge: SandboxCharge) -> str | None:
    """Where the payer goes back to: the success URL once paid or pending, the cancel URL once
    declined or canceled, None while the payer still has to decide."""
    if charge.status in (SUCCEEDED, PENDING):
        return charge.success_url or None
    if charge.status in (FAILED, CANCELED):
        return charge.cancel_url or None
    return None


def _fee(account: SandboxAccount, amount: Decimal, currency: str) -> Decimal:
    """The account's percent of the amount plus its fixed part, never more than the amount."""
    raw = amount * account.fee_percent / 100 + account.fee_fixed
    fee = raw.quantize(currencies.quantum(currency), rounding=ROUND_HALF_UP)
    return min(max(fee, Decimal(0)), amount)


def _move(charge: SandboxCharge, from_status: str, **values: Any) -> bool:
    """Move a charge out of ``from_status`` with a conditional UPDATE (two clicks: one wins)."""
    moved = db.session.execute(
        update(SandboxCharge)
        .where(SandboxCharge.id == charge.id, SandboxCharge.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return False
    for name, value in values.items():
        setattr(charge, name, value)
    return True


def _success_values(charge: SandboxCharge, now: dt.datetime) -> dict[str, Any]:
    account = _account(charge.account_id)
    return {
        "status": SUCCEEDED,
        "paid_at": now,
        "fee": _fee(account, charge.amount, charge.currency),
    }


def decide(
    charge_id: str, outcome: str, *, method: str = "card", now: dt.datetime | None = None
) -> SandboxCharge:
    """Decide an open charge as the payer chose on the hosted page; a decided one is refused
    (Conflict) and stays as it was."""
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise DomainError(_l("Choose one of the outcomes offered."), field="outcome")
    if method not in METHODS:
        raise DomainError(_l("Choose one of the payment methods offered."), field="method")
    charge = _charge(charge_id)
    values: dict[str, Any] = {"method": method}
    if outcome == APPROVE:
        values |= _success_values(charge, now)
        event = "charge.succeeded"
    elif outcome == DECLINE:
        values |= {"status": FAILED}
        event = "charge.failed"
    elif outcome in (PENDING_APPROVE, PENDING_DECLINE):
        later = APPROVE if outcome == PENDING_APPROVE else DECLINE
        values |= {"status": PENDING, "settle_outcome": later, "settle_at": now + SETTLE_AFTER}
        event = "charge.pending"
    elif outcome == CHALLENGE_OUTCOME:
        values |= {"status": CHALLENGE}  # waiting for the payer's code: pending to the portal
        event = "charge.pending"
    else:
        values |= {"status": CANCELED}
        event = "charge.canceled"
    if not _move(charge, OPEN, **values):
        raise Conflict(ALREADY_DECIDED)
    _announce(charge, event, now=now)
    return charge


def answer_challenge(charge_id: str, code: str, *, now: dt.datetime | None = None) -> SandboxCharge:
    """Pass (the code 123456) or fail a charge waiting for its 3-D Secure code."""
    now = now or utcnow()
    charge = _charge(charge_id)
    if charge.status == OPEN:
        raise Conflict(_l("This payment is not waiting for a verification code."))
    passed = hmac.compare_digest((code or "").strip().encode(), CHALLENGE_CODE.encode())
    values = _success_values(charge, now) if passed else {"status": FAILED}
    if not _move(charge, CHALLENGE, **values):
        raise Conflict(ALREADY_DECIDED)
    _announce(charge, "charge.succeeded" if passed else "charge.failed", now=now)
    return charge


def settle_due(now: dt.datetime | None = None) -> int:
    """Approve or decline the pending charges whose time came; return how many settled."""
    now = now or utcnow()
    due = db.session.scalars(
        select(SandboxCharge)
        .where(SandboxCharge.status == PENDING, SandboxCharge.settle_at <= now)
        .order_by(SandboxCharge.settle_at, SandboxCharge.id)
        .limit(BATCH)
    ).all()
    settled = 0
    for charge in due:
        if charge.settle_outcome == APPROVE:
            values, event = _success_values(charge, now), "charge.succeeded"
        else:
            values, event = {"status": FAILED}, "charge.failed"
        if _move(charge, PENDING, **values):
            _announce(charge, event, now=now)
            settled += 1
    return settled


# ---------------------------------------------------------------------------------- refunds


def refund(
    secret_key: str,
    charge_id: str,
    amount_minor: int,
    idempotency_key: str,
    *,
    now: dt.datetime | None = None,
) -> SandboxRefund:
    """Refund part or all of a succeeded charge; the same key gives the same refund back, and
    no refund goes above what is left of the charge."""
    now = now or utcnow()
    account = _account_by_key(secret_key)
    charge = _charge(charge_id, account=account)
    key = _text({"idempotency_key": idempotency_key}, "idempotency_key", 80, required=True)
    amount = _from_minor(amount_minor, charge.currency, "amount")
    existing = _refund_by_key(charge, key)
    if existing is not None:
        return _same_refund(existing, amount)
    if charge.status != SUCCEEDED:
        raise Refused("only a succeeded charge can be refunded")
    if amount <= 0:
        raise Refused("a refund's amount must be positive")
    session = db.session()
    mark = pending_callbacks(session)
    savepoint = begin_nested(session)
    try:
        # Conditional: two refunds at once cannot together pass what is left.
        moved = session.execute(
            update(SandboxCharge)
            .where(
                SandboxCharge.id == charge.id,
                SandboxCharge.status == SUCCEEDED,
                SandboxCharge.refunded_amount + amount <= SandboxCharge.amount,
            )
            .values(refunded_amount=SandboxCharge.refunded_amount + amount)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            left = charge.amount - charge.refunded_amount
            raise Refused(
                f"the refund is above what is left to refund ({_minor(left, charge.currency)})"
            )
        row = SandboxRefund(
            refund_id="re_" + secrets.token_hex(12),
            charge_id=charge.id,
            idempotency_key=key,
            amount=amount,
            created_at=now,
        )
        session.add(row)
        session.flush()
    except IntegrityError:  # the same key, at the same moment: the other one stands
        savepoint.rollback()
        forget_callbacks_after(session, mark)
        raced = _refund_by_key(charge, key)
        assert raced is not None
        return _same_refund(raced, amount)
    except Refused:
        savepoint.rollback()
        forget_callbacks_after(session, mark)
        raise
    savepoint.commit()
    charge.refunded_amount = charge.refunded_amount + amount
    _announce(charge, "charge.refunded", refund=row, now=now)
    return row


def _refund_by_key(charge: SandboxCharge, key: str) -> SandboxRefund | None:
    return db.session.scalars(
        select(SandboxRefund).where(
            SandboxRefund.charge_id == charge.id, SandboxRefund.idempotency_key == key
        )
    ).first()


def _same_refund(row: SandboxRefund, amount: Decimal) -> SandboxRefund:
    if row.amount != amount:
        raise Refused("idempotency key already used for another amount", kind="idempotency")
    return row


# ---------------------------------------------------------------------------------- payouts


def pay_out(day: dt.date, *, now: dt.datetime | None = None) -> list[SandboxPayout]:
    """Pay out, per account and currency, the charges succeeded and refunds made up to the end
    of ``day`` (UTC) and not paid out yet, net of fees: one payout per account, currency and
    day (running it again for the same day adds nothing)."""
    now = now or utcnow()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    charges = db.session.scalars(
        select(SandboxCharge)
        .where(
            SandboxCharge.status == SUCCEEDED,
            SandboxCharge.payout_id.is_(None),
            SandboxCharge.paid_at < end,
        )
        .order_by(SandboxCharge.id)
    ).all()
    refunds = db.session.execute(
        select(SandboxRefund, SandboxCharge.account_id, SandboxCharge.currency)
        .join(SandboxCharge, SandboxCharge.id == SandboxRefund.charge_id)
        .where(SandboxRefund.payout_id.is_(None), SandboxRefund.created_at < end)
        .order_by(SandboxRefund.id)
    ).all()
    groups: dict[tuple[int, str], tuple[list[SandboxCharge], list[SandboxRefund]]] = defaultdict(
        lambda: ([], [])
    )
    for charge in charges:
        groups[(charge.account_id, charge.currency)][0].append(charge)
    for row, account_id, currency in refunds:
        groups[(account_id, currency)][1].append(row)
    payouts = []
    session = db.session()
    for (account_id, currency), (paid, refunded) in sorted(groups.items()):
        net = sum((c.amount - c.fee for c in paid), Decimal(0)) - sum(
            (r.amount for r in refunded), Decimal(0)
        )
        payout = SandboxPayout(
            payout_id="po_" + secrets.token_hex(12),
            account_id=account_id,
            currency=currency,
            paid_on=day,
            amount=net,
            created_at=now,
        )
        savepoint = begin_nested(session)
        try:
            session.add(payout)
            session.flush()
        except IntegrityError:  # this day's payout is made: what is left waits for the next
            savepoint.rollback()
            continue
        # Conditional: a charge or refund another run paid out meanwhile is never paid twice.
        claimed = _claim(SandboxCharge, paid, payout) + _claim(SandboxRefund, refunded, payout)
        if claimed != len(paid) + len(refunded):
            savepoint.rollback()
            continue
        savepoint.commit()
        for item in (*paid, *refunded):
            set_committed_value(item, "payout_id", payout.id)
        payouts.append(payout)
    return payouts


def account_names(payouts: list[SandboxPayout]) -> dict[int, str]:
    """The merchant account's name of each payout, by payout row id."""
    ids = {p.account_id for p in payouts}
    if not ids:
        return {}
    names = dict(
        db.session.execute(
            select(SandboxAccount.id, SandboxAccount.name).where(SandboxAccount.id.in_(ids))
        ).all()
    )
    return {p.id: names.get(p.account_id, "") for p in payouts}


def _claim(model: Any, items: list[Any], payout: SandboxPayout) -> int:
    """Mark the items as paid out by payout (those no other payout took); return how many."""
    if not items:
        return 0
    moved = db.session.execute(
        update(model)
        .where(model.id.in_([item.id for item in items]), model.payout_id.is_(None))
        .values(payout_id=payout.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return int(moved)


def _payout_json(payout: SandboxPayout) -> dict[str, Any]:
    currency = payout.currency
    charges = db.session.scalars(
        select(SandboxCharge).where(SandboxCharge.payout_id == payout.id).order_by(SandboxCharge.id)
    ).all()
    refunds = db.session.execute(
        select(SandboxRefund, SandboxCharge)
        .join(SandboxCharge, SandboxCharge.id == SandboxRefund.charge_id)
        .where(SandboxRefund.payout_id == payout.id)
        .order_by(SandboxRefund.id)
    ).all()
    lines = [
        {
            "type": "charge",
            "source": c.charge_id,
            "reference": c.reference,
            "amount": _minor(c.amount, currency),
            "fee": _minor(c.fee, currency),
            "net": _minor(c.amount - c.fee, currency),
            "description": c.description,
        }
        for c in charges
    ]
    lines += [
        {
            "type": "refund",
            "source": r.refund_id,
            "reference": c.reference,
            "amount": -_minor(r.amount, currency),
            "fee": 0,
            "net": -_minor(r.amount, currency),
            "description": f"Refund of {c.charge_id}",
        }
        for r, c in refunds
    ]
    return {
        "id": payout.payout_id,
        "object": "payout",
        "currency": currency,
        "paid_on": payout.paid_on.isoformat(),
        "amount": _minor(payout.amount, currency),
        "status": "paid",
        "lines": lines,
    }


# --------------------------------------------------------------------------------- webhooks


def _charge_json(charge: SandboxCharge) -> dict[str, Any]:
    currency = charge.currency
    return {
        "id": charge.charge_id,
        "object": "charge",
        "url": CHECKOUT_PATH.format(charge_id=charge.charge_id),
        "reference": charge.reference,
        "amount": _minor(charge.amount, currency),
        "currency": currency,
        "status": charge.status,
        "refunded_amount": _minor(charge.refunded_amount, currency),
        "fee": _minor(charge.fee, currency),
        "method": charge.method,
        "description": charge.description,
    }


def _announce(
    charge: SandboxCharge,
    event_type: str,
    *,
    refund: SandboxRefund | None = None,
    now: dt.datetime,
) -> list[SandboxWebhook]:
    """Write the event's webhook rows (duplicates and delay as the account asks)."""
    account = _account(charge.account_id)
    if not account.webhook_target:
        return []
    options = _delivery_options(account.delivery_options or {})
    data: dict[str, Any] = {"charge": _charge_json(charge)}
    if refund is not None:
        data["refund"] = {
            "id": refund.refund_id,
            "object": "refund",
            "charge": charge.charge_id,
            "amount": _minor(refund.amount, charge.currency),
            "currency": charge.currency,
            "status": "succeeded",
        }
    event_id = "evt_" + secrets.token_hex(12)
    body = json.dumps(
        {"id": event_id, "type": event_type, "created": int(now.timestamp()), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    due_at = now + dt.timedelta(seconds=options["delay_seconds"])
    rows = [
        SandboxWebhook(
            event_id=event_id, account_id=account.id, body=body, due_at=due_at, created_at=now
        )
        for _copy in range(1 + options["duplicate"])
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def due_webhooks(now: dt.datetime | None = None) -> list[int]:
    """Return the ids of the webhooks due now, oldest first (the job queue's sweep)."""
    return list(
        db.session.scalars(
            select(SandboxWebhook.id)
            .where(SandboxWebhook.state == DUE, SandboxWebhook.due_at <= (now or utcnow()))
            .order_by(SandboxWebhook.due_at, SandboxWebhook.id)
            .limit(BATCH)
        )
    )


def deliver(webhook_id: int, send: Send, *, now: dt.datetime | None = None) -> bool | None:
    """Send one due webhook (None when it is not due, gone, or being sent by another run).

    For an account that asks for ``reverse``, the newer webhooks due at the same time are sent
    before this one, newest first.
    """
    now = now or utcnow()
    row = db.session.get(SandboxWebhook, webhook_id)
    if row is None:
        return None
    account = _account(row.account_id)
    if _delivery_options(account.delivery_options or {})["reverse"]:
        newer = db.session.scalars(
            select(SandboxWebhook.id)
            .where(
                SandboxWebhook.account_id == account.id,
                SandboxWebhook.state == DUE,
                SandboxWebhook.due_at <= now,
                SandboxWebhook.id > webhook_id,
            )
            .order_by(SandboxWebhook.id.desc())
            .limit(BATCH)
        ).all()
        for other_id in newer:
            _send_one(other_id, account, send, now)
    return _send_one(webhook_id, account, send, now)


def _send_one(
    webhook_id: int, account: SandboxAccount, send: Send, now: dt.datetime
) -> bool | None:
    claimed = db.session.execute(
        update(SandboxWebhook)
        .where(
            SandboxWebhook.id == webhook_id,
            SandboxWebhook.state == DUE,
            SandboxWebhook.due_at <= now,
        )
        .values(claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    row = db.session.scalars(
        select(SandboxWebhook)
        .where(SandboxWebhook.id == webhook_id)
        .execution_options(populate_existing=True)
    ).one()
    body = row.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sandbox-gateway/1",
        "Sandbox-Event-Id": row.event_id,
        adapter.SIGNATURE_HEADER: adapter.signature_header(account.webhook_secret, timestamp, body),
    }
    problem, refused = None, False
    try:
        status = int(send(account.webhook_target, body, headers))
        if status >= 500:
            problem = f"HTTP {status}"
        elif status >= 400:
            problem, refused = f"HTTP {status}: refused, not retried", True
    except Exception as error:  # noqa: BLE001 (any failure of the receiver is a failed attempt)
        problem = f"{type(error).__name__}: {error}"
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
    if problem is None:
        values |= {"state": SENT, "last_error": ""}
    elif refused or attempts >= MAX_ATTEMPTS:
        values |= {"state": DEAD, "last_error": problem[:500]}
    else:
        values |= {"due_at": now + BACKOFF[attempts - 1], "last_error": problem[:500]}
    db.session.execute(
        update(SandboxWebhook)
        .where(SandboxWebhook.id == webhook_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        setattr(row, name, value)
    return problem is None


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliver_due(now: dt.datetime | None = None, send: Send | None = None) -> DeliveryReport:
    """Send every webhook due now through ``send``, oldest first — newest first within an
    account that asks for ``reverse``."""
    if send is None:
        raise ValueError("deliver_due needs the send callable of the job layer")
    now = now or utcnow()
    due = due_webhooks(now)
    rows = db.session.execute(
        select(SandboxWebhook.id, SandboxWebhook.account_id).where(SandboxWebhook.id.in_(due))
    ).all()
    account_of = {webhook_id: account_id for webhook_id, account_id in rows}
    accounts = {account_id: _account(account_id) for account_id in set(account_of.values())}
    order = list(due)
    for account_id, account in accounts.items():
        if _delivery_options(account.delivery_options or {})["reverse"]:
            places = [
                i for i, webhook_id in enumerate(order) if account_of[webhook_id] == account_id
            ]
            for place, webhook_id in zip(places, [order[i] for i in reversed(places)], strict=True):
                order[place] = webhook_id
    report = DeliveryReport()
    for webhook_id in order:
        ok = _send_one(webhook_id, accounts[account_of[webhook_id]], send, now)
        if ok is not None:
            (report.sent if ok else report.failed).append(webhook_id)
    return report


# ---------------------------------------------------------------------------------- backend


class Backend:
    """``app.gateways.sandbox.SandboxBackend`` over the tables: JSON-able values in and out,
    a refusal answered as ``{"error": {"type", "message"}}``."""

    def create_checkout(self, secret_key: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create (or find again by its idempotency key) a charge with its hosted page."""
        return _answer(lambda: _charge_json(create_checkout(secret_key, payload)))

    def get_charge(self, secret_key: str, charge_id: str) -> dict[str, Any]:
        """Return one of the account's charges."""
        return _answer(
            lambda: _charge_json(_charge(charge_id, account=_account_by_key(secret_key)))
        )

    def refund(
        self, secret_key: str, charge_id: str, amount_minor: int, idempotency_key: str
    ) -> dict[str, Any]:
        """Refund part or all of a charge."""

        def made() -> dict[str, Any]:
            row = refund(secret_key, charge_id, amount_minor, idempotency_key)
            charge = db.session.get(SandboxCharge, row.charge_id)
            assert charge is not None
            return {
                "id": row.refund_id,
                "object": "refund",
                "charge": charge.charge_id,
                "amount": _minor(row.amount, charge.currency),
                "currency": charge.currency,
                "status": "succeeded",
            }

        return _answer(made)

    def list_payouts(
        self, secret_key: str, since: str | None
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Return the account's payouts paid on ``since`` (ISO date) or later, with lines."""

        def listed() -> list[dict[str, Any]]:
            account = _account_by_key(secret_key)
            stmt = select(SandboxPayout).where(SandboxPayout.account_id == account.id)
            if since:
                try:
                    stmt = stmt.where(SandboxPayout.paid_on >= dt.date.fromisoformat(since))
                except (TypeError, ValueError):
                    raise Refused("since must be a date (YYYY-MM-DD)") from None
            stmt = stmt.order_by(SandboxPayout.paid_on, SandboxPayout.id)
            return [_payout_json(payout) for payout in db.session.scalars(stmt)]

        return _answer(listed)


def _answer(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Refused as refusal:
        return {"error": {"type": refusal.kind, "message": str(refusal.message)}}
    except currencies.CurrencyError as error:
        return {"error": {"type": "invalid_request", "message": str(error)}}


BACKEND = Backend()
