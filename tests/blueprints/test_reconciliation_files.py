"""Statement files uploaded on an account's page and read for real (the other page tests stub
the reader): what a person importing a bank's CSV or Excel export sees stored or refused."""

from __future__ import annotations

import html
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.reconciliation import LINE_AMOUNT, BankLine, StatementImport
from app.statements import MAX_AMOUNT
from app.tenancy import unscoped
from tests.conftest import login, make_company, make_user
from tests.services.reconciliation import helpers


@pytest.fixture
def owner():
    company = make_company("Proveedora Andina S.A.S.")
    return company, make_user(company, role="owner")


def browser(app, owner, language: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = language
    login(client, owner[1], owner[0])
    return client


def upload(client, account_id: int, data: bytes, name: str):
    return client.post(f"/reconciliation/accounts/{account_id}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def amounts() -> list[Decimal]:
    db.session.expire_all()
    return list(db.session.scalars(unscoped(select(BankLine.amount).order_by(BankLine.id))))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_amount_beyond_what_a_bank_line_keeps_is_refused_on_the_form(app, owner):
    assert LINE_AMOUNT.precision - LINE_AMOUNT.scale == 15 and MAX_AMOUNT == 10**15
    account_id = helpers.bank_account(owner[0]).id
    client = browser(app, owner, "en")
    data = b"Fecha;Concepto;Importe\n05/01/2024;a;12.345.678.901.234.567,89\n"
    response = upload(client, account_id, data, "extracto.csv")
    assert response.status_code == 422
    assert ("row 2, column 'Importe': '12.345.678.901.234.567,89' is too large an amount"
            in text(response))
    assert amounts() == []
    assert db.session.scalar(unscoped(select(func.count()).select_from(StatementImport))) == 0
    client = browser(app, owner, "es")
    assert "es un importe demasiado grande" in text(upload(client, account_id, data, "x.csv"))


def test_pesos_written_with_thousands_points_are_read_in_the_importers_language(app, owner):
    account_id = helpers.bank_account(owner[0]).id
    data = (b"Fecha;Descripcion;Valor\n05/01/2024;Pago;-150.000\n06/01/2024;Abono;25.000\n"
            b"07/01/2024;x;1.500\n")
    response = upload(browser(app, owner, "es"), account_id, data, "extracto.csv")
    assert response.status_code == 303
    assert amounts() == [Decimal(-150000), Decimal(25000), Decimal(1500)]


def test_a_reversal_in_the_debit_column_is_stored_as_money_in(app, owner):
    account_id = helpers.bank_account(owner[0]).id
    data = ("Fecha;Concepto;Débito;Crédito\n05/01/2024;compra;100,00;\n"
            "06/01/2024;reverso;-20,00;\n07/01/2024;abono;;50,00\n").encode()
    assert upload(browser(app, owner, "es"), account_id, data, "x.csv").status_code == 303
    assert amounts() == [Decimal("-100"), Decimal("20"), Decimal("50")]


def test_excels_unicode_text_export_is_imported(app, owner):
    account_id = helpers.bank_account(owner[0]).id
    data = ("Fecha\tConcepto\tImporte\r\n05/01/2024\tPago ñandú\t-1.234,56\r\n"
            "06/01/2024\tAbono\t2.000,00\r\n").encode("utf-16")
    response = upload(browser(app, owner, "en"), account_id, data, "movimientos.txt")
    assert response.status_code == 303
    assert amounts() == [Decimal("-1234.56"), Decimal("2000.00")]


def test_columns_mapped_by_their_number_read_a_header_with_blank_cells(app, owner):
    account_id = helpers.bank_account(owner[0]).id
    client = browser(app, owner, "en")
    response = client.post(f"/reconciliation/accounts/{account_id}/mapping", data={
        "date_column": "1", "date_format": "%d/%m/%Y", "amount_column": "3",
        "description_column": "2", "decimal_comma": "y", "delimiter": ";"})
    assert response.status_code == 303
    data = b"Fecha;;\n05/01/2024;Pago luz;-89,10\n06/01/2024;Cliente;1.000,00\n"
    response = upload(client, account_id, data, "extracto.csv")
    assert response.status_code == 303
    assert amounts() == [Decimal("-89.10"), Decimal("1000.00")]
    assert db.session.scalar(unscoped(select(BankLine.description).order_by(BankLine.id))) == (
        "Pago luz")


def test_a_total_line_at_the_end_of_the_export_does_not_stop_the_import(app, owner):
    account_id = helpers.bank_account(owner[0]).id
    data = b"Fecha;Concepto;Importe\n05/01/2024;a;-10,00\n06/01/2024;b;5,50\nTotal;;-4,50\n"
    assert upload(browser(app, owner, "es"), account_id, data, "x.csv").status_code == 303
    assert amounts() == [Decimal("-10.00"), Decimal("5.50")]
