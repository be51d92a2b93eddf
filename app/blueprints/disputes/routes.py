import io

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.disputes import bp
from app.blueprints.disputes.forms import ActionForm, MessageForm, OpenForm, ProposalForm
from app.extensions import db, limiter
from app.services.disputes import disputes, transcripts
from app.services.documents import queries, reading
from app.services.errors import DomainError, NotFound
from app.web.auth import can, company, require_permission, user
from app.web.htmx import form_errors, is_htmx, render


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "es"


def _dispute_or_404(dispute_id):
    try:
        return disputes.get_dispute(company().id, dispute_id)
    except NotFound:
        abort(404)


def _document_or_404(document_id):
    try:
        return queries.get_document(company().id, document_id)
    except NotFound:
        abort(404)


def _panel(
    document, *, status=200, open_form=None, message_form=None, proposal_form=None, error=None
):
    """Render a document's dispute panel: the active dispute (or the form to open one)."""
    me = company().id
    dispute = disputes.active_dispute(me, document.id)
    history = disputes.document_disputes(me, document.id)
    shown = dispute or (history[0] if history else None)
    context = {
        "document": document,
        "dispute": shown,
        "history": [d for d in history if shown is None or d.id != shown.id],
        "open_form": open_form or OpenForm(formdata=None, amount=str(document.open_balance)),
        "message_form": message_form or MessageForm(formdata=None),
        "proposal_form": proposal_form or ProposalForm(formdata=None),
        "action_form": ActionForm(),
        "error": error,
        "may_participate": can("disputes.participate"),
        "me": me,
        "status_names": disputes.STATUS_NAMES,
        "reason_names": disputes.REASON_NAMES,
        "resolution_names": disputes.RESOLUTION_NAMES,
    }
    if shown is not None:
        context |= _conversation(shown)
    return render("disputes/document.html", "disputes/_panel.html", status=status, **context)


def _conversation(dispute):
    me = company().id
    rows = disputes.messages(me, dispute.id)
    if rows:
        disputes.mark_read(me, dispute_id=dispute.id, user=user(), message_id=rows[-1].id)
        db.session.commit()
    return {
        "messages": rows,
        "proposal": disputes.pending_proposal(dispute),
        "receipts": disputes.read_receipts(me, dispute.id),
        "attachments": _attachments(dispute.document_id, rows),
        "system_text": disputes.system_text,
    }


def _attachments(document_id, rows):
    wanted = {m.attachment_id for m in rows if m.attachment_id}
    if not wanted:
        return {}
    found = db.session.scalars(reading.attachments(company().id, document_id)).all()
    return {a.id: a for a in found if a.id in wanted}


@bp.route("/")
@require_permission("company.view")
def index():
    me = company().id
    show = request.args.get("show", disputes.FILTER_OPEN)
    if show not in disputes.FILTERS:
        show = disputes.FILTER_OPEN
    counterparty = request.args.get("counterparty", type=int)
    age = request.args.get("age", type=int)
    side = request.args.get("side", "")
    if side not in (disputes.SIDE_BUYER, disputes.SIDE_SUPPLIER):
        side = ""
    rows = db.session.execute(
        disputes.disputes(
            me,
            show=show,
            counterparty_id=counterparty,
            older_than_days=age if age in (7, 30, 90) else None,
            side=side or None,
        ).limit(200)
    ).all()
    unread = disputes.unread_counts(me, user().id, [d.id for d, _doc in rows])
    return render(
        "disputes/index.html",
        "disputes/_list.html",
        rows=rows,
        unread=unread,
        show=show,
        counterparty=counterparty,
        age=age,
        side=side,
        counterparties=disputes.counterparties(me),
        counts=disputes.nav_counts(me, user().id),
        status_names=disputes.STATUS_NAMES,
        reason_names=disputes.REASON_NAMES,
        me=me,
    )


@bp.route("/nav")
@require_permission("company.view")
def nav():
    counts = disputes.nav_counts(company().id, user().id)
    return render("disputes/_nav.html", counts=counts)


@bp.route("/documents/<int:document_id>", methods=["GET", "POST"])
@require_permission("company.view")
def document(document_id):
    found = _document_or_404(document_id)
    if request.method == "GET":
        return _panel(found)
    if not can("disputes.participate"):
        abort(403, description=_("Your role does not allow this."))
    form = OpenForm()
    if form.validate_on_submit():
        try:
            disputes.open_dispute(
                company().id,
                document_id=found.id,
                reason=form.reason.data or "",
                amount=form.amount.data,
                message=form.message.data or "",
                actor=user(),
            )
            db.session.commit()
            flash(_("The dispute is open: the other party was told."), "success")
            return _back(found.id)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
    return _panel(found, status=422, open_form=form)


def _back(document_id):
    """After a change: the panel again for htmx, the document page otherwise."""
    if is_htmx():
        return _panel(queries.get_document(company().id, document_id))
    return redirect(url_for("documents.show", document_id=document_id) + "#dispute", code=303)


@bp.route("/<int:dispute_id>")
@require_permission("company.view")
def show(dispute_id):
    dispute = _dispute_or_404(dispute_id)
    return redirect(url_for("disputes.document", document_id=dispute.document_id))


@bp.route("/<int:dispute_id>/messages", methods=["GET", "POST"])
@require_permission("company.view")
@limiter.limit(lambda: _message_rate(), methods=["POST"], key_func=lambda: _chat_key())
def messages(dispute_id):
    dispute = _dispute_or_404(dispute_id)
    after = request.values.get("after", type=int) or 0
    status, form = 200, MessageForm()
    if request.method == "POST":
        if not can("disputes.participate"):
            abort(403, description=_("Your role does not allow this."))
        if form.validate_on_submit():
            upload = form.file.data
            attachment = (upload.filename, upload.read()) if upload and upload.filename else None
            try:
                disputes.post_message(
                    company().id,
                    dispute_id=dispute.id,
                    actor=user(),
                    body=form.body.data or "",
                    client_id=form.client_id.data or None,
                    lines=form.lines.data or None,
                    attachment=attachment,
                )
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                form_errors(form, error)
                status = error.status if error.status in (403, 409) else 422
        else:
            status = 422
        if not is_htmx() and status == 200:
            return redirect(
                url_for("documents.show", document_id=dispute.document_id) + "#dispute", code=303
            )
    rows = disputes.messages(company().id, dispute.id, after=after)
    if rows:
        disputes.mark_read(company().id, dispute_id=dispute.id, user=user(), message_id=rows[-1].id)
        db.session.commit()
    return render(
        "disputes/messages.html",
        "disputes/_messages.html",
        status=status,
        dispute=dispute,
        messages=rows,
        form=form,
        attachments=_attachments(dispute.document_id, rows),
        system_text=disputes.system_text,
        me=company().id,
    )


def _message_rate() -> str:
    return current_app.config["CHAT_RATE_LIMIT"]


def _chat_key() -> str:
    """Limit chat messages per user (the socket path counts against the same key)."""
    return f"chat:{getattr(current_user, 'id', None) or request.remote_addr}"


@bp.route("/<int:dispute_id>/receipts")
@require_permission("company.view")
def receipts(dispute_id):
    dispute = _dispute_or_404(dispute_id)
    return render(
        "disputes/_receipts.html",
        dispute=dispute,
        receipts=disputes.read_receipts(company().id, dispute.id),
        me=company().id,
    )


@bp.route("/<int:dispute_id>/proposals", methods=["POST"])
@require_permission("disputes.participate")
def propose(dispute_id):
    dispute = _dispute_or_404(dispute_id)
    form = ProposalForm()
    if form.validate_on_submit():
        try:
            disputes.propose_resolution(
                company().id,
                dispute_id=dispute.id,
                resolution=form.resolution.data or "",
                amount=form.amount.data,
                lines=form.lines.data or None,
                description=form.description.data or "",
                actor=user(),
            )
            db.session.commit()
            flash(_("Your proposal was sent."), "success")
            return _back(dispute.document_id)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
    document = queries.get_document(company().id, dispute.document_id)
    return _panel(document, status=422, proposal_form=form)


def _action(dispute_id, change, message, **kwargs):
    dispute = _dispute_or_404(dispute_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        change(company().id, dispute_id=dispute.id, actor=user(), **kwargs)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        document = queries.get_document(company().id, dispute.document_id)
        return _panel(document, status=error.status, error=error.message)
    flash(message, "success")
    return _back(dispute.document_id)


@bp.route("/<int:dispute_id>/proposals/<int:proposal_id>/accept", methods=["POST"])
@require_permission("disputes.participate")
def accept(dispute_id, proposal_id):
    response = _action(
        dispute_id,
        disputes.accept_proposal,
        _("You accepted the proposal."),
        proposal_id=proposal_id,
    )
    dispute = disputes.get_dispute(company().id, dispute_id)
    if (
        response.status_code < 400
        and dispute.resolution is None
        and dispute.supplier_company_id == company().id
        and can("documents.issue")
        and disputes.agreed_credit_note(company().id, dispute.document_id)
    ):
        # The supplier accepted a credit note: its form, pre-filled from the dispute.
        target = url_for("issuing.credit_note", document_id=dispute.document_id, dispute=dispute.id)
        if is_htmx():
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, code=303)
    return response


@bp.route("/<int:dispute_id>/proposals/<int:proposal_id>/reject", methods=["POST"])
@require_permission("disputes.participate")
def reject(dispute_id, proposal_id):
    return _action(
        dispute_id,
        disputes.reject_proposal,
        _("You rejected the proposal."),
        proposal_id=proposal_id,
    )


@bp.route("/<int:dispute_id>/escalate", methods=["POST"])
@require_permission("disputes.participate")
def escalate(dispute_id):
    return _action(dispute_id, disputes.escalate, _("The dispute was escalated."))


@bp.route("/<int:dispute_id>/withdraw", methods=["POST"])
@require_permission("disputes.participate")
def withdraw(dispute_id):
    return _action(dispute_id, disputes.withdraw, _("The dispute was withdrawn."))


@bp.route("/<int:dispute_id>/transcript.pdf")
@require_permission("company.view")
def transcript(dispute_id):
    dispute = _dispute_or_404(dispute_id)
    document = queries.get_document(company().id, dispute.document_id)
    data = transcripts.transcript_pdf(dispute, locale=_language())
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        download_name=transcripts.transcript_filename(dispute, document),
        as_attachment=False,
    )
