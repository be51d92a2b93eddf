"""How a typed or imported number is read: "1.000" in Colombia, "1,000.50" in English files,
spreadsheet number cells, and garbage refused rather than guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.numbers import MAX_NUMBER_TEXT, NumberCell, decimal_mark_of, parse_number, shown_mark

D = Decimal


@pytest.mark.parametrize(
    ("text", "point", "comma", "unknown"),
    [
        # A lone separator before exactly three digits: the convention in force decides.
        ("1.000", D("1.000"), D("1000"), D("1000")),
        ("1,000", D("1000"), D("1.000"), D("1000")),
        ("250.000", D("250.000"), D("250000"), D("250000")),
        # Both separators: the last is the decimal one, whatever the convention.
        ("1.000,50", D("1000.50"), D("1000.50"), D("1000.50")),
        ("1,000.50", D("1000.50"), D("1000.50"), D("1000.50")),
        ("1.234.567,89", D("1234567.89"), D("1234567.89"), D("1234567.89")),
        ("1,234,567.89", D("1234567.89"), D("1234567.89"), D("1234567.89")),
        # One separator, not before three digits: decimal.
        ("1,5", D("1.5"), D("1.5"), D("1.5")),
        ("1.5", D("1.5"), D("1.5"), D("1.5")),
        ("12,34", D("12.34"), D("12.34"), D("12.34")),
        ("1250,75", D("1250.75"), D("1250.75"), D("1250.75")),
        ("1234.567", D("1234.567"), D("1234.567"), D("1234.567")),  # four digits: no group
        ("0,500", D("0.500"), D("0.500"), D("0.500")),  # 0 does not start a group
        (".5", D("0.5"), D("0.5"), D("0.5")),
        # The same separator several times: thousands.
        ("1.000.000", D("1000000"), D("1000000"), D("1000000")),
        ("1,000,000", D("1000000"), D("1000000"), D("1000000")),
        ("1 000 000", D("1000000"), D("1000000"), D("1000000")),
        ("1\u00a0000,5", D("1000.5"), D("1000.5"), D("1000.5")),
        # Signs and spaces around.
        ("-3", D("-3"), D("-3"), D("-3")),
        ("+7", D("7"), D("7"), D("7")),
        ("\u22122,5", D("-2.5"), D("-2.5"), D("-2.5")),
        ("  12 ", D("12"), D("12"), D("12")),
        ("\t-1.000\n", D("-1.000"), D("-1000"), D("-1000")),
    ],
)
def test_is_a_number_read_as_the_convention_in_force_says(text, point, comma, unknown):
    assert parse_number(text) == point  # the default: a decimal point
    assert parse_number(text, decimal_mark=".") == point
    assert parse_number(text, decimal_mark=",") == comma
    assert parse_number(text, decimal_mark=None) == unknown


@pytest.mark.parametrize("empty", ["", "   ", "\u00a0", None])
def test_is_an_empty_value_no_number(empty):
    assert parse_number(empty) is None
    assert parse_number(empty, decimal_mark=",") is None


@pytest.mark.parametrize(
    "garbage",
    [
        "abc", "1.2.3", "1,2,3", "1.23.456", "12,34,567", "1.234,5,6", "1,234.5.6", "5.", ",",
        ".", "-", "--3", "3-", "- 3", "1 2", "1e3", "1E3", "2e-2", "NaN", "Infinity", "inf",
        "0x10", "½", "١٢", "１２", "$100", "10%", "1_000", "12abc", "1.000,", "1..5", "1,,5",
        "1" * (MAX_NUMBER_TEXT + 1), "9" * 10_000, "1" + " " * 50 + "2",
    ],
)
def test_is_garbage_refused_whatever_the_convention(garbage):
    for mark in (".", ",", None):
        with pytest.raises(ValueError):
            parse_number(garbage, decimal_mark=mark)


def test_is_a_long_but_reasonable_number_read():
    text = "1.234.567.890.123,456789"  # 24 characters: a price of a trillion, six decimals
    assert parse_number(text) == D("1234567890123.456789")
    assert parse_number("1" * MAX_NUMBER_TEXT) == D("1" * MAX_NUMBER_TEXT)


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        (3, D("3")),
        (1.5, D("1.5")),
        (1.234, D("1.234")),  # a typed 1.234 is never one thousand two hundred
        (0.1, D("0.1")),
        (1e-05, D("0.00001")),
        (D("1250.50"), D("1250.50")),
        (NumberCell(D("1.234")), D("1.234")),
    ],
)
def test_is_a_spreadsheets_number_cell_taken_as_the_number_it_is(cell, number):
    for mark in (".", ",", None):
        assert parse_number(cell, decimal_mark=mark) == number


@pytest.mark.parametrize("cell", [True, False, float("nan"), float("inf"), D("NaN"), D("-Inf")])
def test_are_booleans_and_non_finite_cells_refused(cell):
    with pytest.raises(ValueError):
        parse_number(cell)


def test_is_a_number_cell_still_its_text():
    cell = NumberCell(D("0.00001"))
    assert cell == "0.00001" and cell.strip() == "0.00001" and cell.number == D("0.00001")


@pytest.mark.parametrize(
    ("values", "decimal_comma", "mark"),
    [
        (["1.000", "2,5"], False, ","),  # 2,5 shows a decimal comma: 1.000 is a thousand
        (["1.000", "2.5"], True, "."),  # 2.5 shows a point, even for a Spanish reader
        (["15.000", "1.200.000"], False, ","),  # dots group thousands
        (["15,000", "1,200,000"], True, "."),
        (["1.234,50"], False, ","),
        (["1,234.50"], True, "."),
        (["1.000", "250.000", "12"], True, None),  # nothing shows it: a Spanish reader's
        (["1.000", "250.000", "12"], False, "."),  # an English reader's
        (["1,5", "2.5"], True, None),  # as many each way: the reader's language
        (["1,5", "2.5"], False, "."),
        (["abc", "", "1e3"], True, None),  # garbage shows nothing
        ([NumberCell(D("1.5")), "1.000"], True, None),  # a typed cell shows nothing of text
        ([1.5, D("2.5"), None], False, "."),
    ],
)
def test_does_a_files_column_show_its_decimal_separator(values, decimal_comma, mark):
    assert decimal_mark_of(values, decimal_comma=decimal_comma) == mark


def test_does_a_column_read_the_same_text_the_same_way():
    """A Colombian price list: one value with a decimal comma settles every 'x.000'."""
    column = ["1.000", "12.500", "3.750,50", "980"]
    mark = decimal_mark_of(column, decimal_comma=False)
    assert [parse_number(v, decimal_mark=mark) for v in column] == [
        D("1000"), D("12500"), D("3750.50"), D("980")]
    english = ["1,000", "12,500", "3,750.50", "0.250"]
    mark = decimal_mark_of(english, decimal_comma=True)
    assert [parse_number(v, decimal_mark=mark) for v in english] == [
        D("1000"), D("12500"), D("3750.50"), D("0.250")]


# ------------------------------------------------------------------ the shared reader's edges


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1\u2009000", D("1000")),  # thin space
        ("1\u202f000\u202f000,25", D("1000000.25")),  # narrow no-break space
        ("12\u00a0345.5", D("12345.5")),
        ("-1 000", D("-1000")),
        ("\u22121 234 567", D("-1234567")),
    ],
)
def test_do_spaces_group_thousands(text, number):
    for mark in (".", ",", None):
        assert parse_number(text, decimal_mark=mark) == number


@pytest.mark.parametrize("text", ["1 00", "12 34", "1 0000", "1  000", "1 000.000,5", " 1 000 0"])
def test_are_misplaced_spaces_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "number"),
    [("-0", D("-0")), ("+0,5", D("0.5")), ("\u2212.5", D("-0.5")), ("-1.234,5", D("-1234.5"))],
)
def test_are_signs_read(text, number):
    found = parse_number(text)
    assert found == number and found.is_signed() == number.is_signed()


def test_is_the_length_counted_without_the_spaces_around():
    assert parse_number(" " * 50 + "7" + " " * 50) == D("7")
    grouped = "1.234.567.890.123.456.789.012.345.678,50"  # 39 characters
    assert parse_number(grouped) == D("1234567890123456789012345678.50")
    with pytest.raises(ValueError):
        parse_number("-" + "1" * MAX_NUMBER_TEXT)


@pytest.mark.parametrize("raw", [[1], (1,), {"a": 1}, b"12", object(), 1j])
def test_are_values_of_other_types_refused(raw):
    with pytest.raises(ValueError):
        parse_number(raw)


@pytest.mark.parametrize(
    ("raw", "number"),
    [(0, D("0")), (-12, D("-12")), (10**20, D(10**20)), (2.5, D("2.5")), (-0.1, D("-0.1")),
     (D("1E+3"), D("1000")), (D("-0.000"), D("-0.000"))],
)
def test_is_a_typed_number_the_same_in_every_reading(raw, number):
    for options in ({}, {"decimal_mark": None}, {"decimal_mark": ",", "fixed_mark": True},
                    {"fixed_mark": True, "thousands": False}):
        assert parse_number(raw, **options) == number


def test_is_a_wrong_decimal_mark_a_programming_error():
    with pytest.raises(TypeError):
        parse_number("1", decimal_mark=";")
    with pytest.raises(TypeError):
        parse_number("1", decimal_mark=None, fixed_mark=True)


@pytest.mark.parametrize(
    ("text", "point", "comma"),
    [
        # The mark in force is the only decimal separator; the other one groups thousands.
        ("1,234.5", D("1234.5"), ValueError),
        ("1.234,5", ValueError, D("1234.5")),
        ("1,234", D("1234"), D("1.234")),
        ("1.234", D("1.234"), D("1234")),
        ("1,234,567", D("1234567"), ValueError),
        ("1.234.567", ValueError, D("1234567")),
        ("1,5", ValueError, D("1.5")),
        ("1.5", D("1.5"), ValueError),
        ("1234,567", ValueError, D("1234.567")),
        ("0,500", ValueError, D("0.500")),  # a group of thousands does not start with 0
        ("1 234,5", ValueError, D("1234.5")),
        ("1 234.5", D("1234.5"), ValueError),
        (".5", D("0.5"), ValueError),
        (",5", ValueError, D("0.5")),
        ("-12", D("-12"), D("-12")),
        ("5.", ValueError, ValueError),
        ("5,", ValueError, ValueError),
        ("1.2.3", ValueError, ValueError),
        ("1e3", ValueError, ValueError),
    ],
)
def test_is_a_fixed_mark_the_only_decimal_separator(text, point, comma):
    for mark, expected in ((".", point), (",", comma)):
        if expected is ValueError:
            with pytest.raises(ValueError):
                parse_number(text, decimal_mark=mark, fixed_mark=True)
        else:
            assert parse_number(text, decimal_mark=mark, fixed_mark=True) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [("1234.50", D("1234.50")), ("-3", D("-3")), ("+0.5", D("0.5")), (".25", D("0.25")),
     ("1.000", D("1.000")), (" 12 ", D("12"))],
)
def test_does_a_point_only_reading_take_plain_decimals(text, number):
    assert parse_number(text, decimal_mark=".", fixed_mark=True, thousands=False) == number


@pytest.mark.parametrize(
    "text", ["1,234.50", "1.234,50", "1,5", "1,000", "1 000", "1.000.000", "1e3", "NaN", "5."],
)
def test_does_a_point_only_reading_refuse_separators_and_exponents(text):
    with pytest.raises(ValueError):
        parse_number(text, decimal_mark=".", fixed_mark=True, thousands=False)


def test_without_thousands_is_a_lone_separator_a_decimal_one():
    assert parse_number("1,000", decimal_mark=".", thousands=False) == D("1.000")
    assert parse_number("1.000", decimal_mark=None, thousands=False) == D("1.000")
    with pytest.raises(ValueError):
        parse_number("1.000,5", thousands=False)


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        ("1,5", ","), ("1.5", "."), ("1.234,5", ","), ("1,234.5", "."), ("1.000.000", ","),
        ("1,000,000", "."), ("0,500", ","), ("1234.567", "."), ("-2,25", ","),
        ("1 000,5", ","), ("1.000", None), ("1,000", None), ("12", None), ("", None),
        ("abc", None), ("1.2.3", None), ("1e3", None), ("1" * (MAX_NUMBER_TEXT + 1), None),
    ],
)
def test_does_a_value_show_its_decimal_separator(text, mark):
    assert shown_mark(text) == mark
