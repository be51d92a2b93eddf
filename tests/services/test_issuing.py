"""Issuing invoices and notes in the portal: numbering, writing, signing, routing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import select, update

from app.einvoice import cufe
from app.einvoice.signature import verify_document
from app.extensions import db
from app.models import Document, NumberingRange
from app.services import documents, inbox, issuing
from app.services.errors import DomainError, FieldErrors
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.services.inbox_helpers import give_certificate

KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
TODAY = dt.datetime.now(issuing.COLOMBIA).date()

LINES = [
    issuing.LineInput("Portátil", "2", "400000", "IVA19"),
    issuing.LineInput("Libro", "3", "10000", "IVA5", "1000"),
    issuing.LineInput("Almuerzo", "4", "25000", "INC8"),
]


def configure(company, actor, *, range_from=1, range_to=100, valid_from=None, valid_to=None):
    with acting_as(company.id, actor.id):
        numbering = issuing.configure_numbering(
            company.id,
            prefix="SETP",
            range_from=range_from,
            range_to=range_to,
            resolution="18760000001",
            valid_from=valid_from or TODAY - dt.timedelta(days=30),
            valid_to=valid_to or TODAY + dt.timedelta(days=300),
            technical_key=KEY,
            actor=actor,
        )
        db.session.commit()
    return numbering


def issue(company, actor, customer, lines=LINES, **kwargs):
    with acting_as(company.id, actor.id):
        document = issuing.issue_invoice(
            company.id,
            customer=issuing.CustomerInput(company_id=customer.id),
            lines=lines,
            actor=actor,
            **kwargs,
        )
        db.session.commit()
    return document


@pytest.fixture(autouse=True)
def _english():
    """The messages below are checked in English, the source language."""
    with force_locale("en"):
        yield


@pytest.fixture
def supplier():
    company = make_company("Proveedor")
    give_certificate(company)
    return company


@pytest.fixture
def clerk(supplier):
    return make_user(supplier, role="receivables")


@pytest.fixture
def buyer():
    return make_company("Cliente")


def test_an_issued_invoice_reaches_its_customer_signed_with_the_ranges_cufe(supplier, clerk, buyer):
    """Does an invoice issued in the portal arrive, signed, with a CUFE DIAN can recompute?"""
    configure(supplier, clerk)
    document = issue(
        supplier,
        clerk,
        buyer,
        withholdings=["RETEFUENTE25"],
        due_date=TODAY + dt.timedelta(days=30),
        payment_means="42",
        notes="Gracias",
    )
    assert document.number == "SETP1"
    assert document.receiver_company_id == buyer.id
    with acting_as(buyer.id):
        received = db.session.scalars(inbox.received(buyer.id)).all()
        assert [d.id for d in received] == [document.id]
    root = etree.fromstring(document.original)
    outcome = verify_document(root)
    assert outcome.valid
    inputs = cufe.cufe_inputs_from_tree(root)
    assert document.cufe == cufe.compute_cufe(inputs, KEY)
    # 800000 + 30000-1000 + 100000 = 929000; IVA 152000 + 1450; INC 8000
    assert document.line_extension == Decimal("929000.00")
    assert document.payable == Decimal("929000.00") + Decimal("161450.00")
    with acting_as(supplier.id):
        pdf = documents.document_pdf(supplier.id, document.id)
    assert pdf.startswith(b"%PDF-")


def test_numbers_advance_and_are_never_shared(supplier, clerk, buyer):
    """Do two invoices from the same range get consecutive numbers?"""
    configure(supplier, clerk)
    first = issue(supplier, clerk, buyer)
    second = issue(supplier, clerk, buyer)
    assert (first.number, second.number) == ("SETP1", "SETP2")
    with acting_as(supplier.id):
        assert issuing.active_range(supplier.id).next_number == 3


def test_an_exhausted_range_is_refused(supplier, clerk, buyer):
    """Is the invoice after the range's last number refused, with nothing spent?"""
    configure(supplier, clerk, range_from=5, range_to=5)
    assert issue(supplier, clerk, buyer).number == "SETP5"
    with pytest.raises(DomainError, match="used up"):
        issue(supplier, clerk, buyer)


def test_an_expired_range_is_refused(supplier, clerk, buyer):
    """Can a company issue with a resolution whose dates have passed?"""
    configure(
        supplier,
        clerk,
        valid_from=TODAY - dt.timedelta(days=400),
        valid_to=TODAY - dt.timedelta(days=1),
    )
    with pytest.raises(DomainError, match="valid from"):
        issue(supplier, clerk, buyer)


def test_without_a_certificate_the_message_says_to_upload_one(buyer):
    """What does a company without a certificate learn when it issues?"""
    supplier = make_company("Sin certificado")
    user = make_user(supplier, role="owner")
    configure(supplier, user)
    with pytest.raises(DomainError, match="certificate"):
        issue(supplier, user, buyer)
    db.session.rollback()
    with acting_as(supplier.id):
        assert issuing.active_range(supplier.id).next_number == 1


def test_live_totals_follow_the_engines_arithmetic():
    """Are the totals shown while typing the engine's totals?"""
    totals = issuing.compute(LINES, withholdings=["RETEFUENTE25"])
    assert totals.totals.line_extension == Decimal("929000.00")
    assert totals.document.tax_amount("01") == Decimal("153450.00")
    assert totals.document.tax_amount("04") == Decimal("8000.00")
    assert totals.withholdings == Decimal("23225.00")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (issuing.LineInput("X", "-1", "10", "IVA19"), "lines-0-quantity"),
        (issuing.LineInput("X", "1", "10", "IVA99"), "lines-0-tax"),
        (issuing.LineInput("", "1", "10", "IVA19"), "lines-0-description"),
        (issuing.LineInput("X", "1", "abc", "IVA19"), "lines-0-unit_price"),
    ],
)
def test_bad_lines_are_named(line, field):
    """Is each wrong input of a line reported next to it?"""
    with pytest.raises(FieldErrors) as caught:
        issuing.compute([line])
    assert field in caught.value.errors


def test_empty_lines_and_a_wrong_check_digit_are_refused(supplier, clerk):
    """Does a customer tax id with a wrong check digit, with no lines, get refused?"""
    configure(supplier, clerk)
    with acting_as(supplier.id, clerk.id), pytest.raises(FieldErrors) as caught:
        issuing.issue_invoice(
            supplier.id,
            customer=issuing.CustomerInput(tax_id="900373076-5", name="Otro"),
            lines=[],
            actor=clerk,
        )
    assert {"customer_tax_id", "lines"} <= caught.value.errors.keys()
    db.session.rollback()
    with acting_as(supplier.id):
        assert issuing.active_range(supplier.id).next_number == 1


def test_a_credit_note_lowers_the_invoices_open_balance(supplier, clerk, buyer):
    """Does a credit note issued from an invoice reduce what the customer owes?"""
    configure(supplier, clerk)
    invoice = issue(
        supplier, clerk, buyer, lines=[issuing.LineInput("Portátil", "2", "100", "IVA19")]
    )
    with acting_as(supplier.id, clerk.id):
        lines = issuing.invoice_lines(supplier.id, invoice.id)
        assert lines[0].quantity == Decimal("2")
        lines[0].quantity = "1"
        note = issuing.issue_credit_note(
            supplier.id, document_id=invoice.id, reason="1", lines=lines, actor=clerk
        )
        db.session.commit()
    assert note.related_document_id == invoice.id
    assert note.receiver_company_id == buyer.id
    fresh = db.session.scalars(
        select(Document)
        .where(Document.id == invoice.id)
        .execution_options(populate_existing=True, tenancy_unscoped=True)
    ).one()
    assert fresh.open_balance == Decimal("119.00")
    with acting_as(supplier.id, clerk.id):
        debit = issuing.issue_debit_note(
            supplier.id,
            document_id=invoice.id,
            reason="1",
            lines=[issuing.LineInput("Intereses", "1", "10", "IVA0")],
            actor=clerk,
        )
        db.session.commit()
    assert debit.related_document_id == invoice.id
    assert verify_document(etree.fromstring(debit.original)).valid


def test_an_issue_that_loses_the_race_takes_the_next_number(supplier, clerk, monkeypatch):
    """When another issue takes the number just read, does this one move on instead of sharing?"""
    configure(supplier, clerk)
    refresh = db.session.refresh
    moved = []

    def refresh_then_someone_else_issues(instance, *args, **kwargs):
        refresh(instance, *args, **kwargs)
        if not moved:  # between our read and our UPDATE, another issue takes the number
            moved.append(instance.next_number)
            db.session.execute(
                update(NumberingRange)
                .where(NumberingRange.id == instance.id)
                .values(next_number=NumberingRange.next_number + 1)
                .execution_options(synchronize_session=False)
            )

    monkeypatch.setattr(db.session, "refresh", refresh_then_someone_else_issues)
    with acting_as(supplier.id, clerk.id):
        _numbering, number = issuing._take_number(supplier.id, TODAY)
    assert moved == [1] and number == 2
    db.session.rollback()
