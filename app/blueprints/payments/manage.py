"""The payments pages of a company (the lists are in ``lists``): one payment with its
allocations, refunds and receipt; and the supplier's side: gateways, payment settings,
confirming transfers and refunding.

Every payment is loaded through ``queries.get_payment`` (its payee or payer only) before any
form is read, so another company's id answers 404 on every route, GET or POST.
"""

from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from app import humanize
from app.blueprints.auth.forms import EmptyForm
from app.blueprints.payments import bp
from app.blueprints.payments.manage_forms import (
    KEYED_GATEWAYS,
    DecisionForm,
    RefundForm,
    SettingsForm,
    keys_form,
)
from app.extensions import db
from app.models.payment import Payment
from app.services import audit
from app.services.errors import DomainError, NotFound
from app.services.payments import connections, paying, queries, receipts, refunds
from app.services.payments import settings as payment_settings
from app.web.auth import can, company, require_permission, user
from app.web.confirm import ask_first
from app.web.formatting import user_timezone
from app.web.htmx import form_errors, render


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "es"


def _payment_or_404(payment_id: int) -> Payment:
    """The payment if the acting company is its payee or payer; a 404 otherwise."""
    try:
        return queries.get_payment(company().id, payment_id)
    except NotFound:
        abort(404)


@bp.app_template_global("pay_link_url")
def pay_link_url(document_ids) -> str:
    """The link a customer pays these invoices by (e-mails and the document page)."""
    token = queries.pay_link_token(list(document_ids))
    try:
        return url_for("payments.pay_link", token=token, _external=True)
    except BuildError:  # the payer's pages are not there yet
        return url_for("payments.index", _external=True) + f"link/{token}"


# ------------------------------------------------------------------------------ one payment


def _detail(payment: Payment, *, refund_form=None, decision_form=None, status=200):
    acting = company().id
    is_payee = payment.payee_company_id == acting
    left = refunds.refundable(payment) if is_payee else 0
    form = refund_form or RefundForm()
    if refund_form is None and left:
        form.amount.data = str(left)
    return render(
        "payments/detail.html",
        "payments/_payment.html",
        status=status,
        payment=payment,
        is_payee=is_payee,
        counterparty=queries.list_details(acting, [payment])[payment.id][0],
        rows=queries.allocations(payment.id),
        refunds=queries.refunds_of(payment.id),
        refundable=left,
        may_manage=is_payee and can("documents.issue"),
        refund_form=form,
        decision_form=decision_form or DecisionForm(),
        button_form=EmptyForm(),
    )


@bp.get("/<int:payment_id>")
@require_permission("company.view")
def show(payment_id: int) -> ResponseReturnValue:
    return _detail(_payment_or_404(payment_id))


@bp.get("/<int:payment_id>/proof")
@require_permission("company.view")
def proof(payment_id: int) -> ResponseReturnValue:
    payment = _payment_or_404(payment_id)
    if not payment.proof:
        abort(404)
    audit.record_access(user(), company().id, "payment.proof_downloaded", ("payment", payment.id))
    db.session.commit()
    response = send_file(
        io.BytesIO(payment.proof),
        mimetype=payment.proof_content_type or "application/octet-stream",
        download_name=payment.proof_filename or f"payment-{payment.id}-proof",
        as_attachment=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:payment_id>/receipt.pdf")
@require_permission("company.view")
def receipt(payment_id: int) -> ResponseReturnValue:
    payment = _payment_or_404(payment_id)
    data = receipts.receipt_pdf(
        payment, reader_company_id=company().id, locale=_language(), timezone=user_timezone()
    )
    audit.record_access(user(), company().id, "payment.receipt_downloaded", ("payment", payment.id))
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        download_name=receipts.receipt_filename(payment),
        as_attachment=False,
    )


@bp.post("/<int:payment_id>/confirm")
@require_permission("documents.issue")
def confirm_transfer(payment_id: int) -> ResponseReturnValue:
    return _decide(_payment_or_404(payment_id), confirm=True)


@bp.post("/<int:payment_id>/reject")
@require_permission("documents.issue")
def reject_transfer(payment_id: int) -> ResponseReturnValue:
    return _decide(_payment_or_404(payment_id), confirm=False)


def _decide(payment: Payment, *, confirm: bool) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit():
        return _detail(payment, decision_form=form, status=422)
    if not confirm:
        amount = humanize.money(payment.amount, payment.currency, locale=get_locale())
        question = ask_first(
            _(
                "The transfer of %(amount)s is rejected and its invoices are open again.",
                amount=amount,
            ),
            title=_("Reject this transfer?"),
            button=_("Reject the transfer"),
            back=url_for("payments.show", payment_id=payment.id),
            details=[_("The payer is told; it can record the transfer again.")],
        )
        if question is not None:
            return question
    try:
        paying.decide_transfer(
            company().id,
            payment_id=payment.id,
            confirm=confirm,
            actor=user(),
            reason=(form.reason.data or "").strip(),
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(
            _("The transfer was confirmed: its invoices are credited.")
            if confirm
            else _("The transfer was rejected."),
            "success" if confirm else "info",
        )
    return redirect(url_for("payments.show", payment_id=payment.id), code=303)


@bp.post("/<int:payment_id>/refund")
@require_permission("documents.issue")
def refund(payment_id: int) -> ResponseReturnValue:
    payment = _payment_or_404(payment_id)
    if payment.payee_company_id != company().id:
        abort(403, description=_("Only the company that was paid refunds a payment."))
    form = RefundForm()
    if not form.validate_on_submit():
        return _detail(payment, refund_form=form, status=422)
    try:
        amount = paying.parse_amount(form.amount.data or "", payment.currency)
        shown = humanize.money(amount, payment.currency, locale=get_locale())
        question = ask_first(
            _(
                "%(amount)s go back to the payer and its invoices are open again by as much.",
                amount=shown,
            ),
            title=_("Refund %(amount)s?", amount=shown),
            button=_("Refund"),
            back=url_for("payments.show", payment_id=payment.id),
        )
        if question is not None:
            return question
        refunds.refund_payment(
            company().id,
            payment_id=payment.id,
            amount=amount,
            reason=(form.reason.data or "").strip(),
            actor=user(),
        )
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _detail(payment, refund_form=form, status=422)
    db.session.commit()
    flash(_("Refund of %(amount)s made.", amount=shown), "success")
    return redirect(url_for("payments.show", payment_id=payment.id), code=303)


# ------------------------------------------------------------------------------ gateways


def _gateways_page(forms=None, status=200):
    acting = company().id
    forms = forms or {}
    shown = connections.connections(acting)
    return render(
        "payments/gateways.html",
        status=status,
        connections=shown,
        names=connections.GATEWAY_NAMES,
        webhook_urls={
            c.id: url_for(
                "gateway_webhooks.receive",
                gateway=c.gateway,
                public_id=c.public_id,
                _external=True,
            )
            for c in shown
        },
        key_forms={g: forms.get(g) or keys_form(g, formdata=None) for g in KEYED_GATEWAYS},
        button_form=EmptyForm(),
    )


@bp.get("/gateways")
@require_permission("documents.issue")
def gateways_page() -> ResponseReturnValue:
    return _gateways_page()


@bp.post("/gateways/sandbox")
@require_permission("documents.issue")
def connect_sandbox() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        connections.connect_sandbox(company().id, name=company().legal_name, actor=user())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The sandbox gateway is connected: customers can make test payments."), "success")
    return redirect(url_for("payments.gateways_page"), code=303)


@bp.post("/gateways/connect")
@require_permission("documents.issue")
def connect() -> ResponseReturnValue:
    gateway = request.form.get("gateway", "")
    if gateway not in KEYED_GATEWAYS:
        abort(400)
    form = keys_form(gateway)
    if form.validate_on_submit():
        try:
            connections.connect_gateway(
                company().id,
                gateway=gateway,
                credentials=form.credentials(),
                label=form.label.data or "",
                actor=user(),
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("%(gateway)s is connected.", gateway=connections.GATEWAY_NAMES[gateway]),
                "success",
            )
            return redirect(url_for("payments.gateways_page"), code=303)
    return _gateways_page({gateway: form}, status=422)


@bp.post("/gateways/<int:connection_id>/disconnect")
@require_permission("documents.issue")
def disconnect(connection_id: int) -> ResponseReturnValue:
    connection = next(
        (c for c in connections.connections(company().id) if c.id == connection_id), None
    )
    if connection is None:
        abort(404)
    name = connection.label or connections.GATEWAY_NAMES.get(connection.gateway, "")
    question = ask_first(
        _("Customers can no longer pay through %(name)s.", name=name),
        title=_("Disconnect %(name)s?", name=name),
        button=_("Disconnect"),
        back=url_for("payments.gateways_page"),
        details=[
            _("Payments already made stay as they are. To connect it again, paste the keys again.")
        ],
        needed=connection.active,
    )
    if question is not None:
        return question
    connections.disconnect_gateway(company().id, connection_id=connection.id, actor=user())
    db.session.commit()
    flash(_("%(name)s was disconnected.", name=name), "info")
    return redirect(url_for("payments.gateways_page"), code=303)


# ------------------------------------------------------------------------------ settings


@bp.route("/settings", methods=["GET", "POST"])
@require_permission("documents.issue")
def settings() -> ResponseReturnValue:
    current = connections.settings_of(company().id)
    form = SettingsForm(obj=current)
    status = 200
    if form.validate_on_submit():
        try:
            payment_settings.save_settings(company().id, actor=user(), **form.values())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Payment settings saved."), "success")
            return redirect(url_for("payments.settings"), code=303)
    if form.is_submitted():
        status = 422
    return render("payments/settings.html", status=status, form=form)
