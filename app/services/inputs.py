"""Checks of what users type that several services share: e-mail addresses and tax ids; and
the numbers their messages quote, written as the reader's language writes them."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from app import humanize
from app.services.errors import DomainError
from app.taxids import TaxIdError, compact_tax_id

TAX_ID_MESSAGES = {
    "checksum": _l("The check digit of this tax id is wrong. Please check the number."),
    "length": _l("This tax id has the wrong number of digits."),
    "format": _l("This is not a valid tax id for the chosen country."),
    "country": _l("Choose Colombia, Chile or Mexico."),
}


def normalize_email(value: str, *, field: str = "email") -> str:
    """Return the e-mail address as it is stored, or raise DomainError if it is not one."""
    try:
        return validate_email(
            value.strip(),
            check_deliverability=False,
            # Development and tests use reserved domains such as demo.test.
            test_environment=current_app.config["EMAIL_ALLOW_TEST_DOMAINS"],
        ).normalized.lower()
    except EmailNotValidError:
        raise DomainError(_l("Enter a valid e-mail address."), field=field) from None


def validate_tax_id(country: str, value: str, *, field: str = "tax_id") -> str:
    """Return the compact tax id or raise DomainError with a message naming what is wrong."""
    try:
        return compact_tax_id(country, value)
    except TaxIdError as error:
        raise DomainError(TAX_ID_MESSAGES[error.reason], field=field) from None


def shown_number(value: Any) -> LazyString:
    """A number for a message, written as the reader's language writes it when it is shown."""
    return LazyString(lambda: humanize.number(value, locale=get_locale()))
