"""Every value as a person reads it: money, numbers, percentages, quantities with their unit,
dates and times in the reader's time zone, tax ids with their scheme, DIAN codes by name.

One module for the web pages (through the thin Jinja adapter ``app.web.formatting``), the PDF
(``app.einvoice.render``), the e-mails and the exports. It knows nothing of Flask: the locale
and the time zone are explicit arguments (a Babel ``Locale``, or a name such as ``"es"``,
``"es_CO"`` or ``"en"``; an IANA zone name such as ``"America/Bogota"``).

Nothing here raises on a value it cannot read: ``None`` is ``""``, and a code or value it does
not know is shown as given, so a page never breaks over one odd field.

Money and calendar days: only what is constant in a process is cached — the parsed Babel
locale, and per (locale, currency) or (locale, style) the pieces a pattern needs (symbols,
separators, month and day names). Each value is formatted afresh through them; the output is
Babel's own, byte for byte (tests/test_formatting.py compares them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.dates import get_date_format, tokenize_pattern
from babel.numbers import (
    format_decimal,
    format_percent,
    get_currency_name,
    get_currency_symbol,
    get_decimal_symbol,
    parse_pattern,
)
from stdnum.exceptions import InvalidChecksum

from app.einvoice import codelists

DEFAULT_TIMEZONE = "America/Bogota"
MONEY_PATTERN = "¤\u00a0#,##0.00"
_MONEY = parse_pattern(MONEY_PATTERN)
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_DATE_STYLES = ("full", "long", "medium", "short")

assert _MONEY.suffix == ("", "") and _MONEY.grouping == (3, 3) and _MONEY.frac_prec == (2, 2)

LocaleLike = Locale | str | None


# ------------------------------------------------------------------------------ locales


@lru_cache(maxsize=32)
def _parse_locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse("es_CO" if name.lower().startswith("es") else "en")


def as_locale(locale: LocaleLike) -> Locale:
    """The Babel locale for a Locale or a name; nothing or an unknown name → Spanish."""
    if isinstance(locale, Locale):
        return locale
    return _parse_locale(str(locale or "es"))


def number_locale(locale: LocaleLike) -> Locale:
    """The locale numbers are written in: Spanish alone means Colombian ('1.785.000,00')."""
    locale = as_locale(locale)
    return _parse_locale("es_CO") if locale.language == "es" and not locale.territory else locale


def language(locale: LocaleLike) -> str:
    """'es' or 'en': the language of the code-name tables."""
    return "es" if as_locale(locale).language == "es" else "en"


def _decimal(value: Any) -> Decimal | None:
    """A Decimal for a number given as Decimal, int, float or text; None when it is none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip()) if isinstance(value, (float, str)) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------ money


@lru_cache(maxsize=256)
def _money_parts(locale_name: str, currency: str | None) -> tuple[str, str, dict[int, str]]:
    """The positive and negative prefixes and the separators' translation table of MONEY_PATTERN.

    The pattern's own: no suffix, groups of three, two decimals (its precision, not the
    currency's), a negative number shown as '-' before the positive prefix.
    """
    locale = _parse_locale(locale_name)
    symbol = get_currency_symbol((currency or "COP").upper(), locale)
    symbols = locale.number_symbols["latn"]
    separators = str.maketrans({",": symbols["group"], ".": symbols["decimal"]})
    positive, negative = (prefix.replace("¤", symbol) for prefix in _MONEY.prefix)
    return positive, negative, separators


def money(amount: Any, currency: str | None = "COP", *, locale: LocaleLike = None) -> str:
    """An amount with its currency for the locale: '$ 1.785.000,00' in Spanish for COP.

    None → ''; a value that is not a number is shown as given.
    """
    if amount is None:
        return ""
    value = amount if type(amount) is Decimal else _decimal(amount)
    if value is None:
        return str(amount)
    locale = locale if type(locale) is Locale else as_locale(locale)
    locale_name = "es_CO" if locale.language == "es" else str(locale)
    if not value.is_finite():
        return _MONEY.apply(
            value,
            _parse_locale(locale_name),
            currency=(currency or "COP").upper(),
            currency_digits=False,
        )
    positive, negative, separators = _money_parts(locale_name, currency)
    # As Babel's NumberPattern.apply: the sign of the value as given, its absolute value
    # normalized and rounded half-even to the pattern's two decimals, grouped by threes.
    try:
        number = format(abs(value).normalize().quantize(_CENT), ",f").translate(separators)
    except InvalidOperation:  # more digits than the default context holds
        number = _wide(value, _CENT, ",f").translate(separators)
    return (negative if value.is_signed() else positive) + number


#: Digits above which a number is written in scientific notation rather than in full.
_MAX_DIGITS = 60


def _wide(value: Decimal, exponent: Decimal, spec: str) -> str:
    """The absolute value of a number with more digits than the default context holds,
    rounded; beyond _MAX_DIGITS written as Python writes it ('1E+400'), not a page of zeros."""
    if value.adjusted() > _MAX_DIGITS:
        return str(value.copy_abs())
    with localcontext() as context:
        context.prec = _MAX_DIGITS + 10
        return format(value.copy_abs().normalize().quantize(exponent), spec)


# ------------------------------------------------------------------------------ numbers


def number(value: Any, *, locale: LocaleLike = None, max_decimals: int = 6) -> str:
    """A number with the locale's separators and only the decimals it has: '1.234,5'."""
    found = _decimal(value)
    if found is None:
        return "" if value is None else str(value)
    if not found.is_finite():
        return str(value)
    if abs(found.adjusted()) > _MAX_DIGITS:
        return str(found) if found.adjusted() > 0 else "0"
    with localcontext() as context:
        context.prec = _MAX_DIGITS + 10
        if found == found.to_integral_value():
            found = found.quantize(Decimal(1))
        else:
            found = found.quantize(Decimal(1).scaleb(-max_decimals)).normalize()
        if found.is_zero():
            found = Decimal(0)
        return format_decimal(found, locale=number_locale(locale), decimal_quantization=False)


def input_number(value: Any, *, locale: LocaleLike = None) -> str:
    """A number to put in a text input as a person of the locale types it: no thousands
    groups, the locale's decimal symbol, only the decimals it has, never an exponent ('1,5' in
    Spanish, '1.5' in English, '12500' in both); what ``app.numbers.parse_number`` reads back
    with that locale's decimal mark."""
    found = _decimal(value)
    if found is None:
        return "" if value is None else str(value)
    if not found.is_finite():
        return str(value)
    if found.is_zero():
        return "0"
    if abs(found.adjusted()) > _MAX_DIGITS:
        return str(found)  # no field holds such a number: as Python writes it, not a page of 0s
    with localcontext() as context:
        context.prec = _MAX_DIGITS + 10
        text = format(found.normalize(), "f")  # 'f' writes 1E+2 as 100
    return text.replace(".", get_decimal_symbol(number_locale(locale)))


def percent(value: Any, *, locale: LocaleLike = None) -> str:
    """A rate given in percent (19.00 means 19 %) as the locale writes it: '19 %' or '19%'."""
    found = _decimal(value)
    if found is None:
        return "" if value is None else str(value)
    if not found.is_finite():
        return str(value)
    if abs(found.adjusted()) > _MAX_DIGITS:
        return f"{found if found.adjusted() > 0 else 0} %".replace(" %", "%")
    with localcontext() as context:
        context.prec = _MAX_DIGITS + 10
        # At most six decimals of a percent (0.375 % stays; 1E-30 % is 0 %).
        fraction = (found.quantize(Decimal("0.000001")) / _HUNDRED).normalize()
        if fraction.is_zero():
            fraction = Decimal(0)
        elif fraction == fraction.to_integral_value():
            fraction = fraction.quantize(Decimal(1))
        return format_percent(fraction, locale=number_locale(locale), decimal_quantization=False)


def file_size(size: Any, *, locale: LocaleLike = None) -> str:
    """A file's size for a person: '834 bytes', '12,3 KB', '4,5 MB'."""
    found = _decimal(size)
    if found is None or not found.is_finite():
        return "" if size is None else str(size)
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if abs(found) >= scale:
            shown = (found / scale).quantize(Decimal("0.1"))
            return f"{number(shown, locale=locale)} {unit}"
    return f"{number(found, locale=locale)} bytes"


# ------------------------------------------------------------------------------ code lists


def _named(table: Mapping[str, Mapping[str, str]], code: Any, locale: LocaleLike) -> str:
    if code is None:
        return ""
    key = str(code).strip()
    names = table.get(key) or table.get(key.upper())
    return names[language(locale)] if names else key


def unit_name(code: Any, *, locale: LocaleLike = None, plural: bool = False) -> str:
    """The name of a UN/ECE (DIAN) unit code: '94' → 'unidad'; unknown → the code."""
    if code is None:
        return ""
    key = str(code).strip()
    names = codelists.UNITS.get(key) or codelists.UNITS.get(key.upper())
    if names is None:
        return key
    singular, plural_name = names[language(locale)]
    return plural_name if plural else singular


def quantity(value: Any, unit_code: Any = None, *, locale: LocaleLike = None) -> str:
    """A quantity with its unit by name: '40 unidades', '1 kilogramo', '2,5 hours'."""
    text = number(value, locale=locale)
    found = _decimal(value)
    plural = found is None or abs(found) != 1
    unit = unit_name(unit_code, locale=locale, plural=plural) if unit_code else ""
    return f"{text} {unit}".strip()


def payment_means(code: Any, *, locale: LocaleLike = None) -> str:
    """DIAN's payment means by name: '10' → 'Efectivo' / 'Cash'; unknown → the code."""
    return _named(codelists.PAYMENT_MEANS, code, locale)


def payment_form(code: Any, *, locale: LocaleLike = None) -> str:
    """DIAN's payment form: '1' → 'Contado' / 'Cash', '2' → 'Crédito' / 'Credit'."""
    return _named(codelists.PAYMENT_FORMS, code, locale)


def tax_scheme(code: Any, name: str = "", *, locale: LocaleLike = None) -> str:
    """A DIAN tribute by name: '01' → 'IVA', '06' → 'ReteRenta'; an unknown code → the name
    the document gives it, else the code."""
    if code is None or str(code).strip() not in codelists.TAX_SCHEMES:
        return str(name or code or "").strip()
    return _named(codelists.TAX_SCHEMES, code, locale)


def responsibility(code: Any, *, locale: LocaleLike = None) -> str:
    """A fiscal responsibility by name: 'O-13' → 'Gran contribuyente'; unknown → the code."""
    return _named(codelists.RESPONSIBILITY_NAMES, code, locale)


def responsibilities(codes: Any, *, locale: LocaleLike = None) -> str:
    """Several responsibilities ('O-13;O-15' or a list) by name, joined by commas."""
    if not codes:
        return ""
    if isinstance(codes, str):
        codes = codes.replace(",", ";").split(";")
    return ", ".join(responsibility(c, locale=locale) for c in codes if str(c).strip())


def person_type(code: Any, *, locale: LocaleLike = None) -> str:
    """DIAN's organisation type: '1' → 'Persona jurídica' / 'Legal entity'."""
    return _named(codelists.PERSON_TYPE_NAMES, code, locale)


def id_type(code: Any, *, locale: LocaleLike = None) -> str:
    """DIAN's identity document type: '31' → 'NIT', '13' → 'C.C.' / 'ID card'."""
    return _named(codelists.ID_TYPES, code, locale)


_DOCUMENT_TYPES = {
    "Invoice": {"es": "Factura", "en": "Invoice"},
    "CreditNote": {"es": "Nota crédito", "en": "Credit note"},
    "DebitNote": {"es": "Nota débito", "en": "Debit note"},
}
_PAYMENT_STATUSES = {
    "unpaid": {"es": "sin pagar", "en": "unpaid"},
    "partially_paid": {"es": "pagada parcialmente", "en": "partially paid"},
    "paid": {"es": "pagada", "en": "paid"},
    "refunded": {"es": "reembolsada", "en": "refunded"},
}


_PAYMENT_STATES = {
    "created": {"es": "iniciado", "en": "started"},
    "pending": {"es": "en proceso", "en": "processing"},
    "awaiting_confirmation": {"es": "por confirmar", "en": "awaiting confirmation"},
    "succeeded": {"es": "pagado", "en": "paid"},
    "failed": {"es": "fallido", "en": "failed"},
    "canceled": {"es": "cancelado", "en": "canceled"},
    "needs_review": {"es": "por revisar", "en": "needs review"},
    "partially_refunded": {"es": "reembolsado en parte", "en": "partially refunded"},
    "refunded": {"es": "reembolsado", "en": "refunded"},
    "disputed": {"es": "en disputa", "en": "disputed"},
    "reversed": {"es": "anulado", "en": "reversed"},
}
_PAYMENT_METHODS = {
    "sandbox": {"es": "Pasarela de pruebas", "en": "Sandbox gateway"},
    "stripe": {"es": "Stripe", "en": "Stripe"},
    "wompi": {"es": "Wompi", "en": "Wompi"},
    "transfer": {"es": "Transferencia bancaria", "en": "Bank transfer"},
    "bank": {"es": "Movimiento bancario", "en": "Bank statement"},
}


def document_type(kind: Any, *, locale: LocaleLike = None) -> str:
    """A document's type by name: 'Invoice' → 'Factura' / 'Invoice', 'CreditNote' → …"""
    return _named(_DOCUMENT_TYPES, kind, locale)


def payment_status(status: Any, *, locale: LocaleLike = None) -> str:
    """How much of a document is paid: 'unpaid' → 'sin pagar', 'partial', 'paid'."""
    return _named(_PAYMENT_STATUSES, status, locale)


def payment_state(status: Any, *, locale: LocaleLike = None) -> str:
    """A payment's status by name: 'awaiting_confirmation' → 'por confirmar'; unknown → as is."""
    return _named(_PAYMENT_STATES, status, locale)


def payment_method(method: Any, *, locale: LocaleLike = None) -> str:
    """How a payment was made: 'transfer' → 'Transferencia bancaria'; unknown → as is."""
    return _named(_PAYMENT_METHODS, method, locale)


# ------------------------------------------------------------------------------ tax ids

#: The name of the tax id people use in each country, for the countries stdnum formats.
TAX_ID_SCHEMES = {
    "CO": "NIT", "CL": "RUT", "MX": "RFC", "EC": "RUC", "PE": "RUC", "AR": "CUIT",
    "BR": "CNPJ", "UY": "RUT", "PY": "RUC", "VE": "RIF", "BO": "NIT", "CR": "Cédula jurídica",
    "GT": "NIT", "DO": "RNC", "ES": "NIF", "US": "EIN", "DE": "USt-IdNr.", "FR": "TVA",
    "IT": "P.IVA", "PT": "NIF", "GB": "VAT",
}  # fmt: skip
#: The stdnum module that formats each country's tax id (by its name in stdnum).
_STDNUM = {
    "CO": "nit", "CL": "rut", "MX": "rfc", "EC": "ruc", "PE": "ruc", "AR": "cuit",
    "BR": "cnpj", "UY": "rut", "PY": "ruc", "VE": "rif", "GT": "nit", "DO": "rnc",
    "CR": "cpj", "ES": "nif", "US": "ein", "DE": "vat", "FR": "tva", "IT": "iva",
    "PT": "nif", "GB": "vat",
}  # fmt: skip


@lru_cache(maxsize=64)
def _stdnum_module(country: str) -> Any:
    name = _STDNUM.get(country)
    if name is None:
        return None
    try:
        from importlib import import_module

        return import_module(f"stdnum.{country.lower()}.{name}")
    except ImportError:
        return None


def tax_id_number(value: Any, country: Any = "CO") -> str:
    """A tax id written the way people in its country write it: '901.234.567-7'.

    A value stdnum cannot read for that country, or an unknown country, is shown as given.
    """
    if value is None:
        return ""
    text = str(value).strip()
    module = _stdnum_module(str(country or "").strip().upper())
    if module is None or not text:
        return text
    try:
        module.validate(text)
    except InvalidChecksum:
        pass  # well formed, a wrong check digit: still written as its country writes it
    except Exception:  # noqa: BLE001 - stdnum raises many kinds on odd input; show it as given
        return text
    try:
        return module.format(text)
    except Exception:  # noqa: BLE001
        return text


def tax_id(
    value: Any, country: Any = "CO", *, scheme: str | None = None, check_digit: str = ""
) -> str:
    """A tax id with its scheme's name: 'NIT 901.234.567-7'; unknown country → as given.

    check_digit: a NIT written without its digit (as a DIAN document does) gets it back.
    """
    if value is None or not str(value).strip():
        return ""
    country = str(country or "").strip().upper()
    text = str(value).strip()
    if check_digit and country == "CO" and "-" not in text:
        text = f"{text}{str(check_digit).strip()}"
    number_text = tax_id_number(text, country)
    name = scheme if scheme is not None else TAX_ID_SCHEMES.get(country, "")
    return f"{name} {number_text}".strip()


def party_tax_id(party: Any, *, locale: LocaleLike = None, country: str = "") -> str:
    """A document party's id as people write it: 'NIT 901.234.567-7', 'C.C. 1.020.304'.

    party is an ``app.einvoice.model.Party``: its DIAN id type names the scheme (31 NIT, 13
    C.C., …), its address the country (else ``country``, else Colombia); a NIT written without
    its check digit gets the document's digit back.
    """
    if party is None:
        return ""
    number_text = getattr(party, "tax_id", "") or getattr(party, "vat_id", "") or ""
    number_text = number_text or getattr(party, "legal_id", "") or ""
    if not number_text:
        return ""
    address = getattr(party, "address", None)
    found = (getattr(address, "country", "") or country or "CO").upper()
    scheme_code = getattr(party, "id_scheme", "") or ""
    digit = getattr(party, "check_digit", "") if number_text == party.tax_id else ""
    if scheme_code in ("31", "") and found == "CO":
        return tax_id(number_text, "CO", check_digit=digit)
    if scheme_code and scheme_code in codelists.ID_TYPES:
        shown = number_text if scheme_code != "13" else number(number_text, locale="es_CO")
        if not number_text.isdigit():
            shown = number_text
        return f"{id_type(scheme_code, locale=locale)} {shown}"
    return tax_id(number_text, found, check_digit=digit)


def currency(code: Any, *, locale: LocaleLike = None) -> str:
    """A currency by name with its code: 'peso colombiano (COP)', 'US dollar (USD)'."""
    if not code:
        return ""
    text = str(code).strip().upper()
    try:
        name = get_currency_name(text, locale=number_locale(locale))
    except Exception:  # noqa: BLE001 - an unknown code is shown as given
        return text
    return text if not name or name == text else f"{name} ({text})"


# ------------------------------------------------------------------------------ dates, times


def zone(name: Any) -> ZoneInfo:
    """The time zone of that IANA name; an empty or unknown name → America/Bogota."""
    if isinstance(name, ZoneInfo):
        return name
    return _zone(str(name or DEFAULT_TIMEZONE))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def day_start(day: dt.date, tz: Any = DEFAULT_TIMEZONE) -> dt.datetime:
    """The first moment of ``day`` as read in time zone ``tz`` (a name or a ZoneInfo), in UTC:
    where a period a person chose by its days begins (and, for the day after, ends)."""
    return dt.datetime.combine(day, dt.time(), zone(tz)).astimezone(dt.UTC)


def is_timezone(name: Any) -> bool:
    """Is this an IANA time zone name this system knows?"""
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return bool(name)


def local(value: dt.datetime, tz: Any = DEFAULT_TIMEZONE) -> dt.datetime:
    """A moment in the reader's time zone (a naive datetime is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone(tz))


def local_day(value: dt.datetime, tz: Any = DEFAULT_TIMEZONE) -> dt.date:
    """The calendar day a moment falls on for the reader (23:30 in Bogotá is 04:30 UTC)."""
    return local(value, tz).date()


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
def _day_formatter(locale: Locale, style: str) -> Callable[[dt.date], str]:
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


def date(
    value: Any, style: str = "medium", *, locale: LocaleLike = None, tz: Any = DEFAULT_TIMEZONE
) -> str:
    """A calendar day for the locale: '6 dic 2026'. A moment is first put in the reader's
    zone (its day there); a calendar day is never moved. Not a date → shown as given."""
    if type(value) is not dt.date:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = local_day(value, tz)
        elif not isinstance(value, dt.date):
            return str(value)
    return _day_formatter(locale if type(locale) is Locale else as_locale(locale), style)(value)


def datetime(
    value: Any, style: str = "medium", *, locale: LocaleLike = None, tz: Any = DEFAULT_TIMEZONE
) -> str:
    """A moment in the reader's time zone: '6 dic 2026, 4:30:00 p. m.'. A calendar day is
    shown as a day; not a date → shown as given."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return date(value, style, locale=locale) if isinstance(value, dt.date) else str(value)
    return babel_format_datetime(local(value, tz), style, tzinfo=zone(tz), locale=as_locale(locale))


def time(
    value: Any, style: str = "short", *, locale: LocaleLike = None, tz: Any = DEFAULT_TIMEZONE
) -> str:
    """The time of day of a moment in the reader's zone: '4:30 p. m.'."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return str(value)
    return babel_format_time(local(value, tz), style, tzinfo=zone(tz), locale=as_locale(locale))


def clock(value: Any, *, locale: LocaleLike = None) -> str:
    """A time of day as a document writes it ('10:53:10-05:00') as the locale reads it:
    '10:53 a. m.'; text that is not a time is shown as given."""
    if value is None:
        return ""
    if isinstance(value, dt.time):
        found = value
    else:
        text = str(value).strip()
        try:
            found = dt.time.fromisoformat(text.removesuffix("Z"))
        except ValueError:
            return text
    return babel_format_time(found.replace(tzinfo=None), "short", locale=as_locale(locale))


def timezone_choices(now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """The time zones a user can pick, each with its offset from UTC today:
    'America / Bogota (UTC−05:00)'."""
    moment = now or dt.datetime.now(dt.UTC)
    choices = []
    for name in COMMON_TIMEZONES:
        offset = moment.astimezone(zone(name)).utcoffset() or dt.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "−" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        label = name.replace("_", " ").replace("/", " / ")
        choices.append((name, f"{label} (UTC{sign}{hours:02d}:{rest:02d})"))
    return choices


COMMON_TIMEZONES = (
    "America/Bogota", "America/Mexico_City", "America/Lima", "America/Guayaquil",
    "America/Santiago", "America/Argentina/Buenos_Aires", "America/Sao_Paulo",
    "America/Caracas", "America/Panama", "America/Costa_Rica", "America/Santo_Domingo",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Europe/Madrid", "Europe/London", "UTC",
)  # fmt: skip


# ------------------------------------------------------------------------------ audit trail

#: Each audit action as a sentence; {actor} is who did it, {target} what it was done to.
AUDIT_ACTIONS: dict[str, dict[str, str]] = {
    "auth.signed_in": {"es": "{actor} inició sesión", "en": "{actor} signed in"},
    "auth.signed_out": {"es": "{actor} cerró sesión", "en": "{actor} signed out"},
    "auth.sign_in_failed": {
        "es": "Intento fallido de inicio de sesión de {actor}",
        "en": "Failed sign-in attempt by {actor}",
    },
    "auth.password_changed": {
        "es": "{actor} cambió su contraseña",
        "en": "{actor} changed their password",
    },
    "auth.password_reset": {
        "es": "{actor} restableció su contraseña",
        "en": "{actor} reset their password",
    },
    "auth.password_reset_requested": {
        "es": "{actor} pidió restablecer su contraseña",
        "en": "{actor} asked to reset their password",
    },
    "user.email_confirmed": {
        "es": "{actor} confirmó su correo",
        "en": "{actor} confirmed their e-mail",
    },
    "user.profile_changed": {
        "es": "{actor} actualizó su perfil",
        "en": "{actor} updated their profile",
    },
    "api.call": {"es": "{actor} usó la API", "en": "{actor} called the API"},
    "api.token_created": {
        "es": "{actor} creó un token de API",
        "en": "{actor} created an API token",
    },
    "api.token_revoked": {
        "es": "{actor} revocó un token de API",
        "en": "{actor} revoked an API token",
    },
    "certificate.uploaded": {
        "es": "{actor} cargó el certificado de firma",
        "en": "{actor} uploaded the signing certificate",
    },
    "company.registered": {
        "es": "{actor} registró la empresa",
        "en": "{actor} registered the company",
    },
    "company.updated": {
        "es": "{actor} actualizó los datos de la empresa",
        "en": "{actor} updated the company's details",
    },
    "company.fiscal_updated": {
        "es": "{actor} actualizó los datos fiscales",
        "en": "{actor} updated the fiscal details",
    },
    "numbering.configured": {
        "es": "{actor} configuró una numeración",
        "en": "{actor} set up a numbering range",
    },
    "catalog.item_created": {
        "es": "{actor} agregó un producto al catálogo",
        "en": "{actor} added an item to the catalog",
    },
    "catalog.item_changed": {
        "es": "{actor} modificó un producto del catálogo",
        "en": "{actor} changed a catalog item",
    },
    "catalog.item_deleted": {
        "es": "{actor} eliminó un producto del catálogo",
        "en": "{actor} deleted a catalog item",
    },
    "catalog.published": {
        "es": "{actor} publicó productos del catálogo",
        "en": "{actor} published catalog items",
    },
    "catalog.withdrawn": {
        "es": "{actor} retiró productos del catálogo",
        "en": "{actor} withdrew catalog items",
    },
    "catalog.customer_price_set": {
        "es": "{actor} fijó el precio de un cliente",
        "en": "{actor} set a customer's price",
    },
    "catalog.customer_price_removed": {
        "es": "{actor} quitó el precio de un cliente",
        "en": "{actor} removed a customer's price",
    },
    "catalog.suggestions_published": {
        "es": "{actor} publicó en el catálogo productos de sus facturas",
        "en": "{actor} published items from their invoices to the catalog",
    },
    "catalog.suggestions_set_aside": {
        "es": "{actor} dejó de lado sugerencias del catálogo",
        "en": "{actor} set catalog suggestions aside",
    },
    "catalog.imported": {
        "es": "{actor} importó productos al catálogo",
        "en": "{actor} imported items to the catalog",
    },
    "order.placed": {"es": "{actor} envió un pedido", "en": "{actor} placed an order"},
    "order.responded": {
        "es": "{actor} respondió un pedido",
        "en": "{actor} answered an order",
    },
    "order.confirmed": {
        "es": "{actor} confirmó los cambios de un pedido",
        "en": "{actor} confirmed an order's changes",
    },
    "order.cancelled": {"es": "{actor} canceló un pedido", "en": "{actor} cancelled an order"},
    "order.despatch_recorded": {
        "es": "{actor} registró un despacho de un pedido",
        "en": "{actor} recorded a despatch of an order",
    },
    "order.receipt_recorded": {
        "es": "{actor} registró lo recibido de un pedido",
        "en": "{actor} recorded what was received of an order",
    },
    "order.tolerance_set": {
        "es": "{actor} fijó las tolerancias del cruce de tres vías",
        "en": "{actor} set the three-way match tolerances",
    },
    "payments.settings_saved": {
        "es": "{actor} guardó la configuración de pagos",
        "en": "{actor} saved the payment settings",
    },
    "payment.receipt_downloaded": {
        "es": "{actor} descargó un comprobante de pago",
        "en": "{actor} downloaded a payment receipt",
    },
    "payment.proof_downloaded": {
        "es": "{actor} descargó el soporte de una transferencia",
        "en": "{actor} downloaded a transfer's proof",
    },
    "document.viewed": {"es": "{actor} vio {target}", "en": "{actor} viewed {target}"},
    "document.xml_downloaded": {
        "es": "{actor} descargó el XML de {target}",
        "en": "{actor} downloaded the XML of {target}",
    },
    "document.pdf_downloaded": {
        "es": "{actor} descargó el PDF de {target}",
        "en": "{actor} downloaded the PDF of {target}",
    },
    "document.zip_downloaded": {
        "es": "{actor} descargó el ZIP de {target}",
        "en": "{actor} downloaded the ZIP of {target}",
    },
    "document.event_xml_downloaded": {
        "es": "{actor} descargó un evento DIAN de {target}",
        "en": "{actor} downloaded a DIAN event of {target}",
    },
    "attachment.downloaded": {
        "es": "{actor} descargó un adjunto de {target}",
        "en": "{actor} downloaded an attachment of {target}",
    },
    "document.attachment_added": {
        "es": "{actor} adjuntó un archivo a {target}",
        "en": "{actor} attached a file to {target}",
    },
    "document.submitted": {"es": "{actor} envió {target}", "en": "{actor} sent {target}"},
    "document.quarantined": {
        "es": "{actor} cargó un archivo que quedó en cuarentena",
        "en": "{actor} uploaded a file that was quarantined",
    },
    "document.waiting_claimed": {
        "es": "{target} llegó a la empresa al registrarse",
        "en": "{target} reached the company when it registered",
    },
    "document.event_030": {
        "es": "{actor} acusó recibo de {target}",
        "en": "{actor} acknowledged receipt of {target}",
    },
    "document.event_031": {"es": "{actor} reclamó {target}", "en": "{actor} claimed {target}"},
    "document.event_032": {
        "es": "{actor} registró la recepción de los bienes o servicios de {target}",
        "en": "{actor} recorded receipt of the goods or services of {target}",
    },
    "document.event_033": {"es": "{actor} aceptó {target}", "en": "{actor} accepted {target}"},
    "document.event_034": {
        "es": "{target} quedó aceptada tácitamente",
        "en": "{target} was tacitly accepted",
    },
    "dispute.opened": {
        "es": "{actor} abrió una disputa sobre {target}",
        "en": "{actor} opened a dispute on {target}",
    },
    "dispute.proposed": {
        "es": "{actor} propuso una solución para {target}",
        "en": "{actor} proposed a solution for {target}",
    },
    "dispute.accepted": {
        "es": "{actor} aceptó la propuesta sobre {target}",
        "en": "{actor} accepted the proposal on {target}",
    },
    "dispute.rejected": {
        "es": "{actor} rechazó la propuesta sobre {target}",
        "en": "{actor} rejected the proposal on {target}",
    },
    "dispute.escalated": {
        "es": "{actor} escaló la disputa sobre {target}",
        "en": "{actor} escalated the dispute on {target}",
    },
    "dispute.resolved": {
        "es": "La disputa sobre {target} quedó resuelta",
        "en": "The dispute on {target} was resolved",
    },
    "dispute.message": {
        "es": "{actor} escribió en la disputa sobre {target}",
        "en": "{actor} wrote in the dispute on {target}",
    },
    "dispute.transcript_attached": {
        "es": "Se adjuntó la conversación de la disputa a {target}",
        "en": "The dispute's conversation was attached to {target}",
    },
    "network.connection_requested": {
        "es": "{actor} pidió una conexión",
        "en": "{actor} asked to connect",
    },
    "network.connection_accepted": {
        "es": "{actor} aceptó una conexión",
        "en": "{actor} accepted a connection",
    },
    "network.connection_declined": {
        "es": "{actor} rechazó una conexión",
        "en": "{actor} declined a connection",
    },
    "network.partner_invited": {
        "es": "{actor} invitó a una empresa",
        "en": "{actor} invited a company",
    },
    "network.invitation_claimed": {
        "es": "{actor} aceptó una invitación a la red",
        "en": "{actor} accepted an invitation to the network",
    },
    "team.member_invited": {
        "es": "{actor} invitó a una persona al equipo",
        "en": "{actor} invited someone to the team",
    },
    "team.invitation_accepted": {
        "es": "{actor} se unió al equipo",
        "en": "{actor} joined the team",
    },
    "team.invitation_revoked": {
        "es": "{actor} revocó una invitación al equipo",
        "en": "{actor} revoked a team invitation",
    },
    "team.role_changed": {
        "es": "{actor} cambió el rol de un miembro",
        "en": "{actor} changed a member's role",
    },
    "team.member_deactivated": {
        "es": "{actor} desactivó a un miembro",
        "en": "{actor} deactivated a member",
    },
    "team.member_reactivated": {
        "es": "{actor} reactivó a un miembro",
        "en": "{actor} reactivated a member",
    },
    "webhook.endpoint_created": {
        "es": "{actor} agregó un webhook",
        "en": "{actor} added a webhook",
    },
    "webhook.endpoint_deleted": {
        "es": "{actor} eliminó un webhook",
        "en": "{actor} deleted a webhook",
    },
    "webhook.delivery_replayed": {
        "es": "{actor} reenvió una entrega de webhook",
        "en": "{actor} resent a webhook delivery",
    },
}
_SYSTEM = {"es": "El sistema", "en": "The system"}
_UNKNOWN_ACTION = {"es": "{actor}: {action}", "en": "{actor}: {action}"}
_DOCUMENT = {"es": "el documento {number}", "en": "document {number}"}
_A_DOCUMENT = {"es": "un documento", "en": "a document"}
#: How a document is named in a sentence, by its type: 'la factura FV-1001'.
_DOCUMENT_KINDS = {
    "Invoice": {"es": "la factura {number}", "en": "invoice {number}"},
    "CreditNote": {"es": "la nota crédito {number}", "en": "credit note {number}"},
    "DebitNote": {"es": "la nota débito {number}", "en": "debit note {number}"},
}


def document_name(number: Any, kind: Any = None, *, locale: LocaleLike = None) -> str:
    """A document named by its type and number: 'invoice FV-1001', 'la factura FV-1001'."""
    lang = language(locale)
    if not number:
        return _A_DOCUMENT[lang]
    return _DOCUMENT_KINDS.get(str(kind), _DOCUMENT)[lang].format(number=number)


def action_label(action: Any, *, locale: LocaleLike = None) -> str:
    """An audit action as words without who did it: 'signed in', 'viewed a document'."""
    lang = language(locale)
    sentence = AUDIT_ACTIONS.get(str(action))
    if sentence is None:
        return str(action or "")
    text = sentence[lang].format(actor="", target=_A_DOCUMENT[lang]).strip()
    return text[:1].upper() + text[1:]


def audit_sentence(
    action: Any, actor: Any = None, target: str | None = None, *, locale: LocaleLike = None
) -> str:
    """An audit event as a sentence: 'María signed in', 'María viewed invoice FV-1001'.

    actor is a person's name or e-mail (none or 'system' → 'The system'); target is what the
    action was done to, already named (see ``document_name``); an unknown action is shown
    after the actor as recorded.
    """
    lang = language(locale)
    who = str(actor or "").strip()
    if not who or who == "system":
        who = _SYSTEM[lang]
    sentence = AUDIT_ACTIONS.get(str(action))
    if sentence is None:
        return _UNKNOWN_ACTION[lang].format(actor=who, action=action or "")
    text = sentence[lang].format(actor=who, target=target or _A_DOCUMENT[lang])
    return text[:1].upper() + text[1:]
