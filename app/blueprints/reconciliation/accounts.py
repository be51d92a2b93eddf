"""The bank accounts page and one account's page: add or remove an account, import a statement,
save the CSV/XLSX column mapping, and the statement lines with their running balance.

Every account is loaded through ``accounts.get_bank_account`` (the acting company's only) before
any form is read, so another company's id answers 404 on every route, GET or POST.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from app import statements
from app.blueprints.auth.forms import EmptyForm
from app.blueprints.reconciliation import bp
from app.blueprints.reconciliation.forms import (
    BankAccountForm,
    ImportForm,
    LineFilterForm,
    MappingForm,
)
from app.extensions import db
from app.models.reconciliation import BankAccount
from app.services.errors import DomainError, NotFound
from app.services.reconciliation import accounts, importing, queries
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first
from app.web.formatting import decimal_comma
from app.web.htmx import form_errors, render

VIEW, MANAGE = "company.view", "reconciliation.manage"
PAGE_SIZE = 50


def account_or_404(account_id: int) -> BankAccount:
    """The acting company's active bank account; a 404 otherwise."""
    try:
        return accounts.get_bank_account(company().id, account_id)
    except NotFound:
        abort(404)


def page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


# ------------------------------------------------------------------------------ the accounts


def _index(form: BankAccountForm | None = None, status: int = 200) -> ResponseReturnValue:
    acting = company().id
    return render(
        "reconciliation/index.html",
        status=status,
        bank_accounts=list(db.session.scalars(accounts.bank_accounts(acting))),
        counts=queries.account_counts(acting),
        totals=queries.counts(acting),
        form=form or BankAccountForm(formdata=None),
        button_form=EmptyForm(),
    )


@bp.get("/")
@require_permission(VIEW)
def index() -> ResponseReturnValue:
    return _index()


@bp.post("/accounts")
@require_permission(MANAGE)
def add_account() -> ResponseReturnValue:
    form = BankAccountForm()
    if not form.validate_on_submit():
        return _index(form, status=422)
    try:
        account = accounts.create_bank_account(
            company().id,
            actor=user(),
            name=form.name.data or "",
            bank_name=form.bank_name.data or "",
            currency=form.currency.data or "",
            number=form.number.data or "",
        )
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _index(form, status=422)
    db.session.commit()
    flash(_("The account %(name)s was added: import its statements now.", name=account.name),
          "success")
    return redirect(url_for("reconciliation.account", account_id=account.id), code=303)


@bp.post("/accounts/<int:account_id>/remove")
@require_permission(MANAGE)
def remove_account(account_id: int) -> ResponseReturnValue:
    account = account_or_404(account_id)
    question = ask_first(
        _("The account %(name)s leaves the list; its lines and matches stay on record.",
          name=account.name),
        title=_("Remove %(name)s?", name=account.name),
        button=_("Remove the account"),
        back=url_for("reconciliation.account", account_id=account.id),
        details=[_("Adding the same number again brings it back with its lines.")],
    )
    if question is not None:
        return question
    accounts.remove_bank_account(company().id, account.id, actor=user())
    db.session.commit()
    flash(_("The account %(name)s was removed.", name=account.name), "info")
    return redirect(url_for("reconciliation.index"), code=303)


# ------------------------------------------------------------------------------ one account


def _account_page(
    account: BankAccount,
    *,
    import_form: ImportForm | None = None,
    mapping_form: MappingForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    acting = company().id
    filters = LineFilterForm(formdata=request.args)
    page = page_number()
    shown, more = [], False
    if filters.validate():
        stmt = queries.lines(acting, account.id, queries.LineFilters(
            status=filters.status.data or None,
            q=(filters.q.data or "").strip(),
            since=filters.date_from.data,
            until=filters.date_to.data,
            direction=filters.direction.data or None,
        ))
        found = list(db.session.scalars(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
        shown, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    elif status == 200:
        status = 422
    if mapping_form is None:
        mapping_form = MappingForm(formdata=None)
        saved = accounts.mapping_of(account)
        if saved is not None:
            mapping_form.fill(saved)
    return render(
        "reconciliation/account.html",
        "reconciliation/_lines.html",
        status=status,
        account=account,
        filters=filters,
        lines=shown,
        balances=queries.running_balances(acting, account.id, [line.id for line in shown]),
        page_number=page,
        more=more,
        keep={k: v for k, v in request.args.items() if k != "page" and v},
        imports=queries.imports(acting, account.id),
        import_form=import_form or ImportForm(formdata=None),
        mapping_form=mapping_form,
        has_mapping=account.column_mapping is not None,
        max_mb=statements.MAX_BYTES // (1024 * 1024),
        button_form=EmptyForm(),
    )


@bp.get("/accounts/<int:account_id>")
@require_permission(VIEW)
def account(account_id: int) -> ResponseReturnValue:
    return _account_page(account_or_404(account_id))


@bp.post("/accounts/<int:account_id>/import")
@require_permission(MANAGE)
def import_file(account_id: int) -> ResponseReturnValue:
    account = account_or_404(account_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _account_page(account, import_form=form, status=422)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose the statement file to import.")]
        return _account_page(account, import_form=form, status=422)
    data = upload.stream.read(statements.MAX_BYTES + 1)
    if not data:
        form.file.errors = [_("The file is empty.")]
        return _account_page(account, import_form=form, status=422)
    if len(data) > statements.MAX_BYTES:
        form.file.errors = [_("The file is too large (%(mb)s MB at most).",
                              mb=statements.MAX_BYTES // (1024 * 1024))]
        return _account_page(account, import_form=form, status=413)
    try:
        result = importing.import_statement(
            company().id, account_id=account.id, data=data, filename=upload.filename or "",
            actor=user(), decimal_comma=decimal_comma(),
        )
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _account_page(account, import_form=form, status=422)
    db.session.commit()
    flash(_import_summary(result), "success" if result.new_lines else "info")
    for finding in result.findings:
        flash(finding, "error")
    if result.pending:
        flash(_("Its lines are being matched in the background (a long statement, or payouts "
                "to fetch from your payment gateways first). Reload this page in a minute to "
                "see them matched."), "info")
    return redirect(url_for("reconciliation.account", account_id=account.id), code=303)


@bp.post("/imports/<int:import_id>/delete")
@require_permission(MANAGE)
def delete_import(import_id: int) -> ResponseReturnValue:
    record = queries.import_of(company().id, import_id)
    if record is None:
        abort(404)
    back = url_for("reconciliation.account", account_id=record.bank_account_id)
    question = ask_first(
        _("The %(count)s new lines of %(file)s leave the account, with their suggestions. "
          "Lines other imports brought stay.", count=record.new_lines,
          file=record.filename or _("this import")),
        title=_("Delete this import?"),
        button=_("Delete the import"),
        back=back,
        details=[_("The deletion is kept in the audit log.")],
    )
    if question is not None:
        return question
    try:
        importing.delete_import(company().id, record.id, actor=user())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The import was deleted."), "info")
    return redirect(back, code=303)


def _import_summary(result: importing.ImportResult) -> str:
    parts = [
        ngettext("%(num)d new line", "%(num)d new lines", result.new_lines),
        ngettext("%(num)d already here", "%(num)d already here", result.duplicates),
        ngettext("%(num)d matched automatically", "%(num)d matched automatically",
                 result.confirmed),
        ngettext("%(num)d suggestion to review", "%(num)d suggestions to review",
                 max(result.suggested - result.confirmed, 0)),
    ]
    return _("Statement imported: %(summary)s.", summary=", ".join(parts))


@bp.post("/accounts/<int:account_id>/mapping")
@require_permission(MANAGE)
def save_mapping(account_id: int) -> ResponseReturnValue:
    account = account_or_404(account_id)
    form = MappingForm()
    if not form.validate_on_submit():
        return _account_page(account, mapping_form=form, status=422)
    try:
        accounts.save_mapping(company().id, account.id, form.to_mapping())
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _account_page(account, mapping_form=form, status=422)
    db.session.commit()
    flash(_("Column mapping saved: CSV and Excel files of this account are read with it."),
          "success")
    return redirect(url_for("reconciliation.account", account_id=account.id) + "#mapping",
                    code=303)
