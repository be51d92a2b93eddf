"""Is a number put in a form written as the person types it, and read back as the same number?

``input_number`` writes a value for a text input (no thousands groups, the language's decimal
symbol, never an exponent); ``input_decimal_mark`` is the mark ``parse_number`` reads it with.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import render_template_string
from flask_babel import refresh

from app import humanize
from app.numbers import parse_number
from app.web.formatting import input_decimal_mark

VALUES = [Decimal(text) for text in (
    "0", "-0", "0.00", "1", "1.5", "1.50", "-1.25", "100", "1E+2", "1000", "1000.000",
    "12500", "12500.00", "1234567.891", "0.000001", "0.5", "999999999999.99", "1.567",
    "1.000", "2.5E+3", "-12345.6",
)]


@pytest.mark.parametrize(("value", "es", "en"), [
    (Decimal("1.5"), "1,5", "1.5"),
    (Decimal("1.50"), "1,5", "1.5"),
    (Decimal("100"), "100", "100"),
    (Decimal("1E+2"), "100", "100"),
    (Decimal("12500.00"), "12500", "12500"),
    (Decimal("1234567.891"), "1234567,891", "1234567.891"),
    (Decimal("0.000001"), "0,000001", "0.000001"),
    (Decimal("-0.00"), "0", "0"),
    (Decimal("-1.25"), "-1,25", "-1.25"),
    (12500, "12500", "12500"),
    (None, "", ""),
])
def test_is_a_number_written_as_the_language_types_it(value, es, en):
    assert humanize.input_number(value, locale="es") == es
    assert humanize.input_number(value, locale="es_CO") == es
    assert humanize.input_number(value, locale="en") == en


@pytest.mark.parametrize(("locale", "mark"), [("es", ","), ("en", ".")])
def test_does_a_written_number_read_back_as_itself(locale, mark):
    for value in VALUES:
        written = humanize.input_number(value, locale=locale)
        assert "E" not in written and parse_number(written, decimal_mark=mark) == value, value


@pytest.mark.parametrize(("locale", "mark", "shown"), [("es", ",", "1,5"), ("en", ".", "1.5")])
def test_do_the_filter_and_the_mark_follow_the_request(app, locale, mark, shown):
    # (A constant is not folded into a cached template in the first reader's language:
    # tests/blueprints/test_order_numbers.py asks the shop in English, then in Spanish.)
    template = "{{ 1.5|input_number }} {{ x|input_number }}"
    with app.test_request_context(headers={"Accept-Language": locale}):
        refresh()  # the test's app context outlives each request: forget its language
        assert input_decimal_mark() == mark
        assert render_template_string(template, x=Decimal("1.50")) == f"{shown} {shown}"
