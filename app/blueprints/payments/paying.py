"""The payer's pages: review the chosen invoices and pay them at the supplier's gateway, or
record a bank transfer with its receipt; and the public pay link for a customer without an
account. Each form's hidden key is fixed when the page is drawn, so a double submit is one
payment. The forms do not use hx-boost: the answer is a redirect to another site."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.blueprints.payments import bp
from app.blueprints.payments.pay_forms import PayForm, PayLinkForm, TransferForm
from app.extensions import db, limiter
from app.models.payment import TRANSFER
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.payments import paying, queries
from app.services.payments.paying import Item, ReturnUrls, Selection
from app.web.auth import company, require_permission, user
from app.web.htmx import form_errors, render

_SLOT = "PAYMENT-TOKEN-SLOT"  # url_for would escape "{token}"; the slot is swapped for it after


def _return_urls() -> ReturnUrls:
    """Where the gateway sends the payer back (``{token}``: the payment's access token)."""
    success = url_for("payments.payment_return", token=_SLOT, _external=True)
    cancel = url_for("payments.payment_return", token=_SLOT, canceled=1, _external=True)
    return ReturnUrls(success.replace(_SLOT, "{token}"), cancel.replace(_SLOT, "{token}"))


def _to_checkout(url: str | None) -> ResponseReturnValue:
    if not url:  # pragma: no cover - a gateway always gives one
        raise DomainError(_("The payment gateway gave no page to pay on. Try again."))
    if url.startswith("/"):  # the sandbox gateway lives in this portal
        url = request.host_url.rstrip("/") + url
    return redirect(url, code=303)


def _amounts(form, selection: Selection) -> tuple[list[Item], dict[int, Decimal], dict]:
    """The typed amount of each invoice, read in its currency; errors by document id."""
    items, amounts, errors = [], {}, {}
    for document in selection.invoices:
        text = form.typed(document.id, selection.available(document))
        try:
            amounts[document.id] = paying.parse_amount(text, selection.currency)
        except FieldErrors as error:
            errors[document.id] = error.errors.get("amount") or [error.message]
            continue
        items.append(Item(document.id, amounts[document.id]))
    return items, amounts, errors


def _selection(ids: list[int], *, link: bool = False) -> Selection:
    """The invoices to pay; another company's (or a missing) id is a 404 even on a POST."""
    try:
        return paying.select_invoices(None if link else company().id, ids, link=link)
    except NotFound:
        abort(404)


def _page(template, form, selection, *, status=200, **context) -> ResponseReturnValue:
    fragment = template.replace("/pay_", "/_pay_")
    return render(template, fragment, status=status, form=form, selection=selection, **context)


@bp.route("/new", methods=["GET", "POST"])
@require_permission("documents.receive")
def new() -> ResponseReturnValue:
    form = PayForm() if request.method == "POST" else PayForm(formdata=request.args)
    if not form.document_ids():
        return render("payments/pay_new.html", form=form, selection=None)
    try:
        selection = paying.select_invoices(company().id, form.document_ids())
    except DomainError as error:
        return _replayed(form, error)
    form.method.choices = [(m.code, m.label) for m in selection.methods]
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _page("payments/pay_new.html", form, selection, status=status, errors={})
    items, amounts, errors = _amounts(form, selection)
    if errors or "recalculate" in request.form:
        return _page(
            "payments/pay_new.html",
            form,
            selection,
            status=422 if errors else 200,
            errors=errors,
            amounts=amounts,
        )
    if form.method.data == TRANSFER:
        typed = {f"amount-{i}": str(a) for i, a in amounts.items()}
        return redirect(url_for("payments.transfer", document=form.document_ids(), **typed), 303)
    try:
        payment = paying.start_payment(
            company().id,
            items=items,
            method=form.method.data or "",
            actor=user(),
            urls=_return_urls(),
            idempotency_key=form.idempotency_key.data,
        )
    except DomainError as error:
        if isinstance(error, NotFound):
            abort(404)
        db.session.rollback()
        form_errors(form, error)
        return _page(
            "payments/pay_new.html",
            form,
            selection,
            status=error.status,
            errors={},
            amounts=amounts,
            problem=error,
        )
    db.session.commit()
    return _to_checkout(payment.checkout_url)


def _replayed(form, error: DomainError) -> ResponseReturnValue:
    """The same form posted again once its payment holds the invoices: that payment's checkout
    (the service finds it by the key); any other refusal stands."""
    if isinstance(error, NotFound):
        abort(404)
    if request.method != "POST" or not form.validate_on_submit():
        raise error
    payment = paying.start_payment(
        company().id,
        items=[Item(i) for i in form.document_ids()],
        method=form.method.data or "",
        actor=user(),
        urls=_return_urls(),
        idempotency_key=form.idempotency_key.data,
    )
    db.session.commit()
    return _to_checkout(payment.checkout_url)


@bp.route("/transfer", methods=["GET", "POST"])
@require_permission("documents.receive")
def transfer() -> ResponseReturnValue:
    form = TransferForm() if request.method == "POST" else TransferForm(formdata=request.args)
    if not form.document_ids():
        return render("payments/pay_transfer.html", form=form, selection=None)
    selection = _selection(form.document_ids())
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _page("payments/pay_transfer.html", form, selection, status=status, errors={})
    items, amounts, errors = _amounts(form, selection)
    proof, status = _proof(form), 422
    if proof is not None and len(proof) > paying.MAX_PROOF_BYTES:
        form.proof.errors = [_("The receipt is too large (8 MB at most).")]
        status = 413
    if errors or form.proof.errors:
        return _page(
            "payments/pay_transfer.html",
            form,
            selection,
            status=status,
            errors=errors,
            amounts=amounts,
        )
    try:
        payment = paying.record_transfer(
            company().id,
            items=items,
            actor=user(),
            transfer_date=form.transfer_date.data,
            reference=form.reference.data or "",
            proof=proof,
            proof_filename=getattr(form.proof.data, "filename", "") or "",
            proof_content_type=getattr(form.proof.data, "mimetype", "") or "",
            idempotency_key=form.idempotency_key.data,
        )
    except DomainError as error:
        if isinstance(error, NotFound):
            abort(404)
        db.session.rollback()
        form_errors(form, error)
        return _page(
            "payments/pay_transfer.html",
            form,
            selection,
            status=error.status,
            errors={},
            amounts=amounts,
            problem=error,
        )
    db.session.commit()
    return redirect(url_for("payments.payment_return", token=payment.access_token), code=303)


def _proof(form) -> bytes | None:
    """The receipt's bytes, read no further than one byte past the limit."""
    upload = form.proof.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.stream.read(paying.MAX_PROOF_BYTES + 1)
    return data or None


# ------------------------------------------------------------------ the public pay link


def _pay_link_rate() -> str:
    return current_app.config.get("PAY_LINK_RATE_LIMIT", "10 per minute")


@bp.route("/link/<token>", methods=["GET", "POST"])
@limiter.limit(_pay_link_rate, methods=["POST"])
def pay_link(token: str) -> ResponseReturnValue:
    try:
        documents = queries.read_pay_link(token)
    except NotFound:
        abort(404)
    except DomainError as error:  # expired
        return render(
            "errors/error.html", "errors/_error.html", status=410, code=410, message=error.message
        )
    open_ids = [d.id for d in documents if d.open_balance > 0]
    form = PayLinkForm()
    if not open_ids:
        return render("payments/pay_link.html", form=form, selection=None, documents=documents)
    selection = _selection(open_ids, link=True)
    methods = [m for m in selection.methods if m.code != TRANSFER]
    form.method.choices = [(m.code, m.label) for m in methods]
    context = {"documents": documents, "methods": methods, "token": token}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _page("payments/pay_link.html", form, selection, status=status, **context)
    try:
        payment = paying.start_payment(
            None,
            items=[Item(i) for i in open_ids],
            method=form.method.data or "",
            actor=None,
            urls=_return_urls(),
            idempotency_key=form.idempotency_key.data,
            link=True,
            payer_email=form.payer_email.data or None,
            payer_name=form.payer_name.data or "",
        )
    except DomainError as error:
        if isinstance(error, NotFound):
            abort(404)
        db.session.rollback()
        form_errors(form, error)
        return _page("payments/pay_link.html", form, selection, status=error.status, **context)
    db.session.commit()
    return _to_checkout(payment.checkout_url)
