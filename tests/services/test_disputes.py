"""Disputes: who may open one, the conversation, proposals, resolution, the transcript."""

from __future__ import annotations

from decimal import Decimal

import pdfplumber
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Dispute,
    DisputeMessage,
    Document,
    DocumentAttachment,
    Notification,
)
from app.services.disputes import disputes, transcripts
from app.services.errors import Conflict, DomainError, Forbidden, NotFound
from app.services.lifecycle import transitions
from app.tenancy import acting_as, unscoped
from tests.conftest import add_member, make_company, make_user
from tests.services.inbox_helpers import (
    give_certificate,
    make_document,
    signed_invoice,
    submit,
    written_invoice_and_credit_note,
)

pytestmark = pytest.mark.usefixtures("no_official_rules")


def english(message) -> str:
    with force_locale("en"):
        return str(message)


@pytest.fixture
def supplier():
    company = make_company("Proveedora del Valle")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    company = make_company("Compradora Andina")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, name="Sara Vendedora", role="receivables")


@pytest.fixture
def buyer(customer):
    return make_user(customer, name="Ana Compradora", role="payables")


@pytest.fixture
def document(supplier, customer):
    row = make_document(supplier, customer, payable="1190000.00")
    db.session.commit()
    return row


def as_(company, user, func, **kwargs):
    """Call a service as a route would: acting as the company, then commit."""
    with acting_as(company.id, user.id):
        try:
            result = func(company.id, actor=user, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return result


def open_one(customer, buyer, document, **kwargs):
    args = {"reason": "price", "amount": "150000", "message": "El precio no es el pactado."}
    return as_(customer, buyer, disputes.open_dispute, document_id=document.id, **args | kwargs)


def transcript_of(company, dispute) -> list[tuple[str, str]]:
    with acting_as(company.id):
        return [
            (m.kind, m.body if m.kind == "message" else m.params["code"])
            for m in disputes.messages(company.id, dispute.id)
        ]


def test_can_the_buyer_open_a_dispute_that_both_sides_see(supplier, seller, customer, buyer,
                                                         document):
    dispute = open_one(customer, buyer, document)
    assert (dispute.status, dispute.reason, dispute.amount) == ("open", "price", Decimal("150000"))
    assert dispute.waiting_company_id == supplier.id
    for company in (supplier, customer):
        assert transcript_of(company, dispute) == [
            ("system", "opened"),
            ("message", "El precio no es el pactado."),
        ]
    with acting_as(supplier.id):
        shown = db.session.get(Document, document.id)
        assert shown.dispute_status == "open"
    # The supplier's billing staff hear of it in the bell.
    notes = db.session.scalars(
        unscoped(select(Notification).where(Notification.company_id == supplier.id))
    ).all()
    assert [n.kind for n in notes] == ["dispute_opened"]


def test_can_a_third_company_see_or_write_in_the_dispute(customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    stranger_company = make_company("Ajena")
    stranger = make_user(stranger_company, role="owner")
    with acting_as(stranger_company.id, stranger.id), pytest.raises(NotFound):
        disputes.get_dispute(stranger_company.id, dispute.id)
    with pytest.raises(NotFound):
        as_(stranger_company, stranger, disputes.post_message, dispute_id=dispute.id, body="hola")
    with pytest.raises(NotFound):
        as_(stranger_company, stranger, disputes.open_dispute, document_id=document.id,
            reason="price", amount="1", message="x")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "mood"}, "reason"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "99999999999"}, "amount"),
        ({"amount": "10.123"}, "amount"),
        ({"message": "   "}, "message"),
        ({"message": "ñ" * 2049}, "message"),
    ],
)
def test_is_a_bad_dispute_refused_with_its_field(customer, buyer, document, changes, field):
    with pytest.raises(DomainError) as refused:
        open_one(customer, buyer, document, **changes)
    assert refused.value.field == field
    assert db.session.scalar(unscoped(select(Dispute.id))) is None


def test_can_a_document_have_two_open_disputes(supplier, seller, customer, buyer, document):
    open_one(customer, buyer, document)
    with pytest.raises(Conflict):
        as_(supplier, seller, disputes.open_dispute, document_id=document.id, reason="payment",
            amount="1", message="Otra")


def test_may_a_viewer_open_or_write_in_a_dispute(customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    viewer = make_user(customer, role="viewer")
    with pytest.raises(Forbidden):
        as_(customer, viewer, disputes.post_message, dispute_id=dispute.id, body="hola")
    with acting_as(customer.id, viewer.id):
        assert len(disputes.messages(customer.id, dispute.id)) == 2  # but reads it


def test_is_a_message_resent_with_its_client_id_stored_once(supplier, seller, customer, buyer,
                                                          document):
    dispute = open_one(customer, buyer, document)
    first, created = as_(supplier, seller, disputes.post_message, dispute_id=dispute.id,
                         body="Revisamos", client_id="abc-1")
    again, created_again = as_(supplier, seller, disputes.post_message, dispute_id=dispute.id,
                               body="Revisamos", client_id="abc-1")
    assert created and not created_again and again.id == first.id
    assert transcript_of(supplier, dispute)[-1] == ("message", "Revisamos")
    assert len(transcript_of(supplier, dispute)) == 3


def test_does_a_message_change_whose_turn_it_is_and_count_as_unread(
    supplier, seller, customer, buyer, document
):
    dispute = open_one(customer, buyer, document)
    message, _ = as_(supplier, seller, disputes.post_message, dispute_id=dispute.id, body="Hola")
    with acting_as(customer.id, buyer.id):
        assert disputes.get_dispute(customer.id, dispute.id).waiting_company_id == customer.id
        assert disputes.unread_counts(customer.id, buyer.id, [dispute.id]) == {dispute.id: 1}
        counts = disputes.nav_counts(customer.id, buyer.id)
        assert (counts.active, counts.waiting, counts.unread) == (1, 1, 1)
        disputes.mark_read(customer.id, dispute_id=dispute.id, user=buyer, message_id=message.id)
        db.session.commit()
        assert disputes.unread_counts(customer.id, buyer.id, [dispute.id]) == {}
    with acting_as(supplier.id, seller.id):
        receipts = disputes.read_receipts(supplier.id, dispute.id)
    assert {(r.name, r.last_read_message_id) for r in receipts if r.company_id == customer.id} == {
        ("Ana Compradora", message.id)
    }


def test_are_line_links_checked_against_the_invoice(supplier, seller, customer, buyer):
    invoice = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document
    dispute = open_one(customer, buyer, invoice, amount="100")
    message, _ = as_(customer, buyer, disputes.post_message, dispute_id=dispute.id,
                     body="Ver línea", lines="1-2")
    assert message.lines == [1, 2]
    with pytest.raises(DomainError) as refused:
        as_(customer, buyer, disputes.post_message, dispute_id=dispute.id, body="x", lines="9")
    assert english(refused.value.message) == "The invoice has 2 lines."
    with pytest.raises(DomainError):
        as_(customer, buyer, disputes.post_message, dispute_id=dispute.id, body="x", lines="dos")


def test_is_a_chat_attachment_checked_by_content(supplier, seller, customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    message, _ = as_(supplier, seller, disputes.post_message, dispute_id=dispute.id,
                     body="", attachment=("foto.png", png))
    attached = db.session.scalars(unscoped(
        select(DocumentAttachment).where(DocumentAttachment.id == message.attachment_id))).one()
    assert (attached.filename, attached.visibility, attached.content_type) == (
        "foto.png", "both", "image/png")
    with pytest.raises(DomainError) as refused:
        as_(supplier, seller, disputes.post_message, dispute_id=dispute.id, body="",
            attachment=("script.png", b"<?xml version='1.0'?><a/>"))
    assert refused.value.field == "file"


def test_does_accepting_a_proposal_resolve_and_attach_the_transcript(
    supplier, seller, customer, buyer, document
):
    dispute = open_one(customer, buyer, document)
    proposal = as_(supplier, seller, disputes.propose_resolution, dispute_id=dispute.id,
                   resolution="corrected_invoice", description="Enviamos factura corregida")
    with pytest.raises(Forbidden):  # nobody accepts their own proposal
        as_(supplier, seller, disputes.accept_proposal, dispute_id=dispute.id,
            proposal_id=proposal.id)
    resolved = as_(customer, buyer, disputes.accept_proposal, dispute_id=dispute.id,
                   proposal_id=proposal.id)
    assert (resolved.status, resolved.resolution) == ("resolved", "corrected_invoice")
    with pytest.raises(Conflict):  # resolved is final
        as_(customer, buyer, disputes.post_message, dispute_id=dispute.id, body="otra cosa")
    attachment = db.session.scalars(
        unscoped(select(DocumentAttachment).where(DocumentAttachment.document_id == document.id))
    ).one()
    assert attachment.visibility == "both" and attachment.filename.endswith(".pdf")
    import io

    with pdfplumber.open(io.BytesIO(attachment.data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "El precio no es el pactado." in text
    assert "Sara Vendedora" in text and "Ana Compradora" in text
    assert "Enviamos factura corregida" in text


def test_does_rejecting_a_proposal_reopen_the_dispute(supplier, seller, customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    proposal = as_(supplier, seller, disputes.propose_resolution, dispute_id=dispute.id,
                   resolution="paid")
    again = as_(customer, buyer, disputes.reject_proposal, dispute_id=dispute.id,
                proposal_id=proposal.id)
    assert again.status == "open" and again.waiting_company_id == supplier.id
    with pytest.raises(Conflict):
        as_(customer, buyer, disputes.accept_proposal, dispute_id=dispute.id,
            proposal_id=proposal.id)


def test_can_either_side_escalate_and_only_the_opener_withdraw(
    supplier, seller, customer, buyer, document
):
    dispute = open_one(customer, buyer, document)
    assert as_(supplier, seller, disputes.escalate, dispute_id=dispute.id).status == "escalated"
    with pytest.raises(Forbidden):
        as_(supplier, seller, disputes.withdraw, dispute_id=dispute.id)
    done = as_(customer, buyer, disputes.withdraw, dispute_id=dispute.id)
    assert (done.status, done.resolution) == ("resolved", "claim_withdrawn")
    # Now a new dispute may be opened on the same document.
    assert open_one(customer, buyer, document, reason="payment").status == "open"


def claim(supplier, seller, customer, buyer, reason, note="Faltaron 3 cajas"):
    """Send an invoice, claim it (031) with a reason, and return it and the dispute it opened."""
    invoice = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document
    for code in ("030", "032"):
        as_(customer, buyer, transitions.record_event, document_id=invoice.id, code=code)
    as_(customer, buyer, transitions.record_event, document_id=invoice.id, code="031",
        claim_reason=reason, note=note)
    with acting_as(supplier.id):
        return invoice, disputes.active_dispute(supplier.id, invoice.id)


def spanish_money(amount: Decimal) -> str:
    """'$ 804.300,00': es-CO as a person writes it, built by hand (not by the formatter)."""
    whole, cents = f"{amount:.2f}".split(".")
    return "$\xa0" + f"{int(whole):,}".replace(",", ".") + "," + cents


def english_money(amount: Decimal) -> str:
    return f"COP\xa0{amount:,.2f}"


@pytest.mark.parametrize(
    ("code", "reason", "spanish", "english_words"),
    [
        ("01", "doc_inconsistent", "Documento con inconsistencias", "Inconsistent document"),
        ("02", "not_fully_delivered", "Mercancía no entregada totalmente",
         "Goods not fully delivered"),
        ("03", "partially_delivered", "Mercancía no entregada parcialmente",
         "Goods partially delivered"),
        ("04", "service_not_rendered", "Servicio no prestado", "Service not rendered"),
    ],
)
def test_does_a_claim_open_a_dispute_with_the_claims_own_reason(
    supplier, seller, customer, buyer, code, reason, spanish, english_words
):
    """A claim 02 'not fully delivered' opens a dispute that says so (not 'not received'), in
    DIAN's words, with its amount formatted for the reader, never as 804300.00."""
    from app.einvoice import events as dian_events

    invoice, dispute = claim(supplier, seller, customer, buyer, code)
    assert dispute is not None
    assert (dispute.reason, dispute.opened_by_company_id) == (reason, customer.id)
    assert transcript_of(supplier, dispute)[-2:] == [("system", "claimed"),
                                                     ("message", "Faltaron 3 cajas")]
    # The dispute's reason is the claim's, word for word, in both languages.
    with force_locale("es"):
        assert str(disputes.REASON_NAMES[reason]) == spanish == dian_events.CLAIM_REASONS[code]
        assert str(disputes.REASON_NAMES[reason]) == str(transitions.CLAIM_REASONS[code])
    assert english(disputes.REASON_NAMES[reason]) == english_words
    assert english(disputes.REASON_NAMES[reason]) == english(transitions.CLAIM_REASONS[code])
    with acting_as(supplier.id):
        first = disputes.messages(supplier.id, dispute.id)[0]
        with force_locale("es"):
            es = disputes.system_text(first)
        with force_locale("en"):
            en = disputes.system_text(first)
    amount = dispute.amount
    assert amount == invoice.payable
    assert f"{amount:.2f}" not in es and f"{amount:.2f}" not in en
    assert spanish_money(amount) in es and "031" in es and code in es and spanish in es
    assert english_money(amount) in en and code in en and english_words in en


def test_is_every_claim_reason_mapped_to_a_dispute_reason_that_exists():
    """Every DIAN claim reason has a dispute reason of its own (none shared, none missing)."""
    from app.models.dispute import REASONS

    assert set(disputes.CLAIM_REASON_TO_DISPUTE) == set(transitions.CLAIM_REASONS)
    mapped = list(disputes.CLAIM_REASON_TO_DISPUTE.values())
    assert len(set(mapped)) == len(mapped) and set(mapped) <= set(REASONS)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("804300", Decimal("804300.00")), ("1234.5", Decimal("1234.50")),
     ("0.07", Decimal("0.07")), ("1190000.00", Decimal("1190000.00"))],
)
def test_are_amounts_in_the_conversation_formatted_for_the_reader(
    supplier, seller, customer, buyer, document, typed, amount
):
    """The opening and proposal lines show '$ 804.300,00' in Spanish and 'COP 804,300.00' in
    English, never the stored '804300.00'."""
    dispute = open_one(customer, buyer, document, amount=typed)
    as_(supplier, seller, disputes.propose_resolution, dispute_id=dispute.id,
        resolution="credit_note", amount=typed)
    with acting_as(customer.id):
        lines = [m for m in disputes.messages(customer.id, dispute.id) if m.kind == "system"]
        assert [m.params["code"] for m in lines] == ["opened", "proposed"]
        for line in lines:
            with force_locale("es"):
                es = disputes.system_text(line)
            with force_locale("en"):
                en = disputes.system_text(line)
            assert spanish_money(amount) in es, es
            assert english_money(amount) in en, en
            assert f"{amount:.2f}" not in es.replace(english_money(amount), "")
            assert f"{amount:.2f}" not in en.replace(english_money(amount), "")


def test_does_a_line_stored_before_currencies_were_kept_still_read_as_money(
    supplier, seller, customer, buyer, document
):
    """Old rows carry only "804300.00": they are worded as pesos too."""
    dispute = open_one(customer, buyer, document, amount="804300")
    with acting_as(customer.id):
        first = disputes.messages(customer.id, dispute.id)[0]
        first.params = {k: v for k, v in first.params.items() if k != "currency"}
        with force_locale("es"):
            assert spanish_money(Decimal("804300")) in disputes.system_text(first)
    db.session.rollback()


def test_does_issuing_the_agreed_credit_note_resolve_the_dispute(supplier, seller, customer, buyer):
    invoice_xml, note_xml = written_invoice_and_credit_note(supplier, customer)
    invoice = submit(supplier, seller, invoice_xml).document
    dispute = open_one(customer, buyer, invoice, amount="100")
    proposal = as_(customer, buyer, disputes.propose_resolution, dispute_id=dispute.id,
                   resolution="credit_note", amount="100", lines="1")
    agreed = as_(supplier, seller, disputes.accept_proposal, dispute_id=dispute.id,
                 proposal_id=proposal.id)
    assert agreed.status == "agreed" and agreed.resolution is None
    with acting_as(supplier.id):
        assert disputes.agreed_credit_note(supplier.id, invoice.id) is not None
    note = submit(supplier, seller, note_xml, filename="nc.xml").document
    with acting_as(customer.id):
        done = disputes.get_dispute(customer.id, dispute.id)
    assert (done.status, done.resolution, done.credit_note_id) == ("resolved", "credit_note",
                                                                  note.id)
    assert transcript_of(customer, dispute)[-2:] == [("system", "credit_note"),
                                                     ("system", "resolved")]


def test_is_every_dispute_change_audited(supplier, seller, customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    as_(supplier, seller, disputes.post_message, dispute_id=dispute.id, body="ok")
    proposal = as_(supplier, seller, disputes.propose_resolution, dispute_id=dispute.id,
                   resolution="paid")
    as_(customer, buyer, disputes.accept_proposal, dispute_id=dispute.id, proposal_id=proposal.id)
    actions = db.session.scalars(
        unscoped(select(AuditEvent.action).where(AuditEvent.action.like("dispute.%"))
                 .order_by(AuditEvent.id))
    ).all()
    assert actions == ["dispute.opened", "dispute.message", "dispute.proposed",
                       "dispute.accepted", "dispute.transcript_attached", "dispute.resolved"]


def test_does_a_failed_message_leave_nothing_behind(supplier, seller, customer, buyer, document,
                                                    monkeypatch):
    dispute = open_one(customer, buyer, document)
    before = db.session.scalar(unscoped(select(DisputeMessage.id).order_by(
        DisputeMessage.id.desc())))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(disputes.audit, "record_event", broken)
    with pytest.raises(RuntimeError):
        as_(supplier, seller, disputes.post_message, dispute_id=dispute.id, body="se pierde")
    after = db.session.scalar(unscoped(select(DisputeMessage.id).order_by(
        DisputeMessage.id.desc())))
    assert after == before


def test_does_the_transcript_render_in_english(supplier, seller, customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    with acting_as(customer.id):
        data = transcripts.transcript_pdf(disputes.get_dispute(customer.id, dispute.id),
                                          locale="en")
    import io

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Conversation" in text and "Participants" in text and "Price" in text


def test_does_a_member_of_both_companies_keep_them_apart(supplier, customer, buyer, document):
    dispute = open_one(customer, buyer, document)
    add_member(buyer, supplier, "receivables")
    # Acting for the supplier, the same person writes as the supplier.
    message, _ = as_(supplier, buyer, disputes.post_message, dispute_id=dispute.id, body="x")
    assert message.company_id == supplier.id
