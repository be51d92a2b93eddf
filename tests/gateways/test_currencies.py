"""Does every amount cross to a gateway's integer and back without a cent gained or lost?"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.gateways import currencies
from app.gateways.currencies import CurrencyError, from_minor, normalize, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("1500000.50"), "COP", 150000050),
        (Decimal("1500000"), "COP", 150000000),
        (Decimal("1000"), "CLP", 1000),
        (Decimal("1000.00"), "CLP", 1000),
        (Decimal("1E+3"), "CLP", 1000),
        (Decimal("249.99"), "MXN", 24999),
        (Decimal("12.34"), "USD", 1234),
        (Decimal("12.340"), "USD", 1234),
        (Decimal("0.01"), "EUR", 1),
        (Decimal("19.9"), "EUR", 1990),
    ],
)
def test_does_an_amount_become_the_integer_stripe_expects(amount, currency, minor):
    assert to_minor(amount, currency, gateway="stripe") == minor
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (150000050, "COP", "1500000.50"),
        (1000, "CLP", "1000"),
        (24999, "MXN", "249.99"),
        (1234, "USD", "12.34"),
        (1, "EUR", "0.01"),
        (-2000, "USD", "-20.00"),
    ],
)
def test_does_a_gateway_integer_come_back_as_the_same_amount(minor, currency, amount):
    value = from_minor(minor, currency, gateway="stripe")
    assert value == Decimal(amount)
    # the currency's own decimals, so it prints as people write it
    assert str(value) == amount


def test_is_a_lower_case_code_as_stripe_sends_it_understood():
    assert from_minor(1234, "usd", gateway="stripe") == Decimal("12.34")
    assert to_minor(Decimal("1000"), "clp", gateway="stripe") == 1000


def test_are_pesos_chilenos_without_decimals():
    assert currencies.decimals("CLP", "stripe") == 0
    assert currencies.quantum("CLP") == Decimal("1")
    with pytest.raises(CurrencyError, match="more decimals than CLP"):
        to_minor(Decimal("10.5"), "CLP", gateway="stripe")
    with pytest.raises(CurrencyError):
        normalize(Decimal("0.4"), "CLP")


def test_is_a_fraction_of_a_cent_refused_instead_of_rounded():
    with pytest.raises(CurrencyError):
        to_minor(Decimal("12.345"), "USD", gateway="stripe")
    with pytest.raises(CurrencyError):
        to_minor(Decimal("1500000.005"), "COP", gateway="stripe")


@pytest.mark.parametrize("currency", ["XYZ", "", None, "US D"])
def test_is_an_unknown_currency_refused(currency):
    with pytest.raises(CurrencyError, match="unsupported currency"):
        to_minor(Decimal("1"), currency, gateway="stripe")
    with pytest.raises(CurrencyError, match="unsupported currency"):
        from_minor(100, currency, gateway="stripe")


@pytest.mark.parametrize(
    "amount", [12.34, 10.0, float("nan"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), 5]
)
def test_are_floats_nan_and_plain_numbers_refused_as_amounts(amount):
    with pytest.raises(CurrencyError, match="finite Decimal"):
        to_minor(amount, "USD", gateway="stripe")


@pytest.mark.parametrize("value", [12.0, Decimal("1234"), "1234", True, None, float("nan")])
def test_is_anything_but_an_integer_refused_as_a_gateway_amount(value):
    with pytest.raises(CurrencyError, match="must be an integer"):
        from_minor(value, "USD", gateway="stripe")


def test_is_an_amount_too_large_for_decimal_refused_with_a_currency_error():
    """A huge amount once escaped as decimal.InvalidOperation, which no caller catches."""
    with pytest.raises(CurrencyError, match="too large"):
        to_minor(Decimal("1E+30"), "USD", gateway="stripe")
    with pytest.raises(CurrencyError, match="too large"):
        from_minor(10**30, "USD", gateway="stripe")


def test_does_a_gateway_counting_more_decimals_than_iso_never_round(monkeypatch):
    """Some gateways count a currency in hundredths it has no coin for (Adyen's ISK).

    A gateway integer that is not a whole unit of such a currency used to be rounded to the
    nearest unit silently; it must be refused.
    """
    monkeypatch.setitem(currencies.GATEWAY_DECIMALS, "centesimal", {"CLP": 2})
    assert to_minor(Decimal("1000"), "CLP", gateway="centesimal") == 100000
    assert from_minor(100000, "CLP", gateway="centesimal") == Decimal("1000")
    with pytest.raises(CurrencyError):
        from_minor(100050, "CLP", gateway="centesimal")


def test_does_a_gateway_counting_fewer_decimals_than_iso_never_truncate(monkeypatch):
    """Cents a gateway cannot carry used to be dropped by int(); they must be refused."""
    monkeypatch.setitem(currencies.GATEWAY_DECIMALS, "whole", {"USD": 0})
    assert to_minor(Decimal("10.00"), "USD", gateway="whole") == 10
    with pytest.raises(CurrencyError):
        to_minor(Decimal("10.50"), "USD", gateway="whole")
    assert from_minor(10, "USD", gateway="whole") == Decimal("10.00")


def test_does_an_unknown_gateway_follow_iso_4217():
    assert to_minor(Decimal("12.34"), "USD", gateway="nobody") == 1234
    assert from_minor(1000, "CLP", gateway="nobody") == Decimal("1000")
