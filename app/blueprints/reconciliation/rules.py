"""The company's reconciliation rules: listed in the order they apply, moved up or down, enabled
or not, edited, deleted. Each rule is loaded through ``rules.get_rule`` first: another
company's id answers 404."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.blueprints.auth.forms import EmptyForm
from app.blueprints.reconciliation import bp
from app.blueprints.reconciliation.accounts import MANAGE, VIEW
from app.blueprints.reconciliation.forms import RuleForm
from app.extensions import db
from app.models.reconciliation import ReconciliationRule
from app.services.errors import DomainError, NotFound
from app.services.reconciliation import accounts
from app.services.reconciliation import rules as rule_service
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first
from app.web.htmx import form_errors, render


def _rule_or_404(rule_id: int) -> ReconciliationRule:
    try:
        return rule_service.get_rule(company().id, rule_id)
    except NotFound:
        abort(404)


def _data_of(rule: ReconciliationRule) -> dict[str, object]:
    return {
        "name": rule.name, "action": rule.action, "direction": rule.direction,
        "text_contains": rule.text_contains, "counterparty": rule.counterparty,
        "partner": rule.partner, "amount_min": rule.amount_min, "amount_max": rule.amount_max,
        "fee_max": rule.fee_max or None, "bank_account_id": rule.bank_account_id,
        "enabled": rule.enabled, "auto_confirm": rule.auto_confirm,
    }


def _form(rule: ReconciliationRule | None = None, *, formdata: bool = True) -> RuleForm:
    if formdata:
        form = RuleForm()
    elif rule is not None:
        data = _data_of(rule)
        data = {k: ("" if v is None else v) for k, v in data.items()}
        data["bank_account_id"] = str(rule.bank_account_id or "")
        form = RuleForm(formdata=None, data=data)
    else:
        form = RuleForm(formdata=None)
    form.bank_account_id.choices = [("", _("Any of my accounts"))] + [
        (str(a.id), a.name) for a in db.session.scalars(accounts.bank_accounts(company().id))
    ]
    return form


@bp.get("/rules")
@require_permission(VIEW)
def rules_page() -> ResponseReturnValue:
    names = {a.id: a.name for a in db.session.scalars(accounts.bank_accounts(company().id))}
    return render(
        "reconciliation/rules.html",
        rules=rule_service.rules(company().id),
        account_names=names,
        button_form=EmptyForm(),
    )


def _edit_page(form: RuleForm, rule: ReconciliationRule | None, status: int = 200
               ) -> ResponseReturnValue:
    return render("reconciliation/rule_form.html", status=status, form=form, rule=rule)


def _save(form: RuleForm, rule: ReconciliationRule | None) -> ResponseReturnValue:
    if not form.validate_on_submit():
        return _edit_page(form, rule, status=422)
    try:
        saved = rule_service.save_rule(company().id, actor=user(), data=form.values(),
                                       rule_id=rule.id if rule else None)
    except DomainError as error:
        db.session.rollback()
        form_errors(form, error)
        return _edit_page(form, rule, status=422)
    db.session.commit()
    flash(_("The rule %(name)s was saved.", name=saved.name), "success")
    return redirect(url_for("reconciliation.rules_page"), code=303)


@bp.route("/rules/new", methods=["GET", "POST"])
@require_permission(MANAGE)
def new_rule() -> ResponseReturnValue:
    form = _form(formdata=False) if _is_get() else _form()
    return _edit_page(form, None) if _is_get() else _save(form, None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@require_permission(MANAGE)
def edit_rule(rule_id: int) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    if _is_get():
        return _edit_page(_form(rule, formdata=False), rule)
    return _save(_form(rule), rule)


def _is_get() -> bool:
    return request.method == "GET"


@bp.post("/rules/<int:rule_id>/move")
@require_permission(MANAGE)
def move_rule(rule_id: int) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    rule_service.move_rule(company().id, rule_id=rule.id, offset=offset, actor=user())
    db.session.commit()
    return redirect(url_for("reconciliation.rules_page") + f"#rule-{rule.id}", code=303)


@bp.post("/rules/<int:rule_id>/toggle")
@require_permission(MANAGE)
def toggle_rule(rule_id: int) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    data = _data_of(rule)
    data["enabled"] = not rule.enabled
    try:
        rule_service.save_rule(company().id, actor=user(), data=data, rule_id=rule.id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The rule %(name)s is on.", name=rule.name) if rule.enabled
              else _("The rule %(name)s is off.", name=rule.name), "info")
    return redirect(url_for("reconciliation.rules_page") + f"#rule-{rule.id}", code=303)


@bp.post("/rules/<int:rule_id>/delete")
@require_permission(MANAGE)
def delete_rule(rule_id: int) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    question = ask_first(
        _("The rule %(name)s no longer applies to new lines. Matches it made stay.",
          name=rule.name),
        title=_("Delete the rule %(name)s?", name=rule.name),
        button=_("Delete the rule"),
        back=url_for("reconciliation.rules_page"),
    )
    if question is not None:
        return question
    name = rule.name
    rule_service.delete_rule(company().id, rule_id=rule.id, actor=user())
    db.session.commit()
    flash(_("The rule %(name)s was deleted.", name=name), "info")
    return redirect(url_for("reconciliation.rules_page"), code=303)
