from urllib.parse import urlencode

from flask import Response, abort, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app import humanize, spreadsheets
from app.blueprints.audit import bp
from app.blueprints.audit.forms import AuditFilterForm
from app.extensions import db
from app.models import utcnow
from app.services import audit
from app.services.documents import queries
from app.services.errors import DomainError, NotFound
from app.web.auth import company, require_permission
from app.web.formatting import user_timezone
from app.web.htmx import render

FILTER_KEYS = ("user", "document", "action", "date_from", "date_to")


def _filter_form(args):
    form = AuditFilterForm(formdata=args)
    company_id = company().id
    form.user.choices = [("", _("Any user"))] + [
        (str(user_id), label) for user_id, label in audit.actors(company_id)
    ]
    form.action.choices = [("", _("Any action"))] + [
        (name, humanize.action_label(name, locale=get_locale()))
        for name in audit.action_names(company_id)
    ]
    return form


@bp.route("/")
@require_permission("audit.view")
def index():
    form = _filter_form(request.args)
    result, status = audit.EventPage([], None), 200
    if form.validate():
        stmt = audit.events(company().id, filters=form.filters(), zone=user_timezone())
        result = audit.page(
            stmt,
            cursor=request.args.get("cursor", ""),
            limit=current_app.config.get("AUDIT_PAGE_SIZE", audit.PAGE_SIZE),
        )
    else:
        status = 422
    query = urlencode([(k, v) for k, v in request.args.items() if k in FILTER_KEYS and v])
    return render(
        "audit/index.html",
        "audit/_events.html",
        status=status,
        form=form,
        events_page=result,
        names=audit.event_names(result.events),
        query=query,
        cursor=request.args.get("cursor", ""),
    )


@bp.route("/events.csv")
@require_permission("audit.view")
def export_csv():
    return _export("csv")


@bp.route("/events.xlsx")
@require_permission("audit.view")
def export_xlsx():
    return _export("xlsx")


def _export(fmt):
    """Export the filtered list (every page, newest first) as CSV or XLSX."""
    form = _filter_form(request.args)
    if not form.validate():
        raise DomainError(_("Check the filters."))
    stmt = audit.events(company().id, filters=form.filters(), zone=user_timezone())
    timezone = user_timezone()
    rows = audit.export_rows(
        stmt,
        limit=current_app.config.get("AUDIT_EXPORT_MAX_ROWS", audit.EXPORT_MAX_ROWS),
        locale=get_locale(),
        timezone=timezone,
    )
    header = audit.export_header(timezone)
    data = spreadsheets.table_bytes(fmt, rows, header=header, title="audit")
    filename = f"audit-{utcnow():%Y%m%d}.{fmt}"
    return Response(
        data,
        mimetype=spreadsheets.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/documents/<int:document_id>/access")
@require_permission("company.view")
def document_access(document_id):
    """The "who accessed this document" panel: both companies that share it."""
    try:
        document = queries.get_document(company().id, document_id)
    except NotFound:
        abort(404)
    events = db.session.scalars(audit.document_access(document).limit(200)).all()
    people = audit.event_names(events)
    names = audit.company_names(document)
    return render(
        "audit/_document_access.html",
        events=events,
        document=document,
        company_names=names,
        names=people,
        url=url_for("audit.document_access", document_id=document.id),
    )
