"""CSV and XLSX exports: mappings, guessed headers, decimal marks, dates, errors by row/column."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from app.statements import ColumnMapping, StatementError, detect_format, read_statement
from app.statements.tabular import (
    guess_date_format,
    guess_decimal_comma,
    guess_mapping,
    parse_amount,
    read_tabular,
)

SPANISH = (
    "Banco Ejemplo - Movimientos de la cuenta\n"
    "Cuenta: ES91 2100 0418 4502 0005 1332\n"
    "\n"
    "Fecha;Fecha valor;Concepto;Importe;Moneda;Beneficiario\n"
    "03/02/2024;04/02/2024;Transferencia FV-001;1.234,56;EUR;Andina SAS\n"
    "15/02/2024;15/02/2024;Recibo luz;-89,10;EUR;Eléctrica del Sur\n"
)


def test_semicolons_decimal_commas_and_day_first_dates_with_a_title_above_the_header():
    data = SPANISH.encode("cp1252")  # Windows-1252, as Spanish banks export
    assert detect_format(data, "movimientos.csv") == "csv"
    fmt, [statement] = read_statement(data, filename="movimientos.csv")
    assert fmt == "csv"
    first, second = statement.entries
    assert first.amount == Decimal("1234.56") and second.amount == Decimal("-89.10")
    assert first.booking_date == dt.date(2024, 2, 3)  # 15/02 shows the day comes first
    assert first.value_date == dt.date(2024, 2, 4)
    assert first.description == "Transferencia FV-001"
    assert second.counterparty.name == "Eléctrica del Sur"
    assert statement.currency == "EUR"
    assert statement.opening_balance is None and statement.closing_balance is None
    assert (statement.start_date, statement.end_date) == (dt.date(2024, 2, 3),
                                                          dt.date(2024, 2, 15))


def test_an_explicit_mapping_with_skip_rows_and_debit_credit_columns():
    text = ("Export 2024\nsecond title line\n"
            "Booking;Out;In;Text;Ref\n"
            "2024.03.01;12,50;;Coffee;R1\n"
            "2024.03.02;;1.000,00;Customer pays;R2\n")
    mapping = ColumnMapping(date_column="Booking", debit_column="Out", credit_column="In",
                            date_format="%Y.%m.%d", decimal_comma=True, skip_rows=2,
                            delimiter=";", description_column="Text", reference_column="Ref",
                            currency="CHF")
    [statement] = read_tabular(text.encode(), mapping)
    assert [e.amount for e in statement.entries] == [Decimal("-12.50"), Decimal("1000.00")]
    assert [e.reference for e in statement.entries] == ["R1", "R2"]
    assert statement.currency == "CHF" and statement.entries[0].currency == "CHF"


def test_guessed_debit_credit_columns_in_dutch_and_tabs():
    text = "Datum\tOmschrijving\tAf\tBij\n2024-01-05\tHuur\t750.00\t\n2024-01-06\tKlant\t\t99.95\n"
    [statement] = read_tabular(text.encode())
    assert [e.amount for e in statement.entries] == [Decimal("-750.00"), Decimal("99.95")]


def test_a_debit_column_that_already_carries_its_minus():
    text = "Date,Debit,Credit\n2024-01-05,-10.00,\n2024-01-06,,5.00\n"
    [statement] = read_tabular(text.encode())
    assert [e.amount for e in statement.entries] == [Decimal("-10.00"), Decimal("5.00")]


def test_the_shared_style_english_export_with_thousands_commas_and_month_first_dates():
    text = ('"Date","Label","Amount"\n"12/15/2018","Supplier","-33.50"\n'
            '"01/02/2019","Customer","1,525.00"\n')
    [statement] = read_tabular(text.encode())
    assert [e.amount for e in statement.entries] == [Decimal("-33.50"), Decimal("1525.00")]
    assert statement.entries[1].booking_date == dt.date(2019, 1, 2)


def test_xlsx_with_date_cells_float_amounts_and_a_title_row():
    book = Workbook()
    sheet = book.active
    sheet.append(["Extracto marzo"])
    sheet.append(["Fecha", "Descripción", "Importe", "Referencia", "Cuenta"])
    sheet.append([dt.datetime(2024, 3, 1), "Pago FV-9", 0.1 + 0.2, "FV-9", "ES11"])
    sheet.append([dt.datetime(2024, 3, 2), "Cuota", -1525.5, None, None])
    sheet.append([dt.datetime(2024, 3, 3), "Entero", 70, None, None])
    sheet["C4"].number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert detect_format(data, "extracto.xlsx") == "csv"
    fmt, [statement] = read_statement(data, filename="extracto.xlsx")
    assert fmt == "csv"
    amounts = [e.amount for e in statement.entries]
    assert amounts == [Decimal("0.3"), Decimal("-1525.50"), Decimal("70")]
    assert str(amounts[1]) == "-1525.50"  # two places, as the cell shows it
    assert statement.entries[0].booking_date == dt.date(2024, 3, 1)
    assert statement.entries[0].reference == "FV-9"
    assert statement.entries[0].counterparty.account == "ES11"


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_read():
    """A few kilobytes that unpack to megabytes of nothing (a "zip bomb") never reach openpyxl."""
    from tests.test_spreadsheets import zip_bomb

    with pytest.raises(StatementError) as raised:
        read_statement(zip_bomb(), filename="extracto.xlsx")
    assert raised.value.message.startswith("The XLSX file unpacks to too much data")
    assert raised.value.message_es.startswith("El archivo XLSX se descomprime")


def test_a_bad_amount_names_the_row_and_the_column():
    text = "Date,Amount\n2024-01-01,1.00\n2024-01-02,\"12,3,4\"\n"
    with pytest.raises(StatementError) as caught:
        read_tabular(text.encode())
    assert caught.value.message == "row 3, column 'Amount': '12,3,4' is not an amount"


def test_a_bad_date_names_the_row_and_the_column():
    mapping = ColumnMapping(date_column="Date", amount_column="Amount", date_format="%d/%m/%Y")
    text = "Date;Amount\n01/02/2024;1\n31/02/2024;2\n"
    with pytest.raises(StatementError, match=r"row 3, column 'Date': '31/02/2024' is not a date"):
        read_tabular(text.encode(), mapping)


def test_missing_columns_are_named():
    with pytest.raises(StatementError, match="No amount column") as caught:
        read_tabular(b"Fecha;Concepto\n01/02/2024;x\n")
    assert "Fecha, Concepto" in caught.value.message
    with pytest.raises(StatementError, match="No date column"):
        read_tabular(b"Label;Amount\nx;1\n")
    mapping = ColumnMapping(date_column="Datum", amount_column="Bedrag")
    with pytest.raises(StatementError, match="The column 'Bedrag' is not in the header"):
        read_tabular(b"Datum;Betrag\n2024-01-01;1\n", mapping)


def test_lines_without_an_amount_are_skipped_but_an_amount_without_a_date_is_not():
    [statement] = read_tabular(b"Date;Amount\n2024-01-01;1,50\n;\nEnd of export;\n2024-01-02;\n")
    assert [e.amount for e in statement.entries] == [Decimal("1.50")]
    with pytest.raises(StatementError, match="row 3, column 'Date': the date is empty"):
        read_tabular(b"Date;Amount\n2024-01-01;1,50\n;2,00\n2024-01-02;3,00\n")


@pytest.mark.parametrize(("text", "comma", "expected"), [
    ("1.234,56", True, "1234.56"), ("1,525.00", False, "1525.00"), ("-0,5", True, "-0.5"),
    ("(12.00)", False, "-12.00"), ("12.00-", False, "-12.00"), ("€ 1.000", True, "1000"),
    ("+3", False, "3"), ("1 234,50", True, "1234.50"),
])
def test_amounts_in_their_many_spellings(text, comma, expected):
    assert parse_amount(text, comma) == Decimal(expected)
    assert str(parse_amount(text, comma)) == expected


@pytest.mark.parametrize(("text", "comma"), [
    ("12,3,4", False), ("12,3,4", True), ("1.2.3", False), ("abc", False), ("1,234.5", True),
])
def test_not_amounts(text, comma):
    with pytest.raises(ValueError):
        parse_amount(text, comma)


def test_guesses():
    assert guess_date_format(["01/02/2024", "13/02/2024"]) == "%d/%m/%Y"
    assert guess_date_format(["01/02/2024", "02/13/2024"]) == "%m/%d/%Y"
    assert guess_date_format(["2024-02-01"]) == "%Y-%m-%d"
    assert guess_date_format(["01.02.24"]) == "%d.%m.%y"
    with pytest.raises(StatementError, match="no format"):
        guess_date_format(["the 1st of May"])
    assert guess_decimal_comma(["1.234,56", "-3,00"]) is True
    assert guess_decimal_comma(["1,234.56", "-3.00"]) is False
    assert guess_decimal_comma(["1,234"]) is False  # nothing tells: a point
    mapping = guess_mapping(["Fecha", "Cargo", "Abono", "Tercero", "Moneda"], [])
    assert (mapping.debit_column, mapping.credit_column) == ("Cargo", "Abono")
    assert mapping.counterparty_name_column == "Tercero"
    assert mapping.currency_column == "Moneda"
    german = guess_mapping(["Buchungstag", "Betrag", "Verwendungszweck"], [])
    assert (german.date_column, german.amount_column) == ("Buchungstag", "Betrag")


def test_a_bad_currency_cell_is_named():
    with pytest.raises(StatementError, match="row 2, column 'Currency': 'Euro'"):
        read_tabular(b"Date,Amount,Currency\n2024-01-01,1.00,Euro\n")


@pytest.mark.parametrize(("text", "comma", "expected"), [
    ("\u221212,00", True, "-12.00"), ("1\u2009234.50", False, "1234.50"), ("1,234", False, "1234"),
    ("1.000", True, "1000"), ("1.000", False, "1.000"),
])
def test_amounts_read_with_the_mappings_decimal_separator(text, comma, expected):
    assert str(parse_amount(text, comma)) == expected


@pytest.mark.parametrize(("text", "comma"), [
    ("0,500", False), ("0.500", True), ("1e3", False), ("NaN", True), ("()", False), ("-", True),
    ("1" * 41, False),
])
def test_not_amounts_either(text, comma):
    with pytest.raises(ValueError):
        parse_amount(text, comma)


def test_a_column_grouped_by_points_shows_a_decimal_comma():
    assert guess_decimal_comma(["1.234.567", "5"]) is True
    assert guess_decimal_comma(["1,234,567", "5"]) is False
    assert guess_decimal_comma(["5,", "abc,", "1.5"]) is False  # garbage shows nothing


# ---------------------------------------------------------------- what an exploratory tester found


def test_an_amount_the_app_cannot_keep_is_refused_naming_its_row():
    text = "Fecha;Concepto;Importe\n05/01/2024;a;12.345.678.901.234.567,89\n"
    with pytest.raises(StatementError) as caught:
        read_statement(text.encode(), filename="extracto.csv")
    assert caught.value.message == (
        "row 2, column 'Importe': '12.345.678.901.234.567,89' is too large an amount (at most 15 "
        "digits before the decimal point)")
    assert caught.value.message_es.startswith("fila 2, columna 'Importe': '12.345.678.901.234."
                                              "567,89' es un importe demasiado grande")
    # The largest amount kept still reads.
    [statement] = read_tabular(b"Fecha;Importe\n05/01/2024;-999.999.999.999.999,99\n")
    assert statement.entries[0].amount == Decimal("-999999999999999.99")


COP = "Fecha;Descripcion;Valor\n05/01/2024;Pago;-150.000\n06/01/2024;Abono;25.000\n" \
      "07/01/2024;x;1.500\n"


def test_amounts_that_leave_the_decimal_mark_open_are_read_with_the_importers_mark():
    _fmt, [spanish] = read_statement(COP.encode(), filename="extracto.csv", decimal_comma=True)
    assert [e.amount for e in spanish.entries] == [Decimal(-150000), Decimal(25000),
                                                   Decimal(1500)]
    _fmt, [english] = read_statement(COP.encode(), filename="extracto.csv")
    assert [e.amount for e in english.entries] == [Decimal("-150"), Decimal("25"),
                                                   Decimal("1.5")]
    # A value that shows the mark beyond doubt decides, whoever imports.
    shown = "Date;Amount\n2024-01-05;1,234.50\n2024-01-06;25,000\n"
    _fmt, [statement] = read_statement(shown.encode(), filename="x.csv", decimal_comma=True)
    assert [e.amount for e in statement.entries] == [Decimal("1234.50"), Decimal("25000")]
    shown = "Fecha;Valor\n05/01/2024;1.234,50\n06/01/2024;25.000\n"
    _fmt, [statement] = read_statement(shown.encode(), filename="x.csv")
    assert [e.amount for e in statement.entries] == [Decimal("1234.50"), Decimal("25000")]


def test_a_reversal_in_a_debit_column_is_money_in_and_the_other_debits_stay_money_out():
    text = ("Fecha;Concepto;Débito;Crédito\n05/01/2024;compra;100,00;\n"
            "06/01/2024;reverso;-20,00;\n07/01/2024;abono;;50,00\n")
    [statement] = read_tabular(text.encode())
    assert [e.amount for e in statement.entries] == [Decimal("-100.00"), Decimal("20.00"),
                                                     Decimal("50.00")]
    mapping = ColumnMapping(date_column="Fecha", debit_column="Débito", credit_column="Crédito",
                            date_format="%d/%m/%Y", decimal_comma=True)
    [statement] = read_tabular(text.encode(), mapping)
    assert [e.amount for e in statement.entries] == [Decimal("-100.00"), Decimal("20.00"),
                                                     Decimal("50.00")]
    # A debit column where every value carries its minus is read as signed, mapped or not.
    signed = "Fecha;Débito;Crédito\n05/01/2024;-100,00;\n06/01/2024;0,00;\n07/01/2024;;50,00\n"
    [statement] = read_tabular(signed.encode(), mapping)
    assert [e.amount for e in statement.entries] == [Decimal("-100.00"), Decimal("0.00"),
                                                     Decimal("50.00")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excels_unicode_text_is_read_like_utf8(encoding):
    text = ("Fecha\tConcepto\tImporte\r\n05/01/2024\tPago ñandú\t-1.234,56\r\n"
            "06/01/2024\tAbono\t2.000,00\r\n")
    data = ("\ufeff" + text).encode(encoding) if encoding.endswith("be") else text.encode(encoding)
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert detect_format(data, "movimientos.txt") == "csv"
    _fmt, [statement] = read_statement(data, filename="movimientos.txt")
    assert [e.amount for e in statement.entries] == [Decimal("-1234.56"), Decimal("2000.00")]
    assert statement.entries[0].description == "Pago ñandú"
    mapping = ColumnMapping(date_column="Fecha", amount_column="Importe", date_format="%d/%m/%Y",
                            decimal_comma=True)
    _fmt, [statement] = read_statement(data, filename="movimientos.txt", mapping=mapping)
    assert [e.amount for e in statement.entries] == [Decimal("-1234.56"), Decimal("2000.00")]


def test_a_mapping_names_a_column_by_its_number_counting_from_one():
    text = "Fecha;;Valor;2\n05/01/2024;Pago;-1,50;R-1\n"
    mapping = ColumnMapping(date_column="1", amount_column="3", description_column="2",
                            reference_column="2 ", date_format="%d/%m/%Y", decimal_comma=True)
    [statement] = read_tabular(text.encode(), mapping)
    [entry] = statement.entries
    assert entry.amount == Decimal("-1.50") and entry.booking_date == dt.date(2024, 1, 5)
    # "2" is the blank column's number; a header cell named "2" wins over the position.
    assert entry.description == "R-1" and entry.reference == "R-1"
    mapping = ColumnMapping(date_column="1", amount_column="2", date_format="%d/%m/%Y")
    with pytest.raises(StatementError, match=r"row 2, column '2': 'Pago' is not an amount"):
        read_tabular(b"Fecha;;Valor\n05/01/2024;Pago;-1,50\n", mapping)
    mapping = ColumnMapping(date_column="1", amount_column="7", date_format="%d/%m/%Y")
    with pytest.raises(StatementError) as caught:
        read_tabular(text.encode(), mapping)
    assert caught.value.message == "The file has 4 columns: there is no column 7."
    assert caught.value.message_es == "El archivo tiene 4 columnas: no hay columna 7."


def test_a_total_or_balance_line_after_the_last_dated_line_is_left_out():
    text = ("Fecha;Concepto;Importe\n05/01/2024;a;-10,00\n06/01/2024;b;5,50\n"
            "Total;;-4,50\nSaldo final;;1.000,00\n;;995,50\n")
    [statement] = read_tabular(text.encode())
    assert [e.amount for e in statement.entries] == [Decimal("-10.00"), Decimal("5.50")]
    # Between dated lines it is an error naming the line, in both languages.
    middle = "Fecha;Concepto;Importe\n05/01/2024;a;-10,00\nTotal;;-10,00\n06/01/2024;b;5,50\n"
    with pytest.raises(StatementError) as caught:
        read_tabular(middle.encode())
    assert caught.value.message.startswith("row 3, column 'Fecha': 'Total' is not a date")
    assert caught.value.message_es.startswith("fila 3, columna 'Fecha': 'Total' no es una")
    # A mistyped date is an error even on the last line.
    mistyped = "Fecha;Importe\n05/01/2024;-10,00\n31/02/2024;5,50\n"
    mapping = ColumnMapping(date_column="Fecha", amount_column="Importe", date_format="%d/%m/%Y",
                            decimal_comma=True)
    with pytest.raises(StatementError, match=r"row 3, column 'Fecha': '31/02/2024' is not a"):
        read_tabular(mistyped.encode(), mapping)
