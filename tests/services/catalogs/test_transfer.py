"""A catalog through spreadsheets: export, and import with a report per row."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.catalog import CatalogItem
from app.services.catalogs import transfer
from app.services.errors import DomainError
from app.tenancy import acting_as
from tests.conftest import make_company, make_user


@pytest.fixture
def supplier():
    return make_company("Ferretería")


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="sales")


def run(supplier, seller, content: bytes):
    with acting_as(supplier.id, seller.id):
        report = transfer.import_items(supplier.id, content=content, actor=seller)
        db.session.commit()
        return report


def catalog(supplier):
    with acting_as(supplier.id):
        return {i.seller_item_id: i for i in db.session.scalars(select(CatalogItem))}


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "="
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_spanish_csv_with_semicolons_is_imported_row_by_row(supplier, seller):
    content = (
        "Código;Nombre;Precio;IVA;Unidad;Disponibilidad;Categorías\n"
        "TOR-38;Tornillo ñandú 3/8\";1.250,5;19;94;en existencia;Ferretería, Tornillos\n"
        "CEM-50;Cemento;abc;19;94;;\n"
        ";Sin código;100;;;;\n"
        "TOR-38;Repetido;10;;;;\n"
        "ARE-1;Arena;52000;0;MTQ;bajo pedido;\n"
    ).encode("cp1252", errors="replace")
    report = run(supplier, seller, content)
    assert (report.accepted, report.refused) == (2, 3)
    lines = {row.line: row for row in report.rows}
    assert lines[2].accepted and lines[6].accepted
    with force_locale("en"):
        assert not lines[3].accepted and "price" in str(lines[3].message).lower()
        assert not lines[4].accepted
        assert not lines[5].accepted and "earlier" in str(lines[5].message)
    items = catalog(supplier)
    assert set(items) == {"TOR-38", "ARE-1"}
    assert items["ARE-1"].unit_code == "MTQ" and items["ARE-1"].availability == "on_request"


def test_a_row_with_a_thousands_point_and_decimal_comma_is_read_as_spanish(supplier, seller):
    report = run(supplier, seller, b"code,name,price\nX,Uno,\"1250,75\"\n")
    assert report.accepted == 1
    assert catalog(supplier)["X"].price == Decimal("1250.75")


def test_export_then_import_changes_nothing_and_updates_by_code(supplier, seller):
    run(supplier, seller, xlsx([["code", "name", "price", "currency", "tax %"],
                                ["A-1", "=HYPERLINK(\"x\")", 10.5, "COP", 19],
                                ["B-2", "Dos", 20, "USD", None]]))
    items = catalog(supplier)
    assert items["A-1"].name == '=HYPERLINK("x")' and items["B-2"].currency == "USD"
    with acting_as(supplier.id):
        exported = transfer.export_items(supplier.id, "xlsx")
        as_csv = transfer.export_items(supplier.id, "csv")
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:3] == ["code", "gtin", "name"]
    assert any(str(v).startswith("'=") for row in cells for v in row if v)  # neutralised
    assert "'=HYPERLINK" in as_csv.decode("utf-8-sig")
    report = run(supplier, seller, exported)
    with force_locale("en"):
        assert report.accepted == 2 and all(str(r.message) == "Updated." for r in report.rows)
    again = catalog(supplier)
    assert again["A-1"].name == '=HYPERLINK("x")' and again["A-1"].price == Decimal("10.5")


@pytest.mark.parametrize("content", [
    b"", b"\x00\x01\x02binary", b"PK\x03\x04not a workbook",
    b"nombre;precio\nUno;10\n",  # no code column
])
def test_files_that_cannot_be_imported_say_why(supplier, seller, content):
    with acting_as(supplier.id, seller.id), pytest.raises(DomainError) as raised:
        transfer.import_items(supplier.id, content=content, actor=seller)
    assert str(raised.value.message)
    assert catalog(supplier) == {}


def test_a_file_too_long_is_refused_before_any_row_is_taken(supplier, seller, monkeypatch):
    monkeypatch.setattr(transfer, "MAX_IMPORT_ROWS", 3)
    content = "code,name,price\n" + "".join(f"C{i},N{i},1\n" for i in range(5))
    with acting_as(supplier.id, seller.id), pytest.raises(DomainError):
        transfer.import_items(supplier.id, content=content.encode(), actor=seller)
    assert catalog(supplier) == {}


# ---------------------------------------------------------------------------- numbers in files


def run_as(supplier, seller, content: bytes, *, decimal_comma: bool):
    with acting_as(supplier.id, seller.id):
        report = transfer.import_items(supplier.id, content=content, actor=seller,
                                       decimal_comma=decimal_comma)
        db.session.commit()
        return report


@pytest.mark.parametrize("decimal_comma", [True, False])
def test_a_colombian_price_list_with_a_decimal_comma_somewhere_reads_dots_as_thousands(
    supplier, seller, decimal_comma
):
    """Whoever uploads it: one price with a decimal comma says how the file writes numbers."""
    content = (
        "código;nombre;precio;iva;cantidad mínima;empaque\n"
        "A;Uno;1.000;19;1;1\n"
        "B;Dos;1.234,50;19;2,5;1\n"
        "C;Tres;2.500.000;19;1.000;500\n"
    ).encode()
    report = run_as(supplier, seller, content, decimal_comma=decimal_comma)
    assert report.accepted == 3, [str(r.message) for r in report.rows]
    items = catalog(supplier)
    assert [items[c].price for c in "ABC"] == [Decimal(1000), Decimal("1234.50"),
                                              Decimal(2500000)]
    assert items["B"].min_quantity == Decimal("2.5")
    assert (items["C"].min_quantity, items["C"].pack_size) == (Decimal(1000), Decimal(500))


@pytest.mark.parametrize("decimal_comma", [True, False])
def test_an_english_price_list_reads_commas_as_thousands(supplier, seller, decimal_comma):
    content = (
        b"code,name,price,minimum quantity\n"
        b'A,One,"1,000.50",1\n'
        b'B,Two,"1,000",0.250\n'
        b"C,Three,12.5,1\n"
    )
    report = run_as(supplier, seller, content, decimal_comma=decimal_comma)
    assert report.accepted == 3, [str(r.message) for r in report.rows]
    items = catalog(supplier)
    assert [items[c].price for c in "ABC"] == [Decimal("1000.50"), Decimal(1000),
                                              Decimal("12.5")]
    assert items["B"].min_quantity == Decimal("0.250")


def test_a_file_that_does_not_show_its_separator_follows_the_readers_language(supplier,
                                                                               seller):
    content = b"code;name;price\nA;Uno;1.000\nB;Dos;15.000\n"
    run_as(supplier, seller, content, decimal_comma=True)
    assert [catalog(supplier)[c].price for c in "AB"] == [Decimal(1000), Decimal(15000)]
    run_as(supplier, seller, content, decimal_comma=False)  # the same codes: updated
    assert [catalog(supplier)[c].price for c in "AB"] == [Decimal(1), Decimal(15)]


def test_a_workbooks_number_cells_are_the_numbers_they_hold(supplier, seller):
    """A typed 1.234 is one point two three four, even for a reader who writes 1.234,5."""
    content = xlsx([
        ["code", "name", "price", "tax %", "minimum quantity", "pack size"],
        ["A", "Uno", 1.234, 19, 1, 1],
        ["B", "Dos", 1000, 19.5, 0.5, 0.25],
        ["C", "Tres", "1.000", 0, 1, 1],  # text: the reader's convention
        ["D", "Cuatro", Decimal("12.5"), None, None, None],
        [7702004003508, "Cinco", 0.000001, None, 3, 1],  # a number as the code
    ])
    report = run_as(supplier, seller, content, decimal_comma=True)
    assert report.accepted == 5, [str(r.message) for r in report.rows]
    items = catalog(supplier)
    assert items["A"].price == Decimal("1.234") and items["B"].price == Decimal(1000)
    assert items["B"].tax_percent == Decimal("19.5")
    assert (items["B"].min_quantity, items["B"].pack_size) == (Decimal("0.5"), Decimal("0.25"))
    assert items["C"].price == Decimal(1000) and items["D"].price == Decimal("12.5")
    assert items["7702004003508"].price == Decimal("0.000001")


def test_garbage_numbers_are_refused_row_by_row_naming_the_field(supplier, seller):
    long = "9" * 500
    content = (
        "code,name,price,tax %,minimum quantity,pack size\n"
        "A,Uno,abc,19,1,1\n"
        "B,Dos,1.2.3,19,1,1\n"
        "C,Tres,1e3,19,1,1\n"
        f"D,Cuatro,{long},19,1,1\n"
        "E,Cinco,-3,19,1,1\n"
        "F,Seis,10,19,-1,1\n"
        "G,Siete,10,19,1,0\n"
        "H,Ocho,10,150,1,1\n"
        "I,Nueve,,19,1,1\n"
        "J,Diez,0.1234567,19,1,1\n"
        "K,Once,  12 ,19,1,1\n"
    ).encode()
    report = run_as(supplier, seller, content, decimal_comma=True)
    with force_locale("en"):
        messages = {row.code: str(row.message) for row in report.rows}
    assert [code for code, m in messages.items() if m == "Added."] == ["K"]
    for code in "ABCD":
        assert messages[code] == "price: Give a number, like 1250.50.", messages[code]
    assert messages["E"].startswith("price: Give a number from 0 to")
    assert messages["F"] == "minimum quantity: Give a number above 0."
    assert messages["G"] == "pack size: Give a number above 0."
    assert messages["H"].startswith("tax %: Give a number from 0 to 100")
    assert messages["I"] == "price: Give a number."
    assert messages["J"] == "price: At most six decimals."
    assert set(catalog(supplier)) == {"K"} and catalog(supplier)["K"].price == 12
