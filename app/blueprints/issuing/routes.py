from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.blueprints.company.forms import fiscal_choices
from app.blueprints.issuing import bp
from app.blueprints.issuing.forms import (
    SEARCH_MAX,
    InvoiceForm,
    LineForm,
    LinesForm,
    NoteForm,
    NumberingForm,
    payment_means_choices,
    reason_choices,
    tax_choices,
    withholding_choices,
)
from app.extensions import db
from app.services import fiscal, issuing, network, onboarding
from app.services.disputes import disputes
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.orders import queries as order_queries
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first, confirmed
from app.web.formatting import money
from app.web.htmx import form_errors, render

SEARCH_RESULTS = 8  # customers listed by the picker at a time


def _place_errors(form, error, rows=()):
    """Put the service's messages next to their fields (line errors on the row typed)."""
    if not isinstance(error, FieldErrors):
        return form_errors(form, error)
    for name, messages in error.errors.items():
        parts = name.split("-")
        if parts[0] == "lines" and len(parts) == 3:
            target = form.lines[rows[int(parts[1])]].form[parts[2]]
            target.errors = list(target.errors or []) + list(messages)
        elif name == "lines":
            form.form_errors.extend(messages)
        else:
            form_errors(form, FieldErrors({name: messages}))


def _customer_choices():
    partners = db.session.scalars(
        network.partnerships(company().id, relation=network.CUSTOMER)
    ).all()
    customers = [p.customer for p in partners if p.customer is not None and p.status == "active"]
    incomplete = " — " + _("fiscal data to type below")
    return [("", _("Another customer (type the tax id)"))] + [
        (
            str(c.id),
            f"{c.legal_name} ({c.tax_id})" + (incomplete if fiscal.missing_fiscal_data(c) else ""),
        )
        for c in customers
    ]


def _picker(query, chosen):
    """The picker's results: the chosen customer first, then those matching the query."""
    found = network.find_customers(company().id, query, limit=SEARCH_RESULTS)
    more = len(found) > SEARCH_RESULTS
    found = found[:SEARCH_RESULTS]
    chosen = chosen or ""  # as posted: an id the database can hold, or nothing
    chosen_id = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else None
    if chosen_id and all(c.id != chosen_id for c in found):  # kept while another is searched
        found = network.find_customers(company().id, customer_id=chosen_id) + found
    return {
        "customers": [(c, bool(fiscal.missing_fiscal_data(c))) for c in found],
        "chosen": chosen_id if any(c.id == chosen_id for c in found) else None,
        "more": more,
        "query": query,
    }


@bp.route("/customers")
@require_permission("documents.issue")
def customers():
    """The picker's results for what is typed (htmx's active search)."""
    query = (request.args.get("customer_q") or "").strip()[:SEARCH_MAX]
    picker = _picker(query, request.args.get("customer_id"))
    return render("issuing/_customers.html", picker=picker)


@bp.route("/lines", methods=["POST"])
@require_permission("documents.issue")
def line():
    """One more empty line row after the posted ones (htmx's "Add line"), or why not."""
    form = LinesForm()
    index = None if form.line_problems else form.next_index()
    if index is None:
        response = render("issuing/_line_problems.html", problems=form.line_problems, status=422)
        response.headers["HX-Retarget"] = "#line-problems"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    row = LineForm(prefix=f"lines-{index}-")
    number = len(form.posted_indices) + 1
    return render("issuing/_line.html", line=row, number=number, taxes=tax_choices(), focus=True)


@bp.route("/numbering", methods=["GET", "POST"])
@require_permission("documents.issue")
def numbering():
    form, status = NumberingForm(), 200
    if form.validate_on_submit():
        try:
            issuing.configure_numbering(
                company().id,
                **{
                    name: form[name].data
                    for name in (
                        "prefix",
                        "range_from",
                        "range_to",
                        "resolution",
                        "valid_from",
                        "valid_to",
                        "technical_key",
                    )
                },
                actor=user(),
            )
            db.session.commit()
            flash(_("The numbering range is in use."), "success")
            return redirect(url_for("issuing.numbering"))
        except DomainError as error:
            db.session.rollback()
            _place_errors(form, error)
    if form.is_submitted():
        status = 422
    return render(
        "issuing/numbering.html",
        form=form,
        current=issuing.active_range(company().id),
        status=status,
    )


def _invoice_form():
    form = InvoiceForm()
    form.customer_id.choices = _customer_choices()
    form.withholdings.choices = withholding_choices()
    form.payment_means.choices = payment_means_choices()
    fiscal_choices(form, "customer_")
    return form


_TAX_OF_PERCENT = {Decimal("19"): "IVA19", Decimal("5"): "IVA5", Decimal("0"): "IVA0"}


def _from_order(form, order_id):
    """Fill the invoice from what is left to invoice of an agreed order (its buyer, lines,
    prices and the order's number); a redirect when there is nothing to fill it with."""
    order, lines = order_queries.to_invoice(company().id, order_id)
    if order is None:
        abort(404)
    if not order.agreed:
        flash(_("Only an agreed order can be invoiced."), "error")
        return redirect(url_for("orders.show", order_id=order.id))
    if not lines:
        flash(_("Everything of order %(number)s is invoiced already.", number=order.number),
              "info")
        return redirect(url_for("orders.show", order_id=order.id))
    form.customer_id.data = str(order.buyer_company_id)
    form.order_reference.data = order.number
    form.set_lines([
        issuing.LineInput(line.name, f"{line.quantity.normalize():f}",
                          f"{line.price.normalize():f}",
                          _TAX_OF_PERCENT.get((line.tax_percent or Decimal(0)).normalize(),
                                              "IVA19"),
                          "0", line.code, line.unit_code)
        for line in lines
    ])
    return None


def _blocked(title, kind):
    """The page naming what still blocks issuing kind (with links), or None when nothing does."""
    blockers = onboarding.checklist(company().id).blocking(kind)
    if not blockers:
        return None
    status = 200 if request.method == "GET" else 422
    return render("issuing/blocked.html", title=title, blockers=blockers, status=status)


@bp.route("/invoice", methods=["GET", "POST"])
@require_permission("documents.issue")
def invoice():
    if (blocked := _blocked(_("Issue invoice"), onboarding.INVOICE)) is not None:
        return blocked
    form, status = _invoice_form(), 200
    if not form.is_submitted() and request.args.get("order", type=int):
        if (redirected := _from_order(form, request.args.get("order", type=int))) is not None:
            return redirected
    focus = form.edit_lines() if form.is_submitted() else None
    if focus is not None or form.find_customer.data:  # "Add line", "Remove", "Search" (no JS)
        status = 422 if form.line_problems else 200
    elif form.validate_on_submit():
        rows, lines = form.line_inputs()
        if (question := _confirm_sign_and_send(form, lines)) is not None:
            return question
        try:
            document = issuing.issue_invoice(
                company().id,
                customer=form.customer_input(),
                lines=lines,
                withholdings=form.withholdings.data or [],
                due_date=form.due_date.data,
                payment_means=form.payment_means.data,
                notes=form.notes.data or "",
                order_reference=form.order_reference.data or "",
                actor=user(),
            )
            db.session.commit()
            flash(_("Invoice %(number)s was issued.", number=document.number), "success")
            return redirect(url_for("documents.show", document_id=document.id))
        except DomainError as error:
            db.session.rollback()
            _place_errors(form, error, rows)
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "issuing/invoice.html",
        form=form,
        taxes=tax_choices(),
        totals=None,
        focus=focus,
        picker=_picker(form.search_query(), form.customer_id.data),
        current=issuing.active_range(company().id),
        municipalities=fiscal.municipality_options(),
        status=status,
    )


def _confirm_sign_and_send(form, lines):
    """Ask before signing and sending an invoice (it cannot be edited afterwards)."""
    if confirmed():
        return None  # nothing to describe: issuing computes the totals itself
    if form.customer_id.data:
        chosen = dict(form.customer_id.choices).get(form.customer_id.data, "")
        customer = chosen.split(" — ")[0]
    else:
        customer = f"{form.customer_name.data} ({form.customer_tax_id.data})"
    details = []
    try:
        payable = issuing.compute(lines, withholdings=form.withholdings.data or []).totals.payable
        details.append(_("Total: %(total)s", total=money(payable, "COP")))
    except DomainError:
        pass  # issuing says what is wrong with the lines once confirmed
    return ask_first(
        _(
            "The invoice is signed and sent to %(customer)s; it cannot be edited afterwards.",
            customer=customer,
        ),
        title=_("Sign and send this invoice?"),
        button=_("Sign and send"),
        back=url_for("issuing.invoice"),
        details=details,
    )


@bp.route("/invoice/totals", methods=["POST"])
@require_permission("documents.issue")
def totals():
    form, result, message = _invoice_form(), None, None
    _rows, lines = form.line_inputs()
    try:
        result = issuing.compute(lines, withholdings=form.withholdings.data or [])
    except DomainError as error:
        message = error.message
    return render("issuing/_totals.html", totals=result, message=message)


def _agreed_credit(invoice):
    """The lines and note of the credit note a dispute on the invoice agreed on, if any."""
    found = disputes.agreed_credit_note(company().id, invoice.id)
    if found is None:
        return None
    dispute, proposal = found
    return issuing.agreed_credit_lines(
        company().id,
        invoice.id,
        dispute_id=dispute.id,
        line_numbers=list(proposal.lines or []),
        amount=proposal.amount,
        description=proposal.description or "",
    )


def _note(document_id, kind):
    try:
        invoice = issuing.sent_invoice(company().id, document_id)
    except NotFound:
        abort(404)
    if (blocked := _blocked(
        _("Credit note") if kind == "credit" else _("Debit note"), onboarding.NOTE
    )) is not None:
        return blocked
    form, status, focus = NoteForm(), 200, None
    form.reason.choices = reason_choices(kind)
    if not form.is_submitted():
        lines = issuing.invoice_lines(company().id, invoice.id)
        agreed = _agreed_credit(invoice) if kind == "credit" else None
        if agreed is not None:  # the credit note a dispute agreed on, pre-filled from it
            lines, form.notes.data = agreed
            form.reason.data = "4"  # DIAN's "price adjustment"; the supplier may choose another
        form.set_lines(lines or [issuing.LineInput("", "", "")])
    elif (focus := form.edit_lines()) is not None:  # "Add line" or "Remove" (no JS)
        status = 422 if form.line_problems else 200
    elif form.validate():
        rows, lines = form.line_inputs()
        issue = issuing.issue_credit_note if kind == "credit" else issuing.issue_debit_note
        try:
            note = issue(
                company().id,
                document_id=invoice.id,
                reason=form.reason.data,
                lines=lines,
                notes=form.notes.data or "",
                actor=user(),
            )
            db.session.commit()
            flash(_("Note %(number)s was issued.", number=note.number), "success")
            return redirect(url_for("documents.show", document_id=note.id))
        except DomainError as error:
            db.session.rollback()
            _place_errors(form, error, rows)
        status = 422
    else:
        status = 422
    typed = form.line_inputs()[1]
    result, message = _live_totals(invoice.id, kind, typed) if typed else (None, None)
    return render(
        "issuing/note.html",
        form=form,
        invoice=invoice,
        kind=kind,
        taxes=tax_choices(),
        focus=focus,
        totals=result,
        message=None if form.is_submitted() else message,  # a refused POST says it beside the form
        balance=issuing.open_balance(company().id, invoice) if kind == "credit" else None,
        status=status,
    )


def _live_totals(document_id, kind, lines):
    """Return the note's totals and the message to show beside them (what is wrong, if any)."""
    try:
        result = issuing.compute_note(company().id, document_id=document_id, kind=kind, lines=lines)
    except NotFound:
        abort(404)
    except DomainError as error:
        return None, error.message
    return result, result.refusal.message if result.refusal else None


def _note_totals(document_id, kind):
    _rows, lines = NoteForm().line_inputs()
    result, message = _live_totals(document_id, kind, lines)
    return render("issuing/_totals.html", totals=result, message=message)


@bp.route("/documents/<int:document_id>/credit-note", methods=["GET", "POST"])
@require_permission("documents.issue")
def credit_note(document_id):
    return _note(document_id, "credit")


@bp.route("/documents/<int:document_id>/debit-note", methods=["GET", "POST"])
@require_permission("documents.issue")
def debit_note(document_id):
    return _note(document_id, "debit")


@bp.route("/documents/<int:document_id>/credit-note/totals", methods=["POST"])
@require_permission("documents.issue")
def credit_note_totals(document_id):
    return _note_totals(document_id, "credit")


@bp.route("/documents/<int:document_id>/debit-note/totals", methods=["POST"])
@require_permission("documents.issue")
def debit_note_totals(document_id):
    return _note_totals(document_id, "debit")
