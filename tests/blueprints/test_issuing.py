"""Issuing invoices and notes through the portal's forms."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, NumberingRange, Partnership
from app.services import issuing
from app.tenancy import acting_as, unscoped
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


def test_a_company_without_fiscal_data_is_told_so_instead_of_the_form(client, buyer):
    """Does a company without fiscal data read what is missing, with the link, and no form
    (and is a POST sent anyway refused without a document)?"""
    company = make_company("Sin datos")
    give_certificate(company)
    owner = make_user(company, role="owner")
    login(client, owner, company)
    configure(client)
    page = client.get("/issue/invoice")
    assert page.status_code == 200 and 'id="issuing-blocked"' in page.text
    assert 'href="/company/#fiscal-data"' in page.text
    assert 'id="invoice-form"' not in page.text
    response = client.post("/issue/invoice", data=invoice_data(buyer))
    assert response.status_code == 422 and 'id="issuing-blocked"' in response.text
    assert db.session.scalars(unscoped(select(Document))).first() is None


def test_the_form_asks_the_customers_fiscal_data(client, supplier, clerk, buyer):
    """Does the form offer DIAN's municipalities and responsibilities, R-99-PN and ZZ chosen?"""
    login(client, clerk, supplier)
    configure(client)
    page = client.get("/issue/invoice")
    assert 'id="issuing-blocked"' not in page.text
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
    data |= {
        "customer_address_line": "Carrera 7 # 71-21",
        "customer_municipality": "08001 Barranquilla",
    }
    assert client.post("/issue/invoice", data=data).status_code == 302
    document = db.session.scalars(unscoped(select(Document))).one()
    assert b"<cbc:CityName>Barranquilla</cbc:CityName>" in document.original


# --- The credit note form: live totals, the open balance, the dispute's agreed amount ---------


def issued_invoice(client, buyer):
    """Issue the usual invoice (total 1,091,500.00) from the form and return it."""
    configure(client)
    response = client.post("/issue/invoice", data=invoice_data(buyer) | {"confirm": "1"})
    assert response.status_code == 302, response.text
    return db.session.scalars(unscoped(select(Document))).one()


def note_line(quantity="1", price="400000", tax="IVA19", description="Portátil"):
    return {
        "lines-0-description": description,
        "lines-0-quantity": quantity,
        "lines-0-unit_price": price,
        "lines-0-tax": tax,
    }


def test_the_credit_note_form_shows_live_totals_and_the_open_balance(
    client, supplier, clerk, buyer
):
    """Does the note form, like the invoice form, show its totals and what the invoice owes?"""
    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    page = client.get(f"/issue/documents/{invoice.id}/credit-note")
    assert f'hx-post="/issue/documents/{invoice.id}/credit-note/totals"' in page.text
    assert 'data-testid="open-balance"' in page.text and "COP\xa01,091,500.00" in page.text
    # The pre-filled lines (the whole invoice) already show their total.
    assert 'data-total="payable"><strong>COP\xa01,091,500.00' in page.text
    live = client.post(
        f"/issue/documents/{invoice.id}/credit-note/totals",
        data=note_line(),
        headers={"HX-Request": "true"},
    )
    assert live.status_code == 200 and "<html" not in live.text
    assert 'data-total="payable"><strong>COP\xa0476,000.00' in live.text
    assert 'data-total="open_balance">COP\xa01,091,500.00' in live.text
    assert "form-error" not in live.text


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (note_line(quantity="3"), "COP\xa01,428,000.00"),  # three laptops: more than invoiced
        (note_line(quantity="1", price="917227", tax="IVA19"), "COP\xa01,091,500.13"),  # a cent+
        (note_line(quantity="1", price="1091500.01", tax="IVA0"), "COP\xa01,091,500.01"),
    ],
)
def test_a_credit_note_above_the_open_balance_is_refused_live_and_when_sent(
    client, supplier, clerk, buyer, line, shown
):
    """Do the live totals and the form both refuse a note above the balance, naming it?"""
    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    url = f"/issue/documents/{invoice.id}/credit-note"
    live = client.post(url + "/totals", data=line, headers={"HX-Request": "true"})
    assert live.status_code == 200
    assert "open balance is COP\xa01,091,500.00" in live.text and shown in live.text
    sent = client.post(url, data=line | {"reason": "1", "confirm": "1"})
    assert sent.status_code == 422
    assert "open balance is COP\xa01,091,500.00" in sent.text
    notes = db.session.scalars(unscoped(select(Document).where(Document.id != invoice.id)))
    assert notes.all() == []


def test_after_a_credit_note_the_next_one_fits_what_is_left(client, supplier, clerk, buyer):
    """After crediting one laptop (476,000.00), only 615,500.00 is left to credit."""
    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    url = f"/issue/documents/{invoice.id}/credit-note"
    first = client.post(url, data=note_line() | {"reason": "1", "confirm": "1"})
    assert first.status_code == 302, first.text
    assert "COP\xa0615,500.00" in client.get(url).text
    again = client.post(url, data=note_line(quantity="2") | {"reason": "1", "confirm": "1"})
    assert again.status_code == 422 and "open balance is COP\xa0615,500.00" in again.text
    # In Spanish, the same refusal in pesos as a Colombian writes them.
    with client.session_transaction() as session:
        session["locale"] = "es"
    spanish = client.post(url + "/totals", data=note_line(quantity="2"))
    assert "saldo pendiente es $\xa0615.500,00" in spanish.text


def test_the_note_totals_of_another_companys_invoice_are_not_found(client, supplier, clerk, buyer):
    """Can a company compute totals against an invoice it did not send?"""
    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    other = give_fiscal_profile(make_company("Ajena"))
    login(client, make_user(other, role="owner"), other)
    for kind in ("credit", "debit"):
        url = f"/issue/documents/{invoice.id}/{kind}-note/totals"
        assert client.post(url, data=note_line()).status_code == 404


def test_the_debit_note_form_shows_live_totals_without_a_balance(client, supplier, clerk, buyer):
    """A debit note adds to the invoice: its totals show, no balance limits it."""
    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    live = client.post(
        f"/issue/documents/{invoice.id}/debit-note/totals", data=note_line(quantity="9")
    )
    assert live.status_code == 200 and "COP\xa04,284,000.00" in live.text
    assert "open_balance" not in live.text and "form-error" not in live.text


def test_the_credit_note_agreed_in_a_dispute_is_prefilled_to_the_agreed_amount(
    client, supplier, clerk, buyer
):
    """The issue's case through the form: 468,860 agreed on line 1 (laptops at 400,000 + IVA 19 %)
    pre-fills one unit at 394,000.00, shows 468,860.00, and is issued for exactly that."""
    from app.services.disputes import disputes

    login(client, clerk, supplier)
    invoice = issued_invoice(client, buyer)
    payer = make_user(buyer, role="payables")
    with acting_as(buyer.id, payer.id):
        dispute = disputes.open_dispute(
            buyer.id,
            document_id=invoice.id,
            reason="quantity",
            amount="468860",
            message="Faltó un portátil",
            actor=payer,
        )
        proposal = disputes.propose_resolution(
            buyer.id,
            dispute_id=dispute.id,
            resolution="credit_note",
            amount="468860",
            lines="1",
            actor=payer,
        )
        db.session.commit()
    with acting_as(supplier.id, clerk.id):
        disputes.accept_proposal(
            supplier.id, dispute_id=dispute.id, proposal_id=proposal.id, actor=clerk
        )
        db.session.commit()
    url = f"/issue/documents/{invoice.id}/credit-note"
    page = client.get(url).text
    assert re.search(r'name="lines-0-quantity"[^>]*value="1"', page)
    assert re.search(r'name="lines-0-unit_price"[^>]*value="394000.00"', page)
    assert not re.search(r'name="lines-1-description"[^>]*value="[^"]', page)
    assert 'data-total="payable"><strong>COP\xa0468,860.00' in page
    data = {
        "reason": "4",
        "confirm": "1",
        "notes": "Acordado",
        **note_line(quantity="1", price="394000.00"),
    }
    assert client.post(url, data=data).status_code == 302
    note = db.session.scalars(
        unscoped(select(Document).where(Document.related_document_id == invoice.id))
    ).one()
    assert note.payable == Decimal("468860.00")
