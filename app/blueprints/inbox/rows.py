"""The tray's lines as the page shows them: each cell formatted once, in one pass.

A tray page has fifty lines of ten cells; formatting them here rather than cell by cell in
Jinja (a filter, a lookup and a translation per cell) is most of what the page costs.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    payment_name: str
    dispute: str  # the latest dispute's status, or ""
    dispute_name: str
    actions: tuple[str, ...]  # the bulk events it allows (received tray only)
    action_names: str  # the same, space-separated (data-actions)


def tray_lines(documents: Iterable[Any], *, tray: str, today: dt.date) -> list[TrayLine]:
    """Return the lines of a page of the received or sent tray (documents or listed rows)."""
    incoming = tray == "received"
    locale = get_locale()
    words = _words(str(locale))
    document_url = _document_url()
    actions: dict[tuple[str, str], tuple[str, ...]] = {}  # by (status, type): a few per page
    lines = []
    for d in documents:
        group = trays.status_group(d)
        allowed = _actions(actions, d) if incoming else ()
        lines.append(
            TrayLine(
                id=d.id,
                number=d.number,
                url=document_url(d.id),
                select_label=words.select % {"number": d.number},
                type_name=words.types.get(d.document_type, d.document_type),
                issue_date=date_filter(d.issue_date, locale=locale),
                counterparty=d.supplier_name if incoming else d.customer_name,
                waiting=not incoming and d.receiver_company_id is None,
                tax_id=d.supplier_tax_id if incoming else d.customer_tax_id,
                amount=money(d.payable, d.currency, locale=locale),
                group=group,
                group_name=words.groups[group],
                status_name=words.statuses.get(d.status, d.status),
                due_date=date_filter(d.due_date, locale=locale),
                overdue=bool(
                    d.document_type == INVOICE
                    and d.due_date
                    and d.due_date < today
                    and d.payment_status != PAID
                    and d.open_balance > 0
                ),
                payment_status=d.payment_status,
                payment_name=words.payments.get(d.payment_status, d.payment_status),
                dispute=d.dispute_status or "",
                dispute_name=words.disputes.get(d.dispute_status or "", ""),
                actions=allowed,
                action_names=" ".join(allowed),
            )
        )
    return lines


PAYMENT_NAMES = {"unpaid": _l("unpaid"), "partial": _l("partly paid"), "paid": _l("paid")}


@dataclass(frozen=True, slots=True)
class _Words:
    """The words a tray's lines use, in one language."""

    select: str  # "Select %(number)s"
    types: dict[str, str]
    groups: dict[str, str]
    statuses: dict[str, str]
    payments: dict[str, str]
    disputes: dict[str, str]


@functools.lru_cache(maxsize=16)
def _words(locale: str) -> _Words:
    """Translate the lines' words once per language (called in a request in that language)."""

    def names(table: dict[str, Any]) -> dict[str, str]:
        return {key: str(name) for key, name in table.items()}

    return _Words(
        select=_("Select %(number)s"),
        types=names(DOCUMENT_TYPE_NAMES),
        groups=names(trays.GROUP_NAMES),
        statuses=names(lifecycle.STATUS_NAMES),
        payments=names(PAYMENT_NAMES),
        disputes=names(disputes.STATUS_NAMES),
    )


def _actions(known: dict[tuple[str, str], tuple[str, ...]], document: Any):
    """Return the bulk events a received document allows, worked out once per status and type."""
    key = (document.status, document.document_type)
    if key not in known:
        known[key] = trays.bulk_actions(*key)
    return known[key]


def _document_url() -> Callable[[int], str]:
    """Return id → the document page's URL, built once and filled in per line."""
    sample = url_for("documents.show", document_id=1)
    if not sample.endswith("/1"):
        return lambda ident: url_for("documents.show", document_id=ident)
    prefix = sample[:-1]
    return lambda ident: f"{prefix}{ident}"
