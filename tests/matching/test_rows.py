"""Does a matcher built from plain database rows suggest exactly what one built from
``Candidate`` objects does, and refuse rows it cannot read?"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.matching.engine import Matcher
from app.matching.generate import generate
from app.matching.model import PAYMENT_IN, RECEIVABLE, Candidate
from tests.matching.helpers import ANDINA, NOGAL, ids, inv, line


def _row(c: Candidate) -> tuple:
    return (c.kind, c.id, c.amount, c.currency, c.references, c.partner, c.partner_name, c.date,
            c.end_to_end_id)


def test_do_rows_and_candidates_give_the_same_suggestions_on_a_generated_statement():
    data = generate(partners=60, invoices=3_000, lines=400, seed=9)
    from_objects = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    from_rows = Matcher.from_rows(
        (_row(c) for c in data.candidates), rules=data.rules, hints=data.hints
    )
    assert len(from_rows) == len(from_objects) == len(data.candidates)
    assert from_rows.run(data.lines) == from_objects.run(data.lines)


def test_may_a_row_leave_out_the_end_to_end_id_and_give_one_reference_as_text():
    rows = [
        (RECEIVABLE, 1, Decimal("150000.00"), "cop", "FE-000001", *ANDINA, date(2025, 3, 1)),
        (RECEIVABLE, 2, Decimal("90000"), "COP", None, *NOGAL, None),
        (RECEIVABLE, 3, Decimal("0.00"), "COP", "FE-000003", *NOGAL, None),  # closed: left out
    ]
    m = Matcher.from_rows(rows)
    assert len(m) == 2
    best = m.suggest(line("150000", "PAGO FE 000001"))[0]
    assert ids(best) == {(RECEIVABLE, 1)}
    assert best.items[0].amount == Decimal("150000.00")
    assert ids(m.suggest(line("90000", "CONSIGNACION"))[0]) == {(RECEIVABLE, 2)}


def test_do_rows_with_and_without_an_end_to_end_id_mix():
    rows = [
        (RECEIVABLE, 1, Decimal("10"), "COP", ("FE-000001",), *ANDINA, None),
        (PAYMENT_IN, 7, Decimal("500"), "COP", ("PAY-000007", "R-7"), *NOGAL, None, "E2E123456"),
    ]
    m = Matcher.from_rows(rows)
    best = m.suggest(line("500", "TRANSFERENCIA", e2e="E2E123456"))[0]
    assert ids(best) == {(PAYMENT_IN, 7)}
    assert ids(m.suggest(line("500", "PAGO R-7"))[0]) == {(PAYMENT_IN, 7)}


def test_do_columns_give_what_the_same_rows_give():
    data = generate(partners=40, invoices=2_000, lines=300, seed=5)
    rows = [_row(c) for c in data.candidates]
    columns = [list(col) for col in zip(*rows, strict=True)]
    from_rows = Matcher.from_rows(rows, rules=data.rules, hints=data.hints)
    from_columns = Matcher.from_columns(columns, rules=data.rules, hints=data.hints)
    assert from_columns.run(data.lines) == from_rows.run(data.lines)
    # Without the end-to-end column, and the references as text.
    eight = [*columns[:4], [c.references[0] for c in data.candidates], *columns[5:8]]
    assert len(Matcher.from_columns(eight)) == len(data.candidates)


def test_are_columns_of_different_lengths_refused():
    with pytest.raises(ValueError, match="columns"):
        Matcher.from_columns([[RECEIVABLE], [1], [Decimal("10")], ["COP"], ["FE-1"], [None], [""],
                              []])
    with pytest.raises(ValueError, match="columns"):
        Matcher.from_columns([[RECEIVABLE], [1]])


def test_are_unreadable_rows_refused():
    good = (RECEIVABLE, 1, Decimal("10"), "COP", "FE-1", *ANDINA, None)
    with pytest.raises(ValueError, match="fields"):
        Matcher.from_rows([good[:5]])
    with pytest.raises(TypeError, match="Decimal"):
        Matcher.from_rows([(RECEIVABLE, 1, 10.0, "COP", "FE-1", *ANDINA, None)])
    with pytest.raises(ValueError, match="kind"):
        Matcher.from_rows([("invoice", 1, Decimal("10"), "COP", "FE-1", *ANDINA, None)])
    assert len(Matcher.from_rows([])) == 0


def test_does_a_candidate_list_with_several_currencies_keep_them_apart():
    m = Matcher([inv(1, "500.00", currency="USD"), inv(2, "500.00", currency="COP"),
                 inv(3, "500.00", currency="eur")])
    assert ids(m.suggest(line("500.00", "PAGO", currency="EUR"))[0]) == {(RECEIVABLE, 3)}
    assert ids(m.suggest(line("500.00", "PAGO", currency="usd"))[0]) == {(RECEIVABLE, 1)}
    assert m.suggest(line("500.00", "PAGO", currency="GBP")) == []
