"""Money, dates and tax ids formatted with Babel for the user's locale."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import format_date, format_datetime, get_locale

MONEY_PATTERN = "¤\u00a0#,##0.00"


def money(amount: Decimal | int | str | None, currency: str = "COP") -> str:
    """Format an amount with its currency for the locale: '$ 1.785.000,00' in es-CO."""
    if amount is None:
        return ""
    locale = get_locale()
    locale_name = "es_CO" if locale is None or locale.language == "es" else str(locale)
    return format_currency(Decimal(amount), currency, format=MONEY_PATTERN, locale=locale_name,
                           currency_digits=False)


def date_filter(value: date | datetime | None, style: str = "medium") -> str:
    """Format a date for the locale."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, style)
    return format_date(value, style)
