"""A catalog through spreadsheets: export, and import with a report per row."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Partnership
from app.models.catalog import CatalogAudience, CatalogItem
from app.models.network import ACTIVE
from app.services.catalogs import items as catalog_items
from app.services.catalogs import transfer
from app.services.errors import DomainError
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.test_spreadsheets import workbook, zip_bomb


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


# ------------------------------------------------------------------- changing what the file says


def test_a_file_of_prices_changes_the_prices_and_nothing_else(supplier, seller):
    """A price list (code, price, name) updates prices; the description, categories, tax and
    the rest stay as the supplier set them."""
    run(supplier, seller, (
        "code;name;description;price;currency;tax %;minimum quantity;pack size;availability;"
        "lead time (days);categories;visibility\n"
        "A1;Tornillo;Acero inoxidable;1000;USD;19;10;5;on request;3;Ferretería;network\n"
    ).encode())
    with acting_as(supplier.id, seller.id):
        item_id = catalog(supplier)["A1"].id
        catalog_items.set_published(supplier.id, [item_id], published=False, actor=seller)
        db.session.commit()
    report = run(supplier, seller, b"code;price;name\nA1;1200;Tornillo\nB2;50;Nuevo\n")
    with force_locale("en"):
        assert [str(row.message) for row in report.rows] == ["Updated.", "Added."]
    item, new = catalog(supplier)["A1"], catalog(supplier)["B2"]
    assert (item.price, item.currency) == (Decimal(1200), "USD")
    assert (item.description, item.categories, item.tax_percent) == (
        "Acero inoxidable", "Ferretería", Decimal(19))
    assert (item.min_quantity, item.pack_size, item.lead_time_days) == (10, 5, 3)
    assert (item.availability, item.visibility, item.published) == (
        "on_request", "network", False)
    # A new item gets the defaults.
    assert (new.tax_percent, new.min_quantity, new.availability, new.visibility,
            new.published) == (None, 1, "in_stock", "connected", True)
    # A column the file has changes, even to empty; a blank where an item always has a value
    # (its currency, who sees it, ...) keeps the item's.
    run(supplier, seller, b"code;name;price;tax %;currency;visibility;availability;pack size\n"
                          b"A1;Tornillo;1200;;;;;\n")
    item = catalog(supplier)["A1"]
    assert item.tax_percent is None and item.description == "Acero inoxidable"
    assert (item.currency, item.visibility, item.availability, item.pack_size) == (
        "USD", "network", "on_request", 5)


@pytest.fixture
def customer(supplier):
    customer = make_company("Constructora")
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                               requested_by_id=supplier.id, status=ACTIVE))
    db.session.commit()
    return customer


def chosen_item(supplier, seller, customer, code="A"):
    with acting_as(supplier.id, seller.id):
        checked = catalog_items.check_item(
            {"seller_item_id": code, "name": "Cable", "price": "10", "visibility": "chosen",
             "customers": [customer.id]}, company_id=supplier.id)
        item = catalog_items.save_item(supplier.id, checked, actor=seller)
        db.session.commit()
        return item.id


def audience(supplier):
    with acting_as(supplier.id):
        return sorted(db.session.execute(
            select(CatalogAudience.item_id, CatalogAudience.customer_company_id)).all())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_item_shown_to_chosen_customers_reads_back_from_its_export(supplier, seller,
                                                                      customer, fmt):
    item_id = chosen_item(supplier, seller, customer)
    with acting_as(supplier.id):
        exported = transfer.export_items(supplier.id, fmt)
    report = run(supplier, seller, exported)
    with force_locale("en"):
        assert [str(row.message) for row in report.rows] == ["Updated."]
    assert catalog(supplier)["A"].visibility == "chosen"
    assert audience(supplier) == [(item_id, customer.id)]


def test_a_file_without_a_visibility_column_keeps_who_sees_the_item(supplier, seller, customer):
    item_id = chosen_item(supplier, seller, customer)
    report = run(supplier, seller, b"code;name;price\nA;Cable;12\n")
    assert report.accepted == 1
    item = catalog(supplier)["A"]
    assert (item.price, item.visibility) == (12, "chosen")  # never widened to "connected"
    assert audience(supplier) == [(item_id, customer.id)]
    run(supplier, seller, b"code;name;price;visibility\nA;Cable;13;\n")  # a blank cell
    assert (catalog(supplier)["A"].price, catalog(supplier)["A"].visibility) == (13, "chosen")
    assert audience(supplier) == [(item_id, customer.id)]


def test_a_file_can_show_a_chosen_item_to_all_customers_but_cannot_choose_them(
    supplier, seller, customer
):
    chosen_item(supplier, seller, customer)
    run(supplier, seller, b"code;name;price;visibility\nA;Cable;10;connected\n"
                          b"B;Arena;5;connected\n")
    assert catalog(supplier)["A"].visibility == "connected"
    assert audience(supplier) == []  # forgotten, as the item form forgets them
    # No file names the customers: an item not yet shown to chosen ones cannot become so.
    report = run(supplier, seller, b"code;name;price;visibility\nB;Arena;5;chosen\n"
                                   b"C;Nuevo;5;chosen\n")
    assert report.accepted == 0
    with force_locale("en"):
        assert all(str(row.message).startswith("customers: Choose at least one customer")
                   for row in report.rows)
    assert catalog(supplier)["B"].visibility == "connected" and "C" not in catalog(supplier)


def test_codes_in_other_capitals_change_the_item_written_exactly_so(supplier, seller):
    """The item form takes "abc" and "ABC" as two items: an import never mixes them up."""
    with acting_as(supplier.id, seller.id):
        for code in ("abc", "ABC", "Solo"):
            catalog_items.save_item(supplier.id, catalog_items.check_item(
                {"seller_item_id": code, "name": f"old {code}", "price": "1"},
                company_id=supplier.id), actor=seller)
        db.session.commit()
    run(supplier, seller, b"code;name;price\nABC;nuevo;5\n")
    items = catalog(supplier)
    assert (items["ABC"].name, items["ABC"].price) == ("nuevo", 5)
    assert (items["abc"].name, items["abc"].price) == ("old abc", 1)
    report = run(supplier, seller, b"code;name;price\nabc;otro;7\nABC;tercero;8\nAbc;x;9\n"
                                   b"SOLO;unico;3\nsolo;repetido;4\nnew;n;1\nNEW;N;2\n")
    with force_locale("en"):
        messages = [str(row.message) for row in report.rows]
    assert messages[:2] == ["Updated.", "Updated."]
    assert messages[2].startswith("Several items of your catalog have this code")
    assert messages[3:] == ["Updated.", "This code appears earlier in the file.", "Added.",
                            "This code appears earlier in the file."]
    items = catalog(supplier)
    assert sorted(items) == ["ABC", "SOLO", "abc", "new"]  # "Solo" is now written "SOLO"
    assert (items["abc"].name, items["ABC"].name, items["SOLO"].name) == (
        "otro", "tercero", "unico")


# ------------------------------------------------------------------- files as people make them


def test_a_tax_column_formatted_as_a_percentage_is_the_percentage_shown(supplier, seller):
    run(supplier, seller, workbook([["Código", "Nombre", "Precio", "IVA %"],
                                    ["A", "Cable", 1500, 0.19]], formats={"D2": "0%"}))
    assert catalog(supplier)["A"].tax_percent == Decimal(19)


def test_a_spanish_csv_with_commas_in_its_names_is_split_on_its_semicolons(supplier, seller):
    content = ("Código;Nombre;Precio\n"
               "TOR-38;Tornillo, cabeza plana, acero, 3/8;1.250,50\n"
               "CEM-50;Cemento gris, tipo I, 50 kg;32.000,00\n").encode("cp1252")
    report = run(supplier, seller, content)
    assert report.accepted == 2, [str(row.message) for row in report.rows]
    items = catalog(supplier)
    assert items["TOR-38"].name == "Tornillo, cabeza plana, acero, 3/8"
    assert (items["TOR-38"].price, items["CEM-50"].price) == (Decimal("1250.50"), 32000)


def test_a_workbook_that_unpacks_to_too_much_is_refused_unread(supplier, seller):
    with acting_as(supplier.id, seller.id), pytest.raises(DomainError) as raised, \
            force_locale("en"):
        transfer.import_items(supplier.id, content=zip_bomb(), actor=seller)
    with force_locale("en"):
        assert str(raised.value.message) == ("The workbook unpacks to too much data; split it "
                                             "into smaller files.")


@pytest.mark.parametrize("content", [
    "Catálogo Ferretería 2024\ncódigo;nombre;precio\nA;Cable;1500\n",
    "Lista de precios;;\nVigente desde;2024-01-01;\ncódigo;nombre;precio\nA;Cable;1500\n",
])
def test_title_lines_above_the_header_are_passed_over(supplier, seller, content):
    report = run(supplier, seller, content.encode())
    assert report.accepted == 1 and report.refused == 0
    lines = len(content.splitlines())
    with force_locale("en"):
        assert [(line, str(why)) for line, why in report.skipped] == [
            *((n, "above the header row") for n in range(1, lines - 1)),
            (lines - 1, "the header row"),
        ]
    assert catalog(supplier)["A"].price == 1500


def test_column_titles_with_units_and_little_words_are_recognised(supplier, seller):
    content = ("Código del Ítem;Nombre del producto;Precio unitario (COP);IVA (%);"
               "Tiempo de entrega (días)\nA;Cable;1500;19;3\n")
    report = run(supplier, seller, content.encode())
    assert report.accepted == 1, [str(row.message) for row in report.rows]
    item = catalog(supplier)["A"]
    assert (item.name, item.price, item.tax_percent, item.lead_time_days) == (
        "Cable", 1500, 19, 3)


def test_a_header_the_import_does_not_know_is_named_not_taken_for_an_item(supplier, seller):
    with acting_as(supplier.id, seller.id), pytest.raises(DomainError) as raised:
        transfer.import_items(supplier.id, content=b"Ref;Descr;Importe\nA;Cable;1500\n",
                              actor=seller)
    with force_locale("en"):
        assert str(raised.value.message).startswith("No header row was found")
    assert catalog(supplier) == {}


def test_a_file_without_titles_in_the_exports_order_is_still_read(supplier, seller):
    report = run(supplier, seller, b"A;;Cable;;94;1500;COP;19\nB;;Arena;;;20\n")
    assert report.accepted == 2 and report.skipped == []
    assert catalog(supplier)["A"].tax_percent == 19
