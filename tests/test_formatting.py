"""Are money and calendar days printed exactly as Babel prints them, for every locale we serve?

app.web.formatting formats through patterns and symbols it keeps per locale; these tests hold
its output to Babel's format_currency/format_date, byte for byte, over many values.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from app.web.formatting import MONEY_PATTERN, date_filter, money

AMOUNTS = [
    Decimal(text)
    for text in (
        "0",
        "-0",
        "0.00",
        "0.001",
        "-0.001",
        "0.004",
        "0.005",
        "-0.005",
        "0.015",
        "0.025",
        "0.0050",
        "1.005",
        "2.675",
        "-2.675",
        "0.995",
        "-0.995",
        "9.995",
        "999.995",
        "999999.995",
        "1",
        "-1",
        "12.5",
        "-12.5",
        "1.50",
        "100",
        "999",
        "1000",
        "-1000",
        "1234.56",
        "1785000",
        "-1785000",
        "12345678.9",
        "999999999999.99",
        "123456789012345678.12",
        "-98765432109876543.215",
        "1E+3",
        "1.2E+7",
        "5E-3",
        "7E-9",
        "0.1234567890123456789",
    )
] + [Decimal(n) / 7 for n in range(-2000, 2000, 37)]


@pytest.mark.parametrize("locale_name", ["es_CO", "en"])
@pytest.mark.parametrize("currency", ["COP", "USD", "EUR"])
def test_is_money_printed_as_babel_prints_it(locale_name, currency):
    locale = Locale.parse(locale_name)
    for amount in AMOUNTS:
        expected = format_currency(
            amount, currency, format=MONEY_PATTERN, locale=locale, currency_digits=False
        )
        assert money(amount, currency, locale=locale) == expected, amount


def test_are_ints_and_strings_printed_as_their_decimals():
    locale = Locale.parse("es_CO")
    assert money(1785000, locale=locale) == money(Decimal("1785000"), locale=locale)
    assert money("-0.005", "USD", locale=locale) == "-US$\u00a00,00"
    assert money(None) == ""


DAYS = [date(2024, 1, 1) + timedelta(days=n) for n in range(0, 800, 3)] + [
    date(1, 1, 1),
    date(999, 12, 31),
    date(2000, 2, 29),
    date(9999, 12, 31),
]


@pytest.mark.parametrize("locale_name", ["es_CO", "es", "en"])
@pytest.mark.parametrize(
    "style", ["short", "medium", "long", "full", "dd/MM/yyyy", "yy-M-d", "EEE d MMM", "QQQ y"]
)
def test_is_a_calendar_day_printed_as_babel_prints_it(locale_name, style):
    locale = Locale.parse(locale_name)
    for day in DAYS:
        assert date_filter(day, style, locale=locale) == format_date(day, style, locale=locale)
