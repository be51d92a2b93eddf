"""Money, dates and tax ids formatted with Babel for the user's locale."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import parse_pattern
from flask_babel import format_datetime, get_locale

MONEY_PATTERN = "¤\u00a0#,##0.00"
# Parsed once: Babel's format_currency parses the pattern again on every call (a list page
# formats a hundred amounts).
_MONEY = parse_pattern(MONEY_PATTERN)


@lru_cache(maxsize=16)
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def money(
    amount: Decimal | int | str | None, currency: str = "COP", *, locale: Locale | None = None
) -> str:
    """Format an amount with its currency for the locale: '$ 1.785.000,00' in es-CO.

    locale defaults to the request's (a list formatting many amounts passes it once read).
    """
    if amount is None:
        return ""
    locale = locale or get_locale()
    locale_name = "es_CO" if locale is None or locale.language == "es" else str(locale)
    return _format_money(Decimal(amount), currency, locale_name)


@lru_cache(maxsize=8192)
def _format_money(amount: Decimal, currency: str, locale_name: str) -> str:
    # Kept: a tray rendered again after one change formats the same forty-nine amounts.
    # (Decimal("1.5") == Decimal("1.50") share an entry: both print with two decimals.)
    return _MONEY.apply(amount, _babel_locale(locale_name), currency=currency,
                        currency_digits=False)


@lru_cache(maxsize=8192)
def _format_day(value: date, style: str, locale: Locale | None) -> str:
    return babel_format_date(value, style, locale=locale)


def date_filter(
    value: date | datetime | None, style: str = "medium", *, locale: Locale | None = None
) -> str:
    """Format a date for the locale (default: the request's)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, style)
    # A calendar day is not rebased to a timezone; the same few hundred days fill a list page.
    return _format_day(value, style, locale or get_locale())
