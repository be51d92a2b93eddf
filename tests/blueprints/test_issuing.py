"""Issuing invoices and notes through the portal's forms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, NumberingRange, Partnership
from app.services import issuing
from app.tenancy import unscoped
from tests.conftest import give_fiscal_profile, login, make_company, make_user
from tests.services.inbox_helpers import give_certificate

TODAY = dt.datetime.now(issuing.COLOMBIA).date()
KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


@pytest.fixture(autouse=True)
def _english(client):
    """The messages below are checked in English, the source language."""
    with client.session_transaction() as session:
        session["locale"] = "en"


@pytest.fixture
def supplier():
    company = make_company("Emisora")
    give_certificate(company)
    return give_fiscal_profile(company)


@pytest.fixture
def clerk(supplier):
    return make_user(supplier, role="receivables")


@pytest.fixture
def buyer():
    company = make_company("Compradora")
    db.session.refresh(company)
    db.session.expunge(company)  # a plain value for the forms, whatever requests expire
    return company


def numbering_data(**overrides):
    data = {
        "prefix": "FE",
        "range_from": "1",
        "range_to": "1000",
        "resolution": "18760000009",
        "valid_from": (TODAY - dt.timedelta(days=10)).isoformat(),
        "valid_to": (TODAY + dt.timedelta(days=300)).isoformat(),
        "technical_key": KEY,
    }
    return data | overrides


def invoice_data(buyer, **overrides):
    data = {
        "customer_country": "CO",
        "customer_tax_id": buyer.tax_id,
        "customer_name": buyer.legal_name,
        "customer_address_line": "Carrera 7 # 71-21",
        "customer_municipality": "08001",
        "customer_person_type": "1",
        "customer_tax_responsibilities": ["O-23"],
        "customer_tax_scheme": "01",
        "payment_means": "10",
        "lines-0-description": "Portátil",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "400000",
        "lines-0-tax": "IVA19",
        "lines-1-description": "Libro",
        "lines-1-quantity": "3",
        "lines-1-unit_price": "10000",
        "lines-1-tax": "IVA5",
        "lines-2-description": "Almuerzo",
        "lines-2-quantity": "4",
        "lines-2-unit_price": "25000",
        "lines-2-tax": "INC8",
        "withholdings": "RETEFUENTE25",
        "confirm": "1",  # "Sign and send" asks first (app/web/confirm.py)
    }
    return data | overrides


def configure(client):
    response = client.post("/issue/numbering", data=numbering_data())
    assert response.status_code == 302, response.text


def test_a_clerk_configures_a_range_and_issues_an_invoice(client, supplier, clerk, buyer):
    """Can a receivables clerk issue an invoice from the form and land on its page?"""
    login(client, clerk, supplier)
    form = client.get("/issue/invoice")
    assert form.status_code == 200 and 'href="/issue/invoice"' in form.text
    configure(client)
    stored = db.session.scalars(unscoped(select(NumberingRange))).one()
    assert KEY.encode() not in stored.technical_key_encrypted
    response = client.post("/issue/invoice", data=invoice_data(buyer))
    assert response.status_code == 302, response.text
    document = db.session.scalars(unscoped(select(Document))).one()
    assert response.location.endswith(f"/documents/{document.id}")
    assert document.number == "FE1" and document.receiver_company_id == buyer.id
    page = client.get(response.location)
    assert page.status_code == 200
    assert f'href="/issue/documents/{document.id}/credit-note"' in page.text


def test_live_totals(client, supplier, clerk, buyer):
    """Do the live totals show the engine's taxes and total for the lines typed?"""
    login(client, clerk, supplier)
    response = client.post(
        "/issue/invoice/totals", data=invoice_data(buyer), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="invoice-totals"' in response.text and "<html" not in response.text
    # 930,000 + IVA 152,000 + 1,500 + INC 8,000; ReteFuente 2.5 % of 930,000 = 23,250
    assert "1,091,500.00" in response.text and "1,068,250.00" in response.text
    assert "ReteFuente" in response.text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"lines-1-quantity": "-1"}, "lines-1-quantity", "above zero"),
        ({"lines-0-tax": "IVA99"}, "lines-0-tax", "taxes offered"),
        ({"customer_tax_id": "900373076-5"}, "customer_tax_id", "check digit"),
        ({"customer_municipality": "00001"}, "customer_municipality", "00001"),
        ({"customer_address_line": ""}, "customer_address_line", "address"),
        (
            {"customer_tax_responsibilities": ["O-77"]},
            "customer_tax_responsibilities",
            "O-77 is not one of",
        ),
    ],
)
def test_bad_inputs_answer_422_next_to_the_field(
    client, supplier, clerk, buyer, overrides, field, message
):
    """Is each bad input refused with its message beside the field, and no number spent?"""
    login(client, clerk, supplier)
    configure(client)
    response = client.post("/issue/invoice", data=invoice_data(buyer, **overrides))
    assert response.status_code == 422
    assert re.search(rf'data-field-error="{field}">[^<]*{message}', response.text), response.text
    assert db.session.scalars(unscoped(select(Document))).all() == []


def test_empty_lines_are_refused(client, supplier, clerk, buyer):
    """Can an invoice without lines be sent?"""
    login(client, clerk, supplier)
    configure(client)
    data = {k: v for k, v in invoice_data(buyer).items() if not k.startswith("lines-")}
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 422 and "Add at least one line" in response.text


def test_without_a_range_or_certificate_the_form_says_why(client, buyer):
    """What does a company with no range, then no certificate, see when it issues?"""
    company = give_fiscal_profile(make_company("Nueva"))
    owner = make_user(company, role="owner")
    login(client, owner, company)
    response = client.post("/issue/invoice", data=invoice_data(buyer))
    assert response.status_code == 422 and "numbering range" in response.text
    configure(client)
    response = client.post("/issue/invoice", data=invoice_data(buyer))
    assert response.status_code == 422 and "signing certificate" in response.text


def test_a_bad_range_is_refused(client, supplier, clerk):
    """Is a range that ends before it starts refused beside its fields?"""
    login(client, clerk, supplier)
    response = client.post("/issue/numbering", data=numbering_data(range_to="0", technical_key=""))
    assert response.status_code == 422
    assert 'data-field-error="range_to"' in response.text
    assert 'data-field-error="technical_key"' in response.text


def test_a_credit_note_from_the_invoice_page(client, supplier, clerk, buyer):
    """Is the credit note form pre-filled from the invoice, and does it lower its balance?"""
    login(client, clerk, supplier)
    configure(client)
    client.post("/issue/invoice", data=invoice_data(buyer))
    invoice = db.session.scalars(unscoped(select(Document))).one()
    page = client.get(f"/issue/documents/{invoice.id}/credit-note")
    assert page.status_code == 200 and 'value="Portátil"' in page.text
    data = {
        "reason": "2",
        "lines-0-description": "Portátil",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "400000",
        "lines-0-tax": "IVA19",
    }
    response = client.post(f"/issue/documents/{invoice.id}/credit-note", data=data)
    assert response.status_code == 302, response.text
    invoice = db.session.scalars(
        unscoped(select(Document).where(Document.id == invoice.id)).execution_options(
            populate_existing=True
        )
    ).one()
    assert invoice.open_balance == invoice.payable - 476000
    bad = client.post(f"/issue/documents/{invoice.id}/debit-note", data=data | {"reason": "9"})
    assert bad.status_code == 422 and 'data-field-error="reason"' in bad.text
    assert client.get(f"/issue/documents/{invoice.id}/debit-note").status_code == 200


def test_another_companys_invoice_is_not_found(client, supplier, clerk, buyer):
    """Can a company open a note form on an invoice it did not send?"""
    other = give_fiscal_profile(make_company("Ajena"))
    give_certificate(other)
    owner = make_user(other, role="owner")
    login(client, owner, other)
    configure(client)
    client.post("/issue/invoice", data=invoice_data(buyer))
    invoice = db.session.scalars(unscoped(select(Document))).one()
    login(client, clerk, supplier)
    assert client.get(f"/issue/documents/{invoice.id}/credit-note").status_code == 404
    assert (
        client.post(f"/issue/documents/{invoice.id}/debit-note", data={"reason": "1"}).status_code
        == 404
    )
    # Even the customer cannot issue a note on its supplier's invoice.
    customer_user = make_user(buyer, role="owner")
    login(client, customer_user, buyer)
    assert client.get(f"/issue/documents/{invoice.id}/credit-note").status_code == 404


def test_a_viewer_cannot_issue(client, supplier, buyer):
    """Can a viewer reach the issuing pages?"""
    viewer = make_user(supplier, role="viewer")
    login(client, viewer, supplier)
    assert client.get("/issue/invoice").status_code == 403
    assert client.post("/issue/numbering", data=numbering_data()).status_code == 403
    assert client.post("/issue/invoice/totals", data=invoice_data(buyer)).status_code == 403


def test_a_partner_is_picked_from_the_list(client, supplier, clerk, buyer):
    """Can the clerk pick a customer among its partners instead of typing a tax id?"""
    db.session.add(
        Partnership(
            supplier_id=supplier.id,
            customer_id=buyer.id,
            requested_by_id=supplier.id,
            status="active",
        )
    )
    db.session.commit()
    login(client, clerk, supplier)
    configure(client)
    assert f'value="{buyer.id}"' in client.get("/issue/invoice").text
    data = invoice_data(buyer, customer_id=str(buyer.id), customer_tax_id="", customer_name="")
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 302, response.text
    document = db.session.scalars(unscoped(select(Document))).one()
    assert document.receiver_company_id == buyer.id


def test_the_form_says_to_fill_in_the_fiscal_data_before_lines_are_typed(client, buyer):
    """Does a company without fiscal data learn it on the form, and again when it sends?"""
    company = make_company("Sin datos")
    give_certificate(company)
    owner = make_user(company, role="owner")
    login(client, owner, company)
    configure(client)
    page = client.get("/issue/invoice")
    assert page.status_code == 200 and 'id="fiscal-data-missing"' in page.text
    assert 'href="/company/#fiscal-data"' in page.text
    response = client.post("/issue/invoice", data=invoice_data(buyer))
    assert response.status_code == 422
    assert "on the company page (Company → Fiscal data) before issuing" in response.text
    assert db.session.scalars(unscoped(select(Document))).first() is None


def test_the_form_asks_the_customers_fiscal_data(client, supplier, clerk, buyer):
    """Does the form offer DIAN's municipalities and responsibilities, R-99-PN and ZZ chosen?"""
    login(client, clerk, supplier)
    page = client.get("/issue/invoice")
    assert 'id="fiscal-data-missing"' not in page.text
    assert 'name="customer_address_line"' in page.text
    assert 'list="municipalities"' in page.text and '<datalist id="municipalities">' in page.text
    assert re.search(r'value="R-99-PN"[^>]*checked|checked[^>]*value="R-99-PN"', page.text)
    assert re.search(r'<option selected value="ZZ">|<option value="ZZ" selected>', page.text)


def test_a_partner_without_fiscal_data_is_described_on_the_form(client, supplier, clerk, buyer):
    """Is a partner that never filled in its fiscal data marked, and its address asked for?"""
    db.session.add(
        Partnership(
            supplier_id=supplier.id,
            customer_id=buyer.id,
            requested_by_id=supplier.id,
            status="active",
        )
    )
    db.session.commit()
    login(client, clerk, supplier)
    configure(client)
    assert "fiscal data to type below" in client.get("/issue/invoice").text
    data = invoice_data(
        buyer,
        customer_id=str(buyer.id),
        customer_tax_id="",
        customer_name="",
        customer_address_line="",
        customer_municipality="",
    )
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 422
    assert 'data-field-error="customer_municipality"' in response.text
    assert "has not filled in its fiscal data" in response.text
    data |= {"customer_address_line": "Carrera 7 # 71-21", "customer_municipality": "08001 Barranquilla"}
    assert client.post("/issue/invoice", data=data).status_code == 302
    document = db.session.scalars(unscoped(select(Document))).one()
    assert b"<cbc:CityName>Barranquilla</cbc:CityName>" in document.original
