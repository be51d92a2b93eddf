"""Every real statement file under ../shared/data/statements reads with the right numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.statements import Counterparty, detect_format, inspect_file, read_statement
from tests.conftest import shared_data

D = Decimal


def read(relative: str):
    path = shared_data() / "statements" / relative
    data = path.read_bytes()
    fmt, statements = read_statement(data, filename=path.name)
    assert detect_format(data, path.name) == fmt
    return fmt, statements


def test_every_shared_file_is_read_with_its_format():
    folder = shared_data() / "statements"
    results = {p.relative_to(folder).as_posix(): inspect_file(p)
               for p in sorted(folder.rglob("*")) if p.is_file()}
    assert len(results) >= 9
    for name, result in results.items():
        assert result.error is None, name
        assert result.format == name.split("/")[0], name  # the folders are named by format


def test_genkgo_camt053_minimal():
    fmt, [s] = read("camt053/genkgo-camt053.v2.minimal.xml")
    assert fmt == "camt053"
    assert (s.account, s.currency) == ("NL26VAYB8060476890", "EUR")
    assert (s.opening_balance, s.closing_balance) == (D("18.15"), D("-27.00"))  # CLBD is DBIT
    [e] = s.entries
    assert e.amount == D("8.85")
    assert (e.booking_date, e.value_date) == (dt.date(2014, 12, 31), dt.date(2015, 1, 2))
    assert e.counterparty.name == "NAME NAME"  # a credit: the debtor paid us
    assert e.counterparty.account == "NL56AGDH9619008421"
    assert e.reference == "4654654654654654"  # structured creditor reference


def test_oca_camt053_splits_its_batch():
    _, [s] = read("camt053/oca-test-camt053.xml")
    assert [e.amount for e in s.entries] == [D("-754.25"), D("-564.05"), D("-100.00"),
                                             D("1405.31")]
    assert s.entries[0].end_to_end_id == "435005714488-ABNO33052620"
    assert s.entries[0].counterparty.name == "INSURANCE COMPANY TESTX"
    assert s.entries[3].counterparty.account == "NL69ABNA0522123643"
    assert (s.opening_balance, s.closing_balance) == (D("15568.27"), D("15121.12"))
    assert s.balance_gap() == D("-434.16")  # the sample itself does not add up


def test_oca_csv():
    fmt, [s] = read("csv/oca-sample_statement_en.csv")
    assert fmt == "csv"
    assert [(e.amount, e.currency) for e in s.entries] == [(D("-33.50"), "USD"),
                                                           (D("1525.00"), "EUR")]
    assert s.entries[0].booking_date == dt.date(2018, 12, 15)
    assert s.entries[0].counterparty == Counterparty("John Doe", "123456789")


def test_abnamro_mt940_two_statements():
    fmt, [first, second] = read("mt940/jejik-abnamro.sta")
    assert fmt == "mt940"
    assert (len(first.entries), len(second.entries)) == (8, 2)
    assert first.account == "517852257"
    assert (first.opening_balance, first.closing_balance) == (D("3236.28"), D("876.84"))
    assert (second.opening_balance, second.closing_balance) == (D("2876.84"), D("1849.75"))
    assert first.entries[0].amount == D("-9") and first.entries[0].booking_date == dt.date(
        2011, 5, 24)
    assert second.entries[-1].amount == D("-15")
    assert all(e.amount < 0 for s in (first, second) for e in s.entries)


def test_ing_mt940_with_header_lines():
    _, [s] = read("mt940/jejik-ing.sta")
    assert s.account == "0001234567"
    assert len(s.entries) == 7
    assert (s.entries[0].amount, s.entries[0].booking_date) == (D("-25.03"), dt.date(2010, 7, 22))
    assert (s.entries[-1].amount, s.entries[-1].booking_date) == (D("1.00"), dt.date(2010, 7, 23))
    assert "-XXX" not in (s.entries[-1].description or "")
    assert (s.opening_balance, s.closing_balance) == (D("0.00"), D("3.47"))


def test_rabobank_mt940_structured_86_and_consistent_balances():
    _, statements = read("mt940/jejik-rabobank-iban.sta")
    assert [len(s.entries) for s in statements] == [2, 2]
    assert all(s.balance_gap() == 0 for s in statements)
    first = statements[0].entries[0]
    assert first.counterparty.name == "CONTRA ACCOUNT HOLDER"
    assert first.counterparty.account == "NL70ABNA0987654321"
    assert statements[0].entries[1].reference == "Reference 201301234"
    assert statements[1].closing_balance == D("930.00")


def test_german_mt940_with_ns_tags_and_a_balance_without_currency():
    _, statements = read("mt940/self-provided-raphaelm.sta")
    assert [len(s.entries) for s in statements] == [6, 2, 1]
    assert all(s.balance_gap() == 0 for s in statements)
    assert [s.closing_balance for s in statements] == [D("105000.00"), D("145000.00"),
                                                       D("95000.00")]
    assert statements[0].currency == "DEM"
    first = statements[0].entries[0]
    assert (first.amount, first.value_date, first.booking_date) == (
        D("5000.00"), dt.date(2002, 3, 17), dt.date(2002, 3, 20))
    assert statements[2].entries[0].amount == D("-50000.00")


def test_oca_ofx_bank_and_credit_card():
    fmt, [bank, card] = read("ofx/oca-test_ofx.ofx")
    assert fmt == "ofx"
    assert [e.amount for e in bank.entries] == [D("-80"), D("-90"), D("-100"), D("-90")]
    assert bank.entries[0].counterparty.name == "Agrolait"
    assert bank.entries[0].bank_reference == "219378"
    assert (bank.account, bank.closing_balance, bank.opening_balance) == ("123456", D("2156.56"),
                                                                          None)
    assert (card.account, card.closing_balance, card.entries) == ("123412341234", D("-562.00"), ())


def test_an_empty_ofx_holds_no_statement():
    fmt, statements = read("ofx/ofxparse-bank_small.ofx")
    assert (fmt, statements) == ("ofx", [])


@pytest.mark.parametrize("relative", ["camt053/oca-test-camt053.xml", "mt940/jejik-ing.sta",
                                      "ofx/oca-test_ofx.ofx"])
def test_truncated_shared_files_are_clear_errors(relative, tmp_path):
    data = (shared_data() / "statements" / relative).read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    result = inspect_file(cut)
    if relative.startswith("mt940"):  # half an MT940 is still MT940: its closing balance is gone
        assert result.error is None and result.statements[0].closing_balance is None
    else:
        assert result.error and "internal error" not in result.error
