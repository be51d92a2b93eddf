"""The signed-in home: what waits for the company, in figures, per side and per role.

Two sides, each read in three aggregate statements over the documents (the status counts; the
overdue invoices' open amounts by currency; the invoices due by currency and week), each a
range of one index read without the table (migration 0016), and one statement over the
disputes, so the page costs the same few queries at any size:

- **payables**, the documents the company received: waiting for its acknowledgement (030), for
  the receipt of the goods (032), for its acceptance (033); invoices due this week; overdue;
  disputes waiting for its answer as the buyer; the last few received;
- **receivables**, the documents it sent: not yet accepted by the buyer (030, 032 or 033 still
  missing), claimed (031), overdue; disputes waiting for its answer as the supplier.

Who sees which side (``sides_for``): a role that works one side sees that side — payables with
``documents.receive`` (the payables role), receivables with ``documents.issue`` (the
receivables role). Owners and administrators hold both; a viewer reads everything and works
nothing, so sees both; sales follow their customers' invoices, so see receivables.

Every figure names the tray and the query string (``TrayFilterForm``'s fields) that list
exactly the documents it counts: the counts use the trays' own filters (``queries.
overdue_condition``, ``queries.STATUS_GROUPS``). "Today" is the UTC day, the one the trays judge
"overdue" on; "this week" runs from today to Sunday (the days before today are overdue already),
and the next seven weeks Monday to Sunday. Money is never added across currencies: each figure
holds one Decimal amount per currency, the amount still open (``open_balance``) of invoices not
paid.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal_column, select

from app.extensions import db
from app.models import Dispute, Document, utcnow
from app.models.dispute import ACTIVE_STATUSES
from app.models.document import (
    ACKNOWLEDGED,
    CLAIMED,
    GOODS_RECEIVED,
    INVOICE,
    PAID,
    PARTIAL,
    PAYMENT_STATUSES,
    RECEIVED,
    REFUNDED,
    UNPAID,
)
from app.permissions import SALES, VIEWER, role_can
from app.services.documents import queries

PAYABLES, RECEIVABLES = "payables", "receivables"
#: Weeks in the chart of amounts due (this week and the next seven).
WEEKS = 8
#: How many of the last received documents the home lists.
RECENT = 5
#: The currency the chart draws when the documents give no other (the table lists every one).
DEFAULT_CURRENCY = "COP"
_CENT = Decimal("0.01")
#: Every payment status but paid (what the trays' "overdue" means by ``!= PAID``).
NOT_PAID = (UNPAID, PARTIAL, REFUNDED)
assert set(NOT_PAID) == set(PAYMENT_STATUSES) - {PAID}


def sides_for(role: str | None) -> tuple[str, ...]:
    """Return the sides of the business the role sees on its home (payables, receivables)."""
    sides = []
    if role_can(role, "documents.receive") or role == VIEWER:
        sides.append(PAYABLES)
    if role_can(role, "documents.issue") or role in (VIEWER, SALES):
        sides.append(RECEIVABLES)
    return tuple(sides)


@dataclass(frozen=True)
class Week:
    """One period of the chart: from start to end, both included."""

    start: dt.date
    end: dt.date


def weeks(today: dt.date, count: int = WEEKS) -> list[Week]:
    """Return this week (today to Sunday) and the count - 1 weeks after it (Monday to Sunday)."""
    sunday = today + dt.timedelta(days=6 - today.weekday())
    periods = [Week(today, sunday)]
    for _ in range(count - 1):
        monday = periods[-1].end + dt.timedelta(days=1)
        periods.append(Week(monday, monday + dt.timedelta(days=6)))
    return periods


@dataclass
class Figure:
    """One number on the home: how many documents, their open amount per currency, and the
    tray (``received``/``sent``, or ``disputes``) with the filters that list them."""

    key: str
    label: LazyString
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    tray: str = "received"
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Side:
    """The figures of one side (payables or receivables) and its open amounts per week."""

    name: str
    title: LazyString
    figures: list[Figure]
    # Per week of ``Home.weeks``: currency → open amount due that week.
    due_by_week: list[dict[str, Decimal]]
    recent: list[Any] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        """Return the figure named key."""
        return next(f for f in self.figures if f.key == key)


@dataclass
class Home:
    """What the home shows: the sides the role sees, the weeks of the chart, and the currencies
    amounts are in (the chart's first)."""

    today: dt.date
    weeks: list[Week]
    sides: list[Side]
    currencies: list[str]

    @property
    def chart_currency(self) -> str:
        """Return the currency the chart draws (the table lists them all)."""
        return self.currencies[0]

    def side(self, name: str) -> Side | None:
        """Return the side named name, if the role sees it."""
        return next((s for s in self.sides if s.name == name), None)


def home_figures(company_id: int, *, role: str | None, today: dt.date | None = None) -> Home:
    """Read the home's figures for the company as the role sees them (today: UTC's day)."""
    today = today or utcnow().date()
    periods = weeks(today)
    sides = sides_for(role)
    waiting = _disputes_waiting(company_id) if sides else {}
    found = []
    if PAYABLES in sides:
        found.append(_payables(company_id, today, periods, waiting.get(PAYABLES, 0)))
    if RECEIVABLES in sides:
        found.append(_receivables(company_id, today, periods, waiting.get(RECEIVABLES, 0)))
    return Home(today, periods, found, _currencies(found))


def _currencies(sides: list[Side]) -> list[str]:
    """Every currency amounts are in: the one with most documents due first (COP on a tie)."""
    seen: Counter[str] = Counter()
    for side in sides:
        for figure in side.figures:
            seen.update({currency: figure.count for currency in figure.amounts})
        for week in side.due_by_week:
            seen.update(dict.fromkeys(week, 1))
    seen[DEFAULT_CURRENCY] += 0
    return sorted(seen, key=lambda c: (-seen[c], c != DEFAULT_CURRENCY, c))


def _payables(company_id: int, today: dt.date, periods: list[Week], disputes: int) -> Side:
    mine = Document.receiver_company_id == company_id
    statuses = _status_counts(mine, (RECEIVED, ACKNOWLEDGED, GOODS_RECEIVED))
    overdue, due_now, by_week = _due(mine, today, periods)
    week = periods[0]
    figures = [
        Figure(
            "awaiting_030",
            _l("Waiting for your acknowledgement (030)"),
            statuses.get(RECEIVED, 0),
            params={"status": RECEIVED},
        ),
        Figure(
            "awaiting_032",
            _l("Waiting for the receipt of goods (032)"),
            statuses.get(ACKNOWLEDGED, 0),
            params={"status": ACKNOWLEDGED},
        ),
        Figure(
            "awaiting_033",
            _l("Waiting for your acceptance (033)"),
            statuses.get(GOODS_RECEIVED, 0),
            params={"status": GOODS_RECEIVED},
        ),
        Figure(
            "due_week",
            _l("Invoices due this week"),
            due_now[0],
            due_now[1],
            params=_due_params(week),
        ),
        Figure("overdue", _l("Overdue invoices"), overdue[0], overdue[1], params={"overdue": "y"}),
        Figure(
            "disputes",
            _l("Disputes waiting for your answer"),
            disputes,
            tray="disputes",
            params={"show": "waiting", "side": "buyer"},
        ),
    ]
    recent = db.session.execute(queries.listed(queries.received(company_id)).limit(RECENT)).all()
    return Side(PAYABLES, _l("Payables"), figures, by_week, recent)


def _receivables(company_id: int, today: dt.date, periods: list[Week], disputes: int) -> Side:
    mine = Document.sender_company_id == company_id
    pending = queries.STATUS_GROUPS[queries.NOT_ACCEPTED]
    statuses = _status_counts(mine, (*pending, CLAIMED))
    overdue, due_now, by_week = _due(mine, today, periods)
    figures = [
        Figure(
            "not_accepted",
            _l("Sent, not accepted yet"),
            sum(statuses.get(s, 0) for s in pending),
            tray="sent",
            params={"status": queries.NOT_ACCEPTED},
        ),
        Figure(
            "claimed",
            _l("Claimed by the buyer (031)"),
            statuses.get(CLAIMED, 0),
            tray="sent",
            params={"status": CLAIMED},
        ),
        Figure(
            "due_week",
            _l("Invoices due this week"),
            due_now[0],
            due_now[1],
            tray="sent",
            params=_due_params(periods[0]),
        ),
        Figure(
            "overdue",
            _l("Overdue invoices"),
            overdue[0],
            overdue[1],
            tray="sent",
            params={"overdue": "y"},
        ),
        Figure(
            "disputes",
            _l("Disputes waiting for your answer"),
            disputes,
            tray="disputes",
            params={"show": "waiting", "side": "supplier"},
        ),
    ]
    return Side(RECEIVABLES, _l("Receivables"), figures, by_week)


def _due_params(week: Week) -> dict[str, str]:
    return {"type": INVOICE, "due_from": week.start.isoformat(), "due_to": week.end.isoformat()}


def _status_counts(mine: Any, statuses: tuple[str, ...]) -> dict[str, int]:
    """Count the side's documents in each of statuses (one grouped statement)."""
    rows = db.session.execute(
        select(Document.status, func.count())
        .where(mine, Document.status.in_(statuses))
        .group_by(Document.status)
    )
    return {status: count for status, count in rows}


Money = tuple[int, dict[str, Decimal]]


def _due(
    mine: Any, today: dt.date, periods: list[Week]
) -> tuple[Money, Money, list[dict[str, Decimal]]]:
    """Read the side's invoices overdue, due this week, and the amount open per week.

    Returns (overdue count, amounts), (due this week count — paid ones too, as the tray's due
    dates list them —, amounts open) and one {currency: amount open} per week of periods.

    Two statements, each a range of ``ix_documents_<side>_due`` read without the table: the
    overdue invoices (the trays' ``overdue_condition``, "not paid" written as the two other
    payment statuses so that the paid history is never read), summed by currency; then every
    invoice due from today to the last week's Sunday, grouped by currency and week.
    """
    rows = db.session.execute(
        select(Document.currency, func.count(), func.sum(Document.open_balance))
        .where(
            mine,
            Document.document_type == INVOICE,
            Document.payment_status.in_(NOT_PAID),
            Document.due_date < today,
            Document.open_balance > 0,
        )
        .group_by(Document.currency)
    ).all()
    overdue = (sum(count for _c, count, _a in rows), {c: _decimal(a) for c, _n, a in rows})

    still_open = and_(Document.payment_status != PAID, Document.open_balance > 0)
    period = case(
        *((Document.due_date <= week.end, index) for index, week in enumerate(periods)),
    ).label("due_period")
    rows = db.session.execute(
        select(
            Document.currency,
            period,
            func.count(),
            func.sum(case((still_open, Document.open_balance), else_=0)),
        )
        .where(
            mine,
            Document.document_type == INVOICE,
            Document.payment_status.in_(PAYMENT_STATUSES),
            Document.due_date.between(today, periods[-1].end),
        )
        # By the column's name: PostgreSQL does not see two renderings of the CASE, each
        # with its own parameters, as the same expression.
        .group_by(Document.currency, literal_column("due_period"))
    ).all()
    by_week: list[dict[str, Decimal]] = [{} for _ in periods]
    week_count, week_amounts = 0, {}
    for currency, index, count, amount in rows:
        amount = _decimal(amount)
        if index == 0:
            week_count += count
            week_amounts[currency] = amount
        if amount:
            by_week[index][currency] = amount
    return overdue, (week_count, week_amounts), by_week


def _decimal(value: Any) -> Decimal:
    """An aggregate's sum as a Decimal in cents (SQLite's SUM of NUMERIC comes back as a float
    computed in binary; PostgreSQL's is exact)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(_CENT)


def _disputes_waiting(company_id: int) -> dict[str, int]:
    """Count the active disputes waiting for the company's answer, as buyer and as supplier."""
    side = case((Dispute.buyer_company_id == company_id, PAYABLES), else_=RECEIVABLES)
    rows = db.session.execute(
        select(side.label("dispute_side"), func.count())
        .where(Dispute.waiting_company_id == company_id, Dispute.status.in_(ACTIVE_STATUSES))
        .group_by(literal_column("dispute_side"))
    )
    return {name: count for name, count in rows}
