"""Sending invoices through the portal, the document page, its events and attachments."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import pytest
from lxml import etree
from sqlalchemy import select
from stdnum.co import nit

from app.extensions import db
from app.models import Document, DocumentAttachment, DocumentEvent, QuarantinedUpload
from app.services.documents import reading, storing
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.einvoice.ubl_factory import NS
from tests.services.inbox_helpers import count, counts, signed_invoice, submit

HOSTILE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


pytestmark = pytest.mark.usefixtures("no_official_rules")


def upload(client, *files):
    """Post (name, bytes) files to the upload form."""
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/documents/upload", data=data, content_type="multipart/form-data")


def zipped(*files, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


def outcome_of(html: str, filename: str) -> str:
    match = re.search(rf'data-outcome="([a-z_]+)" data-file="{re.escape(filename)}"', html)
    assert match, f"{filename} not in the report"
    return match.group(1)


def document_numbers(sender) -> set[str]:
    return set(
        db.session.scalars(
            unscoped(select(Document.number).where(Document.sender_company_id == sender.id))
        )
    )


def status_of(document) -> str:
    return db.session.scalars(
        unscoped(select(Document.status).where(Document.id == document.id))
    ).one()


# ------------------------------------------------------------------------------------ sending


def test_is_one_valid_signed_invoice_delivered_and_the_report_says_so(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    assert client.get("/documents/upload").status_code == 200
    response = upload(client, ("f1.xml", signed_invoice(supplier, customer.tax_id, number="A1")))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert outcome_of(html, "f1.xml") == "accepted"
    document = db.session.scalars(unscoped(select(Document).where(Document.number == "A1"))).one()
    assert document.receiver_company_id == customer.id
    assert f"/documents/{document.id}" in html
    assert 'data-testid="upload-summary"' in html


def test_does_a_mixed_upload_deliver_only_the_valid_files_with_a_report_for_each(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number="DUP1"))
    tampered = etree.fromstring(signed_invoice(supplier, customer.tax_id, number="BAD1"))
    tampered.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    archive = zipped(
        ("zip/ok2.xml", signed_invoice(supplier, customer.tax_id, number="OK2")),
        ("zip/hostile.xml", HOSTILE),
        ("zip/dup.xml", signed_invoice(supplier, customer.tax_id, number="DUP1")),
        ("zip/readme.txt", b"not an invoice"),
        ("zip/sub/", b""),
    )
    response = upload(
        client,
        ("ok1.xml", signed_invoice(supplier, customer.tax_id, number="OK1")),
        ("bad1.xml", etree.tostring(tampered)),
        ("lote.zip", archive),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert outcome_of(html, "ok1.xml") == "accepted"
    assert outcome_of(html, "ok2.xml") == "accepted"
    assert outcome_of(html, "bad1.xml") == "invalid"
    assert outcome_of(html, "hostile.xml") == "unreadable"
    assert outcome_of(html, "dup.xml") == "duplicate"
    assert "readme.txt" in html  # reported as skipped
    assert "SIG-DOCUMENT-ALTERED" in html  # the findings are shown
    assert document_numbers(supplier) == {"DUP1", "OK1", "OK2"}
    # The refused files are in the sender's quarantine, with their findings, downloadable.
    page = client.get("/documents/quarantine").get_data(as_text=True)
    assert "bad1.xml" in page and "hostile.xml" in page
    entry = db.session.scalars(
        unscoped(select(QuarantinedUpload).where(QuarantinedUpload.filename == "hostile.xml"))
    ).one()
    download = client.get(f"/documents/quarantine/{entry.id}/download")
    assert download.status_code == 200 and download.data == HOSTILE
    assert download.mimetype == "application/xml"


def test_is_a_zip_bomb_refused_with_a_message_and_nothing_written(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    bomb = zipped(
        ("ok.xml", signed_invoice(supplier, customer.tax_id, number="B1")),
        ("bomb.xml", b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>"),
    )
    assert len(bomb) < 200_000
    before = counts()
    response = upload(client, ("bomb.zip", bomb))
    assert response.status_code == 422
    assert "bomb.zip" in response.get_data(as_text=True)
    assert counts() == before


def test_is_a_zip_with_too_many_files_refused(client, supplier, seller):
    login(client, seller, supplier)
    many = zipped(*[(f"f{i}.xml", b"<a/>") for i in range(storing.MAX_ZIP_FILES + 1)])
    response = upload(client, ("many.zip", many))
    assert response.status_code == 422
    assert count(QuarantinedUpload) == 0


def test_is_an_over_size_request_refused_and_never_a_500(
    app, client, supplier, seller, monkeypatch
):
    login(client, seller, supplier)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = upload(client, ("big.xml", b"<a>" + b" " * 4096 + b"</a>"))
    assert response.status_code == 413


def test_is_an_empty_or_unreadable_zip_refused_with_a_message(client, supplier, seller):
    login(client, seller, supplier)
    assert upload(client).status_code == 422
    response = upload(client, ("broken.zip", b"PK\x03\x04garbage"))
    assert response.status_code == 200
    assert outcome_of(response.get_data(as_text=True), "broken.zip") == "unreadable"


def test_can_a_buyer_without_issue_permission_upload(client, customer, buyer):
    login(client, buyer, customer)
    assert client.get("/documents/upload").status_code == 403


# ------------------------------------------------------------------------------ the document


def test_is_the_document_page_visible_to_both_parties_and_hidden_from_a_third(
    client, invoice, supplier, seller, customer, buyer
):
    for user, company in ((seller, supplier), (buyer, customer)):
        login(client, user, company)
        response = client.get(f"/documents/{invoice.id}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "SETP1" in html and invoice.cufe in html
        assert f"documentkey={invoice.cufe}" in html
        assert 'data-testid="signature"' in html and supplier.legal_name in html
    third = make_company("Tercera")
    login(client, make_user(third), third)
    assert client.get(f"/documents/{invoice.id}").status_code == 404
    assert client.get(f"/documents/{invoice.id}/xml").status_code == 404
    assert client.get(f"/documents/{invoice.id}/pdf").status_code == 404
    assert client.get(f"/documents/{invoice.id}/zip").status_code == 404


def test_do_downloads_return_the_right_bytes_and_types(client, invoice, customer, buyer):
    login(client, buyer, customer)
    original = db.session.scalars(
        unscoped(select(Document.original).where(Document.id == invoice.id))
    ).one()
    xml = client.get(f"/documents/{invoice.id}/xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.data == original
    pdf = client.get(f"/documents/{invoice.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and "SETP1" in pdf_text(pdf.data)
    client.post(f"/documents/{invoice.id}/events", data={"code": "030"})
    archive = client.get(f"/documents/{invoice.id}/zip")
    assert archive.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert "Invoice-SETP1.xml" in names and "Invoice-SETP1.pdf" in names
    assert any(n.startswith("events/030") for n in names)
    event = db.session.scalars(
        unscoped(select(DocumentEvent).where(DocumentEvent.document_id == invoice.id))
    ).one()
    event_xml = client.get(f"/documents/{invoice.id}/events/{event.id}/xml")
    assert event_xml.status_code == 200 and event_xml.mimetype == "application/xml"
    assert b"ApplicationResponse" in event_xml.data


def pdf_text(data: bytes) -> str:
    """Return the PDF's metadata and inflated streams as text (enough to find a number)."""
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    text = b"".join(chunks)
    decoded = text.decode("latin-1")
    # Metadata strings may be UTF-16 (FEFF); fold them to plain text too.
    for match in re.finditer(rb"\(\xfe\xff((?:[^)\\]|\\.)*)\)", text, re.S):
        decoded += match.group(1).decode("utf-16-be", "ignore")
    return decoded


# -------------------------------------------------------------------------------- lifecycle


def test_can_the_buyer_acknowledge_receive_and_accept_and_the_supplier_see_it(
    client, invoice, supplier, seller, customer, buyer
):
    login(client, buyer, customer)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert 'data-event-button="030"' in page and 'data-event-button="033"' not in page
    for code, status in (("030", "acknowledged"), ("032", "goods_received"), ("033", "accepted")):
        response = client.post(
            f"/documents/{invoice.id}/events", data={"code": code, "confirm": "1"}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        assert status_of(invoice) == status
    login(client, seller, supplier)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert 'data-testid="document-status"' in page
    assert "status-accepted" in page
    assert "data-event-button" not in page
    assert page.count("data-event=") == 3


def test_is_an_illegal_event_refused_with_a_message_and_nothing_written(
    client, invoice, customer, buyer
):
    login(client, buyer, customer)
    before = counts()
    response = client.post(f"/documents/{invoice.id}/events", data={"code": "033"})
    assert response.status_code == 422
    assert 'data-testid="event-error"' in response.get_data(as_text=True)
    assert counts() == before and status_of(invoice) == "received"
    htmx = client.post(
        f"/documents/{invoice.id}/events", data={"code": "999"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 422 and 'id="lifecycle"' in htmx.get_data(as_text=True)
    assert "<html" not in htmx.get_data(as_text=True)


def test_can_a_supplier_record_the_buyers_events(client, invoice, supplier, customer):
    owner = make_user(supplier, role="owner")
    login(client, owner, supplier)
    response = client.post(f"/documents/{invoice.id}/events", data={"code": "030"})
    assert response.status_code in (403, 422)
    assert status_of(invoice) == "received"
    seller = make_user(supplier, role="receivables")
    login(client, seller, supplier)
    assert client.post(f"/documents/{invoice.id}/events", data={"code": "030"}).status_code == 403


def test_can_the_buyer_claim_with_reason_02(client, invoice, supplier, seller, customer, buyer):
    login(client, buyer, customer)
    for code in ("030", "032"):
        client.post(f"/documents/{invoice.id}/events", data={"code": code})
    missing = client.post(
        f"/documents/{invoice.id}/events", data={"code": "031", "claim_reason": "02"}
    )
    assert missing.status_code == 422 and status_of(invoice) == "goods_received"
    response = client.post(
        f"/documents/{invoice.id}/events",
        data={"code": "031", "claim_reason": "02", "note": "Faltan 3 cajas.", "confirm": "1"},
    )
    assert response.status_code == 303
    assert status_of(invoice) == "claimed"
    login(client, seller, supplier)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert "Faltan 3 cajas." in page and "status-claimed" in page


# ------------------------------------------------------------------------------ attachments


def attach(client, document, name, content, visibility="both"):
    return client.post(
        f"/documents/{document.id}/attachments",
        data={"file": (io.BytesIO(content), name), "visibility": visibility},
        content_type="multipart/form-data",
    )


def test_is_an_attachment_type_checked_by_its_content(client, invoice, customer, buyer):
    login(client, buyer, customer)
    response = attach(client, invoice, "orden.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")
    assert response.status_code == 422
    assert count(DocumentAttachment) == 0
    assert attach(client, invoice, "orden.pdf", b"%PDF-1.4\n%...").status_code == 303
    assert attach(client, invoice, "foto.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20).status_code == 303
    kinds = set(db.session.scalars(unscoped(select(DocumentAttachment.content_type))))
    assert kinds == {"application/pdf", "image/png"}


def test_is_an_over_size_attachment_refused(client, invoice, customer, buyer, monkeypatch):
    login(client, buyer, customer)
    monkeypatch.setattr(reading, "MAX_ATTACHMENT_BYTES", 100)
    assert attach(client, invoice, "big.txt", b"a" * 101).status_code == 422
    assert count(DocumentAttachment) == 0


def test_does_attachment_visibility_hold_for_the_other_party(
    client, invoice, supplier, seller, customer, buyer
):
    login(client, buyer, customer)
    attach(client, invoice, "privada.txt", b"solo nosotros", visibility="uploader")
    attach(client, invoice, "remision.txt", b"para ambos", visibility="both")
    rows = {a.filename: a.id for a in db.session.scalars(unscoped(select(DocumentAttachment)))}
    got = client.get(f"/documents/{invoice.id}/attachments/{rows['privada.txt']}")
    assert got.status_code == 200 and got.data == b"solo nosotros"
    login(client, seller, supplier)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert "remision.txt" in page and "privada.txt" not in page
    hidden = client.get(f"/documents/{invoice.id}/attachments/{rows['privada.txt']}")
    assert hidden.status_code == 404
    shared = client.get(f"/documents/{invoice.id}/attachments/{rows['remision.txt']}")
    assert shared.status_code == 200 and shared.data == b"para ambos"
    assert shared.mimetype == "text/plain"


def test_does_a_shared_attachment_reach_a_customer_that_registers_later(client, supplier, seller):
    base = "812345678"
    tax_id = base + nit.calc_check_digit(base)
    result = submit(supplier, seller, signed_invoice(supplier, tax_id, number="W1"))
    assert result.accepted and result.document.waiting
    login(client, seller, supplier)
    assert attach(client, result.document, "orden.txt", b"orden 42").status_code == 303
    newcomer = make_company("Recien", tax_id=tax_id)
    clerk = make_user(newcomer, role="payables")
    with acting_as(newcomer.id, clerk.id):
        storing.claim_waiting_documents(newcomer, actor=clerk)
        db.session.commit()
    attachment = db.session.scalars(unscoped(select(DocumentAttachment))).one()
    login(client, clerk, newcomer)
    got = client.get(f"/documents/{result.document.id}/attachments/{attachment.id}")
    assert got.status_code == 200 and got.data == b"orden 42"


def test_is_a_document_that_is_not_a_legal_e_invoice_marked_as_such(
    client, invoice, customer, buyer
):
    row = db.session.scalars(unscoped(select(Document).where(Document.id == invoice.id))).one()
    row.is_legal = False
    db.session.commit()
    login(client, buyer, customer)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert 'data-testid="pdf-origin"' in page
    pdf = client.get(f"/documents/{invoice.id}/pdf")
    text = pdf_text(pdf.data).upper()
    assert pdf.status_code == 200
    assert "NOT A LEGALLY VALID" in text or "NO ES UNA FACTURA" in text
