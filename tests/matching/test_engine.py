"""Does the matcher suggest what a bank line settles, with its evidence, and confirm alone only
when it cannot be wrong?"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.matching.engine import Matcher
from app.matching.model import (
    AMOUNT_CLOSE,
    AMOUNT_EXACT,
    AMOUNT_SUM,
    COUNTERPARTY_ACCOUNT,
    COUNTERPARTY_NAME,
    COUNTERPARTY_TAX_ID,
    DATE_NEAR,
    END_TO_END,
    LABEL_PATTERN,
    PAYABLE,
    PAYMENT_IN,
    PAYMENT_OUT,
    RECEIVABLE,
    REFERENCE,
    Candidate,
    Hints,
    Settings,
)
from tests.matching.helpers import ANDINA, NOGAL, OTHER, codes, evidence, ids, inv, line

ACCOUNT = "0012-3456-78"
HINTS = Hints(accounts={ACCOUNT: ANDINA[0]}, labels={"andi77": ANDINA[0]})


def test_does_an_invoice_number_and_its_amount_confirm_alone():
    m = Matcher([inv(1234, "500000.00"), inv(1235, "500000.00"), inv(1236, "720000")])
    top = m.suggest(line("500000", "PAGO FACTURA FE 001234", name="COMERCIAL ANDINA"))[0]
    assert ids(top) == {(RECEIVABLE, 1234)}
    assert top.auto
    assert evidence(top, REFERENCE).detail == "FE-001234"
    assert {AMOUNT_EXACT, COUNTERPARTY_NAME, DATE_NEAR} <= codes(top)
    assert top.score == 100
    assert top.items[0].amount == Decimal("500000.00")


@pytest.mark.parametrize("written", ["FE-001234", "fe001234", "Fe 001234", "FE001234 y FE009999"])
def test_is_the_invoice_found_however_its_number_is_written(written):
    m = Matcher([inv(1234, "731250.50"), inv(9999, "1.00", OTHER)])
    top = m.suggest(line("731250.50", f"Factura {written}"))[0]
    assert ids(top) == {(RECEIVABLE, 1234)}
    assert REFERENCE in codes(top)


def test_is_a_one_character_typo_in_a_long_number_forgiven():
    m = Matcher([inv(1234, "731250.50"), inv(1299, "731250.50", OTHER)])
    top = m.suggest(line("731250.50", "PAGO FE-001284", name="Comercial Andina"))[0]
    assert ids(top) == {(RECEIVABLE, 1234)}
    ref = evidence(top, REFERENCE)
    assert ref.detail == "FE-001234"
    assert ref.points < 55  # less than the number itself
    assert top.auto


def test_is_a_typo_in_a_short_reference_not_taken_for_it():
    m = Matcher([inv(3, "100.00", ref="SETT3")])
    top = m.suggest(line("100.00", "liquidacion SETT4"))[0]
    assert REFERENCE not in codes(top)
    assert not top.auto


def test_does_an_end_to_end_id_match_a_payment():
    payment = inv(7, "250000", kind=PAYMENT_IN, ref="PAY-000007", e2e="E2E-ABC-123")
    m = Matcher([payment, inv(8, "250000")])
    top = m.suggest(line("250000", "TRANSFERENCIA", e2e="e2eabc123"))[0]
    assert ids(top) == {(PAYMENT_IN, 7)}
    assert END_TO_END in codes(top)
    assert top.auto


def test_does_a_tax_id_in_the_text_point_to_the_partner():
    m = Matcher([inv(1, "480000"), inv(2, "480000", NOGAL)])
    top = m.suggest(line("480000", "ABONO NIT 900.123.456-7"))[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert evidence(top, COUNTERPARTY_TAX_ID).detail == ANDINA[0]
    # The partner the line names has this amount open once: confirmed, though another
    # partner's invoice has the same amount.
    assert top.auto


def test_is_a_named_partners_exact_amount_confirmed_only_when_it_is_the_only_one():
    twice = Matcher([inv(1, "480000"), inv(2, "480000"), inv(3, "999")])
    assert not twice.suggest(line("480000", "ABONO NIT 900.123.456-7"))[0].auto
    by_name = Matcher([inv(1, "480000"), inv(2, "77000", NOGAL)])
    top = by_name.suggest(line("480000", "TRANSFERENCIA", name="Comercial Andina"))[0]
    assert ids(top) == {(RECEIVABLE, 1)} and top.auto
    unnamed = by_name.suggest(line("480000", "TRANSFERENCIA"))[0]
    assert not unnamed.auto  # the amount alone says nothing of who paid
    # A name (weaker than a tax id) is not enough while another partner has the amount open.
    crowded = Matcher([inv(1, "480000"), inv(2, "480000", NOGAL)])
    assert not crowded.suggest(line("480000", "PAGO", name="Comercial Andina"))[0].auto
    near = Matcher([inv(1, "480100")])
    assert not near.suggest(line("480000", "ABONO NIT 900.123.456-7"))[0].auto  # not exact


def test_does_a_known_account_point_to_the_partner_and_an_unknown_one_not():
    m = Matcher([inv(1, "480000"), inv(2, "480000", NOGAL)], hints=HINTS)
    known = m.suggest(line("480000", "ABONO NIT 900123456", account="0012345678"))[0]
    assert ids(known) == {(RECEIVABLE, 1)}
    assert COUNTERPARTY_ACCOUNT in codes(known)
    assert known.auto  # tax id, account and amount, and nothing else like it
    unknown = m.suggest(line("480000", "ABONO", account="999999"))
    assert all(COUNTERPARTY_ACCOUNT not in codes(s) for s in unknown)


@pytest.mark.parametrize(
    ("name", "matches"),
    [
        ("COMERCIAL ANDINA", True),
        ("comercial andina sas", True),
        ("COMERCIAL ANDINA S", True),
        ("PANADERIA LA ESPIGA", False),
        ("", False),
    ],
)
def test_is_the_payer_recognised_by_a_fuzzy_name(name, matches):
    m = Matcher([inv(1, "480000"), inv(2, "480000", NOGAL)])
    suggestions = m.suggest(line("480000", "TRANSFERENCIA", name=name))
    andina = next(s for s in suggestions if ids(s) == {(RECEIVABLE, 1)})
    assert (COUNTERPARTY_NAME in codes(andina)) is matches
    assert not suggestions[0].auto


def test_does_a_learnt_label_point_to_the_partner():
    m = Matcher([inv(1, "480000"), inv(2, "480000", NOGAL)], hints=HINTS)
    top = m.suggest(line("480000", "ACH ANDI77"))[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert LABEL_PATTERN in codes(top)


@pytest.mark.parametrize(("days", "near"), [(0, True), (-45, True), (44, True), (46, False)])
def test_does_a_date_near_the_due_date_count(days, near):
    m = Matcher([inv(1, "480000")])
    top = m.suggest(line("480000", "FE-000001", days=days))[0]
    assert (DATE_NEAR in codes(top)) is near


def test_is_a_small_shortfall_a_fee():
    m = Matcher([inv(1, "1000000.00")])
    top = m.suggest(line("996500.00", "PAGO FE-000001", name="Comercial Andina"))[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert top.fee == Decimal("3500.00")
    assert top.items[0].amount == Decimal("1000000.00")
    assert evidence(top, AMOUNT_CLOSE).detail == "3500.00"
    assert top.auto


def test_is_a_near_amount_without_a_reference_never_confirmed_alone():
    m = Matcher([inv(1, "1000000.00")], hints=HINTS)
    top = m.suggest(line("996500.00", "ABONO NIT 900123456", name="Comercial Andina",
                         account=ACCOUNT))[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert top.fee == Decimal("3500.00")
    assert not top.auto


def test_is_a_part_payment_suggested_for_the_part_and_confirmed_only_with_a_named_payer():
    m = Matcher([inv(1, "1000000"), inv(57, "400000", OTHER)], hints=HINTS)
    unnamed = m.suggest(line("400000", "ABONO FE-000001"))[0]
    assert ids(unnamed) == {(RECEIVABLE, 1)} and not unnamed.auto  # who paid?
    named = m.suggest(line("400000", "ABONO FE-000001", name="Comercial Andina"))
    top = named[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert top.items[0].amount == Decimal("400000")
    assert top.fee == 0
    assert top.auto  # the invoice and its payer named, nothing else near
    stranger = m.suggest(line("400000", "ABONO FE-000001", name="Transportes Cóndor"))[0]
    assert not stranger.auto  # the line names another partner
    known = m.suggest(line("400000", "ABONO FE-000001", name="Comercial Andina",
                           account=ACCOUNT))[0]
    assert ids(known) == {(RECEIVABLE, 1)} and known.auto
    assert known.score < 100 or REFERENCE in codes(known)


def _partner_invoices():
    return [
        inv(1, "120000.10", days=-20),
        inv(2, "340500.25", days=-5),
        inv(3, "89999.65", days=3),
        inv(4, "1000000.00", days=10),
        inv(5, "55555.55", days=-30),
        inv(6, "712.40", days=1),
        # Another partner whose invoices add up to the same amounts: decoys.
        inv(21, "500000.00", NOGAL),
        inv(22, "50500.00", NOGAL),
        inv(23, "460499.75", NOGAL),
        inv(24, "1600055.55", NOGAL),
    ]


@pytest.mark.parametrize(
    ("paid", "amount"),
    [
        ({1, 2}, "460500.35"),
        ({1, 2, 3}, "550500.00"),
        ({1, 2, 4, 5}, "1516055.90"),
    ],
)
def test_does_one_line_paying_several_invoices_find_them(paid, amount):
    m = Matcher(_partner_invoices(), hints=HINTS)
    suggestions = m.suggest(line(amount, "PAGO VARIAS FACTURAS", name="COMERCIAL ANDINA",
                                 account=ACCOUNT))
    top = suggestions[0]
    assert ids(top) == {(RECEIVABLE, i) for i in paid}
    assert AMOUNT_SUM in codes(top)
    assert sum(i.amount for i in top.items) == Decimal(amount)
    assert top.auto
    assert all(not ids(s) & {(RECEIVABLE, 21), (RECEIVABLE, 22)} for s in suggestions)


def test_does_a_line_listing_its_invoices_take_exactly_those():
    m = Matcher(_partner_invoices())
    top = m.suggest(line("460500.35", "PAGO FACTURAS FE-000001 FE 000002 FE-000003"))[0]
    assert ids(top) == {(RECEIVABLE, 1), (RECEIVABLE, 2)}
    assert {AMOUNT_SUM, REFERENCE} <= codes(top)
    assert top.auto


def test_are_two_invoices_of_the_same_amount_never_confirmed_without_a_number():
    m = Matcher([inv(1, "250000", days=-3), inv(2, "250000", days=2)], hints=HINTS)
    suggestions = m.suggest(line("250000", "ABONO NIT 900123456-7", name="Comercial Andina",
                                 account=ACCOUNT))
    assert {next(iter(ids(s))) for s in suggestions[:2]} == {(RECEIVABLE, 1), (RECEIVABLE, 2)}
    assert not any(s.auto for s in suggestions)


def test_does_another_named_payer_stop_a_confirmation():
    """The number is Andina's, the payer on the line is Nogal: a person should look."""
    m = Matcher([inv(1, "300000"), inv(2, "999", NOGAL)])
    top = m.suggest(line("300000", "PAGO FE-000001", name="DISTRIBUIDORA EL NOGAL"))[0]
    assert ids(top) == {(RECEIVABLE, 1)}
    assert not top.auto


def test_do_two_lines_never_both_confirm_one_invoice():
    m = Matcher([inv(1, "300000"), inv(2, "300000", NOGAL)])
    lines = [line("300000", "PAGO FE-000001", id=10), line("300000", "PAGO FE 000001", id=11)]
    alone = [m.suggest(x)[0].auto for x in lines]
    assert alone == [True, True]
    result = m.run(lines)
    assert [result[10][0].auto, result[11][0].auto] == [True, False]
    assert ids(result[11][0]) == {(RECEIVABLE, 1)}  # still suggested, for a person


def test_may_instalments_confirm_while_they_fit_the_open_amount():
    m = Matcher([inv(1, "900000")], hints=HINTS)
    lines = [
        line("300000", "CUOTA FE-000001", id=i, account=ACCOUNT, name="Comercial Andina")
        for i in (1, 2, 3, 4)
    ]
    result = m.run(lines)
    assert [result[i][0].auto for i in (1, 2, 3, 4)] == [True, True, True, False]


def test_does_a_debit_line_match_only_what_the_company_pays():
    m = Matcher([
        inv(1, "300000", ref="FAC-889", kind=PAYABLE),
        inv(2, "300000", ref="FE-000002"),
        inv(3, "300000", ref="TRF-0000003", kind=PAYMENT_OUT, e2e="E2EOUT3"),
    ])
    debit = m.suggest(line("-300000", "PAGO PROVEEDOR FAC-889"))
    assert ids(debit[0]) == {(PAYABLE, 1)} and debit[0].auto
    assert {i.kind for s in debit for i in s.items} <= {PAYABLE, PAYMENT_OUT}
    wrong_way = m.suggest(line("-300000", "DEVOLUCION FE-000002"))
    assert all((RECEIVABLE, 2) not in ids(s) for s in wrong_way)
    credit = m.suggest(line("300000", "PAGO FAC-889"))
    assert all(i.kind == RECEIVABLE for s in credit for i in s.items)


def test_does_another_currency_never_match():
    m = Matcher([inv(1, "500.00", currency="USD")])
    assert m.suggest(line("500.00", "PAGO FE-000001", currency="COP")) == []
    assert ids(m.suggest(line("500.00", "PAGO FE-000001", currency="usd"))[0]) == {
        (RECEIVABLE, 1)
    }


@pytest.mark.parametrize("amount", ["0", "0.00", "-0", "NaN", "0.0001"])
def test_do_empty_or_odd_lines_get_nothing(amount):
    m = Matcher([inv(1, "0.00"), inv(2, "1.00")])
    assert m.suggest(line(amount, "FE-000001 FE-000002")) == []


def test_are_wrong_types_refused():
    m = Matcher([inv(1, "10")])
    with pytest.raises(TypeError):
        m.suggest(line("10").__class__(1, 10.0, "COP", None))  # a float amount
    with pytest.raises(TypeError):
        m.suggest({"amount": Decimal("10")})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Matcher([Candidate(RECEIVABLE, 1, 10.0, "COP")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        Matcher([Candidate("invoice", 1, Decimal("10"), "COP")])


def test_is_a_matcher_built_from_any_iterable_without_closed_candidates():
    m = Matcher(c for c in [inv(1, "10"), inv(2, "0"), inv(3, "-5")])
    assert len(m) == 1
    assert Matcher([]).suggest(line("10", "FE-000001")) == []


def test_does_the_limit_bound_the_suggestions():
    m = Matcher([inv(i, "77777", OTHER, days=i) for i in range(1, 12)])
    assert len(m.suggest(line("77777", "PAGO"), limit=3)) == 3
    assert len(m.suggest(line("77777", "PAGO"))) == 5
    assert m.suggest(line("77777", "PAGO"), limit=0) == []


def test_does_a_crowded_amount_stay_unconfirmed():
    """Hundreds of invoices of one round amount: a line with only that amount is no evidence."""
    crowd = [inv(i, "1000000", (f"9{i:08d}-1", f"Cliente {i}")) for i in range(1, 200)]
    m = Matcher(crowd, settings=Settings(auto_threshold=30))
    suggestions = m.suggest(line("1000000", "CONSIGNACION"))
    assert not any(s.auto for s in suggestions)
