"""The DIAN lifecycle: who may record which event when, signed events, tacit acceptance."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.einvoice.reader import read_document
from app.einvoice.signature import COLOMBIA, verify_document
from app.extensions import db
from app.models import AuditEvent, Document, DocumentEvent
from app.services.errors import Conflict, DomainError, Forbidden, NotFound
from app.services.lifecycle import transitions
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user
from tests.einvoice.ubl_factory import parse
from tests.services.inbox_helpers import count, give_certificate, signed_invoice, submit


def english(message) -> str:
    with force_locale("en"):
        return str(message)


def spanish(message) -> str:
    with force_locale("es"):
        return str(message)


def bogota(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=COLOMBIA)


pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    company = make_company("Proveedora")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    company = make_company("Compradora")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, name="Sara Vendedora")


@pytest.fixture
def buyer(customer):
    return make_user(customer, name="Ana María Gómez")


@pytest.fixture
def invoice(supplier, seller, customer) -> Document:
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id))
    assert result.accepted, result.findings
    return result.document


def record(company, user, document, code, **kwargs):
    """Record an event as a route would: acting as the company, then commit."""
    with acting_as(company.id, user.id):
        event = transitions.record_event(
            company.id, document_id=document.id, code=code, actor=user, **kwargs
        )
        db.session.commit()
    return event


def status_of(document) -> str:
    return db.session.scalars(
        unscoped(select(Document.status).where(Document.id == document.id))
    ).one()


def events_of(document) -> list[str]:
    return list(
        db.session.scalars(
            unscoped(
                select(DocumentEvent.code)
                .where(DocumentEvent.document_id == document.id)
                .order_by(DocumentEvent.id)
            )
        )
    )


def test_declared_transitions_are_the_dian_lifecycle():
    assert {code: (t.sources, t.target, t.by) for code, t in transitions.TRANSITIONS.items()} == {
        "030": (("received",), "acknowledged", "receiver"),
        "032": (("acknowledged",), "goods_received", "receiver"),
        "033": (("goods_received",), "accepted", "receiver"),
        "031": (("goods_received",), "claimed", "receiver"),
        "034": (("goods_received",), "tacitly_accepted", "supplier"),
    }


def test_can_the_buyer_acknowledge_record_receipt_and_accept(customer, buyer, invoice):
    for code, status in (("030", "acknowledged"), ("032", "goods_received"), ("033", "accepted")):
        event = record(customer, buyer, invoice, code)
        assert status_of(invoice) == status
        assert (event.actor_company_id, event.actor_user_id) == (customer.id, buyer.id)
        assert (event.sender_company_id, event.receiver_company_id) == (
            invoice.sender_company_id,
            customer.id,
        )
        # The stored ApplicationResponse is the buyer's, signed, about this invoice.
        outcome = verify_document(parse(event.xml), supplier_tax_id=customer.tax_id[:-1])
        assert outcome.valid and outcome.signer_tax_id == customer.tax_id
        response = read_document(parse(event.xml))[0].responses[0]
        assert (response.response_code, response.reference_id) == (code, invoice.number)
        assert response.reference_uuid == invoice.cufe and event.cude
    assert events_of(invoice) == ["030", "032", "033"]
    actions = db.session.scalars(
        unscoped(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("document.event_%"))
            .order_by(AuditEvent.id)
        )
    ).all()
    assert actions == ["document.event_030", "document.event_032", "document.event_033"]


def test_does_a_receipt_event_name_the_person_who_recorded_it(customer, buyer, invoice):
    event = record(customer, buyer, invoice, "030")
    response = read_document(parse(event.xml))[0].responses[0]
    assert (response.issuer_person_first_name, response.issuer_person_family_name) == (
        "Ana",
        "María Gómez",
    )


def test_does_an_event_name_the_person_by_the_identity_document_on_their_profile(
    customer, invoice
):
    clerk = make_user(customer, name="Luis Pérez", identity=False)
    clerk.id_document_type, clerk.id_document_number = "22", "654321"
    clerk.job_title, clerk.department = "Auxiliar contable", "Cuentas por pagar"
    db.session.commit()
    event = record(customer, clerk, invoice, "030")
    person = parse(event.xml).find(".//{*}IssuerParty/{*}Person")
    assert person.findtext("{*}ID") == "654321"
    assert person.find("{*}ID").get("schemeName") == "22"  # cédula de extranjería
    assert person.findtext("{*}JobTitle") == "Auxiliar contable"
    assert person.findtext("{*}OrganizationDepartment") == "Cuentas por pagar"


def test_is_a_030_or_032_refused_to_a_user_without_an_identity_document(customer, invoice):
    clerk = make_user(customer, name="Sin Cédula", identity=False)
    with pytest.raises(DomainError) as refused:
        record(customer, clerk, invoice, "030")
    db.session.rollback()
    assert "identity document" in english(refused.value.message)
    assert events_of(invoice) == []
    assert status_of(invoice) == "received"


def test_can_the_buyer_claim_with_a_reason_and_an_explanation(customer, buyer, invoice):
    record(customer, buyer, invoice, "030")
    record(customer, buyer, invoice, "032")
    event = record(
        customer, buyer, invoice, "031", claim_reason="02", note="Llegaron 8 de 10 cajas."
    )
    assert status_of(invoice) == "claimed"
    assert (event.claim_reason, event.note) == ("02", "Llegaron 8 de 10 cajas.")
    claim = read_document(parse(event.xml))[0]
    assert claim.responses[0].response_code_list == "02"
    assert "Llegaron 8 de 10 cajas." in claim.notes


@pytest.mark.parametrize(
    "reason, note, field",
    [
        (None, "Faltan cajas", "claim_reason"),
        ("09", "Faltan cajas", "claim_reason"),
        ("02", "   ", "note"),
    ],
)
def test_is_a_claim_without_its_reason_or_explanation_refused(
    customer, buyer, invoice, reason, note, field
):
    record(customer, buyer, invoice, "030")
    record(customer, buyer, invoice, "032")
    with acting_as(customer.id), pytest.raises(DomainError) as raised:
        transitions.record_event(
            customer.id,
            document_id=invoice.id,
            code="031",
            actor=buyer,
            claim_reason=reason,
            note=note,
        )
    assert raised.value.field == field
    db.session.rollback()
    assert status_of(invoice) == "goods_received" and events_of(invoice) == ["030", "032"]


# path to reach the status, then the event that must be refused, and a word of the message
ILLEGAL = [
    ([], "032", "Possible now: acknowledgement of receipt (030)"),
    ([], "033", "Possible now: acknowledgement of receipt (030)"),
    ([], "031", "Possible now: acknowledgement of receipt (030)"),
    (["030"], "033", "Possible now: receipt of the goods or service (032)"),
    (["030"], "031", "Possible now: receipt of the goods or service (032)"),
    (["030"], "030", "already recorded"),
    (["030", "032"], "030", "already recorded"),
    (["030", "032", "033"], "031", "no further event"),
    (["030", "032", "033"], "033", "already recorded"),
    (["030", "032", ("031", "01")], "033", "no further event"),
    (["030", "032", ("031", "01")], "031", "already recorded"),
    ([], "035", "There is no event 035"),
]


@pytest.mark.parametrize("path, code, words", ILLEGAL)
def test_is_an_illegal_transition_refused_with_a_message_and_nothing_written(
    customer, buyer, invoice, path, code, words
):
    for step in path:
        step, reason = step if isinstance(step, tuple) else (step, None)
        record(
            customer,
            buyer,
            invoice,
            step,
            claim_reason=reason,
            note="Documento con errores" if reason else "",
        )
    before = (status_of(invoice), events_of(invoice), count(AuditEvent))
    with acting_as(customer.id), pytest.raises(DomainError) as raised:
        transitions.record_event(
            customer.id,
            document_id=invoice.id,
            code=code,
            actor=buyer,
            claim_reason="02",
            note="Falta mercancía",
        )
    db.session.rollback()
    assert words in english(raised.value.message)
    assert spanish(raised.value.message) != english(raised.value.message)
    assert (status_of(invoice), events_of(invoice), count(AuditEvent)) == before


def test_can_the_supplier_record_the_buyers_events(supplier, seller, invoice):
    for code in ("030", "032", "033", "031", "034"):
        with acting_as(supplier.id), pytest.raises(Forbidden) as raised:
            transitions.record_event(
                supplier.id,
                document_id=invoice.id,
                code=code,
                actor=seller,
                claim_reason="01",
                note="x",
            )
        assert english(raised.value.message)
    db.session.rollback()
    assert status_of(invoice) == "received" and events_of(invoice) == []


def test_can_a_third_company_record_an_event_on_someone_elses_invoice(invoice):
    third = make_company("Tercera")
    user = make_user(third)
    with acting_as(third.id), pytest.raises(NotFound):
        transitions.record_event(third.id, document_id=invoice.id, code="030", actor=user)


def test_can_a_third_company_read_the_events(customer, buyer, invoice):
    record(customer, buyer, invoice, "030")
    third = make_company("Tercera")
    with acting_as(third.id):
        assert db.session.scalars(select(DocumentEvent)).all() == []
    with acting_as(invoice.sender_company_id):
        assert len(db.session.scalars(select(DocumentEvent)).all()) == 1


def test_does_a_buyer_without_a_certificate_get_a_clear_refusal(supplier, seller):
    bare = make_company("Sin Certificado")
    user = make_user(bare)
    document = submit(supplier, seller, signed_invoice(supplier, bare.tax_id)).document
    with acting_as(bare.id), pytest.raises(DomainError) as raised:
        transitions.record_event(bare.id, document_id=document.id, code="030", actor=user)
    db.session.rollback()
    assert "certificate" in english(raised.value.message)
    assert status_of(document) == "received" and events_of(document) == []


def test_does_a_failure_after_the_event_was_written_leave_nothing(
    customer, buyer, invoice, monkeypatch
):
    """The event row is flushed and the status moved; then the audit fails: all rolled back."""

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(transitions.audit, "record_event", broken)
    with acting_as(customer.id), pytest.raises(RuntimeError):
        try:
            transitions.record_event(customer.id, document_id=invoice.id, code="030", actor=buyer)
        finally:
            written = (status_of(invoice), events_of(invoice))
            db.session.rollback()
    assert written == ("acknowledged", ["030"])
    assert status_of(invoice) == "received" and events_of(invoice) == []


def test_does_a_claim_whose_dispute_cannot_open_leave_nothing(
    customer, buyer, invoice, monkeypatch
):
    """A claim opens its dispute through an event handled in the same transaction: when the
    handler fails, the claim is not recorded either."""
    from app.services.disputes import disputes

    record(customer, buyer, invoice, "030")
    record(customer, buyer, invoice, "032")

    def broken(*args, **kwargs):
        raise RuntimeError("disputes store down")

    monkeypatch.setattr(disputes, "open_from_claim", broken)
    with acting_as(customer.id, buyer.id), pytest.raises(RuntimeError):
        try:
            transitions.record_event(
                customer.id,
                document_id=invoice.id,
                code="031",
                actor=buyer,
                claim_reason="02",
                note="Faltan cajas",
            )
        finally:
            db.session.rollback()
    assert status_of(invoice) == "goods_received" and events_of(invoice) == ["030", "032"]


# --------------------------------------------------------------------------- tacit acceptance


def _received_goods(customer, buyer, invoice, at: dt.datetime) -> None:
    record(customer, buyer, invoice, "030", now=at - dt.timedelta(hours=1))
    record(customer, buyer, invoice, "032", now=at)


def test_is_an_invoice_tacitly_accepted_three_business_days_after_receipt(
    supplier, customer, buyer, invoice
):
    """032 on Wednesday 20 March 2024; Monday 25 is a holiday (San José), so the three
    business days are 21, 22 and 26: not due on the 26th, due on the 27th."""
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    assert transitions.acceptance_deadline(bogota(2024, 3, 20, 15, 0)) == dt.date(2024, 3, 26)

    for now in (bogota(2024, 3, 25, 23, 0), bogota(2024, 3, 26, 23, 59)):
        assert transitions.record_tacit_acceptances(now).recorded == []
        db.session.commit()
    assert status_of(invoice) == "goods_received"

    report = transitions.record_tacit_acceptances(bogota(2024, 3, 27, 0, 5))
    db.session.commit()
    assert report.recorded == [invoice.id] and report.skipped == {}
    assert status_of(invoice) == "tacitly_accepted"

    event = db.session.scalars(
        unscoped(select(DocumentEvent).where(DocumentEvent.code == "034"))
    ).one()
    assert (event.actor_company_id, event.actor_user_id) == (supplier.id, None)
    outcome = verify_document(parse(event.xml), supplier_tax_id=supplier.tax_id[:-1])
    assert outcome.valid and outcome.signer_tax_id == supplier.tax_id  # the supplier's signature
    statement = read_document(parse(event.xml))[0]
    receipt = db.session.scalars(
        unscoped(select(DocumentEvent).where(DocumentEvent.code == "032"))
    ).one()
    assert receipt.number in statement.notes[0] and receipt.cude in statement.notes[0]


def test_is_tacit_acceptance_recorded_once_when_the_job_runs_twice(customer, buyer, invoice):
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    later = bogota(2024, 4, 10, 8, 0)
    first = transitions.record_tacit_acceptances(later)
    db.session.commit()
    second = transitions.record_tacit_acceptances(later)
    db.session.commit()
    assert (first.recorded, second.recorded) == ([invoice.id], [])
    assert events_of(invoice).count("034") == 1


def test_does_a_second_worker_racing_the_first_record_nothing(customer, buyer, invoice):
    """Two workers found the same invoice due; the second comes after the first committed."""
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    later = bogota(2024, 4, 10, 8, 0)
    due = transitions.due_for_tacit_acceptance(later)
    assert due == [invoice.id]
    transitions.record_tacit_acceptance(due[0], now=later)
    db.session.commit()
    with pytest.raises(Conflict):
        transitions.record_tacit_acceptance(due[0], now=later)
    db.session.rollback()
    assert events_of(invoice) == ["030", "032", "034"]


def test_does_a_claim_block_tacit_acceptance(customer, buyer, invoice):
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    record(
        customer,
        buyer,
        invoice,
        "031",
        claim_reason="03",
        note="Entrega parcial",
        now=bogota(2024, 3, 21, 9, 0),
    )
    report = transitions.record_tacit_acceptances(bogota(2024, 5, 1, 8, 0))
    db.session.commit()
    assert report.recorded == [] and status_of(invoice) == "claimed"
    assert "034" not in events_of(invoice)


def test_does_a_supplier_without_a_certificate_spare_the_other_invoices(
    supplier, seller, customer, buyer, invoice
):
    bare = make_company("Proveedora Sin Firma")
    give_certificate(bare)
    bare_user = make_user(bare)
    other = submit(bare, bare_user, signed_invoice(bare, customer.tax_id)).document
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    _received_goods(customer, buyer, other, bogota(2024, 3, 20, 15, 0))
    from app.models import SigningCertificate

    db.session.execute(
        unscoped(select(SigningCertificate).where(SigningCertificate.company_id == bare.id))
    ).scalar_one().active = False
    db.session.commit()
    report = transitions.record_tacit_acceptances(bogota(2024, 4, 10, 8, 0))
    db.session.commit()
    assert report.recorded == [invoice.id] and list(report.skipped) == [other.id]
    assert status_of(invoice) == "tacitly_accepted" and status_of(other) == "goods_received"


def test_does_the_cli_job_record_tacit_acceptance(app, customer, buyer, invoice):
    _received_goods(customer, buyer, invoice, bogota(2024, 3, 20, 15, 0))
    result = app.test_cli_runner().invoke(args=["jobs", "tacit-acceptance"])
    assert result.exit_code == 0, result.output
    assert "recorded on 1 invoice(s), 0 skipped" in result.output
    again = app.test_cli_runner().invoke(args=["jobs", "tacit-acceptance"])
    assert "recorded on 0 invoice(s)" in again.output
    assert events_of(invoice).count("034") == 1


def test_are_weekends_and_holidays_skipped_in_business_days():
    assert transitions.add_business_days(dt.date(2024, 3, 22), 1) == dt.date(2024, 3, 26)
    assert not transitions.is_business_day(dt.date(2024, 3, 25))  # San José (observed)
    assert not transitions.is_business_day(dt.date(2024, 3, 23))  # Saturday
    assert transitions.is_business_day(dt.date(2024, 3, 26))
