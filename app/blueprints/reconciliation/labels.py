"""Reconciliation's codes named for people: line statuses, evidence, what a match settles, rule
actions. Installed as template filters (``line_status``, ``evidence``, ``match_kind``,
``rule_action``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.blueprints.reconciliation import bp

LINE_STATUSES = {
    "unmatched": _l("Not matched"),
    "suggested": _l("Suggestion to review"),
    "matched": _l("Matched"),
    "ignored": _l("Ignored"),
}
# The reconciliation status of a payment or an invoice (queries.payment_statuses).
RECONCILIATION = {
    "matched": _l("Seen in the bank"),
    "suggested": _l("Bank line to review"),
    "unmatched": _l("Not yet seen in the bank"),
}
EVIDENCE = {
    "amount_exact": _l("Exact amount"),
    "amount_close": _l("Amount within tolerance"),
    "amount_sum": _l("Several items add up to the amount"),
    "reference": _l("Reference found in the line"),
    "end_to_end": _l("Same end-to-end id"),
    "counterparty_tax_id": _l("Counterparty's tax id"),
    "counterparty_account": _l("Bank account already seen for this partner"),
    "counterparty_name": _l("Similar name"),
    "label_pattern": _l("Label learnt from an earlier match"),
    "date_near": _l("Date near"),
    "rule": _l("Rule"),
    "manual": _l("Chosen by hand"),
}
KINDS = {
    "receivable": _l("Invoice you issued"),
    "payable": _l("Invoice you received"),
    "payment_in": _l("Payment received"),
    "payment_out": _l("Payment made"),
    "payout": _l("Gateway payout"),
}
ACTIONS = {
    "partner_oldest_first": _l("Pay this partner's invoices, oldest first"),
    "fee_difference": _l("A shortfall up to N is a bank fee"),
    "gateway_payout": _l("Lines like this are gateway payouts"),
}
DIRECTIONS = {
    "": _l("Money in and out"),
    "credit": _l("Money in"),
    "debit": _l("Money out"),
}
PAYOUT_LINE_KINDS = {
    "charge": _l("Charge"),
    "refund": _l("Refund"),
    "fee": _l("Fee"),
    "adjustment": _l("Adjustment"),
}


def _named(table: dict[str, Any], code: Any) -> str:
    return str(table.get(code or "", code or ""))


@bp.app_template_filter("line_status")
def line_status(code: Any) -> str:
    return _named(LINE_STATUSES, code)


@bp.app_template_filter("reconciliation_status")
def reconciliation_status(code: Any) -> str:
    return _named(RECONCILIATION, code)


@bp.app_template_filter("match_kind")
def match_kind(code: Any) -> str:
    return _named(KINDS, code)


@bp.app_template_filter("rule_action")
def rule_action(code: Any) -> str:
    return _named(ACTIONS, code)


@bp.app_template_filter("direction_name")
def direction_name(code: Any) -> str:
    return _named(DIRECTIONS, code)


@bp.app_template_filter("payout_line_kind")
def payout_line_kind(code: Any) -> str:
    return _named(PAYOUT_LINE_KINDS, code)


@bp.app_template_filter("evidence")
def evidence(item: Any) -> str:
    """One piece of evidence in words: its name, then what was found ("Reference found in the
    line: FE-1234")."""
    code = item.get("code") if isinstance(item, dict) else getattr(item, "code", "")
    detail = item.get("detail") if isinstance(item, dict) else getattr(item, "detail", "")
    name = _named(EVIDENCE, code)
    return _("%(name)s: %(detail)s", name=name, detail=detail) if detail else name
