"""Sending an invoice as a PDF: extract, review and correct, send as a non-legal document."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.einvoice.render import render_pdf
from app.extensions import db
from app.models import Document
from app.tenancy import unscoped
from tests.conftest import login, make_company, make_user
from tests.einvoice.test_render import make_invoice


@pytest.fixture
def supplier():
    return make_company("Proveedora")


@pytest.fixture
def customer():
    return make_company("Compradora")


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="receivables")


def invoice_pdf(customer, *, number="FV-1001", due=True) -> bytes:
    doc = make_invoice()
    doc.number = number
    doc.customer.tax_id, doc.customer.check_digit = customer.tax_id[:-1], customer.tax_id[-1]
    if not due:
        doc.due_date = None
    return render_pdf(doc)


def stage(client, data, name="factura.pdf"):
    return client.post(
        "/documents/upload-pdf",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(html: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html
    )
    assert match, "no token in the review form"
    return match.group(1)


def field_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def review(customer, token, **changes):
    data = {
        "token": token,
        "number": "FV-1001",
        "issue_date": "2019-01-16",
        "due_date": "2019-02-15",
        "currency": "COP",
        "customer_name": "Compradora",
        "customer_tax_id": customer.tax_id,
        "subtotal": "1500000.00",
        "tax": "285000.00",
        "total": "1785000.00",
    }
    data.update(changes)
    return data


def test_a_pdf_is_read_reviewed_corrected_and_delivered_as_not_legal(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    page = stage(client, invoice_pdf(customer, due=False))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert field_value(html, "number") == "FV-1001"
    assert field_value(html, "customer_tax_id").replace("-", "") == customer.tax_id
    # The due date was not found: highlighted, with a hint the field points to.
    due = re.search(r'<input[^>]*name="due_date"[^>]*>', html).group(0)
    assert "low-confidence" in due and 'aria-describedby="due_date-low"' in due
    assert 'id="due_date-low"' in html
    number = re.search(r'<input[^>]*name="number"[^>]*>', html).group(0)
    assert "low-confidence" not in number

    sent = client.post(
        "/documents/upload-pdf/confirm",
        data=review(customer, token_of(html), number="FV-1001-B", due_date="2019-03-01"),
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)
    document = db.session.scalars(
        unscoped(select(Document).where(Document.sender_company_id == supplier.id))
    ).one()
    assert document.number == "FV-1001-B"
    assert str(document.due_date) == "2019-03-01"
    assert document.origin == "pdf" and document.is_legal is False
    assert document.receiver_company_id == customer.id
    assert document.payable == Decimal("1785000.00")
    original, document_id = document.original, document.id
    assert original.startswith(b"%PDF-")

    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="pdf-origin"' in shown
    # The uploaded PDF is the document: downloaded as such, and there is no XML.
    assert client.get(f"/documents/{document_id}/pdf").data == original
    assert client.get(f"/documents/{document_id}/xml").status_code == 404
    with zipfile.ZipFile(io.BytesIO(client.get(f"/documents/{document_id}/zip").data)) as z:
        assert z.read("Invoice-FV-1001-B.pdf") == original

    buyer = make_user(customer, role="payables")
    other = client.application.test_client()
    login(other, buyer, customer)
    assert "FV-1001-B" in other.get("/inbox/received").get_data(as_text=True)
    assert 'data-testid="pdf-origin"' in other.get(f"/documents/{document_id}").get_data(
        as_text=True
    )


def test_a_file_that_is_not_a_pdf_is_refused_with_a_message(client, supplier, seller):
    login(client, seller, supplier)
    page = stage(client, b"<Invoice/>", "factura.xml")
    assert page.status_code == 422
    assert 'data-field-error="file"' in page.get_data(as_text=True)


def test_a_duplicate_number_is_refused(client, supplier, seller, customer):
    login(client, seller, supplier)
    first = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    assert (
        client.post("/documents/upload-pdf/confirm", data=review(customer, first)).status_code
        == 303
    )
    second = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    again = client.post("/documents/upload-pdf/confirm", data=review(customer, second))
    assert again.status_code == 422
    assert "already sent" in again.get_data(as_text=True) or "ya" in again.get_data(as_text=True)
    assert (
        len(
            db.session.scalars(
                unscoped(select(Document).where(Document.sender_company_id == supplier.id))
            ).all()
        )
        == 1
    )


def test_an_invalid_tax_id_comes_back_on_its_field(client, supplier, seller, customer):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    page = client.post(
        "/documents/upload-pdf/confirm", data=review(customer, token, customer_tax_id="12345")
    )
    assert page.status_code == 422
    assert 'data-field-error="customer_tax_id"' in page.get_data(as_text=True)


def test_another_companys_pending_upload_is_not_found(client, supplier, seller, customer):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    intruder = make_user(customer, role="owner")
    other = client.application.test_client()
    login(other, intruder, customer)
    assert (
        other.post("/documents/upload-pdf/confirm", data=review(customer, token)).status_code == 404
    )
    assert (
        other.post(
            "/documents/upload-pdf/confirm", data=review(customer, "../../etc/passwd")
        ).status_code
        == 404
    )
