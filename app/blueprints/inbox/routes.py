from urllib.parse import parse_qsl, urlencode

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app import spreadsheets
from app.blueprints.inbox import bp
from app.blueprints.inbox.forms import (
    BulkForm,
    SaveFilterForm,
    TrayFilterForm,
)
from app.blueprints.inbox.rows import tray_rows
from app.extensions import db
from app.models import SavedFilter, utcnow
from app.models.saved_filter import TRAYS
from app.services import network
from app.services.documents import queries, trays
from app.services.errors import DomainError, NotFound
from app.services.lifecycle import bulk_events
from app.services.orders import matching as order_matching
from app.services.orders import queries as order_queries
from app.tenancy import get_or_404
from app.web import conditional
from app.web.auth import can, company, require_permission, tray_version, user
from app.web.confirm import Notice, ask_first
from app.web.htmx import form_errors, is_htmx, render
from app.web.redirects import safe_next_url

READERS = {"received": queries.received, "sent": queries.sent}
# The query-string keys a tray keeps in its links and saved filters (never the cursor).
FILTER_KEYS = (
    "date_from",
    "date_to",
    "counterparty",
    "tax_id",
    "type",
    "status",
    "amount_min",
    "amount_max",
    "due_from",
    "due_to",
    "payment",
    "overdue",
    "q",
    "sort",
)


@bp.route("/")
@require_permission("company.view")
def index():
    return redirect(url_for("inbox.received"))


@bp.route("/received")
@require_permission("company.view")
def received():
    return _tray("received", request.args)


@bp.route("/sent")
@require_permission("company.view")
def sent():
    return _tray("sent", request.args)


def _filter_form(tray, args, *, partners=True):
    """Read the tray's filters from args; with partners, the counterparty list to show."""
    form = TrayFilterForm(formdata=args)
    if partners:
        relation = network.SUPPLIER if tray == "received" else network.CUSTOMER
        form.counterparty.choices = [("", _("Any counterparty"))] + [
            (str(ident), name)
            for ident, name in network.partner_choices(company().id, relation=relation)
        ]
    return form


def _tray(tray, args, *, save_form=None, status=200, fragment="inbox/_tray.html"):
    """Answer a tray: the page, or its fragment for htmx; filters, sort and cursor from args.

    A GET carries an ETag of what it shows (app.web.conditional): the browser's next view of
    an unchanged tray is a 304, read from nothing but the tray version loaded with the user.
    """
    etag, today = None, utcnow().date()
    if request.method == "GET" and save_form is None:
        # "overdue" is by day; the three-way match of invoices naming orders changes with them.
        orders = order_queries.version(company().id) if tray == "received" else None
        etag = conditional.page_etag(tray_version(), today, orders)
        if (unchanged := conditional.not_modified(etag)) is not None:
            return unchanged
    page = not is_htmx()
    form = _filter_form(tray, args, partners=page)
    sort = queries.Sort.parse(form.sort.data)
    result = queries.Page([], None)
    if form.validate():
        stmt = READERS[tray](company().id, filters=form.filters(), sort=sort)
        result = queries.page(
            queries.listed(stmt),
            cursor=args.get("cursor", ""),
            sort=sort,
            incoming=tray == "received",
            limit=current_app.config.get("INBOX_PAGE_SIZE", queries.PAGE_SIZE),
        )
    else:
        status = 422
    kept = [(k, v) for k, v in args.items(multi=True) if k in FILTER_KEYS and v]
    response = render(
        "inbox/tray.html",
        fragment,
        status=status,
        tray=tray,
        form=form,
        sort=sort,
        rows=result,
        cursor=args.get("cursor", ""),
        tray_url=_tray_urls(tray, kept),
        query=urlencode(kept),
        saved=db.session.scalars(
            trays.saved_filters(company().id, user_id=user().id, tray=tray)
        ).all(),
        save_form=save_form or SaveFilterForm(formdata=None, tray=tray),
        lines=tray_rows(result.items, tray=tray, today=today,
                        matches=order_matching.summaries(
                            [d for d in result.items if d.order_reference]
                        ) if tray == "received" else {}),
        may_record=tray == "received" and can("documents.receive"),
    )
    return conditional.revalidated(response, etag)


def _tray_urls(tray, kept):
    """Return tray_url(endpoint=None, **changes) for the template: the tray's URL (or
    endpoint's) with its current filters (kept), changed by changes; a change to None drops it."""
    paths, unchanged = {}, {}

    def tray_url(endpoint=None, **changes):
        endpoint = endpoint or f"inbox.{tray}"
        if endpoint not in paths:
            paths[endpoint] = url_for(endpoint)
        names = tuple(changes)  # the headers' and pager's links change the same few
        if names not in unchanged:
            unchanged[names] = urlencode([(k, v) for k, v in kept if k not in changes])
        query = "&".join(
            q for q in (unchanged[names], urlencode([(k, v) for k, v in changes.items() if v])) if q
        )
        return paths[endpoint] + (f"?{query}" if query else "")

    return tray_url


@bp.route("/received.csv")
@require_permission("company.view")
def received_csv():
    return _export("received", "csv")


@bp.route("/received.xlsx")
@require_permission("company.view")
def received_xlsx():
    return _export("received", "xlsx")


@bp.route("/sent.csv")
@require_permission("company.view")
def sent_csv():
    return _export("sent", "csv")


@bp.route("/sent.xlsx")
@require_permission("company.view")
def sent_xlsx():
    return _export("sent", "xlsx")


def _export(tray, fmt):
    """Export the filtered tray (every page, in the tray's sort) as CSV or XLSX."""
    form = _filter_form(tray, request.args, partners=False)
    if not form.validate():
        raise DomainError(
            _(
                "Check the filters: %(errors)s",
                errors="; ".join(str(m) for messages in form.errors.values() for m in messages),
            )
        )
    stmt = READERS[tray](
        company().id, filters=form.filters(), sort=queries.Sort.parse(form.sort.data)
    )
    rows = trays.export_rows(
        stmt,
        incoming=tray == "received",
        limit=current_app.config.get("INBOX_EXPORT_MAX_ROWS", 100_000),
        locale=get_locale(),
    )
    header = trays.export_header()
    data = spreadsheets.table_bytes(fmt, rows, header=header, title=tray)
    filename = f"{tray}-{utcnow():%Y%m%d}.{fmt}"
    return Response(
        data,
        mimetype=spreadsheets.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/filters", methods=["POST"])
@require_permission("company.view")
def create_filter():
    form = SaveFilterForm()
    tray = form.tray.data if form.tray.data in TRAYS else "received"
    if form.validate_on_submit():
        try:
            saved = trays.save_filter(
                company().id,
                user=user(),
                tray=tray,
                name=form.name.data,
                query=form.query.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Filter “%(name)s” saved.", name=saved.name), "success")
            page = url_for(f"inbox.{tray}")
            return redirect(safe_next_url(f"{page}?{saved.query}", page), code=303)
    args = MultiDict(parse_qsl(form.query.data or ""))
    return _tray(tray, args, save_form=form, status=422, fragment="inbox/_saved_filters.html")


@bp.route("/filters/<int:filter_id>/delete", methods=["POST"])
@require_permission("company.view")
def delete_filter(filter_id):
    saved = get_or_404(SavedFilter, filter_id)
    if saved.user_id != user().id:
        abort(404)  # a colleague's filter is theirs alone
    tray, name = saved.tray, saved.name
    trays.delete_filter(company().id, filter_id=saved.id, user=user())
    db.session.commit()
    flash(_("Filter “%(name)s” deleted.", name=name), "info")
    return redirect(url_for(f"inbox.{tray}"), code=303)


@bp.route("/bulk", methods=["POST"])
@require_permission("company.view")
def bulk():
    form = BulkForm()
    tray = form.tray.data if form.tray.data in TRAYS else "received"
    if not form.validate_on_submit() or not form.document_ids.data:
        flash(_("Choose at least one document."), "error")
        return redirect(url_for(f"inbox.{tray}"), code=303)
    ids = form.document_ids.data
    if form.action.data == "download":
        try:
            data = trays.documents_zip(
                company().id, document_ids=ids, locale=str(get_locale() or "es"), actor=user()
            )
            db.session.commit()  # the downloads are in the access audit
        except NotFound:
            abort(404)
        return Response(
            data,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{trays.zip_name()}"'},
        )
    if not can("documents.receive"):
        abort(403)
    if form.action.data == "pay":  # the review page checks what can be paid together
        return redirect(url_for("payments.new", document=ids), code=303)
    code = bulk_events.BULK_EVENTS[form.action.data]
    plan = bulk_events.plan_events(company().id, document_ids=ids, code=code, actor=user())
    if (question := _confirm_bulk(plan, tray)) is not None:
        return question
    outcomes = bulk_events.record_events(company().id, plan=plan, actor=user())
    db.session.commit()
    return render(
        "inbox/bulk.html",
        "inbox/_bulk_report.html",
        outcomes=outcomes,
        tray=tray,
        action=form.action.data,
    )


def _confirm_bulk(plan, tray):
    """Ask before a bulk event that is final or records steps not chosen; None to go ahead."""
    title, consequence, button = bulk_events.BULK_QUESTIONS[plan.code]
    notices = []
    if plan.person_missing:
        notices.append(
            Notice(
                _(
                    "DIAN's acknowledgement (030) and receipt (032) name who records them: "
                    "without your identity document they are not recorded, and those invoices "
                    "stay as they are."
                ),
                link=url_for("auth.profile"),
                link_text=_("Add your identity document to your profile"),
            )
        )
    details = list(plan.details())
    needed = plan.needs_confirmation
    if plan.code == "033":  # an exception of the three-way match is said before accepting
        exceptions = _match_exceptions(plan)
        details.extend(exceptions)
        needed = needed or bool(exceptions)
    return ask_first(
        consequence,
        title=title,
        button=button,
        back=url_for(f"inbox.{tray}"),
        details=details,
        notices=notices,
        needed=needed,
    )


def _match_exceptions(plan):
    """One sentence per invoice of the plan whose three-way match is an exception."""
    return [
        _("%(number)s does not match order %(order)s: %(reasons)s", number=number,
          order=match.order_number, reasons="; ".join(str(r) for r in match.reasons))
        for number, match in order_matching.exceptions_among([r.document_id for r in plan.ready])
    ]
