"""The Inbox at the service level: submitting, refusing, routing, waiting, reading, rolling back."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import select
from stdnum.co import nit

from app import humanize, tenancy
from app.extensions import db
from app.models import AuditEvent, Company, Document, DocumentEvent, QuarantinedUpload
from app.services.documents import queries, storing
from app.services.errors import DomainError, NotFound
from app.tenancy import acting_as, unscoped
from tests.conftest import PASSWORD, make_company, make_user
from tests.einvoice.ubl_factory import NS
from tests.services.inbox_helpers import (
    count,
    counts,
    give_certificate,
    make_document,
    signed_invoice,
    submit,
    written_invoice_and_credit_note,
)


def english(message) -> str:
    with force_locale("en"):
        return str(message)


pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    company = make_company("Proveedora")
    give_certificate(company)
    return company


@pytest.fixture
def clerk(supplier):
    return make_user(supplier, role="owner", name="Sara Proveedora")


@pytest.fixture
def customer():
    return make_company("Compradora")


def fresh_nit() -> str:
    base = f"7{dt.datetime.now().microsecond:08d}"
    return base + nit.calc_check_digit(base)


# ------------------------------------------------------------------------------- delivery


def test_is_a_valid_invoice_delivered_to_the_company_with_the_customers_tax_id(
    supplier, clerk, customer
):
    result = submit(supplier, clerk, signed_invoice(supplier, customer.tax_id))

    assert result.accepted, result.findings
    document = result.document
    assert (document.sender_company_id, document.receiver_company_id) == (supplier.id, customer.id)
    assert (document.document_type, document.number) == ("Invoice", "SETP990000001")
    assert document.customer_tax_id == customer.tax_id and document.customer_country == "CO"
    assert document.supplier_tax_id == supplier.tax_id
    assert document.payable == document.open_balance == Decimal("5950.00")
    assert (document.status, document.payment_status, document.origin) == (
        "received",
        "unpaid",
        "xml",
    )
    assert document.is_legal and document.cufe and len(document.cufe) == 96
    assert document.signature["valid"] and document.signature["signer_tax_id"] == supplier.tax_id
    assert document.issue_date == dt.date(2024, 3, 15) and document.due_date == dt.date(2024, 4, 14)
    assert document.received_at is not None
    assert "delivered" in english(result.message)
    with acting_as(customer.id):
        assert [d.id for d in db.session.scalars(queries.received(customer.id))] == [document.id]
        assert db.session.scalars(queries.sent(customer.id)).all() == []
    with acting_as(supplier.id):
        assert [d.id for d in db.session.scalars(queries.sent(supplier.id))] == [document.id]
    audit = db.session.scalars(
        unscoped(select(AuditEvent).where(AuditEvent.action == "document.submitted"))
    ).one()
    assert audit.company_id == supplier.id and audit.details["receiver_company_id"] == customer.id


def test_is_the_original_file_kept_byte_for_byte(supplier, clerk, customer):
    data = signed_invoice(supplier, customer.tax_id)
    result = submit(supplier, clerk, data, filename="SETP1.xml")
    with acting_as(customer.id):
        document = queries.get_document(customer.id, result.document.id)
        assert document.original == data and document.filename == "SETP1.xml"


# -------------------------------------------------------------------------------- refused


def _refused(result, reason: str, *codes: str) -> QuarantinedUpload:
    assert not result.accepted and result.outcome == reason
    assert result.document is None and result.quarantined is not None
    found = {f.code for f in result.findings if f.severity == "error"}
    assert set(codes) <= found, found
    assert count(Document) == 0
    return result.quarantined


def test_is_a_file_that_is_not_xml_quarantined_and_not_delivered(supplier, clerk):
    entry = _refused(submit(supplier, clerk, b"%PDF-1.7 not xml", "f.pdf"), "unreadable")
    assert entry.original == b"%PDF-1.7 not xml" and entry.filename == "f.pdf"


def test_is_malformed_xml_quarantined(supplier, clerk):
    _refused(submit(supplier, clerk, b"<Invoice><unclosed></Invoice>"), "unreadable")


def test_is_an_order_quarantined_as_not_an_invoice(supplier, clerk):
    """An Order reads well but is not an invoice: is the sender told so, not 'unreadable'?"""
    data = (
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cbc:ID>PO-1</cbc:ID></Order>"
    )
    _refused(submit(supplier, clerk, data), "unreadable", "PORTAL-TYPE")


def test_is_hostile_xml_quarantined_without_reading_the_entity(supplier, clerk, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PORTAL-SECRET-42")
    data = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode()
    entry = _refused(submit(supplier, clerk, data), "unreadable", "XML-DTD")
    assert "PORTAL-SECRET-42" not in repr(entry.findings)


def test_is_an_invoice_changed_after_signing_quarantined(supplier, clerk, customer):
    root = etree.fromstring(signed_invoice(supplier, customer.tax_id))
    root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    entry = _refused(
        submit(supplier, clerk, etree.tostring(root)), "invalid", "SIG-DOCUMENT-ALTERED"
    )
    assert entry.number == "SETP990000001" and entry.document_type == "Invoice"


def test_can_a_company_send_an_invoice_of_another_supplier(supplier, customer):
    """Another company uploads the supplier's genuinely signed invoice: refused."""
    impostor = make_company("Impostora")
    impostor_user = make_user(impostor)
    result = submit(impostor, impostor_user, signed_invoice(supplier, customer.tax_id))
    entry = _refused(result, "not_supplier", "PORTAL-SUPPLIER")
    assert entry.company_id == impostor.id
    assert "own documents" in english(result.message)


def test_is_an_invoice_signed_by_a_third_party_accepted_with_a_warning(supplier, clerk, customer):
    """DIAN lets a technology provider sign for the supplier: the engine warns, and so do we."""
    provider = make_company("Proveedor Tecnológico")
    give_certificate(provider)
    result = submit(supplier, clerk, signed_invoice(supplier, customer.tax_id, signer=provider))
    assert result.accepted
    assert "SIG-SIGNER-TAX-ID" in {f["code"] for f in result.document.findings}
    assert result.document.signature["signer_tax_id"] == provider.tax_id


def test_does_the_sender_see_its_quarantine_and_nobody_else(supplier, clerk, customer):
    submit(supplier, clerk, b"garbage")
    with acting_as(supplier.id):
        assert len(db.session.scalars(queries.quarantine(supplier.id)).all()) == 1
    with acting_as(customer.id):
        assert db.session.scalars(select(QuarantinedUpload)).all() == []


def test_is_a_duplicate_refused_naming_the_original(supplier, clerk, customer):
    data = signed_invoice(supplier, customer.tax_id, number="SETP990000009")
    first = submit(supplier, clerk, data)
    again = submit(
        supplier, clerk, signed_invoice(supplier, customer.tax_id, number="SETP990000009")
    )
    assert again.outcome == "duplicate" and not again.accepted
    assert again.duplicate_of.id == first.document.id
    text = english(again.message)
    assert "SETP990000009" in text and str(first.document.id) in text
    assert "DUPLICATE" in {f.code for f in again.findings}
    # Refused like any other file: kept in the sender's quarantine, saying why.
    assert count(Document) == 1 and count(QuarantinedUpload) == 1
    kept = again.quarantined
    assert (kept.reason, kept.number, kept.document_type) == (
        "duplicate",
        "SETP990000009",
        "Invoice",
    )
    duplicate = next(f for f in kept.findings if f["code"] == "DUPLICATE")
    received_on = first.document.created_at.date().isoformat()
    assert duplicate["message_en"].startswith(
        f"Duplicate of invoice SETP990000009, received on {received_on}"
    )


def test_is_the_same_number_from_two_suppliers_not_a_duplicate(supplier, clerk, customer):
    other = make_company("Otra Proveedora")
    give_certificate(other)
    other_user = make_user(other)
    assert submit(supplier, clerk, signed_invoice(supplier, customer.tax_id)).accepted
    assert submit(other, other_user, signed_invoice(other, customer.tax_id)).accepted


# ------------------------------------------------------------------ waiting for the customer


def test_does_an_invoice_to_an_unregistered_customer_wait_until_it_registers(
    app, client, supplier, clerk, outbox
):
    tax_id = fresh_nit()
    first = submit(supplier, clerk, signed_invoice(supplier, tax_id, email="pagos@nueva.test"))
    second = submit(
        supplier,
        clerk,
        signed_invoice(supplier, tax_id, number="SETP990000002", email="pagos@nueva.test"),
    )
    assert first.accepted and first.document.waiting and first.document.received_at is None
    assert first.invitation_sent_to == "pagos@nueva.test"
    assert second.invitation_sent_to is None  # one invitation per customer, not one per invoice
    mails = outbox()
    assert [m["to"] for m in mails] == ["pagos@nueva.test"]
    assert "SETP990000001" in mails[0]["body"] and "/auth/register" in mails[0]["body"]
    # The e-mail names the sender's tax id as Colombians write it and the amount in pesos.
    written = humanize.tax_id(supplier.tax_id, "CO")
    assert written.startswith("NIT ") and written.count(".") == 2 and written in mails[0]["body"]
    assert supplier.tax_id not in mails[0]["body"]
    assert re.search(r"\$\s[\d.]+,\d\d", mails[0]["body"])

    response = client.post(
        "/auth/register",
        data={
            "legal_name": "Nueva Compradora S.A.S.",
            "trade_name": "Nueva",
            "country": "CO",
            "tax_id": f"{tax_id[:-1]}-{tax_id[-1]}",
            "contact_email": "pagos@nueva.test",
            "user_name": "Nora Nueva",
            "user_email": "nora@nueva.test",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)

    newcomer = db.session.scalars(unscoped(select(Company).where(Company.tax_id == tax_id))).one()
    with acting_as(newcomer.id):
        received = db.session.scalars(queries.received(newcomer.id)).all()
    assert {d.number for d in received} == {"SETP990000001", "SETP990000002"}
    assert all(d.received_at is not None for d in received)
    to_sender = [m for m in outbox() if m["to"] == clerk.email]
    assert len(to_sender) == 1
    assert "SETP990000001" in to_sender[0]["body"] and "SETP990000002" in to_sender[0]["body"]


def test_is_an_address_typed_by_the_sender_invited_even_without_one_in_the_document(
    supplier, clerk, outbox
):
    result = submit(
        supplier, clerk, signed_invoice(supplier, fresh_nit()), invite_email="Compras@Cliente.test"
    )
    assert result.invitation_sent_to == "compras@cliente.test"
    assert [m["to"] for m in outbox()] == ["compras@cliente.test"]


def test_does_a_waiting_invoice_without_an_address_still_wait(supplier, clerk, outbox):
    result = submit(supplier, clerk, signed_invoice(supplier, fresh_nit()))
    assert result.accepted and result.document.waiting and result.invitation_sent_to is None
    assert outbox() == []
    with acting_as(supplier.id):
        assert len(db.session.scalars(queries.waiting_documents(supplier.id)).all()) == 1


def test_is_no_e_mail_sent_when_the_transaction_is_rolled_back(supplier, clerk, outbox):
    with acting_as(supplier.id):
        storing.submit_xml(
            supplier.id,
            filename="f.xml",
            actor=clerk,
            data=signed_invoice(supplier, fresh_nit(), email="a@b.test"),
        )
        db.session.rollback()
    assert outbox() == [] and count(Document) == 0


# --------------------------------------------------------------------------------- tenancy


def test_can_a_third_company_read_the_document_or_its_events(supplier, clerk, customer):
    document = submit(supplier, clerk, signed_invoice(supplier, customer.tax_id)).document
    db.session.add(
        DocumentEvent(
            document_id=document.id,
            sender_company_id=supplier.id,
            receiver_company_id=customer.id,
            code="030",
            actor_company_id=customer.id,
        )
    )
    db.session.commit()
    third = make_company("Tercera")
    with acting_as(third.id):
        assert db.session.scalars(select(Document)).all() == []
        assert db.session.scalars(select(DocumentEvent)).all() == []
        assert db.session.scalars(queries.received(third.id)).all() == []
        assert db.session.scalars(queries.sent(third.id)).all() == []
        with pytest.raises(NotFound):
            queries.get_document(third.id, document.id)
        # Even naming the document's companies, the rule on the row holds.
        assert db.session.scalars(queries.received(customer.id)).all() == []
        assert db.session.scalars(queries.document_events(customer.id, document.id)).all() == []
    for party in (supplier, customer):
        with acting_as(party.id):
            assert queries.get_document(party.id, document.id).id == document.id
            assert (
                len(db.session.scalars(queries.document_events(party.id, document.id)).all()) == 1
            )


def test_with_no_company_bound_are_documents_invisible(supplier, clerk, customer):
    submit(supplier, clerk, signed_invoice(supplier, customer.tax_id))
    assert db.session.scalars(select(Document)).all() == []
    assert tenancy.current_company_id() is None


# ------------------------------------------------------------------------------ credit note


def test_does_a_credit_note_reduce_the_open_balance_of_its_invoice(supplier, clerk, customer):
    invoice_xml, note_xml = written_invoice_and_credit_note(supplier, customer)
    invoice = submit(supplier, clerk, invoice_xml).document
    note = submit(supplier, clerk, note_xml, filename="nc.xml")
    assert note.accepted, note.findings
    assert note.document.related_document_id == invoice.id
    assert note.document.open_balance == Decimal("0")
    with acting_as(customer.id):
        invoice = queries.get_document(customer.id, invoice.id)
    assert invoice.open_balance == invoice.payable - note.document.payable
    assert note.document.payable == Decimal("476000.00")


# ------------------------------------------------------------------------------- rollback


def test_does_a_failure_half_way_leave_no_half_written_document(
    supplier, clerk, customer, monkeypatch
):
    """The row is added and flushed, then the audit step fails: the edge rolls back."""

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    data = signed_invoice(supplier, customer.tax_id)
    monkeypatch.setattr(storing.audit, "record_event", broken)
    with acting_as(supplier.id), pytest.raises(RuntimeError):
        try:
            storing.submit_xml(supplier.id, filename="f.xml", data=data, actor=clerk)
        finally:
            flushed = count(Document)
            db.session.rollback()
    assert flushed == 1  # it was written before the failure …
    assert counts() == (0, 0, 0)  # … and nothing of it is left
    monkeypatch.undo()
    assert submit(supplier, clerk, data).accepted  # and the same file then goes through


# ------------------------------------------------------------------ trays: filters, pages


@pytest.fixture
def trays(supplier, customer):
    other = make_company("Segunda")
    docs = [
        make_document(
            supplier,
            customer,
            issue_date=dt.date(2024, 3, 1),
            payable="100.00",
            due_date=dt.date(2024, 3, 31),
            supplier_name="Proveedora",
        ),
        make_document(
            supplier,
            customer,
            issue_date=dt.date(2024, 3, 5),
            payable="5000.00",
            status="accepted",
            supplier_name="Proveedora",
        ),
        make_document(
            other,
            customer,
            issue_date=dt.date(2024, 3, 5),
            payable="700.00",
            number="OTRA-7",
            supplier_name="Segunda Ltda",
        ),
        make_document(
            other,
            customer,
            issue_date=dt.date(2024, 4, 2),
            payable="50.00",
            document_type="CreditNote",
            supplier_name="Segunda Ltda",
        ),
    ]
    return {"other": other, "docs": docs}


def _received(customer, **filters):
    with acting_as(customer.id):
        stmt = queries.received(customer.id, filters=queries.DocumentFilters(**filters))
        return [d.id for d in db.session.scalars(stmt)]


def test_is_the_received_tray_newest_first_and_filtered(customer, trays):
    a, b, c, d = (doc.id for doc in trays["docs"])
    assert _received(customer) == [d, c, b, a]
    assert _received(customer, counterparty_id=trays["other"].id) == [d, c]
    assert _received(customer, tax_id=trays["other"].tax_id) == [d, c]
    assert _received(customer, date_from=dt.date(2024, 3, 2), date_to=dt.date(2024, 3, 31)) == [
        c,
        b,
    ]
    assert _received(customer, status="accepted") == [b]
    assert _received(customer, document_type="CreditNote") == [d]
    assert _received(customer, amount_min=Decimal("100"), amount_max=Decimal("700")) == [c, a]
    assert _received(customer, search="otra-") == [c]
    assert _received(customer, search="SEGUNDA") == [d, c]
    assert _received(customer, overdue=True, today=dt.date(2024, 4, 1)) == [a]
    assert _received(customer, overdue=True, today=dt.date(2024, 3, 31)) == []


def test_do_pages_follow_each_other_without_gaps_or_repeats(supplier, customer):
    docs = [
        make_document(supplier, customer, issue_date=dt.date(2024, 1, 1 + i % 3)) for i in range(7)
    ]
    expected = [d.id for d in sorted(docs, key=lambda d: (d.issue_date, d.id), reverse=True)]
    seen, cursor = [], None
    with acting_as(customer.id):
        while True:
            page = queries.page(queries.received(customer.id), cursor=cursor, limit=3)
            seen += [d.id for d in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == expected


def test_is_a_forged_page_cursor_refused_with_a_message():
    with pytest.raises(DomainError) as raised:
        queries.Cursor.decode("yesterday_1")
    assert raised.value.field == "cursor"
