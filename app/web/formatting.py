"""The Jinja side of ``app.humanize``: filters that read the request's locale and the user's
time zone and hand them to the one formatter every page, PDF, e-mail and export uses.

Nothing is formatted here; each filter only supplies the locale (the request's, unless given)
and, for moments, the signed-in user's time zone (``User.timezone``, America/Bogota by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from babel.numbers import get_decimal_symbol
from flask import Flask, has_request_context
from flask_babel import get_locale
from flask_login import current_user
from jinja2 import pass_context

from app import humanize
from app.humanize import DEFAULT_TIMEZONE, MONEY_PATTERN

__all__ = [
    "MONEY_PATTERN", "NUMBER_INPUT", "date_filter", "decimal_comma", "input_decimal_mark",
    "input_number", "money", "register", "user_timezone",
]

#: A form field's ``render_kw`` for a number typed in the request's language (the value
#: written with ``input_number``, read with ``input_decimal_mark``): phones show a keypad
#: with the decimal separator.
NUMBER_INPUT = {"inputmode": "decimal"}


def _locale(locale: Locale | str | None) -> Locale | str | None:
    return locale if locale is not None else get_locale()


def user_timezone() -> str:
    """The signed-in user's time zone name, else America/Bogota."""
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return getattr(current_user, "timezone", None) or DEFAULT_TIMEZONE
    return DEFAULT_TIMEZONE


def decimal_comma() -> bool:
    """Whether the request's language writes a decimal comma (Spanish: 1.234,5), for reading
    the numbers of a file it uploads."""
    return get_decimal_symbol(get_locale() or "es") == ","


def input_decimal_mark() -> str:
    """The decimal separator of the request's language (``","`` or ``"."``), passed as
    ``decimal_mark`` to ``app.numbers.parse_number`` to read a number typed in a form: the one
    the ``input_number`` filter writes its values with, so a Spanish ``1.000`` is a thousand."""
    return "," if decimal_comma() else "."


def input_number(value: Any) -> str:
    """A number as the value of a text input, for the request's language to type over: '1,5'
    in Spanish, '1.5' in English, '12500' in both (read back with ``input_decimal_mark``)."""
    return humanize.input_number(value, locale=get_locale())


def money(amount: Any, currency: str | None = "COP", *, locale: Locale | None = None) -> str:
    """'$ 1.785.000,00' for the request's locale (a list formatting many passes it once read)."""
    return humanize.money(amount, currency, locale=locale if locale is not None else get_locale())


def date_filter(value: Any, style: str = "medium", *, locale: Locale | None = None) -> str:
    """A calendar day as is, or a moment with its time in the user's time zone."""
    if isinstance(value, datetime):
        return humanize.datetime(value, style, locale=_locale(locale), tz=user_timezone())
    return humanize.date(value, style, locale=locale if locale is not None else get_locale())


def day_filter(value: Any, style: str = "medium") -> str:
    """The calendar day only, of a day or of a moment in the user's time zone."""
    return humanize.date(value, style, locale=get_locale(), tz=user_timezone())


def time_filter(value: Any, style: str = "short") -> str:
    return humanize.time(value, style, locale=get_locale(), tz=user_timezone())


@pass_context
def _input_number_filter(_context: Any, value: Any) -> str:
    # pass_context: Jinja would otherwise fold `1250.5|input_number` into the template when it
    # is compiled, in the language of whoever asked first.
    return input_number(value)


def _with_locale(function):
    def filter_(value, *args, **kwargs):
        return function(value, *args, locale=get_locale(), **kwargs)

    filter_.__name__ = function.__name__
    filter_.__doc__ = function.__doc__
    return filter_


def register(app: Flask) -> None:
    """Install the filters (and ``humanize_*`` globals) in the app's Jinja environment."""
    filters = app.jinja_env.filters
    filters["money"] = money
    filters["date"] = date_filter
    filters["day"] = day_filter
    filters["time"] = time_filter
    filters["input_number"] = _input_number_filter
    for name in (
        "number",
        "percent",
        "quantity",
        "unit_name",
        "tax_id",
        "tax_id_number",
        "payment_means",
        "payment_form",
        "tax_scheme",
        "responsibility",
        "responsibilities",
        "person_type",
        "id_type",
        "action_label",
        "party_tax_id",
        "document_type",
        "payment_status",
        "payment_state",
        "payment_method",
        "currency",
        "file_size",
    ):
        function = getattr(humanize, name)
        if name in ("tax_id", "tax_id_number"):
            filters[name] = function  # no locale: a tax id reads the same in every language
        else:
            filters[name] = _with_locale(function)
    app.jinja_env.globals["audit_sentence"] = _with_locale(humanize.audit_sentence)
    app.jinja_env.globals["document_name"] = _with_locale(humanize.document_name)
