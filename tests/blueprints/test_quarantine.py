"""Is every refused upload in the sender's quarantine, saying why — a duplicate included?"""

from __future__ import annotations

import io
import re

import pytest
from lxml import etree
from sqlalchemy import select

from app.extensions import db
from app.models import Document, QuarantinedUpload
from app.tenancy import unscoped
from tests.conftest import bearer, login, make_api_token, make_company, make_user
from tests.einvoice.ubl_factory import NS
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")

HOSTILE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


def upload(client, *files):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    response = client.post("/documents/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response


def rows(page: str) -> dict[str, str]:
    """Return each quarantine row's HTML by its reason, one row per reason expected."""
    found = re.findall(r'<tr data-quarantine="\d+" data-reason="([a-z_]+)">(.*?)</tr>', page, re.S)
    return {reason: html for reason, html in found}


def original_of(supplier, number: str) -> Document:
    return db.session.scalars(
        unscoped(
            select(Document).where(
                Document.sender_company_id == supplier.id, Document.number == number
            )
        )
    ).one()


def test_is_a_refused_duplicate_listed_in_the_quarantine_with_its_original(
    client, supplier, seller, customer
):
    login(client, seller, supplier)
    data = signed_invoice(supplier, customer.tax_id, number="DUP7")
    upload(client, ("first.xml", data))
    upload(client, ("again.xml", data))
    original = original_of(supplier, "DUP7")

    page = client.get("/documents/quarantine").get_data(as_text=True)
    row = rows(page)["duplicate"]
    assert "again.xml" in row and "DUP7" in row
    assert "Ya enviado: es un duplicado" in row
    received_on = original.created_at.date().isoformat()
    assert f"Duplicado de la factura DUP7, que el portal recibió el {received_on}" in row
    assert f'href="/documents/{original.id}"' in row
    # The refused bytes are kept and can be downloaded, like every refused file.
    entry = db.session.scalars(
        unscoped(select(QuarantinedUpload).where(QuarantinedUpload.filename == "again.xml"))
    ).one()
    download = client.get(f"/documents/quarantine/{entry.id}/download")
    assert download.status_code == 200 and download.data == data


def test_is_every_class_of_refusal_listed_with_why_in_english(client, supplier, customer):
    english = make_user(supplier, role="owner", locale="en")
    login(client, english, supplier)
    good = signed_invoice(supplier, customer.tax_id, number="OK9")
    tampered = etree.fromstring(signed_invoice(supplier, customer.tax_id, number="BAD9"))
    tampered.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    stranger = make_company("Otra")
    give_certificate(stranger)
    not_ours = signed_invoice(stranger, customer.tax_id, number="THEIRS1")
    upload(
        client,
        ("ok.xml", good),
        ("hostile.xml", HOSTILE),
        ("bad.xml", etree.tostring(tampered)),
        ("theirs.xml", not_ours),
        ("ok-again.xml", good),
    )
    listed = rows(client.get("/documents/quarantine").get_data(as_text=True))
    assert set(listed) == {"unreadable", "invalid", "not_supplier", "duplicate"}
    assert "hostile.xml" in listed["unreadable"]
    assert "Not an invoice or note the portal can read" in listed["unreadable"]
    assert "bad.xml" in listed["invalid"] and "It has errors" in listed["invalid"]
    assert "SIG-DOCUMENT-ALTERED" in listed["invalid"]
    assert "theirs.xml" in listed["not_supplier"]
    assert "It names another supplier" in listed["not_supplier"]
    assert (
        "ok-again.xml" in listed["duplicate"] and "Already sent: a duplicate" in listed["duplicate"]
    )
    assert "Duplicate of invoice OK9, received on" in listed["duplicate"]
    upload_page = client.get("/documents/upload").get_data(as_text=True)
    assert "every refused file" in upload_page and "or a duplicate" in upload_page


def test_is_a_duplicate_sent_through_the_api_in_the_quarantine_too(client, supplier, customer):
    key = bearer(make_api_token(supplier)[1])
    data = signed_invoice(supplier, customer.tax_id, number="API-DUP1")
    headers = {**key, "Content-Type": "application/xml", "X-Filename": "erp.xml"}
    assert client.post("/api/v1/documents", data=data, headers=headers).status_code == 201
    again = client.post("/api/v1/documents", data=data, headers=headers)
    assert again.status_code == 409
    details = again.get_json()["error"]["details"]
    original = original_of(supplier, "API-DUP1")
    assert details["original_id"] == original.id
    entry = db.session.scalars(
        unscoped(select(QuarantinedUpload).where(QuarantinedUpload.id == details["quarantine_id"]))
    ).one()
    assert (entry.company_id, entry.reason, entry.number) == (supplier.id, "duplicate", "API-DUP1")

    owner = make_user(supplier, role="owner")
    login(client, owner, supplier)
    row = rows(client.get("/documents/quarantine").get_data(as_text=True))["duplicate"]
    assert "erp.xml" in row and f'href="/documents/{original.id}"' in row


def test_does_the_buyer_never_see_the_suppliers_refused_duplicate(
    client, supplier, seller, customer, buyer
):
    data = signed_invoice(supplier, customer.tax_id, number="DUP8")
    submit(supplier, seller, data)
    refused = submit(supplier, seller, data)
    assert refused.outcome == "duplicate" and refused.quarantined is not None
    owner = make_user(customer, role="owner")
    login(client, owner, customer)
    assert "DUP8" not in client.get("/documents/quarantine").get_data(as_text=True)
    assert client.get(f"/documents/quarantine/{refused.quarantined.id}/download").status_code == 404
