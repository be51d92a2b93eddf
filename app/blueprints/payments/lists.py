"""The two payments lists, "Payments received" and "Payments made": filters in the query string,
each payment's reconciliation status, and the filtered list as CSV or XLSX.

The list is read by ``app.services.payments.queries``; the reconciliation status (and the filter
on it) by ``app.services.reconciliation.queries``, a layer above payments: this page asks both.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import humanize, spreadsheets
from app.blueprints.payments import bp
from app.blueprints.payments.manage_forms import (
    PAID_DOCUMENT_TYPES,
    RECONCILIATION_NAMES,
    PaymentFilterForm,
)
from app.extensions import db
from app.models.base import utcnow
from app.models.payment import METHODS, PAYMENT_STATUSES, Payment
from app.services.errors import DomainError
from app.services.payments import queries
from app.services.reconciliation import queries as reconciliation
from app.services.reconciliation.candidates import payment_reference
from app.web.auth import company, require_permission
from app.web.formatting import user_timezone
from app.web.htmx import render

PAGE_SIZE = 50
#: The lists by their URL: what the payments service calls the side, and the page's endpoint.
SIDES = {"received": "received", "made": "sent"}
TITLES = {"received": _l("Payments received"), "made": _l("Payments made")}
EXPORT_MAX_ROWS = 50_000
EXPORT_COLUMNS = (
    _l("Date"),
    _l("Payment reference"),
    _l("Counterparty"),
    _l("Counterparty tax id"),
    _l("Invoices"),
    _l("Method"),
    _l("Status"),
    _l("Amount"),
    _l("Fee"),
    _l("Currency"),
    _l("Reconciliation"),
)


def _form() -> PaymentFilterForm:
    """The filters of the request's query string, with their choices named for people."""
    locale = get_locale()
    form = PaymentFilterForm(formdata=request.args)
    form.status.choices = [("", _("Any status"))] + [
        (code, humanize.payment_state(code, locale=locale).capitalize())
        for code in PAYMENT_STATUSES
    ]
    form.counterparty.choices = [("", _("Any company"))] + [
        (str(i), name) for i, name in queries.counterparties(company().id)
    ]
    form.document_type.choices = [("", _("Any type"))] + [
        (code, humanize.document_type(code, locale=locale)) for code in PAID_DOCUMENT_TYPES
    ]
    form.method.choices = [("", _("Any method"))] + [
        (code, humanize.payment_method(code, locale=locale)) for code in METHODS
    ]
    form.reconciliation.choices = [("", _("Any"))] + [
        (code, str(name)) for code, name in RECONCILIATION_NAMES.items()
    ]
    return form


def _statement(view: str, form: PaymentFilterForm) -> Any:
    """The payments the valid filters ask for (a select, newest first)."""
    acting = company().id
    within = without = None
    wanted = form.reconciliation.data or ""
    if wanted == reconciliation.RECONCILED:
        within = reconciliation.payment_ids_held(acting, confirmed_only=True)
    elif wanted == reconciliation.SUGGESTED_STATUS:
        within = reconciliation.payment_ids_held(acting, confirmed_only=False)
        without = reconciliation.payment_ids_held(acting, confirmed_only=True)
    elif wanted == reconciliation.NOT_RECONCILED:
        without = reconciliation.payment_ids_held(acting, confirmed_only=False)
    return queries.payments(
        acting,
        side=SIDES[view],
        status=form.status.data or None,
        counterparty_id=form.counterparty_id(),
        since=form.date_from.data,
        until=form.date_to.data,
        tax_id=form.tax_id.data or "",
        document_type=form.document_type.data or None,
        method=form.method.data or None,
        payment_id=form.payment_id(),
        within=within,
        without=without,
        zone=user_timezone(),
    )


def list_page(view: str) -> ResponseReturnValue:
    """Render one of the two lists (view: received or made), filtered and paged."""
    form = _form()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    shown: list[Payment] = []
    more, status = False, 200
    if form.validate():
        stmt = _statement(view, form)
        found = list(db.session.scalars(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
        shown, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    else:
        status = 422
    keep = {k: v for k, v in request.args.items() if k not in ("page", "side") and v}
    return render(
        "payments/list.html",
        "payments/_list.html",
        status=status,
        form=form,
        view=view,
        side=SIDES[view],
        title=TITLES[view],
        endpoint=f"payments.{view}",
        payments=shown,
        parties=queries.parties(company().id, shown),
        reconciled=reconciliation.payment_statuses(company().id, [p.id for p in shown]),
        reconciliation_names=RECONCILIATION_NAMES,
        references={p.id: payment_reference(p.id) for p in shown},
        page_number=page,
        more=more,
        keep=keep,
        export_urls={
            fmt: url_for(f"payments.{view}_{fmt}", **keep) for fmt in spreadsheets.MEDIA_TYPES
        },
    )


@bp.get("/")
@require_permission("company.view")
def index() -> ResponseReturnValue:
    """The first payments URL: received, or made with ?side=sent (links people kept)."""
    return list_page("made" if request.args.get("side") == "sent" else "received")


@bp.get("/received")
@require_permission("company.view")
def received() -> ResponseReturnValue:
    return list_page("received")


@bp.get("/made")
@require_permission("company.view")
def made() -> ResponseReturnValue:
    return list_page("made")


@bp.get("/received.csv")
@require_permission("company.view")
def received_csv() -> ResponseReturnValue:
    return _export("received", "csv")


@bp.get("/received.xlsx")
@require_permission("company.view")
def received_xlsx() -> ResponseReturnValue:
    return _export("received", "xlsx")


@bp.get("/made.csv")
@require_permission("company.view")
def made_csv() -> ResponseReturnValue:
    return _export("made", "csv")


@bp.get("/made.xlsx")
@require_permission("company.view")
def made_xlsx() -> ResponseReturnValue:
    return _export("made", "xlsx")


def _export(view: str, fmt: str) -> Response:
    """The filtered list (every page, newest first) as CSV or XLSX, in words people read."""
    form = _form()
    if not form.validate():
        raise DomainError(
            _(
                "Check the filters: %(errors)s",
                errors="; ".join(str(m) for messages in form.errors.values() for m in messages),
            )
        )
    limit = current_app.config.get("PAYMENTS_EXPORT_MAX_ROWS", EXPORT_MAX_ROWS)
    found = list(db.session.scalars(_statement(view, form).limit(limit + 1)))
    if len(found) > limit:
        raise DomainError(
            _(
                "The list has more than %(limit)s payments: narrow the filters (a period, for "
                "example) and export again.",
                limit=f"{limit:,}",
            )
        )
    rows = export_rows(company().id, found)
    data = spreadsheets.table_bytes(
        fmt, rows, header=[str(c) for c in EXPORT_COLUMNS], title=str(TITLES[view])
    )
    filename = f"payments-{view}-{utcnow():%Y%m%d}.{fmt}"
    return Response(
        data,
        mimetype=spreadsheets.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def export_rows(company_id: int, payments: list[Payment]) -> list[list[Any]]:
    """One row per payment: amounts and dates typed, every word in the reader's language."""
    locale = get_locale()
    timezone = user_timezone()
    rows: list[list[Any]] = []
    for start in range(0, len(payments), 1000):
        chunk = payments[start : start + 1000]
        party = queries.parties(company_id, chunk)
        reconciled = reconciliation.payment_statuses(company_id, [p.id for p in chunk])
        for p in chunk:
            other = party[p.id]
            rows.append(
                [
                    humanize.local_day(p.created_at, timezone),
                    payment_reference(p.id),
                    other.name,
                    humanize.tax_id(other.tax_id, other.country) if other.tax_id else "",
                    ", ".join(other.numbers),
                    humanize.payment_method(p.method, locale=locale),
                    humanize.payment_state(p.status, locale=locale).capitalize(),
                    p.amount,
                    p.fee,
                    p.currency,
                    str(RECONCILIATION_NAMES.get(reconciled[p.id], reconciled[p.id])),
                ]
            )
    return rows
