import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.blueprints.documents import bp
from app.blueprints.documents.forms import (
    AttachmentForm,
    ClaimForm,
    PdfReviewForm,
    PdfUploadForm,
    UploadForm,
)
from app.extensions import db
from app.services import audit, pdf_documents
from app.services.documents import queries, reading, storing
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.lifecycle import transitions
from app.services.orders import matching as order_matching
from app.services.payments import queries as payment_queries
from app.services.reconciliation import accounts as reconciliation_accounts
from app.services.reconciliation import queries as reconciliation_queries
from app.web.auth import can, company, require_permission, user
from app.web.confirm import ask_first
from app.web.formatting import money
from app.web.htmx import form_errors, is_htmx, render

XML = "application/xml"


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "es"


def _document_or_404(document_id):
    """Load a document of the acting company before any form is read: another's is a 404."""
    try:
        return queries.get_document(company().id, document_id)
    except NotFound:
        abort(404)


def _download(data, filename, mimetype, *, inline=False, audit_as=None):
    """Send a file; audit_as (action, target, details) records the download first."""
    if audit_as is not None:
        audit.record_access(user(), company().id, *audit_as)
        db.session.commit()
    return send_file(
        io.BytesIO(data), mimetype=mimetype, download_name=filename, as_attachment=not inline
    )


# ------------------------------------------------------------------------------------ sending


@bp.route("/upload", methods=["GET", "POST"])
@require_permission("documents.issue")
def upload():
    form, report, status = UploadForm(), None, 200
    if form.validate_on_submit():
        files = [(f.filename, f.read()) for f in form.files.data or [] if f and f.filename]
        try:
            report = storing.submit_files(company().id, files=files, actor=user())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
            status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "documents/upload.html",
        "documents/_upload_report.html",
        form=form,
        report=report,
        language=_language(),
        status=status,
    )


def _pdf_page(*, status=200, upload_form=None, upload=None, staged=None, form=None, fragment=None):
    return render(
        "documents/pdf_review.html",
        fragment,
        status=status,
        upload_form=upload_form or PdfUploadForm(),
        upload=upload,
        staged=staged,
        form=form,
        review_fields=pdf_documents.REVIEW_FIELDS,
        line_cells=pdf_documents.LINE_CELLS,
        tax_rates=pdf_documents.COMMON_TAX_RATES,
        language=_language(),
    )


def _review_errors(form, error):
    """Put the service's messages on the header fields and on each line's cells."""
    errors = dict(getattr(error, "errors", None) or {error.field: [error.message]})
    for entry in form.lines:
        for cell in entry:
            if cell.name in errors:
                cell.errors = list(errors.pop(cell.name))
    if errors:
        form_errors(form, FieldErrors(errors))


@bp.route("/upload-pdf", methods=["GET", "POST"])
@require_permission("documents.issue")
def upload_pdf():
    form = PdfUploadForm()
    if not form.validate_on_submit():
        return _pdf_page(upload_form=form, status=422 if form.is_submitted() else 200)
    try:
        upload = pdf_documents.upload_pdf(
            company().id, filename=form.file.data.filename, data=form.file.data.read(), actor=user()
        )
        db.session.commit()  # the extraction job starts now
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _pdf_page(upload_form=form, status=422)
    return redirect(url_for("documents.pdf_review", token=upload.token), code=303)


@bp.route("/upload-pdf/<token>")
@require_permission("documents.issue")
def pdf_review(token):
    """The review of an uploaded PDF: a placeholder that refreshes itself until it is read."""
    try:
        upload = pdf_documents.find_upload(company().id, token)
    except NotFound:
        abort(404)
    staged = pdf_documents.staged_pdf(upload)
    review = None
    if staged is not None:
        low = " ".join(n for n in staged.confidence if staged.low_confidence(n))
        data = {**staged.fields, "token": staged.token, "low": low, "lines": staged.lines}
        review = PdfReviewForm(formdata=None, data=data)
    return _pdf_page(
        upload=upload, staged=staged, form=review, fragment="documents/_pdf_review.html"
    )


@bp.route("/upload-pdf/confirm", methods=["POST"])
@require_permission("documents.issue")
def upload_pdf_confirm():
    form = PdfReviewForm()
    try:
        filename, data = pdf_documents.load_staged(company().id, form.token.data or "")
    except NotFound:
        abort(404)
    low = set((form.low.data or "").split())
    confidence = {n: 0.0 if n in low else 1.0 for n in pdf_documents.REVIEW_FIELDS}
    staged = pdf_documents.StagedPdf(form.token.data, filename, {}, confidence)
    if form.edit_lines():  # "add line" or "remove": the same form back, one row more or less
        return _pdf_page(staged=staged, form=form, fragment="documents/_pdf_lines.html")
    if form.validate():
        try:
            document = pdf_documents.submit_pdf(
                company().id,
                filename=filename,
                data=data,
                fields=form.data,
                lines=form.line_rows(),
                lines_required=pdf_documents.staged_had_lines(company().id, form.token.data),
                actor=user(),
            )
            pdf_documents.discard_staged(company().id, form.token.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            _review_errors(form, error)
        else:
            flash(_("Invoice %(number)s was sent.", number=document.number), "success")
            return redirect(url_for("documents.show", document_id=document.id), code=303)
    else:
        try:  # the header did not validate: say what is wrong with the lines too
            pdf_documents.check_lines(form.line_rows(), currency="", total=None, required=False)
        except DomainError as error:
            _review_errors(form, error)
    return _pdf_page(staged=staged, form=form, status=422)


@bp.route("/quarantine")
@require_permission("documents.issue")
def quarantine():
    rows = queries.quarantine_rows(company().id, limit=200)
    return render("documents/quarantine.html", rows=rows, language=_language())


@bp.route("/quarantine/<int:quarantine_id>/download")
@require_permission("documents.issue")
def quarantine_download(quarantine_id):
    entry = reading.get_quarantined(company().id, quarantine_id)
    return _download(
        entry.original,
        entry.filename or f"upload-{entry.id}.xml",
        XML,
        audit_as=("quarantine.downloaded", entry),
    )


# ------------------------------------------------------------------------------ the document


def _show(document_id, *, status=200, event_error=None, claim_form=None, attachment_form=None):
    view = reading.document_view(company().id, document_id)
    payment_rows = payment_queries.document_payments(company().id, view.document.id)
    return render(
        "documents/show.html",
        "documents/_lifecycle.html",
        status=status,
        view=view,
        document=view.document,
        # The events the buyer may record next: the lifecycle's, beside the document's page.
        next_events=transitions.next_events(view.document.status) if view.is_receiver else [],
        language=_language(),
        event_error=event_error,
        claim_form=claim_form or ClaimForm(),
        attachment_form=attachment_form or AttachmentForm(),
        transitions=transitions.TRANSITIONS,
        claim_reasons=transitions.CLAIM_REASONS,
        status_names=transitions.STATUS_NAMES,
        can_receive=can("documents.receive"),
        final_events=FINAL_EVENTS,
        oob=is_htmx(),  # the header's status badge rides along with the lifecycle fragment
        payment_rows=payment_rows,
        bank=_bank_chain(view.document.id, payment_rows),
        statement_ids=payment_queries.customer_open_invoices(company().id, view.document)
        if view.document.sender_company_id == company().id
        else [],
        three_way=order_matching.check(view.document),
    )


def _bank_chain(document_id, payment_rows):
    """Per payment of the invoice: its reconciliation status and the bank lines (through its
    gateway payout, if any) that showed it."""
    if not payment_rows or not reconciliation_accounts.has_bank_accounts(company().id):
        return {}  # a company that does not reconcile is not told "not seen in the bank"
    statuses = reconciliation_queries.payment_statuses(
        company().id, [p.id for p, _allocation in payment_rows]
    )
    links = {
        link.payment.id: link
        for link in reconciliation_queries.document_chain(company().id, document_id)
    }
    return {payment_id: (state, links.get(payment_id)) for payment_id, state in statuses.items()}


@bp.route("/<int:document_id>")
@require_permission("company.view")
def show(document_id):
    response = _show(document_id)
    if not is_htmx():  # a page view, not the live refresh of its lifecycle fragment
        audit.record_access(user(), company().id, "document.viewed", ("documents", document_id))
        db.session.commit()
    return response


@bp.route("/<int:document_id>/xml")
@require_permission("company.view")
def xml(document_id):
    document = queries.get_document(company().id, document_id)
    if not document.is_legal and document.origin == "pdf":
        abort(404)  # sent as a PDF: there is no XML
    return _download(
        document.original,
        document.filename or f"{document.number}.xml",
        XML,
        audit_as=("document.xml_downloaded", document),
    )


@bp.route("/<int:document_id>/pdf")
@require_permission("company.view")
def pdf(document_id):
    document = queries.get_document(company().id, document_id)
    reviewed = request.args.get("reviewed") == "1"  # a PDF-origin invoice's reviewed data
    data = reading.document_pdf(company().id, document.id, locale=_language(), reviewed=reviewed)
    return _download(
        data,
        f"{document.number}{'-reviewed' if reviewed else ''}.pdf",
        "application/pdf",
        inline=True,
        audit_as=("document.pdf_downloaded", document),
    )


@bp.route("/<int:document_id>/events/<int:event_id>/xml")
@require_permission("company.view")
def event_xml(document_id, event_id):
    event = reading.get_event(company().id, document_id, event_id)
    return _download(
        event.xml,
        f"{event.number or event.code}.xml",
        XML,
        audit_as=(
            "document.event_xml_downloaded",
            ("documents", document_id),
            {"code": event.code},
        ),
    )


@bp.route("/<int:document_id>/zip")
@require_permission("company.view")
def download_zip(document_id):
    document = queries.get_document(company().id, document_id)
    data = reading.document_zip(company().id, document.id, locale=_language())
    return _download(
        data,
        f"{document.document_type}-{document.number}.zip",
        "application/zip",
        audit_as=("document.zip_downloaded", document),
    )


# -------------------------------------------------------------------------------- lifecycle


#: What each final event does, as its confirmation says it (title, consequence, button).
FINAL_EVENTS = {
    "033": (
        _l("Accept this invoice?"),
        _l("Acceptance is final and is sent to the supplier."),
        _l("Accept the invoice"),
    ),
    "031": (
        _l("Send this claim?"),
        _l("A claim is sent to the supplier and opens a dispute."),
        _l("Send the claim"),
    ),
}


def _confirm_event(document, code):
    """Ask before a final event (acceptance, claim); None when it may be recorded now."""
    if code not in FINAL_EVENTS:
        return None
    title, consequence, button = FINAL_EVENTS[code]
    details = [
        _(
            "Invoice %(number)s from %(supplier)s, %(total)s.",
            number=document.number,
            supplier=document.supplier_name,
            total=money(document.payable, document.currency),
        )
    ]
    match = order_matching.check(document) if code == "033" else None
    if match is not None and not match.matched:
        # An exception of the three-way match: said before the acceptance, line by line.
        details.append(_("It does not match order %(number)s:", number=match.order_number))
        details.extend(str(reason) for reason in match.reasons)
    return ask_first(
        consequence,
        title=title,
        button=button,
        back=url_for("documents.show", document_id=document.id),
        details=details,
    )


@bp.route("/<int:document_id>/events", methods=["POST"])
@require_permission("documents.receive")
def record_event(document_id):
    document = _document_or_404(document_id)
    form = ClaimForm()  # the service checks code, reason and explanation, with its messages
    event = {
        "code": form.code.data or "",
        "claim_reason": form.claim_reason.data or None,
        "note": form.note.data or "",
    }
    try:
        transitions.check_event(company().id, document_id=document.id, **event)
        if (question := _confirm_event(document, event["code"])) is not None:
            return question
        transitions.record_event(company().id, document_id=document.id, actor=user(), **event)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _show(
            document.id,
            status=error.status if error.status != 409 else 422,
            event_error=error.message,
            claim_form=form,
        )
    flash(_("Recorded."), "success")
    return redirect(url_for("documents.show", document_id=document.id), code=303)


# ------------------------------------------------------------------------------ attachments


@bp.route("/<int:document_id>/attachments", methods=["POST"])
@require_permission("company.view")
def attach(document_id):
    document = _document_or_404(document_id)
    if not (can("documents.issue") or can("documents.receive")):
        abort(403)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            reading.add_attachment(
                company().id,
                document_id=document.id,
                filename=form.file.data.filename,
                data=form.file.data.read(),
                visibility=form.visibility.data,
                actor=user(),
            )
            db.session.commit()
            flash(_("The file was attached."), "success")
            return redirect(
                url_for("documents.show", document_id=document.id) + "#attachments", code=303
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
    return _show(document.id, status=422, attachment_form=form)


@bp.route("/<int:document_id>/attachments/<int:attachment_id>")
@require_permission("company.view")
def attachment(document_id, attachment_id):
    found = reading.get_attachment(company().id, document_id, attachment_id)
    return _download(
        found.data,
        found.filename,
        found.content_type,
        audit_as=(
            "attachment.downloaded",
            ("documents", document_id),
            {"attachment_id": found.id, "filename": found.filename},
        ),
    )
