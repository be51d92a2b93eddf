"""Gateway payouts, copied from each connected gateway (``Gateway.list_settlements``): the
payout the bank statement will show, with the lines it settles (charges, refunds, fees), each
tied to the portal's payment, so the chain statement line → payout → payments → invoices can be
followed from either end. A payment's gateway fee is filled in from its charge line."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update

from app.extensions import db
from app.gateways import base as gw
from app.models.base import utcnow
from app.models.payment import SANDBOX, GatewayConnection, Payment
from app.models.reconciliation import GatewayPayout, GatewayPayoutLine
from app.services.errors import DomainError
from app.services.payments import connections
from app.tenancy import unscoped

log = logging.getLogger(__name__)
LOOKBACK = dt.timedelta(days=60)


@dataclass
class SyncReport:
    new: int = 0
    updated: int = 0
    failed: list[str] | None = None


def sync_payouts(company_id: int, *, since: dt.date | None = None) -> SyncReport:
    """Copy the company's payouts from every active connection; a gateway that does not
    answer is named in ``failed`` and the others still sync."""
    return _sync(connections.connections(company_id, active_only=True), since)


def sync_without_network(company_id: int) -> bool:
    """Copy the company's payouts now if every active connection answers without the network
    (the embedded sandbox gateway: what a request may wait for) and say so; False, copying
    nothing, when one is reached over the network (a job fetches them instead)."""
    active = connections.connections(company_id, active_only=True)
    if any(c.gateway != SANDBOX for c in active):
        return False
    _sync(active, None)
    return True


def _sync(active: list[GatewayConnection], since: dt.date | None) -> SyncReport:
    report = SyncReport(failed=[])
    since = since or (utcnow() - LOOKBACK).date()
    for connection in active:
        try:
            settlements = connections.adapter_for(connection).list_settlements(since=since)
        except (gw.GatewayError, DomainError) as exc:  # down, or its keys no longer open
            log.warning("payouts of connection %s: %s", connection.id, exc)
            report.failed.append(connection.label or connection.gateway)  # type: ignore[union-attr]
            continue
        for settlement in settlements:
            if _store(connection, settlement):
                report.new += 1
            else:
                report.updated += 1
    db.session.flush()
    return report


def _store(connection: GatewayConnection, settlement: gw.Settlement) -> bool:
    payout = db.session.scalars(
        select(GatewayPayout).where(
            GatewayPayout.connection_id == connection.id,
            GatewayPayout.settlement_id == settlement.settlement_id,
        )
    ).first()
    new = payout is None
    if payout is None:
        payout = GatewayPayout(
            company_id=connection.company_id,
            connection_id=connection.id,
            gateway=connection.gateway,
            settlement_id=settlement.settlement_id[:120],
            currency=settlement.currency,
            amount=settlement.amount,
            status=settlement.status,
        )
        db.session.add(payout)
    payout.amount = settlement.amount
    payout.status = settlement.status
    payout.paid_on = settlement.paid_on
    payout.gross = sum((line.amount for line in settlement.lines if line.kind != "fee"),
                       Decimal("0"))
    payout.fees = sum((line.fee for line in settlement.lines), Decimal("0")) + sum(
        (-line.amount for line in settlement.lines if line.kind == "fee"), Decimal("0"))
    payout.synced_at = utcnow()
    db.session.flush()
    if new:
        for line in settlement.lines:
            payment_id = _payment_of(connection, line)
            db.session.add(GatewayPayoutLine(
                company_id=connection.company_id,
                payout_id=payout.id,
                kind=line.kind,
                gateway_reference=line.gateway_reference[:120],
                payment_id=payment_id,
                amount=line.amount,
                fee=line.fee,
                net=line.net,
                description=line.description[:300],
            ))
            if payment_id is not None and line.kind == "charge" and line.fee:
                db.session.execute(
                    update(Payment)
                    .where(Payment.id == payment_id, Payment.fee.is_(None))
                    .values(fee=line.fee)
                    .execution_options(synchronize_session=False)
                )
    return new


def _payment_of(connection: GatewayConnection, line: gw.SettlementLine) -> int | None:
    if line.reference and str(line.reference).isdigit():
        found = db.session.scalars(unscoped(select(Payment.id).where(
            Payment.id == int(line.reference),
            Payment.payee_company_id == connection.company_id,
        ))).first()
        if found is not None:
            return found
    if not line.gateway_reference:
        return None
    return db.session.scalars(unscoped(select(Payment.id).where(
        Payment.connection_id == connection.id,
        Payment.gateway_reference == line.gateway_reference,
    ))).first()


def payout_lines(company_id: int, payout_id: int) -> list[GatewayPayoutLine]:
    return list(db.session.scalars(
        select(GatewayPayoutLine)
        .where(GatewayPayoutLine.company_id == company_id,
               GatewayPayoutLine.payout_id == payout_id)
        .order_by(GatewayPayoutLine.id)
    ))


def sync_all() -> int:
    """Every company with an active gateway connection (the daily job)."""
    company_ids = db.session.scalars(unscoped(
        select(GatewayConnection.company_id).where(GatewayConnection.active.is_(True)).distinct()
    )).all()
    total = 0
    for company_id in company_ids:
        total += sync_payouts(company_id).new
    return total
