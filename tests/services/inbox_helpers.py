"""Signed DIAN documents between test companies, and a quick way to put them in the Inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from lxml import etree
from sqlalchemy import func, select

from app.einvoice.signature import sign_document
from app.einvoice.writer import write_credit_note, write_invoice
from app.extensions import db
from app.models import Company, Document, DocumentEvent, QuarantinedUpload, User
from app.services import certificates
from app.services.documents import storing
from app.tenancy import acting_as, unscoped
from tests.einvoice import dian_samples as samples
from tests.einvoice.ubl_factory import NS, _el, make_valid_invoice


def give_certificate(company: Company) -> None:
    """Store a self-signed test certificate naming the company's NIT, as its active one."""
    certificates.store_test_certificate(company.id, name=company.legal_name, nit=company.tax_id)
    db.session.commit()


def signing_keys(company: Company):
    with acting_as(company.id):
        return certificates.signing_material(company.id)


def nit_base(compact: str) -> str:
    """Return a compact NIT without its check digit, as a DIAN document writes it."""
    return compact[:-1]


def signed_invoice(
    supplier: Company,
    customer_tax_id: str,
    *,
    number: str = "SETP990000001",
    email: str | None = None,
    signer: Company | None = None,
    unit_price: Decimal | None = None,
) -> bytes:
    """Return an invoice from supplier to the customer tax id, signed by signer (the supplier):
    two lines of 5,950.00 in all, or one line of unit_price plus IVA when it is given."""
    root = make_valid_invoice(
        2 if unit_price is None else 1,
        unit_price=unit_price,
        number=number,
        supplier_nit=nit_base(supplier.tax_id),
        customer_nit=nit_base(customer_tax_id),
    )
    if email:
        party = root.find("cac:AccountingCustomerParty/cac:Party", NS)
        _el(_el(party, "cac:Contact"), "cbc:ElectronicMail", email)
    keys = signing_keys(signer or supplier)
    return sign_document(root, key=keys.key, certificate=keys.certificate)


def _parties(doc, supplier: Company, customer: Company):
    doc.supplier = dataclasses.replace(
        doc.supplier,
        tax_id=nit_base(supplier.tax_id),
        check_digit=supplier.tax_id[-1],
        legal_id=nit_base(supplier.tax_id),
        legal_check_digit=supplier.tax_id[-1],
    )
    doc.customer = dataclasses.replace(
        doc.customer,
        tax_id=nit_base(customer.tax_id),
        check_digit=customer.tax_id[-1],
        legal_id=nit_base(customer.tax_id),
        legal_check_digit=customer.tax_id[-1],
    )
    return doc


def written_invoice_and_credit_note(supplier: Company, customer: Company) -> tuple[bytes, bytes]:
    """Return a signed invoice written by the engine and a signed credit note against it."""
    keys = signing_keys(supplier)
    invoice_doc = _parties(samples.invoice("SETP990000777"), supplier, customer)
    invoice = sign_document(
        write_invoice(invoice_doc, numbering=samples.NUMBERING, software=samples.SOFTWARE),
        key=keys.key,
        certificate=keys.certificate,
    )
    cufe = etree.fromstring(invoice).findtext("cbc:UUID", namespaces=NS)
    note_doc = _parties(samples.credit_note(invoice_doc, cufe, number="NC777"), supplier, customer)
    note = sign_document(
        write_credit_note(note_doc, software=samples.SOFTWARE),
        key=keys.key,
        certificate=keys.certificate,
    )
    return invoice, note


def submit(supplier: Company, actor: User, data: bytes, filename: str = "factura.xml", **kwargs):
    """Submit as the supplier, commit as a route would, and return the Submission."""
    with acting_as(supplier.id, actor.id):
        result = storing.submit_xml(
            supplier.id, filename=filename, data=data, actor=actor, **kwargs
        )
        db.session.commit()
    return result


def count(model) -> int:
    """Count every row of a model, across companies."""
    return db.session.scalar(unscoped(select(func.count()).select_from(model)))


def counts() -> tuple[int, int, int]:
    return count(Document), count(DocumentEvent), count(QuarantinedUpload)


_numbers = iter(range(1, 10**6))


def make_document(
    sender: Company,
    receiver: Company | None,
    *,
    issue_date: dt.date = dt.date(2024, 3, 15),
    payable: str = "1190.00",
    status: str = "received",
    number: str | None = None,
    document_type: str = "Invoice",
    due_date: dt.date | None = None,
    customer_name: str = "Cliente",
    supplier_name: str = "Proveedor",
) -> Document:
    """Add a document row without XML (for the read helpers' tests)."""
    document = Document(
        sender_company_id=sender.id,
        receiver_company_id=receiver.id if receiver else None,
        customer_country="CO",
        customer_tax_id=receiver.tax_id if receiver else "9001234560",
        supplier_name=supplier_name,
        supplier_tax_id=sender.tax_id,
        customer_name=customer_name,
        document_type=document_type,
        number=number or f"T{next(_numbers):06d}",
        issue_date=issue_date,
        due_date=due_date,
        currency="COP",
        payable=Decimal(payable),
        open_balance=Decimal(payable),
        status=status,
        original=b"<Invoice/>",
        is_legal=False,
    )
    db.session.add(document)
    db.session.commit()
    return document
