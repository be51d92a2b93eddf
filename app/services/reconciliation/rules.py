"""A company's reconciliation rules: conditions on the line's text, amount, counterparty and
bank account, then one action; applied in the order the company gives them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.reconciliation import BankAccount, ReconciliationRule
from app.models.user import User
from app.services import audit
from app.services.errors import FieldErrors, NotFound

ACTIONS = ("partner_oldest_first", "fee_difference", "gateway_payout")
DIRECTIONS = ("", "credit", "debit")
_MAX = Decimal("1000000000000")


def rules(company_id: int) -> list[ReconciliationRule]:
    return list(db.session.scalars(
        select(ReconciliationRule)
        .where(ReconciliationRule.company_id == company_id)
        .order_by(ReconciliationRule.position, ReconciliationRule.id)
    ))


def get_rule(company_id: int, rule_id: int) -> ReconciliationRule:
    rule = db.session.get(ReconciliationRule, rule_id)
    if rule is None or rule.company_id != company_id:
        raise NotFound(_l("No such rule."))
    return rule


def _amount(value: Any, field: str, errors: dict[str, list[Any]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= _MAX:
        errors[field] = [_l("Write an amount, like 1500 or 12.50.")]
        return None
    return amount


def _values(company_id: int, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_l("Give the rule a name (100 characters at most).")]
    action = str(data.get("action") or "")
    if action not in ACTIONS:
        errors["action"] = [_l("Choose one of the actions offered.")]
    direction = str(data.get("direction") or "")
    if direction not in DIRECTIONS:
        errors["direction"] = [_l("Choose money in, money out or both.")]
    text = str(data.get("text_contains") or "").strip()
    counterparty = str(data.get("counterparty") or "").strip()
    partner = str(data.get("partner") or "").strip()
    for field, value, limit in (("text_contains", text, 100), ("counterparty", counterparty, 200),
                                ("partner", partner, 20)):
        if len(value) > limit:
            errors[field] = [_l("At most %(n)s characters.", n=limit)]
    amount_min = _amount(data.get("amount_min"), "amount_min", errors)
    amount_max = _amount(data.get("amount_max"), "amount_max", errors)
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        errors["amount_max"] = [_l("The largest amount is below the smallest.")]
    fee_max = _amount(data.get("fee_max"), "fee_max", errors) or Decimal("0")
    if action == "partner_oldest_first" and not partner:
        errors["partner"] = [_l("Give the partner's tax id whose invoices the rule pays.")]
    if action == "fee_difference" and not fee_max:
        errors["fee_max"] = [_l("Give the largest difference that is a bank fee.")]
    account_id = data.get("bank_account_id") or None
    if account_id is not None:
        try:
            account = db.session.get(BankAccount, int(account_id))
        except (TypeError, ValueError):
            account = None
        if account is None or account.company_id != company_id:
            errors["bank_account_id"] = [_l("Choose one of your bank accounts.")]
        else:
            account_id = account.id
    if not any((text, direction, amount_min, amount_max, counterparty, account_id)) and \
            action != "gateway_payout":
        errors.setdefault("text_contains", [_l("Give at least one condition.")])
    if errors:
        raise FieldErrors(errors)
    return {
        "name": name, "action": action, "direction": direction, "text_contains": text,
        "counterparty": counterparty, "partner": partner, "amount_min": amount_min,
        "amount_max": amount_max, "fee_max": fee_max, "bank_account_id": account_id,
        "enabled": bool(data.get("enabled", True)),
        "auto_confirm": bool(data.get("auto_confirm", False)),
    }


def save_rule(
    company_id: int, *, actor: User | None, data: dict[str, Any], rule_id: int | None = None
) -> ReconciliationRule:
    values = _values(company_id, data)
    if rule_id is None:
        last = db.session.scalar(
            select(func.max(ReconciliationRule.position))
            .where(ReconciliationRule.company_id == company_id)
        )
        rule = ReconciliationRule(company_id=company_id, position=(last or 0) + 1, **values)
        db.session.add(rule)
    else:
        rule = get_rule(company_id, rule_id)
        for key, value in values.items():
            setattr(rule, key, value)
    db.session.flush()
    audit.record_event(actor, company_id, "reconciliation.rule_saved", rule, {"name": rule.name})
    return rule


def delete_rule(company_id: int, *, rule_id: int, actor: User | None) -> None:
    rule = get_rule(company_id, rule_id)
    audit.record_event(actor, company_id, "reconciliation.rule_deleted", rule, {"name": rule.name})
    db.session.delete(rule)
    db.session.flush()


def move_rule(company_id: int, *, rule_id: int, offset: int, actor: User | None) -> None:
    """Move a rule up (offset -1) or down (+1) in the order."""
    ordered = rules(company_id)
    index = next((i for i, r in enumerate(ordered) if r.id == rule_id), None)
    if index is None:
        raise NotFound(_l("No such rule."))
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, rule in enumerate(ordered, start=1):
        rule.position = position
    db.session.flush()
