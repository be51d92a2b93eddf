"""Does every value reach a person as words and numbers they read, never as a code to decode?

app.humanize is the one formatter of pages, PDFs, e-mails and exports. Each formatter is held to
several values, both languages, the edges (zero, negative, huge, None) and values of the wrong
type, which must be shown as given rather than break a page.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest
from babel import Locale

from app import humanize as h
from app.einvoice import codelists
from app.einvoice.model import Address, Party
from app.permissions import PERMISSIONS, ROLE_PERMISSIONS

WRONG_TYPES = [object(), [], {}, b"\xff", "abc", "1,5.3", float("nan")]
LOCALES = ["es", "es_CO", "en", Locale.parse("es"), Locale.parse("en"), None, "xx_YY", ""]


# ------------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (Decimal("710000"), "COP", "es", "$\u00a0710.000,00"),
        (Decimal("710000"), "COP", "en", "COP\u00a0710,000.00"),
        (Decimal("-1234.5"), "COP", "es", "-$\u00a01.234,50"),
        (Decimal("0"), "USD", "en", "$\u00a00.00"),
        (Decimal("0"), "USD", "es", "US$\u00a00,00"),
        (Decimal("999999999999999.99"), "COP", "es", "$\u00a0999.999.999.999.999,99"),
        (Decimal("0.005"), "EUR", "en", "€\u00a00.00"),  # half-even, as Babel
        (1785000, "cop", "es", "$\u00a01.785.000,00"),  # an int, a lower-case code
        ("12.5", None, "es", "$\u00a012,50"),  # text; no currency means pesos
        (1.1, "COP", "es", "$\u00a01,10"),  # a float through its text, not its binary value
    ],
)
def test_is_money_written_per_locale(amount, currency, locale, expected):
    assert h.money(amount, currency, locale=locale) == expected


@pytest.mark.parametrize("value", WRONG_TYPES[:-1])
def test_does_money_show_a_value_that_is_not_a_number_as_given(value):
    assert h.money(value) == str(value)
    assert h.money(None) == ""


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (Decimal("19.00"), "es", "19%"),  # es_CO, as Colombian pages write it
        (Decimal("19.00"), "es_ES", "19\u00a0%"),  # Spain's own pattern
        (Decimal("19.00"), "en", "19%"),
        (Decimal("5.5"), "es", "5,5%"),
        (Decimal("2.50"), "en", "2.5%"),
        (Decimal("0"), "es", "0%"),
        (Decimal("-4"), "en", "-4%"),
        (Decimal("0.375"), "en", "0.375%"),
        (Decimal("1000"), "es", "1.000%"),
        (19, "es", "19%"),
        ("16.00", "en", "16%"),
    ],
)
def test_is_a_rate_written_without_trailing_zeros_per_locale(value, locale, expected):
    assert h.percent(value, locale=locale) == expected


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (Decimal("40.00"), "es", "40"),
        (Decimal("1234567.1250"), "es", "1.234.567,125"),
        (Decimal("1234567.1250"), "en", "1,234,567.125"),
        (Decimal("-0.5"), "es", "-0,5"),
        (Decimal("0E-10"), "en", "0"),
        (Decimal("1E+3"), "en", "1,000"),
        (Decimal("0.0000001"), "en", "0"),  # beyond six decimals
    ],
)
def test_is_a_number_written_with_only_its_decimals(value, locale, expected):
    assert h.number(value, locale=locale) == expected


@pytest.mark.parametrize("value", WRONG_TYPES)
def test_do_numbers_and_rates_survive_values_of_the_wrong_type(value):
    for function in (h.number, h.percent, h.quantity):
        assert isinstance(function(value), str)
    assert h.number(None) == h.percent(None) == h.quantity(None) == ""


# ------------------------------------------------------------------------------ units


@pytest.mark.parametrize(
    ("value", "code", "locale", "expected"),
    [
        (Decimal("40.00"), "94", "es", "40 unidades"),
        (Decimal("40.00"), "94", "en", "40 units"),
        (Decimal("1"), "94", "es", "1 unidad"),
        (Decimal("1.00"), "KGM", "es", "1 kilogramo"),
        (Decimal("2.5"), "KGM", "en", "2.5 kilograms"),
        (Decimal("8"), "HUR", "es", "8 horas"),
        (Decimal("-1"), "HUR", "en", "-1 hour"),
        (Decimal("0"), "MTR", "es", "0 metros"),
        (Decimal("3"), "hur", "en", "3 hours"),  # a lower-case code
        (Decimal("3"), "XYZ", "es", "3 XYZ"),  # unknown: the code as written
        (Decimal("3"), "", "es", "3"),
        (Decimal("3"), None, "en", "3"),
    ],
)
def test_is_a_quantity_shown_with_its_unit_by_name(value, code, locale, expected):
    assert h.quantity(value, code, locale=locale) == expected


def test_does_every_unit_have_both_languages_and_both_numbers():
    assert {"94", "KGM", "HUR", "NIU", "C62", "LTR", "MTR"} <= set(codelists.UNITS)
    for names in codelists.UNITS.values():
        assert set(names) == {"es", "en"}
        for singular, plural in names.values():
            assert singular and plural


# ------------------------------------------------------------------------------ code lists


@pytest.mark.parametrize(
    ("function", "code", "es", "en"),
    [
        (h.payment_means, "10", "Efectivo", "Cash"),
        (h.payment_means, "42", "Consignación bancaria", "Bank deposit"),
        (h.payment_means, "47", "Transferencia débito bancaria", "Bank debit transfer"),
        (h.payment_means, "48", "Tarjeta crédito", "Credit card"),
        (h.payment_means, "49", "Tarjeta débito", "Debit card"),
        (h.payment_means, "ZZZ", "Acuerdo mutuo", "Mutually agreed"),
        (h.payment_means, " 10 ", "Efectivo", "Cash"),
        (h.payment_form, "1", "Contado", "Cash"),
        (h.payment_form, "2", "Crédito", "Credit"),
        (h.tax_scheme, "01", "IVA", "VAT (IVA)"),
        (h.tax_scheme, "03", "ICA", "Industry and commerce tax (ICA)"),
        (h.tax_scheme, "04", "INC", "National consumption tax (INC)"),
        (h.tax_scheme, "06", "ReteRenta", "Income tax withholding"),
        (h.responsibility, "O-13", "Gran contribuyente", "Large taxpayer"),
        (h.responsibility, "O-15", "Autorretenedor", "Self-withholding agent"),
        (h.responsibility, "O-23", "Agente de retención IVA", "VAT withholding agent"),
        (h.responsibility, "O-47", "Régimen simple de tributación", "Simple tax regime"),
        (h.responsibility, "R-99-PN", "No aplica – Otros", "Not applicable – other"),
        (h.person_type, "1", "Persona jurídica", "Legal entity"),
        (h.id_type, "13", "C.C.", "ID card"),
        (h.document_type, "CreditNote", "Nota crédito", "Credit note"),
        (h.payment_status, "partially_paid", "pagada parcialmente", "partially paid"),
    ],
)
def test_is_a_code_named_in_both_languages(function, code, es, en):
    assert function(code, locale="es") == es
    assert function(code, locale=Locale.parse("es_CO")) == es
    assert function(code, locale="en") == en


@pytest.mark.parametrize(
    "function",
    [h.payment_means, h.payment_form, h.tax_scheme, h.responsibility, h.person_type, h.id_type],
)
@pytest.mark.parametrize("code", ["999", "Q-1", 7, "", None])
def test_is_an_unknown_code_shown_as_given(function, code):
    assert function(code, locale="es") == ("" if code is None else str(code))


def test_does_a_tax_without_a_known_code_keep_the_name_the_document_gives_it():
    assert h.tax_scheme("ZY", "Tasa especial") == "Tasa especial"
    assert h.tax_scheme("01", "Impuesto al valor agregado") == "IVA"  # the known name wins


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ("O-13;O-15", "Gran contribuyente, Autorretenedor"),
        (["O-23", "R-99-PN"], "Agente de retención IVA, No aplica – Otros"),
        ("O-13, X-1", "Gran contribuyente, X-1"),
        ("", ""),
        (None, ""),
    ],
)
def test_are_several_responsibilities_named(codes, expected):
    assert h.responsibilities(codes, locale="es") == expected


# ------------------------------------------------------------------------------ tax ids


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("9012345677", "CO", "NIT 901.234.567-7"),
        ("901.234.567-7", "co", "NIT 901.234.567-7"),  # already written: the same
        ("9012345678", "CO", "NIT 901.234.567-8"),  # wrong check digit: still readable
        ("760864285", "CL", "RUT 76.086.428-5"),
        ("GODE561231GR8", "MX", "RFC GODE 561231 GR8"),
        ("20100047218", "PE", "RUC 20100047218"),
        ("20-26756539-3", "AR", "CUIT 20-26756539-3"),
        ("abc", "CO", "NIT abc"),  # not a NIT: as given
        ("12345", "ZZ", "12345"),  # a country stdnum does not know: as given
        ("12345", None, "12345"),
        ("", "CO", ""),
        (None, "CO", ""),
    ],
)
def test_is_a_tax_id_written_as_its_country_writes_it(value, country, expected):
    assert h.tax_id(value, country) == expected


def test_does_a_nit_written_without_its_digit_get_it_back():
    assert h.tax_id("901234567", "CO", check_digit="7") == "NIT 901.234.567-7"
    assert h.tax_id_number("9012345677") == "901.234.567-7"
    assert h.tax_id("9012345677", "CO", scheme="") == "901.234.567-7"


@pytest.mark.parametrize(
    ("party", "expected"),
    [
        (Party(tax_id="901234567", check_digit="7", id_scheme="31"), "NIT 901.234.567-7"),
        (Party(tax_id="1020304050", id_scheme="13"), "C.C. 1.020.304.050"),
        (Party(tax_id="AB123456", id_scheme="41"), "Pasaporte AB123456"),
        (Party(vat_id="DE136695976", address=Address(country="DE")), "USt-IdNr. DE136695976"),
        (Party(), ""),
        (None, ""),
    ],
)
def test_is_a_document_party_named_by_its_id_type(party, expected):
    assert h.party_tax_id(party, locale="es") == expected


# ------------------------------------------------------------------------------ dates, times

LATE_EVENING_IN_BOGOTA = dt.datetime(2026, 12, 7, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 6th


@pytest.mark.parametrize(
    ("tz", "day"),
    [
        ("America/Bogota", dt.date(2026, 12, 6)),
        ("UTC", dt.date(2026, 12, 7)),
        ("Europe/Madrid", dt.date(2026, 12, 7)),
        ("America/Los_Angeles", dt.date(2026, 12, 6)),
        ("Not/AZone", dt.date(2026, 12, 6)),  # unknown zone: Bogotá
        (None, dt.date(2026, 12, 6)),
    ],
)
def test_does_a_moment_fall_on_the_readers_own_day(tz, day):
    assert h.local_day(LATE_EVENING_IN_BOGOTA, tz) == day
    assert h.date(LATE_EVENING_IN_BOGOTA, "short", locale="en", tz=tz) == h.date(
        day, "short", locale="en"
    )


def test_is_bogota_five_hours_behind_utc_all_year():
    for month in range(1, 13):
        moment = dt.datetime(2026, month, 15, 12, tzinfo=dt.UTC)
        assert h.local(moment).utcoffset() == dt.timedelta(hours=-5)
    # Madrid moves its clocks; Bogotá does not.
    winter, summer = (dt.datetime(2026, m, 1, 12, tzinfo=dt.UTC) for m in (1, 7))
    assert h.local(winter, "Europe/Madrid").hour == 13
    assert h.local(summer, "Europe/Madrid").hour == 14


def test_is_a_naive_moment_taken_as_utc():
    naive = LATE_EVENING_IN_BOGOTA.replace(tzinfo=None)
    assert h.datetime(naive, "short", locale="es") == h.datetime(
        LATE_EVENING_IN_BOGOTA, "short", locale="es"
    )


@pytest.mark.parametrize(
    ("locale", "tz", "text"),
    [
        ("es", "America/Bogota", "22:30"),
        ("en", "America/Bogota", "10:30\u202fPM"),
        ("en", "UTC", "3:30\u202fAM"),
    ],
)
def test_is_a_time_shown_in_the_readers_zone_and_locale(locale, tz, text):
    assert text in h.datetime(LATE_EVENING_IN_BOGOTA, "short", locale=locale, tz=tz)
    assert h.time(LATE_EVENING_IN_BOGOTA, locale=locale, tz=tz) == text


def test_is_a_calendar_day_never_moved_by_a_zone():
    day = dt.date(2026, 12, 31)
    for tz in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        assert h.date(day, "short", locale="en", tz=tz) == "12/31/26"
    assert h.datetime(day, "medium", locale="es") == h.date(day, "medium", locale="es")


@pytest.mark.parametrize("value", WRONG_TYPES + ["2026-12-06"])
def test_do_dates_survive_values_of_the_wrong_type(value):
    for function in (h.date, h.datetime, h.time):
        assert function(value) == str(value)
    assert h.date(None) == h.datetime(None) == h.time(None) == ""


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("10:53:10-05:00", "es", "10:53"),
        ("15:04:00-05:00", "es_CO", "3:04\u202fp.\u202fm."),
        ("10:53:10-05:00", "en", "10:53\u202fAM"),
        ("23:05:00Z", "es", "23:05"),
        ("soon", "es", "soon"),
    ],
)
def test_is_a_documents_time_of_day_read_per_locale(text, locale, expected):
    assert h.clock(text, locale=locale) == expected


def test_is_every_offered_time_zone_known():
    assert all(h.is_timezone(name) for name, _label in h.timezone_choices())
    assert not h.is_timezone("Mars/Olympus") and not h.is_timezone("") and not h.is_timezone(None)


# ------------------------------------------------------------------------------ audit


@pytest.mark.parametrize(
    ("action", "actor", "target", "locale", "expected"),
    [
        ("auth.signed_in", "María", None, "en", "María signed in"),
        ("auth.signed_in", "María", None, "es", "María inició sesión"),
        ("document.viewed", "María", "invoice FV-1001", "en", "María viewed invoice FV-1001"),
        ("document.viewed", "María", None, "en", "María viewed a document"),
        ("document.event_033", "Ana", "la factura FV-9", "es", "Ana aceptó la factura FV-9"),
        ("document.event_034", None, "invoice FV-9", "en", "Invoice FV-9 was tacitly accepted"),
        ("auth.signed_in", "system", None, "es", "El sistema inició sesión"),
        ("custom.thing", "Ana", None, "en", "Ana: custom.thing"),
    ],
)
def test_is_an_audit_event_a_sentence(action, actor, target, locale, expected):
    assert h.audit_sentence(action, actor, target, locale=locale) == expected


def test_does_every_recorded_action_read_as_a_sentence_in_both_languages(app):
    found = subprocess.run(
        [
            "grep",
            "-rhoE",
            r"\"(auth|user|api|certificate|company|numbering|document|attachment|"
            r"dispute|network|team|webhook)\.[a-z_0-9]+\"",
            "app/services",
            "app/blueprints",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    permissions = set(PERMISSIONS) | {p for ps in ROLE_PERMISSIONS.values() for p in ps}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    filenames = {"document.xml"}  # a default upload name, not an action
    actions = {a.strip('"') for a in found} - permissions - endpoints - filenames
    assert actions, "no actions found"
    for action in actions:
        assert action in h.AUDIT_ACTIONS, action
        for lang in ("es", "en"):
            assert "." not in h.audit_sentence(action, "Ana", "x", locale=lang).split()[1], action


def test_is_a_document_named_by_type_and_number():
    assert h.document_name("FV-1001", "Invoice", locale="en") == "invoice FV-1001"
    assert h.document_name("NC-1", "CreditNote", locale="es") == "la nota crédito NC-1"
    assert h.document_name("X-1", "Weird", locale="en") == "document X-1"
    assert h.document_name("", "Invoice", locale="es") == "un documento"


# ------------------------------------------------------------------------------ locales


@pytest.mark.parametrize("locale", LOCALES)
def test_does_every_locale_form_give_a_result(locale):
    assert h.money(Decimal("1"), locale=locale)
    assert h.percent(Decimal("19"), locale=locale)
    assert h.payment_means("10", locale=locale) in ("Efectivo", "Cash")


def test_is_the_module_free_of_flask():
    code = "import sys, app.humanize; print('flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("value", "money", "number"),
    [
        (
            Decimal("1E+30"),
            "$\u00a01." + ".".join(["000"] * 10) + ",00",
            "1." + ".".join(["000"] * 10),
        ),
        (
            Decimal("-" + "9" * 40),
            "-$\u00a0" + "9.999" + ".999" * 12 + ",00",
            "-9.999" + ".999" * 12,
        ),
        (
            Decimal("123456789012345678901234567890.5"),
            None,
            "123.456.789.012.345.678.901.234.567.890,5",
        ),
        (Decimal("1E+400"), "$\u00a01E+400", "1E+400"),  # not a page of zeros
        (Decimal("1E-30"), "$\u00a00,00", "0"),
    ],
)
def test_are_amounts_beyond_the_decimal_context_written_in_full_without_an_error(
    value, money, number
):
    if money is not None:
        assert h.money(value, locale="es") == money
    assert h.number(value, locale="es") == number
    assert h.percent(value, locale="es")


@pytest.mark.parametrize(
    ("size", "locale", "expected"),
    [
        (0, "es", "0 bytes"),
        (834, "en", "834 bytes"),
        (12_595, "es", "12,3 KB"),
        (12_595, "en", "12.3 KB"),
        (4_718_592, "es", "4,5 MB"),
        (3 * 2**30, "en", "3 GB"),
        (None, "es", ""),
        ("big", "es", "big"),
    ],
)
def test_is_a_file_size_written_for_a_person(size, locale, expected):
    assert h.file_size(size, locale=locale) == expected
