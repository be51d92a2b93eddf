from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from app import spreadsheets
from app.blueprints.inbox import bp
from app.blueprints.inbox.forms import (
    BulkForm,
    SaveFilterForm,
    TrayFilterForm,
)
from app.blueprints.inbox.rows import tray_lines
from app.extensions import db
from app.models import SavedFilter, utcnow
from app.models.saved_filter import TRAYS
from app.services import network
from app.services.documents import queries, trays
from app.services.errors import DomainError, NotFound
from app.services.lifecycle import bulk_events
from app.tenancy import get_or_404
from app.web.auth import can, company, membership, require_permission, tray_version, user
from app.web.confirm import Notice, ask_first
from app.web.fragments import FragmentCache, placeholder_csrf, render_in_layout, with_csrf
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


#: What a tray page reads besides its rows (the partner list, the user's saved filters), kept
#: like the pages themselves: by the company's tray version, which every change to them raises.
READS = FragmentCache(size=1024)


def _kept(key, read):
    """Return read() as of this request's tray version, reading it once per version."""
    return READS.get_or_make((*key, company().id, tray_version()), lambda: (read(), True))


def _filter_form(tray, args):
    form = TrayFilterForm(formdata=args)
    relation = network.SUPPLIER if tray == "received" else network.CUSTOMER
    partners = _kept(
        ("partners", relation),
        lambda: tuple(network.partner_choices(company().id, relation=relation)),
    )
    form.counterparty.choices = [("", _("Any counterparty"))] + [
        (str(ident), name) for ident, name in partners
    ]
    return form


#: Rendered tray pages (and htmx tray fragments), by everything they show: kept while the
#: company's tray version stays (app.models.tray_version); INBOX_PAGE_CACHE_SIZE pages a process.
PAGES = FragmentCache(size=0)


def _tray(tray, args, *, save_form=None, status=200, fragment="inbox/_tray.html"):
    """Answer a tray: the page, or its fragment for htmx; filters, sort and cursor from args.

    A plain GET is served from PAGES while nothing the tray shows has changed; a request that
    wrote (a saved filter refused, …) renders, and keeps nothing.
    """
    template = fragment if is_htmx() else "inbox/_tray_page.html"
    key = None
    if request.method == "GET" and save_form is None:
        m = membership()
        key = (
            template,
            m.company_id,
            m.user_id,  # the saved filters above the tray are the user's
            m.role,  # the bulk buttons
            str(get_locale()),
            utcnow().date(),  # "overdue"
            request.script_root,
            request.full_path,
            tray_version(),  # read before anything the page shows
        )
    PAGES.size = current_app.config.get("INBOX_PAGE_CACHE_SIZE", 256)
    rendered = []

    def produce():
        html, code = _render_tray(tray, args, template, save_form=save_form, status=status)
        rendered.append(code)
        return html, code == 200

    html = PAGES.get_or_make(key, produce)
    code = rendered[0] if rendered else 200
    if template != "inbox/_tray_page.html":
        response = make_response(with_csrf(html), code)
    else:
        response = make_response(render_in_layout("inbox/tray.html", html, tray=tray), code)
    response.headers["Vary"] = "HX-Request"
    return response


def _render_tray(tray, args, template, *, save_form, status):
    """Render one tray's template with the CSRF placeholder; return it and the status."""
    form = _filter_form(tray, args)
    sort = queries.Sort.parse(form.sort.data)
    result = queries.Page([], None)
    if form.validate():
        stmt = READERS[tray](company().id, filters=form.filters(), sort=sort)
        result = queries.page(
            stmt,
            cursor=args.get("cursor", ""),
            sort=sort,
            incoming=tray == "received",
            limit=current_app.config.get("INBOX_PAGE_SIZE", queries.PAGE_SIZE),
        )
    else:
        status = 422
    kept = [(k, v) for k, v in args.items(multi=True) if k in FILTER_KEYS and v]
    saved = _kept(
        ("saved filters", user().id, tray),
        lambda: tuple(
            SavedView(f.id, f.name, f.query, f.tray)
            for f in db.session.scalars(
                trays.saved_filters(company().id, user_id=user().id, tray=tray)
            )
        ),
    )

    def tray_url(endpoint=None, **changes):
        """Return this tray's URL with the current filters, changed by changes."""
        params = MultiDict(kept)
        for key, value in changes.items():
            params.poplist(key)
            if value:
                params[key] = value
        query = urlencode(list(params.items(multi=True)))
        return url_for(endpoint or f"inbox.{tray}") + (f"?{query}" if query else "")

    html = render_template(
        template,
        csrf_token=placeholder_csrf,
        tray=tray,
        form=form,
        sort=sort,
        filters=_filters(tray, args, form=form, sort=sort, kept=kept),
        rows=result,
        cursor=args.get("cursor", ""),
        tray_url=tray_url,
        query=urlencode([(k, v) for k, v in kept]),
        saved=saved,
        save_form=save_form or SaveFilterForm(formdata=None, tray=tray),
        lines=tray_lines(result.items, tray=tray, today=utcnow().date()),
        may_record=tray == "received" and can("documents.receive"),
    )
    return Markup(html), status  # noqa: S704 (a Jinja rendering)


class SavedView(NamedTuple):
    """A saved filter as its link shows it (kept between requests: no ORM object)."""

    id: int
    name: str
    query: str
    tray: str


FILTERS = FragmentCache(size=512)


def _filters(tray, args, *, form, sort, kept):
    """Render the filter form, once per tray, locale, query string and list of partners."""
    key = None
    if not form.errors:
        key = (
            tray,
            str(get_locale()),
            request.script_root,
            tuple((k, v) for k, v in args.items(multi=True) if k != "cursor"),
            tuple(form.counterparty.choices),
        )
    return FILTERS.render(
        "inbox/_filters.html", key, tray=tray, form=form, sort=sort, query=bool(kept)
    )


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
    form = _filter_form(tray, request.args)
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
    return ask_first(
        consequence,
        title=title,
        button=button,
        back=url_for(f"inbox.{tray}"),
        details=plan.details(),
        notices=notices,
        needed=plan.needs_confirmation,
    )
