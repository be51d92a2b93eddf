"""Money, dates and tax ids formatted with Babel for the user's locale.

Only what is constant in a process is cached: the parsed Babel locale, and per (locale,
currency) or (locale, style) the pieces a pattern needs (symbols, separators, month and day
names). Each value is formatted afresh through them; the output is Babel's own, byte for byte
(tests/test_formatting.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import get_date_format, tokenize_pattern
from babel.numbers import get_currency_symbol, parse_pattern
from flask_babel import format_datetime, get_locale

MONEY_PATTERN = "¤\u00a0#,##0.00"
_MONEY = parse_pattern(MONEY_PATTERN)
_CENT = Decimal("0.01")
_DATE_STYLES = ("full", "long", "medium", "short")


@lru_cache(maxsize=16)
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=256)
def _money_parts(locale_name: str, currency: str) -> tuple[str, str, dict[int, str]]:
    """The positive and negative prefixes and the separators' translation table of MONEY_PATTERN.

    The pattern's own: no suffix, groups of three, two decimals (its precision, not the
    currency's), a negative number shown as '-' before the positive prefix.
    """
    locale = _babel_locale(locale_name)
    symbol = get_currency_symbol(currency, locale)
    symbols = locale.number_symbols["latn"]
    separators = str.maketrans({",": symbols["group"], ".": symbols["decimal"]})
    positive, negative = (prefix.replace("¤", symbol) for prefix in _MONEY.prefix)
    return positive, negative, separators


assert _MONEY.suffix == ("", "") and _MONEY.grouping == (3, 3) and _MONEY.frac_prec == (2, 2)


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
    value = Decimal(amount)
    if not value.is_finite():
        return _MONEY.apply(
            value, _babel_locale(locale_name), currency=currency, currency_digits=False
        )
    positive, negative, separators = _money_parts(locale_name, currency)
    # As Babel's NumberPattern.apply: the sign of the value as given, its absolute value
    # normalized and rounded half-even to the pattern's two decimals, grouped by threes.
    number = format(abs(value).normalize().quantize(_CENT), ",f").translate(separators)
    return (negative if value.is_signed() else positive) + number


def _field(char: str, width: int) -> str | None:
    """One pattern field as a str.format field over (day, abbreviated month name, wide month
    name, wide weekday name, year % 100), or None if not handled here."""
    if char == "d" and width <= 2:
        return f"{{0.day:0{width}d}}"
    if char == "M" and width <= 2:
        return f"{{0.month:0{width}d}}"
    if char == "M" and width in (3, 4):
        return "{1}" if width == 3 else "{2}"
    if char == "E" and width == 4:
        return "{3}"
    if char == "y":
        return "{4:02d}" if width == 2 else f"{{0.year:0{width}d}}"
    return None


@lru_cache(maxsize=64)
def _day_formatter(locale: Locale, style: str) -> Callable[[date], str]:
    """A calendar day's formatter for the locale's named style or a pattern, built once.

    The fields days use (day, month, year, weekday) become one str.format template and the
    locale's month and weekday names; a pattern with any other field is left to Babel.
    """
    pattern = get_date_format(style, locale) if style in _DATE_STYLES else None
    template = []
    for kind, token in tokenize_pattern(pattern.pattern if pattern is not None else style):
        field = token.replace("{", "{{").replace("}", "}}") if kind == "chars" else _field(*token)
        if field is None:
            return lambda day: babel_format_date(day, style, locale=locale)
        template.append(field)
    render = "".join(template).format
    months = locale.months["format"]
    short, long = (dict(months[width].items()) for width in ("abbreviated", "wide"))
    weekdays = dict(locale.days["format"]["wide"].items())
    return lambda day: render(
        day, short[day.month], long[day.month], weekdays[day.weekday()], day.year % 100
    )


def date_filter(
    value: date | datetime | None, style: str = "medium", *, locale: Locale | None = None
) -> str:
    """Format a date for the locale (default: the request's)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, style)
    locale = locale or get_locale()
    if locale is None:  # outside a request: Babel's default locale
        return babel_format_date(value, style)
    # A calendar day is not rebased to a timezone.
    return _day_formatter(locale, style)(value)
