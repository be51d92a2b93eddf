"""Outbound webhooks: signed POSTs to a company's ERP when a document arrives or an event is
recorded, retried with backoff, logged, and replayable by an administrator.

Deliveries are rows written in the same transaction as the change they announce (an outbox):
a rolled-back submission announces nothing, a committed one is never forgotten. Only
``deliver`` touches the network; ``deliver_one`` is the job that sends one delivery (the job
queue runs it right after the commit that wrote the row, and its sweep runs what is due again:
retries, and claims whose sender died), ``deliver_due`` sends everything due at once
(``flask --app wsgi jobs webhooks``); each is safe to run twice or twice at once.

An endpoint's URL must lead to the public internet: ``create_endpoint`` refuses any other
(``outbound.check_url`` and ``outbound.resolve``), and ``deliver`` checks it again and connects
to the address it checked (``outbound.post``: no second DNS lookup, redirects not followed).
``WEBHOOK_ALLOW_LOOPBACK`` lets local development use 127.0.0.1.

Each POST carries ``X-Portal-Timestamp`` (Unix seconds) and ``X-Portal-Signature``, the hex
HMAC-SHA256 of ``f"{timestamp}.{body}"`` with the endpoint's secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select, update

from app.db import lookup_once
from app.extensions import db
from app.models import Document, DocumentEvent, User, WebhookDelivery, WebhookEndpoint, utcnow
from app.models.webhook import (
    DOCUMENT_RECEIVED,
    EVENT_RECORDED,
    ORDER_RECEIVED,
    ORDER_RESPONDED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    RECONCILIATION_MATCHED,
    WEBHOOK_EVENTS,
)
from app.services import audit, outbound
from app.services.errors import FieldErrors, NotFound
from app.tenancy import unscoped

#: Waits after failed attempts 1..5; the 6th failure gives up.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
BATCH = 100

EVENT_LABELS = {
    DOCUMENT_RECEIVED: _l("A document was received"),
    EVENT_RECORDED: _l("An event (acknowledgement, receipt, acceptance, claim) was recorded"),
    PAYMENT_SUCCEEDED: _l("A payment was received (with the invoices it covers)"),
    PAYMENT_FAILED: _l("A payment failed or needs review"),
    PAYMENT_REFUNDED: _l("A payment was refunded"),
    RECONCILIATION_MATCHED: _l("A bank line was matched"),
    ORDER_RECEIVED: _l("An order was received (suppliers)"),
    ORDER_RESPONDED: _l("An order was answered, confirmed or cancelled"),
}


# ------------------------------------------------------------------------------- endpoints


def endpoints(company_id: int) -> Select[tuple[WebhookEndpoint]]:
    """Return the company's endpoints, newest first."""
    return (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.company_id == company_id)
        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
    )


def deliveries(company_id: int, *, limit: int = 100) -> Select[tuple[WebhookDelivery]]:
    """Return the company's latest deliveries, newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.company_id == company_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )


def create_endpoint(
    company_id: int, *, url: str, events: list[str], actor: User
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; return it and its signing secret (shown to the admin once)."""
    url = (url or "").strip()
    errors: dict[str, list[Any]] = {}
    try:
        outbound.resolve(outbound.check_url(url), allow_loopback=_allow_loopback())
    except outbound.UnsafeAddress as refusal:
        errors["url"] = [refusal.message]
    chosen = sorted(set(events or []))
    if not chosen or not set(chosen) <= set(WEBHOOK_EVENTS):
        errors["events"] = [_l("Choose at least one of the events offered.")]
    if errors:
        raise FieldErrors(errors)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        company_id=company_id, url=url, secret=secret, events=chosen, created_by_id=actor.id
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record_event(actor, company_id, "webhook.endpoint_created", endpoint, {"url": url})
    return endpoint, secret


def delete_endpoint(company_id: int, *, endpoint_id: int, actor: User) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint = _endpoint(company_id, endpoint_id)
    audit.record_event(
        actor, company_id, "webhook.endpoint_deleted", endpoint, {"url": endpoint.url}
    )
    db.session.delete(endpoint)
    db.session.flush()


def _endpoint(company_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.company_id == company_id
        )
    ).first()
    if endpoint is None:
        raise NotFound(_l("That webhook does not exist."))
    return endpoint


# -------------------------------------------------------------------------------- enqueuing


# Called while another company acts (the sender's upload tells the receiver): explicit.
# Built once: it runs for every delivered document.
_ACTIVE_ENDPOINTS = unscoped(
    select(WebhookEndpoint).where(
        WebhookEndpoint.company_id == bindparam("company_id"), WebhookEndpoint.active.is_(True)
    )
)


def enqueue(
    company_id: int, event_type: str, data: dict[str, Any], *, now: dt.datetime | None = None
) -> list[WebhookDelivery]:
    """Add a delivery of the event to each of the company's endpoints that subscribed to it."""
    now = now or utcnow()
    targets = lookup_once(
        db.session(),
        ("webhook_endpoints", company_id),
        lambda: db.session.scalars(_ACTIVE_ENDPOINTS, {"company_id": company_id}).all(),
    )
    payload = {"type": event_type, "created_at": now.isoformat(), "data": data}
    rows = [
        WebhookDelivery(
            company_id=company_id,
            endpoint_id=endpoint.id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in targets
        if endpoint.wants(event_type)
    ]
    db.session.add_all(rows)
    return rows


def document_received(document: Document) -> None:
    """Announce a delivered document to its receiver."""
    if document.receiver_company_id is None:
        return
    enqueue(document.receiver_company_id, DOCUMENT_RECEIVED, _document_data(document))


def event_recorded(document: Document, event: DocumentEvent) -> None:
    """Announce an event to both of the document's companies."""
    data = {
        **_document_data(document),
        "event": {
            "id": event.id,
            "code": event.code,
            "claim_reason": event.claim_reason,
            "created_at": event.created_at.isoformat(),
        },
    }
    for company_id in {document.sender_company_id, document.receiver_company_id} - {None}:
        enqueue(company_id, EVENT_RECORDED, data)


def _document_data(document: Document) -> dict[str, Any]:
    return {
        "document": {
            "id": document.id,
            "document_type": document.document_type,
            "number": document.number,
            "status": document.status,
            "sender_company_id": document.sender_company_id,
            "receiver_company_id": document.receiver_company_id,
            "payable": str(document.payable),
            "currency": document.currency,
        }
    }


# -------------------------------------------------------------------------------- delivering


def sign(secret: str, timestamp: str, body: str) -> str:
    """Return the hex HMAC-SHA256 of f"{timestamp}.{body}" with the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def deliver(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> bool:
    """POST one delivery to its endpoint (the only network call) and record the outcome."""
    now = now or utcnow()
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "portal-webhooks/1",
        "X-Portal-Event": delivery.event_type,
        "X-Portal-Delivery": str(delivery.id),
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": sign(endpoint.secret, timestamp, body),
    }
    status: int | None = None
    problem: str | None = None
    try:
        # Checked again now (a name may point elsewhere since it was registered), and the
        # connection goes to the very address that was checked.
        target = outbound.check_url(endpoint.url)
        addresses = outbound.resolve(target, allow_loopback=_allow_loopback())
        status = outbound.post(
            target, addresses, body=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS
        )
        if not 200 <= status < 300:
            problem = f"HTTP {status}"  # a redirect too: never followed
    except outbound.UnsafeAddress as refusal:
        problem = f"refused: {refusal.message}"[:500]
    except (OSError, http.client.HTTPException) as error:
        problem = f"{type(error).__name__}: {error}"[:500]
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status_code": status}
    if problem is None:
        values |= {"delivered_at": now, "next_attempt_at": None, "last_error": None}
    elif attempts >= MAX_ATTEMPTS:
        values |= {"next_attempt_at": None, "last_error": problem}  # given up
    else:
        values |= {"next_attempt_at": now + BACKOFF[attempts - 1], "last_error": problem}
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        setattr(delivery, name, value)
    return problem is None


def _allow_loopback() -> bool:
    """Whether endpoints on this machine are allowed (development only: WEBHOOK_ALLOW_LOOPBACK)."""
    return bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK"))


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliver_due(now: dt.datetime | None = None) -> DeliveryReport:
    """Send every delivery that is due (``flask --app wsgi jobs webhooks``). A job: it commits
    each claim and each outcome itself, so no transaction stays open across a network call and
    two runs never send one twice."""
    now = now or utcnow()
    report = DeliveryReport()
    due = due_deliveries(now)
    db.session.commit()
    for _company_id, delivery_id in due:
        ok = deliver_one(delivery_id, now=now)
        if ok is not None:
            (report.delivered if ok else report.failed).append(delivery_id)
    return report


def due_deliveries(now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """Return (company id, delivery id) of the deliveries due now, first tries, retries and
    claims whose sender died (its lease ran out), across companies (a job's sweep)."""
    rows = db.session.execute(
        unscoped(
            select(WebhookDelivery.company_id, WebhookDelivery.id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.next_attempt_at <= (now or utcnow()),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
        )
    ).all()
    return [(company_id, delivery_id) for company_id, delivery_id in rows]


def deliver_one(delivery_id: int, *, now: dt.datetime | None = None) -> bool | None:
    """Claim one due delivery and send it; None when it is not due or another run holds it.

    A job: the claim is committed before the network call (the lease, ``JOBS_LEASE_SECONDS``,
    moves ``next_attempt_at`` ahead: a sender killed mid-call leaves it due again once the
    lease ends) and the outcome after it. Running it twice sends once.
    """
    now = now or utcnow()
    # Claim it: only the run whose conditional UPDATE moves next_attempt_at sends it.
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + _lease())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    stmt = unscoped(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))
    delivery = db.session.scalars(stmt.execution_options(populate_existing=True)).one()
    ok = deliver(delivery, now=now)
    db.session.commit()
    return ok


def _lease() -> dt.timedelta:
    """How long a claimed delivery is left to its sender before another run may take it."""
    return dt.timedelta(seconds=float(current_app.config.get("JOBS_LEASE_SECONDS", 120)))


def replay_delivery(company_id: int, *, delivery_id: int, actor: User) -> WebhookDelivery:
    """Queue a delivery again, as a new entry of the log due now."""
    original = db.session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.company_id == company_id
        )
    ).first()
    if original is None:
        raise NotFound(_l("That delivery does not exist."))
    now = utcnow()
    copy = WebhookDelivery(
        company_id=company_id,
        endpoint_id=original.endpoint_id,
        event_type=original.event_type,
        payload=original.payload,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(copy)
    db.session.flush()
    audit.record_event(
        actor, company_id, "webhook.delivery_replayed", copy, {"replay_of": original.id}
    )
    return copy
