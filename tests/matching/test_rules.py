"""Do a company's reconciliation rules apply when their conditions hold, in their order, and
confirm alone only when allowed?"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.matching.engine import Matcher
from app.matching.model import (
    AMOUNT_CLOSE,
    PAYOUT,
    RECEIVABLE,
    REFERENCE,
    RULE,
    Candidate,
    Rule,
    Settings,
)
from tests.matching.helpers import ANDINA, DAY, NOGAL, codes, evidence, ids, inv, line

LUMPS = Rule(7, "Andina pays in lumps", action="partner_oldest_first",
             counterparty="900123456-7", auto_confirm=True)


def _ledger() -> list[Candidate]:
    return [
        inv(1, "100000", days=-30),
        inv(2, "200000", days=-10),
        inv(3, "300000", days=5),
        inv(9, "250000", NOGAL),  # another's invoice of the line's amount
    ]


def _lump(**kw) -> object:
    return line("250000", "NIT 900123456-7 ABONO", name="COMERCIAL ANDINA", bank_account_id=1,
                **kw)


def test_does_oldest_first_settle_the_oldest_invoices_and_part_of_the_next():
    top = Matcher(_ledger(), rules=[LUMPS]).suggest(_lump())[0]
    assert [(i.id, i.amount) for i in top.items] == [(1, Decimal("100000")), (2, Decimal("150000"))]
    assert top.rule_id == 7
    assert evidence(top, RULE).detail == "Andina pays in lumps"
    assert top.auto


def test_does_a_rule_without_auto_confirm_only_suggest():
    rule = Rule(7, "Andina", action="partner_oldest_first", counterparty="900123456-7")
    top = Matcher(_ledger(), rules=[rule]).suggest(_lump())[0]
    assert top.rule_id == 7
    assert not top.auto


def test_does_oldest_first_take_the_rules_partner_when_named():
    rule = Rule(3, "Nogal's agent", action="partner_oldest_first", text_contains="abono",
                partner=NOGAL[0])
    top = Matcher(_ledger(), rules=[rule]).suggest(_lump())[0]
    assert ids(top) == {(RECEIVABLE, 9)} and top.rule_id == 3


@pytest.mark.parametrize(
    ("condition", "applies"),
    [
        ({"text_contains": "Abono"}, True),
        ({"text_contains": "reembolso"}, False),
        ({"direction": "credit"}, True),
        ({"direction": "debit"}, False),
        ({"amount_min": Decimal("250000")}, True),
        ({"amount_min": Decimal("250000.01")}, False),
        ({"amount_max": Decimal("250000")}, True),
        ({"amount_max": Decimal("100000")}, False),
        ({"counterparty": "900.123.456-7"}, True),
        ({"counterparty": "Comercial Andina"}, True),
        ({"counterparty": "811222333-4"}, False),
        ({"counterparty": "Transportes Cóndor"}, False),
        ({"bank_account_id": 1}, True),
        ({"bank_account_id": 2}, False),
    ],
)
def test_does_a_rule_apply_only_when_its_condition_holds(condition, applies):
    rule = Rule(5, "r", action="partner_oldest_first", partner=ANDINA[0], **condition)
    suggestions = Matcher(_ledger(), rules=[rule]).suggest(_lump())
    assert any(s.rule_id == 5 for s in suggestions) is applies


def test_is_a_debit_line_no_credit_rules_business():
    rule = Rule(5, "r", action="partner_oldest_first", partner=ANDINA[0], direction="credit")
    suggestions = Matcher(_ledger(), rules=[rule]).suggest(line("-250000", "ABONO"))
    assert all(s.rule_id is None for s in suggestions)


def test_are_rules_applied_in_their_order_and_disabled_ones_skipped():
    first = Rule(1, "to Andina", position=1, action="partner_oldest_first", partner=ANDINA[0])
    second = Rule(2, "to Nogal", position=2, action="partner_oldest_first", partner=NOGAL[0])
    assert Matcher(_ledger(), rules=[second, first]).suggest(_lump())[0].rule_id == 1
    moved = Rule(2, "to Nogal", position=0, action="partner_oldest_first", partner=NOGAL[0])
    assert Matcher(_ledger(), rules=[first, moved]).suggest(_lump())[0].rule_id == 2
    off = Rule(2, "to Nogal", position=0, enabled=False, action="partner_oldest_first",
               partner=NOGAL[0])
    assert Matcher(_ledger(), rules=[first, off]).suggest(_lump())[0].rule_id == 1


EXACT = Settings(tolerance_ratio=Decimal("0"))
FEES = Rule(4, "Bank fees", action="fee_difference", fee_max=Decimal("10000"), auto_confirm=True)


def test_does_a_fee_rule_accept_a_shortfall_up_to_its_maximum():
    m = Matcher([inv(1, "1000000")], rules=[FEES], settings=EXACT)
    top = m.suggest(line("992000", "PAGO FE-000001"))[0]
    assert top.fee == Decimal("8000")
    assert top.items[0].amount == Decimal("1000000")
    assert evidence(top, AMOUNT_CLOSE).detail == "8000"
    assert top.rule_id == 4 and RULE in codes(top)
    assert top.auto
    beyond = m.suggest(line("985000", "PAGO FE-000001"))[0]
    assert beyond.fee == 0 and beyond.rule_id is None
    assert beyond.items[0].amount == Decimal("985000")  # a part payment instead


def test_is_a_shortfall_without_the_fee_rule_a_part_payment():
    top = Matcher([inv(1, "1000000")], settings=EXACT).suggest(line("992000", "PAGO FE-000001"))[0]
    assert top.fee == 0 and top.items[0].amount == Decimal("992000")


def test_does_a_fee_rule_find_the_invoice_by_amount_alone_without_confirming():
    m = Matcher([inv(1, "1000000"), inv(2, "5000")], rules=[FEES], settings=EXACT)
    top = m.suggest(line("992000", "ABONO"))[0]
    assert ids(top) == {(RECEIVABLE, 1)} and top.fee == Decimal("8000")
    assert not top.auto


PAYOUTS = Rule(9, "Stripe", action="gateway_payout", text_contains="stripe", auto_confirm=True)


def _payout(id: int, amount: str, ref: str) -> Candidate:  # noqa: A002
    return Candidate(PAYOUT, id, Decimal(amount), "COP", (ref,), None, "Stripe", DAY)


def test_does_a_payout_rule_consider_only_payouts():
    cands = [_payout(1, "1234567.89", "po_ABC123XYZ"), inv(5, "1234567.89")]
    by_rule = Matcher(cands, rules=[PAYOUTS]).suggest(line("1234567.89", "STRIPE TRANSFER"))
    assert [ids(s) for s in by_rule] == [{(PAYOUT, 1)}]
    assert by_rule[0].rule_id == 9 and by_rule[0].auto
    plain = Matcher(cands).suggest(line("1234567.89", "STRIPE TRANSFER"))
    assert len(plain) == 2 and not plain[0].auto


def test_does_a_payout_rule_match_the_payout_id():
    cands = [_payout(1, "1000.00", "po_ABC123XYZ"), _payout(2, "1000.00", "po_QQQ999")]
    m = Matcher(cands, rules=[PAYOUTS])
    top = m.suggest(line("1000.00", "STRIPE PAYOUT po_ABC123XYZ"))[0]
    assert ids(top) == {(PAYOUT, 1)} and REFERENCE in codes(top) and top.auto
    unsure = m.suggest(line("1000.00", "STRIPE PAYOUT"))
    assert len(unsure) == 2 and not unsure[0].auto  # two payouts of that amount
