"""Gateways' webhooks: verified, stored once by the gateway's event id, answered at once,
processed by a job (``process_event``) that moves the payment through ``state``.

Whatever the gateway replays, reorders or duplicates, a payment is credited once: the event
row is unique per (connection, event id), and the state machine only moves forward with
conditional updates, so a second "succeeded" or a late "pending" changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import begin_nested
from app.extensions import db
from app.gateways import base as gw
from app.models.base import utcnow
from app.models.payment import (
    CANCELED,
    CONFIRMED,
    DISPUTED,
    EVENT_IGNORED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    FAILED,
    PENDING,
    GatewayConnection,
    GatewayEventRecord,
    Payment,
    Refund,
)
from app.services import audit
from app.services.errors import DomainError
from app.services.payments import connections, effects, refunds, state
from app.tenancy import acting_as, unscoped

MAX_BODY = 256 * 1024
LEASE = timedelta(minutes=2)


class WebhookRejected(DomainError):
    """A webhook that does not verify: answered 400, never stored."""


def receive_webhook(
    gateway: str, public_id: str, body: bytes, headers: Mapping[str, str]
) -> list[int]:
    """Verify a webhook and store its events once; the ids of the rows stored now (a replayed
    event stores nothing). Processing runs in a job after commit (``app.jobs.relay``)."""
    connection = connections.by_public_id(gateway, public_id)
    if len(body) > MAX_BODY:
        raise WebhookRejected(_l("The webhook is too large."))
    try:
        events = connections.adapter_for(connection).parse_webhook(body, dict(headers))
    except gw.SignatureError as error:
        raise WebhookRejected(_l("The webhook's signature does not verify.")) from error
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookRejected(_l("The webhook cannot be read.")) from error
    with acting_as(connection.company_id, user_id=None):
        return _store(connection, events, body)


def _store(connection: GatewayConnection, events: list[gw.GatewayEvent], body: bytes) -> list[int]:
    stored: list[int] = []
    for event in events:
        exists = db.session.scalar(
            select(GatewayEventRecord.id).where(
                GatewayEventRecord.company_id == connection.company_id,
                GatewayEventRecord.connection_id == connection.id,
                GatewayEventRecord.event_id == event.event_id[:200],
            )
        )
        if exists is not None:
            continue
        row = GatewayEventRecord(
            company_id=connection.company_id,
            connection_id=connection.id,
            event_id=event.event_id[:200],
            kind=event.kind[:40],
            raw_type=event.raw_type[:80],
            event=_as_json(event),
            body=body.decode("utf-8", "replace"),
            state=EVENT_RECEIVED,
        )
        savepoint = begin_nested(db.session())
        try:
            db.session.add(row)
            db.session.flush()
        except IntegrityError:  # the same event arrived at the same moment on another worker
            savepoint.rollback()
            continue
        savepoint.commit()
        stored.append(row.id)
    return stored


def _as_json(event: gw.GatewayEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    for key, value in data.items():
        if isinstance(value, Decimal):
            data[key] = str(value)
        elif hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    return data


def _from_json(data: dict[str, Any]) -> gw.GatewayEvent:
    values = dict(data)
    for key in ("amount", "refunded_total"):
        if values.get(key) is not None:
            values[key] = Decimal(values[key])
    values["occurred_at"] = None
    return gw.GatewayEvent(**values)


def process_event(record_id: int) -> str | None:
    """Apply one stored event to its payment (a job: claims the row, runs once)."""
    now = utcnow()
    claimed = db.session.execute(
        update(GatewayEventRecord)
        .where(
            GatewayEventRecord.id == record_id,
            GatewayEventRecord.state == EVENT_RECEIVED,
            (GatewayEventRecord.claimed_until.is_(None)) | (GatewayEventRecord.claimed_until < now),
        )
        .values(claimed_until=now + LEASE, attempts=GatewayEventRecord.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    record = db.session.get(GatewayEventRecord, record_id)
    assert record is not None
    db.session.refresh(record)
    connection = db.session.get(GatewayConnection, record.connection_id)
    assert connection is not None
    outcome, payment = _apply(connection, _from_json(record.event))
    record.state = outcome
    record.payment_id = payment.id if payment is not None else None
    record.processed_at = utcnow()
    record.claimed_until = None
    return outcome


def _payment_for(connection: GatewayConnection, event: gw.GatewayEvent) -> Payment | None:
    """The payment the event names, only among this connection's own payments.

    By the portal's id (``reference``; a gateway-side checkout reference such as Wompi's
    ``<id>_<tag>`` is matched against the payment's ``gateway_reference`` too), else by the
    gateway's id. An event that names no payment of the portal's — a Stripe dispute names only
    the PaymentIntent — is looked up at the gateway (``fetch_payment``): its authenticated
    answer says which payment it is, still searched among this connection's payments only.
    """
    stmt = select(Payment).where(
        Payment.payee_company_id == connection.company_id,
        Payment.connection_id == connection.id,
    )
    if event.reference:
        found = _by_reference(stmt, event.reference)
        if found is not None:
            return found
    if event.gateway_reference:
        found = db.session.scalars(
            stmt.where(Payment.gateway_reference == event.gateway_reference)
        ).first()
        if found is not None or event.reference or event.kind not in gw.EVENT_KINDS:
            return found
        try:
            status = connections.adapter_for(connection).fetch_payment(event.gateway_reference)
        except gw.GatewayError as error:
            if error.retryable:
                raise  # the job is retried
            return None
        if status.reference:
            return _by_reference(stmt, status.reference)
    return None


def _by_reference(stmt: Any, reference: str) -> Payment | None:
    if reference.isdigit():
        return db.session.scalars(stmt.where(Payment.id == int(reference))).first()
    return db.session.scalars(stmt.where(Payment.gateway_reference == reference[:120])).first()


def _apply(connection: GatewayConnection, event: gw.GatewayEvent) -> tuple[str, Payment | None]:
    payment = _payment_for(connection, event)
    if payment is None or event.kind not in gw.EVENT_KINDS:
        return EVENT_IGNORED, payment
    if event.kind == gw.PAYMENT_PENDING:
        moved = state.move(payment, PENDING)
        if moved:
            effects.changed(payment)
        return (EVENT_PROCESSED if moved else EVENT_IGNORED), payment
    if event.kind == gw.PAYMENT_SUCCEEDED:
        return _succeeded(connection, payment, event), payment
    if event.kind in (gw.PAYMENT_FAILED, gw.PAYMENT_CANCELED):
        to = FAILED if event.kind == gw.PAYMENT_FAILED else CANCELED
        if state.fail(payment, to):
            audit.record_event(
                "gateway", payment.payee_company_id, f"payments.{to}", ("payment", payment.id)
            )
            effects.settled(payment)
            return EVENT_PROCESSED, payment
        return EVENT_IGNORED, payment
    if event.kind == gw.REFUND_SUCCEEDED:
        if event.amount is None and event.refunded_total is None and event.gateway_reference:
            event = _refund_amount(connection, payment, event)
        applied = refunds.refund_heard(payment, event)
        return (EVENT_PROCESSED if applied else EVENT_IGNORED), payment
    if event.kind == gw.PAYMENT_DISPUTED:
        moved = state.move(payment, DISPUTED)
        if moved:
            audit.record_event(
                "gateway", payment.payee_company_id, "payments.disputed", ("payment", payment.id)
            )
            effects.changed(payment)
        return (EVENT_PROCESSED if moved else EVENT_IGNORED), payment
    return EVENT_IGNORED, payment  # pragma: no cover


def _refund_amount(
    connection: GatewayConnection, payment: Payment, event: gw.GatewayEvent
) -> gw.GatewayEvent:
    """A refund event that does not sign its amount (a Wompi void made in the dashboard): the
    gateway's API says what it holds; a void gives back the whole amount it shows."""
    if event.refund_reference and db.session.scalar(
        select(Refund.id).where(
            Refund.payment_id == payment.id, Refund.gateway_reference == event.refund_reference
        )
    ):
        return event  # the portal's own refund, heard back: its amount is known
    status = connections.adapter_for(connection).fetch_payment(event.gateway_reference or "")
    if (
        status.kind != gw.REFUND_SUCCEEDED
        or status.amount is None
        or (status.currency or "").upper() != payment.currency
        or (status.reference is not None and status.reference != str(payment.id))
    ):
        return event
    return dataclasses.replace(event, amount=status.amount, refunded_total=status.amount)


def _succeeded(connection: GatewayConnection, payment: Payment, event: gw.GatewayEvent) -> str:
    if payment.status in CONFIRMED:
        return EVENT_IGNORED
    amount, currency = event.amount, event.currency
    confirmed_reference = event.gateway_reference
    if amount is None or currency is None:
        # The event does not sign the amount: ask the gateway what it holds.
        status = connections.adapter_for(connection).fetch_payment(
            event.gateway_reference or payment.gateway_reference or ""
        )
        if status.kind != gw.PAYMENT_SUCCEEDED:
            return EVENT_IGNORED
        if status.reference is not None and status.reference != str(payment.id):
            # The gateway says this money was paid for another payment: the event's unsigned
            # reference did not tell the truth, and this payment was not paid by it.
            return EVENT_IGNORED
        amount, currency = status.amount, status.currency
        confirmed_reference = status.gateway_reference or confirmed_reference
    if confirmed_reference:
        # From now on the payment is known by the id the gateway confirmed it under (Wompi's
        # transaction id, not the checkout's reference): refunds and later events name it.
        payment.gateway_reference = confirmed_reference[:120]
    if amount != payment.amount or (currency or "").upper() != payment.currency:
        reason = (
            f"the gateway confirmed {amount} {currency}, "
            f"{payment.amount} {payment.currency} was expected"
        )
        if state.fail(payment, state.NEEDS_REVIEW, reason=reason):
            audit.record_event(
                "gateway",
                payment.payee_company_id,
                "payments.needs_review",
                ("payment", payment.id),
                {"reason": reason},
            )
            effects.settled(payment)
            return EVENT_PROCESSED
        return EVENT_IGNORED
    reached = state.succeed(payment, confirmed=amount)
    if reached is None:
        return EVENT_IGNORED
    audit.record_event(
        "gateway",
        payment.payee_company_id,
        f"payments.{reached}",
        ("payment", payment.id),
        {"amount": str(amount), "currency": payment.currency},
    )
    effects.settled(payment)
    return EVENT_PROCESSED


def due_events(now: Any = None) -> list[tuple[int, int]]:
    """(company id, event id) of events still to process: the sweep hands them to the job."""
    now = now or utcnow()
    rows = db.session.execute(
        unscoped(
            select(GatewayEventRecord.company_id, GatewayEventRecord.id).where(
                GatewayEventRecord.state == EVENT_RECEIVED,
                (GatewayEventRecord.claimed_until.is_(None))
                | (GatewayEventRecord.claimed_until < now),
                GatewayEventRecord.attempts < 10,
            )
        ).limit(500)
    ).all()
    return [(r[0], r[1]) for r in rows]
