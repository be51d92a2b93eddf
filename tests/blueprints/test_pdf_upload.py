"""Sending an invoice as a PDF: extract, review and correct, send as a non-legal document."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pdfplumber
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
    """Upload a PDF and open the review page the upload leads to (jobs run eagerly in tests:
    the extraction is done by then)."""
    return client.post(
        "/documents/upload-pdf",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
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


#: The two lines make_invoice prints, as the review form shows them.
LINES = [
    {
        "description": "Servicio de consultoría número 1",
        "quantity": "1",
        "unit_price": "750000.00",
        "tax_percent": "19",
    },
    {
        "description": "Servicio de consultoría número 2",
        "quantity": "1",
        "unit_price": "750000.00",
        "tax_percent": "19",
    },
]


def line_fields(lines) -> dict[str, str]:
    return {
        f"lines-{i}-{cell}": value for i, line in enumerate(lines) for cell, value in line.items()
    }


def review(customer, token, *, lines=LINES, **changes):
    data = {
        **line_fields(lines),
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


# ------------------------------------------------------------------------------- the lines


def sent_document(supplier):
    return db.session.scalars(
        unscoped(select(Document).where(Document.sender_company_id == supplier.id))
    ).one_or_none()


def test_do_the_extracted_lines_appear_in_the_review_form(client, supplier, seller, customer):
    login(client, seller, supplier)
    html = stage(client, invoice_pdf(customer)).get_data(as_text=True)
    assert field_value(html, "lines-0-description") == "Servicio de consultoría número 1"
    assert field_value(html, "lines-1-unit_price") == "750000"
    assert field_value(html, "lines-0-quantity") == "1"
    # The rate is not printed per line: taken from the header (285000 on 1500000), not doubtful.
    tax = re.search(r'<input[^>]*name="lines-0-tax_percent"[^>]*>', html).group(0)
    assert 'value="19"' in tax and "low-confidence" not in tax
    assert 'data-testid="add-line"' in html


def test_are_edited_lines_stored_exactly_and_shown_to_the_buyer(client, supplier, seller, customer):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    lines = [
        {
            "description": "Consultoría, primera fase",
            "quantity": "2.50",
            "unit_price": "300000.00",
            "tax_percent": "19",
        },
        {"description": "Viáticos", "quantity": "1", "unit_price": "750000", "tax_percent": "19"},
    ]
    sent = client.post("/documents/upload-pdf/confirm", data=review(customer, token, lines=lines))
    assert sent.status_code == 303, sent.get_data(as_text=True)
    document = sent_document(supplier)
    assert document.pdf_lines == [
        {
            "description": "Consultoría, primera fase",
            "quantity": "2.50",
            "unit_price": "300000.00",
            "tax_percent": "19",
            "line_total": "750000.00",
        },
        {
            "description": "Viáticos",
            "quantity": "1",
            "unit_price": "750000",
            "tax_percent": "19",
            "line_total": "750000.00",
        },
    ]
    document_id, original = document.id, document.original

    buyer = make_user(customer, role="payables")
    other = client.application.test_client()
    login(other, buyer, customer)
    page = other.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-testid="pdf-lines"' in page
    assert "Consultoría, primera fase" in page and "Viáticos" in page
    # The reviewed data as a PDF, lines included, marked as not a legal e-invoice.
    reviewed = other.get(f"/documents/{document_id}/pdf?reviewed=1")
    assert reviewed.status_code == 200 and reviewed.data.startswith(b"%PDF-")
    assert reviewed.data != original
    with pdfplumber.open(io.BytesIO(reviewed.data)) as rendered:
        text = rendered.pages[0].extract_text()
    assert "Consultoría, primera fase" in text and "Viáticos" in text
    with zipfile.ZipFile(io.BytesIO(other.get(f"/documents/{document_id}/zip").data)) as z:
        assert "Invoice-FV-1001-reviewed.pdf" in z.namelist()

    stranger = make_user(make_company("Ajena"), role="owner")
    third = client.application.test_client()
    login(third, stranger)
    assert third.get(f"/documents/{document_id}").status_code == 404
    assert third.get(f"/documents/{document_id}/pdf?reviewed=1").status_code == 404


def test_does_a_bad_cell_come_back_with_its_message_and_nothing_stored(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    bad = [{**LINES[0], "quantity": "0"}, {**LINES[1], "description": "", "tax_percent": "150"}]
    page = client.post("/documents/upload-pdf/confirm", data=review(customer, token, lines=bad))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    for name in ("lines-0-quantity", "lines-1-description", "lines-1-tax_percent"):
        assert f'data-field-error="{name}"' in html, name
    assert 'data-field-error="lines-0-description"' not in html
    assert "mayor que 0" in html and "de 0 a 100" in html
    quantity = re.search(r'<input[^>]*name="lines-0-quantity"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in quantity
    assert sent_document(supplier) is None


def test_do_lines_that_miss_the_total_say_by_how_much(client, supplier, seller, customer):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    page = client.post(
        "/documents/upload-pdf/confirm", data=review(customer, token, total="1785100.00")
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'data-field-error="lines"' in html and "-100.00" in html
    assert sent_document(supplier) is None


def test_may_a_pdf_with_lines_not_be_sent_without_them(client, supplier, seller, customer):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    page = client.post("/documents/upload-pdf/confirm", data=review(customer, token, lines=[]))
    assert page.status_code == 422
    assert 'data-field-error="lines"' in page.get_data(as_text=True)


def test_can_rows_be_added_and_removed_without_javascript_and_with_htmx(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    token = token_of(stage(client, invoice_pdf(customer)).get_data(as_text=True))
    added = client.post(
        "/documents/upload-pdf/confirm", data={**review(customer, token), "line_action": "add"}
    )
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert "<html" in html and 'name="lines-2-description"' in html
    assert field_value(html, "number") == "FV-1001"  # the rest of the form is kept
    removed = client.post(
        "/documents/upload-pdf/confirm",
        data={**review(customer, token), "line_action": "remove:lines-0"},
        headers={"HX-Request": "true"},
    )
    fragment = removed.get_data(as_text=True)
    assert removed.status_code == 200 and "<html" not in fragment
    assert 'id="pdf-lines"' in fragment
    assert 'name="lines-0-description"' not in fragment and 'name="lines-1-description"' in fragment
    assert sent_document(supplier) is None


def test_does_a_pdf_without_lines_say_that_none_were_given(client, supplier, seller, customer):
    doc = make_invoice()
    doc.customer.tax_id, doc.customer.check_digit = customer.tax_id[:-1], customer.tax_id[-1]
    doc.lines = []
    login(client, seller, supplier)
    html = stage(client, render_pdf(doc)).get_data(as_text=True)
    assert 'data-testid="no-lines"' in html
    sent = client.post(
        "/documents/upload-pdf/confirm", data=review(customer, token_of(html), lines=[])
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert sent_document(supplier).pdf_lines == []
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="no-lines"' in page


@pytest.mark.parametrize("drawing", ["blank", "shapes"])
def test_does_a_pdf_without_text_say_so_above_an_empty_form(client, supplier, seller, drawing):
    """A scan (a PDF with no text layer) cannot be read: the review says so in words and
    leaves the form empty for typing the invoice by hand, rather than looking like a failure."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if drawing == "shapes":
        pdf.rect(20, 20, 120, 60)
        pdf.line(20, 100, 180, 100)
    login(client, seller, supplier)
    page = stage(client, bytes(pdf.output()), "escaneo.pdf")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "no tiene capa de texto" in html
    assert 'data-testid="pdf-review-form"' in html
    assert field_value(html, "number") == ""
