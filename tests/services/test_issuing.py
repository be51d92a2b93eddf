"""Issuing invoices and notes in the portal: numbering, writing, signing, routing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import select, update

from app.einvoice import cufe, engine
from app.einvoice.signature import verify_document
from app.extensions import db
from app.models import Document, NumberingRange
from app.services import fiscal, issuing
from app.services.documents import queries, reading
from app.services.errors import DomainError, FieldErrors
from app.tenancy import acting_as
from tests.conftest import give_fiscal_profile, make_company, make_user, shared_data
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
    return give_fiscal_profile(company)


@pytest.fixture
def clerk(supplier):
    return make_user(supplier, role="receivables")


@pytest.fixture
def buyer():
    return give_fiscal_profile(
        make_company("Cliente"),
        person_type="2",
        tax_responsibilities="R-99-PN",
        tax_scheme="ZZ",
        address_line="Carrera 43A # 1-50",
        municipality_code="05001",
        municipality_name="Medellín",
        postal_code=None,
    )


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
        received = db.session.scalars(queries.received(buyer.id)).all()
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
        pdf = reading.document_pdf(supplier.id, document.id)
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
    supplier = give_fiscal_profile(make_company("Sin certificado"))
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


# --- The parties' fiscal data ----------------------------------------------------------------


def read_back(document):
    """Return the canonical document the engine reads from a stored document's XML."""
    result = engine.ingest(document.original)
    assert result.document is not None, result.findings
    return result.document


def test_the_xml_carries_the_suppliers_and_the_partners_fiscal_data(supplier, clerk, buyer):
    """Does the issued XML say where each party is and what DIAN registers them as?"""
    configure(supplier, clerk)
    doc = read_back(issue(supplier, clerk, buyer))
    seller, customer = doc.supplier, doc.customer
    assert (seller.account_type, seller.tax_level_codes, seller.tax_scheme) == (
        "1",
        ["O-13", "O-15"],
        "01",
    )
    assert seller.address.lines == ["Calle 26 # 68-35"]
    assert (seller.address.city_code, seller.address.city) == ("11001", "Bogotá, D.C.")
    assert (seller.address.subdivision_code, seller.address.subdivision) == ("11", "Bogotá")
    assert (seller.address.postal_zone, seller.address.country) == ("111321", "CO")
    assert (customer.account_type, customer.tax_level_codes, customer.tax_scheme) == (
        "2",
        ["R-99-PN"],
        "ZZ",
    )
    assert customer.address.lines == ["Carrera 43A # 1-50"]
    assert (customer.address.city_code, customer.address.city) == ("05001", "Medellín")
    assert (customer.address.subdivision_code, customer.address.subdivision) == (
        "05",
        "Antioquia",
    )
    assert customer.address.postal_zone == ""
    # The responsibilities are written as DIAN wants them: one element, ';'-joined.
    root = etree.fromstring(issue(supplier, clerk, buyer).original)
    assert root.xpath(
        "//cac:AccountingSupplierParty//cac:PartyTaxScheme/cbc:TaxLevelCode/text()",
        namespaces=NS,
    ) == ["O-13;O-15"]


NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def test_a_customer_typed_by_hand_gets_the_fiscal_data_typed(supplier, clerk):
    """Is a customer off the network written with the address and codes the clerk typed?"""
    configure(supplier, clerk)
    with acting_as(supplier.id, clerk.id):
        document = issuing.issue_invoice(
            supplier.id,
            customer=issuing.CustomerInput(
                tax_id="900373076-4",
                name="Cliente Externo S.A.S.",
                address_line="Avenida 6N # 23-45",
                municipality="76001 — Cali",
                person_type="1",
                responsibilities=["O-23", "O-15"],
                tax_scheme="01",
            ),
            lines=LINES,
            actor=clerk,
        )
        db.session.commit()
    customer = read_back(document).customer
    assert (customer.account_type, customer.tax_level_codes, customer.tax_scheme) == (
        "1",
        ["O-23", "O-15"],
        "01",
    )
    assert customer.address.lines == ["Avenida 6N # 23-45"]
    assert (customer.address.city_code, customer.address.city) == ("76001", "Cali")
    assert (customer.address.subdivision_code, customer.address.subdivision) == (
        "76",
        "Valle del Cauca",
    )


def test_a_partner_without_fiscal_data_needs_them_typed(supplier, clerk):
    """Does a partner that never filled in its fiscal data get asked for, then written as typed?"""
    configure(supplier, clerk)
    partner = make_company("Sin perfil")
    with acting_as(supplier.id, clerk.id), pytest.raises(FieldErrors) as caught:
        issuing.issue_invoice(
            supplier.id,
            customer=issuing.CustomerInput(company_id=partner.id),
            lines=LINES,
            actor=clerk,
        )
    assert {"customer_id", "customer_address_line", "customer_municipality"} <= (
        caught.value.errors.keys()
    )
    assert "has not filled in its fiscal data" in str(caught.value.errors["customer_id"][0])
    db.session.rollback()
    with acting_as(supplier.id, clerk.id):
        document = issuing.issue_invoice(
            supplier.id,
            customer=issuing.CustomerInput(
                company_id=partner.id, address_line="Calle 1 # 2-3", municipality="05001 Medellín"
            ),
            lines=LINES,
            actor=clerk,
        )
        db.session.commit()
    customer = read_back(document).customer
    assert document.receiver_company_id == partner.id
    assert (customer.address.city_code, customer.address.city) == ("05001", "Medellín")
    # The defaults for a customer nobody described: persona jurídica, R-99-PN, no tax scheme.
    assert (customer.account_type, customer.tax_level_codes, customer.tax_scheme) == (
        "1",
        ["R-99-PN"],
        "ZZ",
    )


def test_an_issuer_without_fiscal_data_is_told_what_to_fill_in(buyer):
    """Can a company issue before saying where it is, and is a number spent?"""
    supplier = make_company("Sin datos")
    give_certificate(supplier)
    owner = make_user(supplier, role="owner")
    configure(supplier, owner)
    with pytest.raises(DomainError) as caught:
        issue(supplier, owner, buyer)
    message = str(caught.value.message)
    assert "fiscal data" in message and "company page" in message
    assert "address" in message and "municipality" in message
    db.session.rollback()
    with acting_as(supplier.id):
        assert issuing.active_range(supplier.id).next_number == 1


def test_notes_keep_the_invoices_customer_and_the_suppliers_data(supplier, clerk, buyer):
    """Does a credit note name the customer exactly as its invoice did?"""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer)
    with acting_as(supplier.id, clerk.id):
        note = issuing.issue_credit_note(
            supplier.id,
            document_id=invoice.id,
            reason="2",
            lines=[issuing.LineInput("Portátil", "1", "400000", "IVA19")],
            actor=clerk,
        )
        db.session.commit()
    first, second = read_back(invoice), read_back(note)
    assert second.customer.address == first.customer.address
    assert second.customer.tax_level_codes == first.customer.tax_level_codes
    assert second.supplier.address == first.supplier.address


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"municipality": "11999"}, "municipality", "not a municipality in DIAN's list"),
        ({"municipality": "Bogotá"}, "municipality", "5-digit DIVIPOLA code"),
        ({"responsibilities": ["O-13", "X-1"]}, "tax_responsibilities", "X-1 is not one of"),
        ({"responsibilities": []}, "tax_responsibilities", "at least one"),
        ({"person_type": "3"}, "person_type", "persona jurídica"),
        ({"tax_scheme": "06"}, "tax_scheme", "tax schemes offered"),
        ({"address_line": " "}, "address_line", "address"),
        ({"postal_code": "1101"}, "postal_code", "6 digits"),
        ({"postal_code": "999999"}, "postal_code", "not a postal code"),
    ],
)
def test_fiscal_data_are_checked_against_dians_lists(changes, field, message):
    """Is each wrong fiscal input named, with DIAN's lists as the reference?"""
    shared_data()
    typed = {
        "person_type": "1",
        "responsibilities": ["O-13"],
        "tax_scheme": "01",
        "address_line": "Calle 1",
        "municipality": "11001",
        "postal_code": "",
    }
    with pytest.raises(FieldErrors) as caught:
        fiscal.check_fiscal_data(**(typed | changes))
    assert field in caught.value.errors
    assert message in str(caught.value.errors[field][0])


def test_without_dians_lists_the_department_is_checked(app, monkeypatch):
    """Without the official lists, is a municipality checked by its department and typed name?"""
    monkeypatch.setitem(app.config, "DIAN_CODE_LISTS_DIR", "")
    typed = {
        "person_type": "2",
        "responsibilities": ["R-99-PN"],
        "tax_scheme": "ZZ",
        "address_line": "Calle 1",
    }
    data = fiscal.check_fiscal_data(**typed, municipality="05001 Medellín")
    assert (data.municipality_name, data.department_code, data.department_name) == (
        "Medellín",
        "05",
        "Antioquia",
    )
    # A bare code is taken: its department is checked, and no name is made up for it.
    bare = fiscal.check_fiscal_data(**typed, municipality="05001")
    assert (bare.municipality_code, bare.municipality_name, bare.department_name) == (
        "05001",
        "",
        "Antioquia",
    )
    for municipality in ("00001 Nada", "00001", "96001", "1100", "Medellín"):
        with pytest.raises(FieldErrors) as caught:
            fiscal.check_fiscal_data(**typed, municipality=municipality)
        assert caught.value.errors["municipality"]


def test_does_an_issued_note_follow_the_highest_note_number_ever_sent(supplier, clerk, buyer):
    """A note the ERP sent as XML (NC7) is counted: the portal's next note is NC8, not NC1."""
    from tests.services.inbox_helpers import make_document

    configure(supplier, clerk)
    invoice = issue(
        supplier, clerk, buyer, lines=[issuing.LineInput("Portátil", "2", "100", "IVA19")]
    )
    make_document(supplier, buyer, number="NC7", document_type="CreditNote")
    make_document(supplier, buyer, number="NC-A", document_type="CreditNote")  # not ours
    with acting_as(supplier.id, clerk.id):
        lines = issuing.invoice_lines(supplier.id, invoice.id)
        lines[0].quantity = "1"
        note = issuing.issue_credit_note(
            supplier.id, document_id=invoice.id, reason="1", lines=lines, actor=clerk
        )
        db.session.commit()
    assert note.number == "NC8"


# --- Credit notes for an agreed amount, and the open balance -----------------------------------

BOXES = issuing.LineInput("Cajas", "4", "117215", "IVA19")


def payable(lines):
    """What a note with these lines takes off the buyer's balance: the engine's total."""
    return issuing.compute(lines).totals.payable


def for_amount(lines, amount):
    return issuing.credit_lines_for_amount(lines, Decimal(amount), rounding_text="Redondeo")


def test_the_issues_example_credits_exactly_the_agreed_amount_taxes_included():
    """468.860 agreed on line 1 (4 × 117.215 + IVA 19 %) is one unit of 394.000 + 74.860 IVA,
    not 4 × 117.215 + IVA = 557.943,40."""
    lines = for_amount([BOXES], "468860")
    assert [(line.quantity, line.unit_price, line.tax) for line in lines] == [
        (Decimal("1"), Decimal("394000.00"), "IVA19")
    ]
    assert payable(lines) == Decimal("468860.00")


@pytest.mark.parametrize("units", [1, 2, 3, 4])
def test_whole_units_at_the_invoice_price_are_credited_as_those_units(units):
    """Units not delivered: the amount of k units with tax pre-fills k at the invoice's price."""
    net = Decimal(units) * Decimal("117215")
    amount = net + (net * Decimal("0.19")).quantize(Decimal("0.01"))
    lines = for_amount([BOXES], amount)
    assert [(line.quantity, Decimal(line.unit_price)) for line in lines] == [
        (units, Decimal("117215"))
    ]
    assert payable(lines) == amount


def test_whole_units_of_a_discounted_line_take_their_part_of_the_discount():
    """3 books at 10.000 less 1.000 (IVA 5 %): one book is 9.666,67 + 483,33 = 10.150,00."""
    book = issuing.LineInput("Libro", "3", "10000", "IVA5", "1000")
    lines = for_amount([book], "10150.00")
    assert [(line.quantity, line.discount) for line in lines] == [(1, Decimal("333.33"))]
    assert payable(lines) == Decimal("10150.00")


@pytest.mark.parametrize(
    ("tax", "amount"),
    [
        ("IVA19", "468860.03"),  # no net in cents reaches it at 19 %
        ("IVA19", "100000.05"),
        ("IVA19", "1"),
        ("IVA19", "0.01"),
        ("IVA5", "100000"),  # a whole-peso amount no net in cents reaches at 5 %
        ("IVA5", "12345.67"),
        ("INC8", "100000.10"),
        ("INC8", "54321"),
        ("IVA0", "12345.67"),
        ("IVA0", "0.01"),
    ],
)
def test_amounts_that_are_not_whole_units_add_up_to_the_cent(tax, amount):
    """Any agreed amount, at any rate, is the note's total exactly: one unit at an adjusted price,
    and a one-cent line only when no price in cents gives the total."""
    line = issuing.LineInput("Servicio", "3", "987654.32", tax)
    lines = for_amount([line], amount)
    assert payable(lines) == Decimal(amount)
    assert lines[0].quantity == 1 and lines[0].tax == tax
    if issuing._net_for(Decimal(amount), tax) is None:
        assert [(x.description, x.unit_price) for x in lines[1:]] == [("Redondeo", Decimal("0.01"))]
    else:
        assert len(lines) == 1


def test_several_lines_at_mixed_rates_share_the_amount_in_proportion():
    """IVA 19 %, IVA 5 % and INC 8 % lines each credit their share, and the shares add up."""
    lines = for_amount(LINES, "500000")
    assert payable(lines) == Decimal("500000.00")
    assert {line.tax for line in lines} >= {"IVA19", "IVA5", "INC8"}
    whole = payable(LINES)
    for original in LINES:
        credited = [x for x in lines if x.tax == original.tax and x.description != "Redondeo"]
        share = payable(credited) * whole / Decimal("500000")
        assert abs(share - payable([original])) < Decimal("10"), original.description


def test_the_whole_invoice_amount_credits_every_unit_at_its_price():
    """Crediting the invoice's whole total gives back its lines, unit for unit."""
    lines = for_amount(LINES, payable(LINES))
    assert [(x.description, x.quantity) for x in lines] == [
        ("Portátil", 2),
        ("Libro", 3),
        ("Almuerzo", 4),
    ]
    assert payable(lines) == payable(LINES)


def test_an_amount_on_no_line_is_one_value_line_per_tax():
    """Without named lines, the amount is split over the invoice's taxes (one line each)."""
    value = issuing.adjustment_lines(LINES, text="Ajuste")
    assert sorted(x.tax for x in value) == ["INC8", "IVA19", "IVA5"]
    lines = for_amount(value, "77777.77")
    assert payable(lines) == Decimal("77777.77")
    assert {x.tax for x in lines} == {"INC8", "IVA19", "IVA5"}


def test_any_amount_on_any_lines_adds_up_exactly():
    """Many random invoices and amounts (seeded): the pre-filled lines always add up."""
    import random

    rng = random.Random(10)
    for _ in range(400):
        lines = [
            issuing.LineInput(
                f"L{k}",
                str(rng.randint(1, 12)),
                str(Decimal(rng.randint(1, 10**8)) / 100),
                rng.choice(list(issuing.TAXES)),
                str(Decimal(rng.choice([0, 0, rng.randint(0, 100)])) / 100),
            )
            for k in range(rng.randint(1, 5))
        ]
        amount = Decimal(rng.randint(1, int(payable(lines) * 100))) / 100
        credited = for_amount(lines, amount)
        assert payable(credited) == amount, (lines, amount, credited)
        assert len(credited) <= len(lines) + 1


def dispute_agreeing(supplier, clerk, buyer, invoice, amount, lines):
    """Have the buyer propose a credit note and the supplier accept it; return the dispute."""
    from app.services.disputes import disputes

    payer = make_user(buyer, role="payables")

    def as_(company, user, func, **kwargs):
        with acting_as(company.id, user.id):
            result = func(company.id, actor=user, **kwargs)
            db.session.commit()
        return result

    dispute = as_(
        buyer,
        payer,
        disputes.open_dispute,
        document_id=invoice.id,
        reason="quantity",
        amount=amount,
        message="No llegaron todas las cajas",
    )
    proposal = as_(
        buyer,
        payer,
        disputes.propose_resolution,
        dispute_id=dispute.id,
        resolution="credit_note",
        amount=amount,
        lines=lines,
    )
    as_(supplier, clerk, disputes.accept_proposal, dispute_id=dispute.id, proposal_id=proposal.id)
    return dispute


def fresh(document):
    return db.session.scalars(
        select(Document)
        .where(Document.id == document.id)
        .execution_options(populate_existing=True, tenancy_unscoped=True)
    ).one()


def agreed_lines(company_id, invoice_id):
    """Pre-fill the agreed credit note as the issuing page does: the dispute's agreement, then
    issuing's lines for it."""
    from app.services.disputes import disputes

    dispute, proposal = disputes.agreed_credit_note(company_id, invoice_id)
    return issuing.agreed_credit_lines(
        company_id,
        invoice_id,
        dispute_id=dispute.id,
        line_numbers=proposal.lines,
        amount=proposal.amount,
        description=proposal.description,
    )


@pytest.mark.parametrize("withholdings", [[], ["RETEFUENTE25", "RETEIVA15"]])
def test_the_agreed_credit_note_from_a_dispute_is_issued_for_exactly_the_agreed_amount(
    supplier, clerk, buyer, withholdings
):
    """The issue's case end to end: 468.860 agreed on line 1 → a note of 468.860,00 that lowers
    the balance by 468.860,00 and resolves the dispute (withholdings on the invoice or not: the
    balance is the payable before them, so the note carries none)."""
    from app.services.disputes import disputes

    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer, lines=[BOXES, LINES[1]], withholdings=withholdings)
    before = fresh(invoice).open_balance
    dispute = dispute_agreeing(supplier, clerk, buyer, invoice, "468860", "1")
    with acting_as(supplier.id, clerk.id):
        lines, note_text = agreed_lines(supplier.id, invoice.id)
        assert [(x.description, x.quantity, x.unit_price) for x in lines] == [
            ("Cajas", 1, Decimal("394000.00"))
        ]
        assert f"#{dispute.id}" in note_text
        note = issuing.issue_credit_note(
            supplier.id, document_id=invoice.id, reason="4", lines=lines, actor=clerk
        )
        db.session.commit()
    assert note.payable == Decimal("468860.00")
    assert fresh(invoice).open_balance == before - Decimal("468860.00")
    with acting_as(supplier.id):
        assert disputes.get_dispute(supplier.id, dispute.id).status == "resolved"


def test_an_agreed_amount_on_no_line_is_credited_exactly(supplier, clerk, buyer):
    """A credit note agreed without naming lines: one value line per tax, to the cent."""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer)
    dispute_agreeing(supplier, clerk, buyer, invoice, "100000", "")
    with acting_as(supplier.id, clerk.id):
        lines, _text = agreed_lines(supplier.id, invoice.id)
    assert payable(lines) == Decimal("100000.00")
    assert all(
        "Adjustment agreed in dispute" in x.description
        or x.description == ("Rounding to the agreed amount")
        for x in lines
    )


def note(supplier, clerk, invoice, lines, kind="credit"):
    issue_note = issuing.issue_credit_note if kind == "credit" else issuing.issue_debit_note
    with acting_as(supplier.id, clerk.id):
        try:
            document = issue_note(
                supplier.id, document_id=invoice.id, reason="1", lines=lines, actor=clerk
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return document


def test_a_credit_note_above_the_open_balance_is_refused_naming_it(supplier, clerk, buyer):
    """Invoice 238,00: a note of 357,00 is refused; after a note of 119,00 the balance is 119,00
    and a second note of 238,00 is refused naming it; a debit note raises it again."""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer, lines=[issuing.LineInput("Portátil", "2", "100")])
    three = [issuing.LineInput("Portátil", "3", "100", "IVA19")]
    with pytest.raises(DomainError) as caught:
        note(supplier, clerk, invoice, three)
    assert "COP\xa0357.00" in str(caught.value.message)
    assert "open balance is COP\xa0238.00" in str(caught.value.message)
    note(supplier, clerk, invoice, [issuing.LineInput("Portátil", "1", "100", "IVA19")])
    with acting_as(supplier.id):
        assert issuing.open_balance(supplier.id, fresh(invoice)) == Decimal("119.00")
    two = [issuing.LineInput("Portátil", "2", "100", "IVA19")]
    with pytest.raises(DomainError, match="open balance is COP\xa0119.00"):
        note(supplier, clerk, invoice, two)
    # A note of exactly the balance is fine; then nothing more can be credited.
    note(supplier, clerk, invoice, [issuing.LineInput("Portátil", "1", "100", "IVA19")])
    with pytest.raises(DomainError, match="open balance is COP\xa00.00"):
        note(supplier, clerk, invoice, [issuing.LineInput("Ajuste", "1", "0.01", "IVA0")])
    note(supplier, clerk, invoice, [issuing.LineInput("Intereses", "1", "50", "IVA0")], "debit")
    with acting_as(supplier.id):
        assert issuing.open_balance(supplier.id, fresh(invoice)) == Decimal("50.00")
    note(supplier, clerk, invoice, [issuing.LineInput("Ajuste", "1", "50", "IVA0")])
    assert fresh(invoice).open_balance == Decimal("0.00")


def test_the_refusal_speaks_the_readers_language(supplier, clerk, buyer):
    """In Spanish the open balance is written '$ 238,00'."""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer, lines=[issuing.LineInput("Portátil", "2", "100")])
    with force_locale("es"), pytest.raises(DomainError) as caught:
        note(supplier, clerk, invoice, [issuing.LineInput("Portátil", "3", "100", "IVA19")])
    with force_locale("es"):
        assert "saldo pendiente es $\xa0238,00" in str(caught.value.message)


def test_live_note_totals_carry_the_open_balance_and_the_refusal(supplier, clerk, buyer):
    """The credit note's live totals show the balance, and say when the note would be refused."""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer, lines=[issuing.LineInput("Portátil", "2", "100")])
    one = [issuing.LineInput("Portátil", "1", "100", "IVA19")]
    three = [issuing.LineInput("Portátil", "3", "100", "IVA19")]
    with acting_as(supplier.id, clerk.id):
        fine = issuing.compute_note(supplier.id, document_id=invoice.id, kind="credit", lines=one)
        over = issuing.compute_note(supplier.id, document_id=invoice.id, kind="credit", lines=three)
        debit = issuing.compute_note(supplier.id, document_id=invoice.id, kind="debit", lines=three)
    assert (fine.totals.payable, fine.open_balance, fine.refusal) == (
        Decimal("119.00"),
        Decimal("238.00"),
        None,
    )
    assert over.refusal is not None and "COP\xa0238.00" in str(over.refusal.message)
    assert (debit.open_balance, debit.refusal) == (None, None)


@pytest.mark.parametrize(
    ("named", "amount"),
    [
        ([1], "20000.08"),  # IVA 5 %: needs the one-cent line
        ([0], "500000.01"),  # IVA 19 %: needs it too
        ([0, 1, 2], "500000.14"),  # mixed rates
        ([2], "54321.00"),  # INC 8 %
    ],
)
def test_notes_for_agreed_amounts_pass_the_engines_checks(supplier, clerk, buyer, named, amount):
    """Signed, sent and re-read by the engine: no finding, and the payable is the amount."""
    configure(supplier, clerk)
    invoice = issue(supplier, clerk, buyer)
    lines = for_amount([LINES[n] for n in named], amount)
    with acting_as(supplier.id, clerk.id):
        note = issuing.issue_credit_note(
            supplier.id, document_id=invoice.id, reason="4", lines=lines, actor=clerk
        )
        db.session.commit()
    assert note.payable == Decimal(amount)
    result = engine.ingest(note.original)
    assert [f.code for f in result.findings if f.severity == "error"] == []
    assert result.document.totals.payable == Decimal(amount)
