"""One bank line (its suggestions with their evidence, its confirmed matches, manual matching
with search, ignore or restore) and the review queue across accounts.

Lines and matches are loaded through ``matching.get_line`` / ``get_match`` (the acting
company's only) before any form is read: another company's id answers 404.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from app import humanize
from app.blueprints.auth.forms import EmptyForm
from app.blueprints.reconciliation import bp
from app.blueprints.reconciliation.accounts import MANAGE, PAGE_SIZE, VIEW, page_number
from app.blueprints.reconciliation.forms import ManualMatchForm
from app.extensions import db
from app.matching import model as m
from app.models.reconciliation import BankAccount, BankLine, Match
from app.services.errors import DomainError, NotFound
from app.services.payments import queries as payment_queries
from app.services.reconciliation import accounts, matching, payouts, queries, search
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first
from app.web.htmx import form_errors, is_htmx, render


def _line_or_404(line_id: int) -> BankLine:
    try:
        return matching.get_line(company().id, line_id)
    except NotFound:
        abort(404)


def _match_or_404(match_id: int) -> Match:
    try:
        return matching.get_match(company().id, match_id)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------------------------- one line


def _payout_chains(views: list[queries.MatchView]) -> dict[int, list[tuple[object, list]]]:
    """For each payout a match names: its settlement lines, each with the invoices its payment
    closed (payout → payment → invoices)."""
    chains: dict[int, list[tuple[object, list]]] = {}
    for view in views:
        for item in view.items:
            if item.payout_id and item.payout_id not in chains:
                chains[item.payout_id] = [
                    (pl, payment_queries.allocations(pl.payment_id) if pl.payment_id else [])
                    for pl in payouts.payout_lines(company().id, item.payout_id)
                ]
    return chains


def _paid_documents(views: list[queries.MatchView]) -> dict[int, list[tuple[object, object]]]:
    """For each payment a match names: the invoices it paid (what the payment was for), less
    those the match names itself."""
    paid: dict[int, list[tuple[object, object]]] = {}
    for view in views:
        named = {item.document_id for item in view.items if item.document_id}
        for item in view.items:
            if item.payment_id:
                paid[item.payment_id] = [
                    (allocation, document)
                    for allocation, document in payment_queries.allocations(item.payment_id)
                    if document.id not in named
                ]
    return paid


def _line_page(line: BankLine, *, form: ManualMatchForm | None = None, status: int = 200,
               problem: str | None = None) -> ResponseReturnValue:
    acting = company().id
    suggestions = queries.line_matches(acting, line.id, status="suggested")
    confirmed = queries.line_matches(acting, line.id, status="confirmed")
    credit = line.amount > 0
    query = (request.args.get("q") or "").strip()[:100]
    return render(
        "reconciliation/line.html",
        status=status,
        line=line,
        account=db.session.get(BankAccount, line.bank_account_id),
        suggestions=suggestions,
        confirmed=confirmed,
        chains=_payout_chains([*suggestions, *confirmed]),
        paid=_paid_documents([*suggestions, *confirmed]),
        open_amount=abs(line.amount) - line.matched_amount,
        candidates=search.search(acting, credit=credit, currency=line.currency, query=query)
        if line.status not in ("matched", "ignored") else [],
        query=query,
        form=form or ManualMatchForm(formdata=None),
        problem=problem,
        button_form=EmptyForm(),
    )


@bp.get("/lines/<int:line_id>")
@require_permission(VIEW)
def line(line_id: int) -> ResponseReturnValue:
    return _line_page(_line_or_404(line_id))


@bp.get("/lines/<int:line_id>/candidates")
@require_permission(VIEW)
def candidates(line_id: int) -> ResponseReturnValue:
    """Manual matching's search results (an htmx fragment; the whole line page without it)."""
    found = _line_or_404(line_id)
    query = (request.args.get("q") or "").strip()[:100]
    if not is_htmx():
        return redirect(url_for("reconciliation.line", line_id=found.id, q=query or None))
    # What was ticked before this search stays ticked (with the amount typed for it).
    kept = []
    for value in request.args.getlist("item")[:50]:
        kind, _sep, raw_id = value.partition(":")
        if raw_id.isdigit() and len(raw_id) < 19:
            kept.append((kind, int(raw_id)))
    typed = {k: v[:30] for k, v in request.args.items() if k.startswith("amount-") and v}
    return render(
        "reconciliation/_candidates.html",
        line=found,
        candidates=search.search_keeping(company().id, credit=found.amount > 0,
                                         currency=found.currency, query=query, kept=kept),
        ticked={f"{kind}-{id_}" for kind, id_ in kept},
        typed=typed,
        query=query,
    )


def _chosen_items(line: BankLine) -> tuple[list[tuple[str, int, Decimal | None]], list[str]]:
    """The items ticked on the manual form, each with the amount typed (None: all open)."""
    items, problems = [], []
    allowed = m.CREDIT_KINDS if line.amount > 0 else m.DEBIT_KINDS
    for value in request.form.getlist("item"):
        kind, _sep, raw_id = value.partition(":")
        if kind not in allowed or not raw_id.isdigit():
            problems.append(_("Choose among the items offered."))
            continue
        typed = (request.form.get(f"amount-{kind}-{raw_id}") or "").strip()
        amount = search.parse_amount(typed) if typed else None
        if typed and (amount is None or amount <= 0):
            problems.append(_("Write each amount like 1500 or 12.50."))
            continue
        items.append((kind, int(raw_id), amount))
    return items, problems


@bp.post("/lines/<int:line_id>/match")
@require_permission(MANAGE)
def manual_match(line_id: int) -> ResponseReturnValue:
    found = _line_or_404(line_id)
    form = ManualMatchForm()
    if not form.validate_on_submit():
        return _line_page(found, form=form, status=422)
    items, problems = _chosen_items(found)
    fee_text = (form.fee.data or "").strip()
    fee = search.parse_amount(fee_text) if fee_text else Decimal("0")
    if fee is None:
        form.fee.errors = [_("Write the fee like 1500 or 12.50.")]
        return _line_page(found, form=form, status=422)
    if problems:
        return _line_page(found, form=form, status=422, problem=problems[0])
    try:
        matching.manual_match(company().id, line_id=found.id, items=items, fee=fee, actor=user())
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _line_page(found, form=form, status=422)
    db.session.commit()
    flash(_("Matched: what you chose is settled by this bank line."), "success")
    return redirect(url_for("reconciliation.line", line_id=found.id), code=303)


@bp.post("/lines/<int:line_id>/ignore")
@require_permission(MANAGE)
def ignore(line_id: int) -> ResponseReturnValue:
    return _ignore(_line_or_404(line_id), ignore=True)


@bp.post("/lines/<int:line_id>/restore")
@require_permission(MANAGE)
def restore(line_id: int) -> ResponseReturnValue:
    return _ignore(_line_or_404(line_id), ignore=False)


def _ignore(found: BankLine, *, ignore: bool) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        matching.ignore_line(company().id, line_id=found.id, actor=user(), ignore=ignore)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The line is ignored: it leaves the review queue.") if ignore
              else _("The line is back in the review queue."), "info")
    return redirect(url_for("reconciliation.line", line_id=found.id), code=303)


# ---------------------------------------------------------------------------- one match


@bp.post("/matches/<int:match_id>/confirm")
@require_permission(MANAGE)
def confirm(match_id: int) -> ResponseReturnValue:
    match = _match_or_404(match_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    from_review = request.form.get("back") == "review"
    try:
        matching.confirm_match(company().id, match_id=match.id, actor=user())
    except DomainError as error:
        db.session.rollback()
        if from_review and is_htmx():
            return _review_row(match.bank_line_id, problem=str(error.message), status=409)
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if from_review and is_htmx():
            return _review_row(match.bank_line_id)
        flash(_("Match confirmed."), "success")
    if from_review:
        return redirect(url_for("reconciliation.review"), code=303)
    return redirect(url_for("reconciliation.line", line_id=match.bank_line_id), code=303)


@bp.post("/matches/<int:match_id>/undo")
@require_permission(MANAGE)
def undo(match_id: int) -> ResponseReturnValue:
    match = _match_or_404(match_id)
    found = db.session.get(BankLine, match.bank_line_id)
    assert found is not None
    amount = humanize.money(found.amount, found.currency, locale=get_locale())
    question = ask_first(
        _("The line of %(amount)s is unmatched again; a payment this match recorded is "
          "reversed and its invoices are open again.", amount=amount),
        title=_("Undo this match?"),
        button=_("Undo the match"),
        back=url_for("reconciliation.line", line_id=found.id),
        details=[_("The undo is kept in the audit log.")],
    )
    if question is not None:
        return question
    try:
        matching.undo_match(company().id, match_id=match.id, actor=user())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The match was undone."), "info")
    return redirect(url_for("reconciliation.line", line_id=found.id), code=303)


# ---------------------------------------------------------------------------- the review queue


def _account_names() -> dict[int, str]:
    return {a.id: a.name for a in db.session.scalars(accounts.bank_accounts(company().id))}


def _review_row(line_id: int, *, problem: str | None = None,
                status: int = 200) -> ResponseReturnValue:
    found = _line_or_404(line_id)
    return render(
        "reconciliation/_review_row.html",
        status=status,
        line=found,
        views=queries.suggestions_for_lines(company().id, [found.id]).get(found.id, []),
        account_names=_account_names(),
        problem=problem,
        button_form=EmptyForm(),
    )


@bp.get("/review")
@require_permission(VIEW)
def review() -> ResponseReturnValue:
    acting = company().id
    page = page_number()
    found = list(db.session.scalars(
        queries.review_queue(acting).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    shown = found[:PAGE_SIZE]
    return render(
        "reconciliation/review.html",
        lines=shown,
        more=len(found) > PAGE_SIZE,
        page_number=page,
        suggestions=queries.suggestions_for_lines(acting, [x.id for x in shown]),
        totals=queries.counts(acting),
        account_names=_account_names(),
        button_form=EmptyForm(),
    )
