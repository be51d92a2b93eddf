"""The tray's lines as the page shows them: each cell formatted once, in one pass.

A tray page has fifty lines of ten cells; formatting them here rather than cell by cell in
Jinja (a filter, a lookup and a translation per cell) is most of what the page costs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from app.blueprints.inbox.forms import DOCUMENT_TYPE_NAMES
from app.models.document import INVOICE, PAID
from app.services import disputes, lifecycle, trays
from app.web.formatting import date_filter, money


@dataclass(frozen=True, slots=True)
class TrayLine:
    """One document as a line of a tray, every cell ready to print."""

    id: int
    number: str
    url: str
    select_label: str
    type_name: str
    issue_date: str
    counterparty: str
    waiting: bool
    tax_id: str
    amount: str
    group: str
    group_name: str
    status_name: str
    due_date: str
    overdue: bool
    payment_status: str
    dispute: str  # the latest dispute's status, or ""
    dispute_name: str
    actions: tuple[str, ...]  # the bulk events it allows (received tray only)


def tray_lines(documents: Iterable[Any], *, tray: str, today: dt.date) -> list[TrayLine]:
    """Return the lines of a page of the received or sent tray (documents or listed rows)."""
    incoming = tray == "received"
    types = _names(DOCUMENT_TYPE_NAMES)
    groups = _names(trays.GROUP_NAMES)
    statuses = _names(lifecycle.STATUS_NAMES)
    dispute_names = _names(disputes.STATUS_NAMES)
    select_label = _("Select %(number)s")  # the message, filled in per line below
    document_url = _document_url()
    actions: dict[tuple[str, str], tuple[str, ...]] = {}  # by (status, type): a few per page
    lines = []
    for d in documents:
        group = trays.status_group(d)
        lines.append(
            TrayLine(
                id=d.id,
                number=d.number,
                url=document_url(d.id),
                select_label=select_label % {"number": d.number},
                type_name=types.get(d.document_type, d.document_type),
                issue_date=date_filter(d.issue_date),
                counterparty=d.supplier_name if incoming else d.customer_name,
                waiting=not incoming and d.receiver_company_id is None,
                tax_id=d.supplier_tax_id if incoming else d.customer_tax_id,
                amount=money(d.payable, d.currency),
                group=group,
                group_name=groups[group],
                status_name=statuses.get(d.status, d.status),
                due_date=date_filter(d.due_date),
                overdue=bool(
                    d.document_type == INVOICE
                    and d.due_date
                    and d.due_date < today
                    and d.payment_status != PAID
                    and d.open_balance > 0
                ),
                payment_status=d.payment_status,
                dispute=d.dispute_status or "",
                dispute_name=dispute_names.get(d.dispute_status or "", ""),
                actions=_actions(actions, d) if incoming else (),
            )
        )
    return lines


def _actions(known: dict[tuple[str, str], tuple[str, ...]], document: Any):
    """Return the bulk events a received document allows, worked out once per status and type."""
    key = (document.status, document.document_type)
    if key not in known:
        known[key] = trays.bulk_actions(*key)
    return known[key]


def _names(names: dict[str, object]) -> dict[str, str]:
    """Translate a table of lazy names once for the page."""
    return {key: str(name) for key, name in names.items()}


def _document_url() -> Callable[[int], str]:
    """Return id → the document page's URL, built once and filled in per line."""
    sample = url_for("documents.show", document_id=1)
    if not sample.endswith("/1"):
        return lambda ident: url_for("documents.show", document_id=ident)
    prefix = sample[:-1]
    return lambda ident: f"{prefix}{ident}"
