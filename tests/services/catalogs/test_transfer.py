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
