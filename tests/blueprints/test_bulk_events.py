"""Bulk events in the received tray: every legal next event is offered, and "accept" on invoices
that still need 030 and/or 032 records them first, in order, after one confirmation that says so."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, DocumentEvent
from app.services.lifecycle import bulk_events, transitions
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, make_document, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    company = make_company("Proveedora Bulk")
    give_certificate(company)
    return company


@pytest.fixture
def buyer_company():
    company = make_company("Compradora Bulk")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="owner", name="Sara Vendedora")


@pytest.fixture
def clerk(buyer_company):
    return make_user(buyer_company, role="payables", name="Clara Pagos", locale="en")


def delivered(supplier, seller, buyer_company, number):
    result = submit(supplier, seller, signed_invoice(supplier, buyer_company.tax_id, number=number))
    assert result.accepted, result.findings
    return result.document


def record(company, user, document, *codes, **kwargs):
    with acting_as(company.id, user.id):
        for code in codes:
            transitions.record_event(
                company.id, document_id=document.id, code=code, actor=user, **kwargs
            )
        db.session.commit()


def codes_of(document) -> list[str]:
    return list(
        db.session.scalars(
            unscoped(
                select(DocumentEvent.code)
                .where(DocumentEvent.document_id == document.id)
                .order_by(DocumentEvent.id)
            )
        )
    )


def status_of(document) -> str:
    return db.session.scalars(
        unscoped(select(Document.status).where(Document.id == document.id))
    ).one()


def bulk(client, action, documents, *, confirm=False, headers=None):
    data = {"action": action, "tray": "received", "document_ids": [d.id for d in documents]}
    if confirm:
        data["confirm"] = "1"
    return client.post("/inbox/bulk", data=data, headers=headers or {})


def outcome(body: str, document) -> tuple[str, str]:
    """Return (done|skipped, message) of a document's row in the bulk report."""
    match = re.search(
        rf'data-outcome="(\w+)" data-document-id="{document.id}".*?</td>\s*<td>(.*?)</td>',
        body,
        re.S,
    )
    assert match, body[-3000:]
    return match.group(1), match.group(2)


@pytest.fixture
def mix(supplier, seller, buyer_company, clerk):
    """Invoices in every state a selection may hold."""
    docs = {
        name: delivered(supplier, seller, buyer_company, f"SETP77000{i}")
        for i, name in enumerate(("new", "acknowledged", "received", "accepted", "claimed"))
    }
    record(buyer_company, clerk, docs["acknowledged"], "030")
    record(buyer_company, clerk, docs["received"], "030", "032")
    record(buyer_company, clerk, docs["accepted"], "030", "032", "033")
    record(buyer_company, clerk, docs["claimed"], "030", "032")
    record(buyer_company, clerk, docs["claimed"], "031", claim_reason="02", note="Faltan cajas")
    return docs


def test_does_bulk_accept_of_a_mix_end_each_accepted_or_say_why(client, buyer_company, clerk, mix):
    login(client, clerk, buyer_company)
    selection = list(mix.values())

    asked = bulk(client, "accept", selection)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="confirm-form"' in body
    assert "Acceptance is final and is sent to the supplier." in body
    # One sentence per group of invoices that still need steps first, naming them in order.
    assert "1 invoices still need acknowledgement of receipt (030) and receipt of the goods" in body
    assert "accepting records 030, 032 and then 033 for them." in body
    assert (
        "1 invoices still need receipt of the goods or service (032); accepting records "
        "032 and then 033 for them." in body
    )
    # The ones that cannot be accepted are named before anything is done.
    assert "SETP770003 is left as it is" in body and "SETP770004 is left as it is" in body
    assert codes_of(mix["new"]) == [] and codes_of(mix["acknowledged"]) == ["030"]

    done = bulk(client, "accept", selection, confirm=True)
    report = done.get_data(as_text=True)
    assert done.status_code == 200
    for name in ("new", "acknowledged", "received"):
        assert status_of(mix[name]) == "accepted", name
        assert outcome(report, mix[name])[0] == "done"
    assert codes_of(mix["new"]) == ["030", "032", "033"]
    assert codes_of(mix["acknowledged"]) == ["030", "032", "033"]
    assert codes_of(mix["received"]) == ["030", "032", "033"]
    state, message = outcome(report, mix["accepted"])
    assert state == "skipped" and "already recorded" in message
    state, message = outcome(report, mix["claimed"])
    assert state == "skipped" and "claimed" in message
    assert status_of(mix["claimed"]) == "claimed"
    assert codes_of(mix["accepted"]) == ["030", "032", "033"]


def test_is_a_documents_chain_all_or_nothing(client, buyer_company, clerk, mix, monkeypatch):
    """When 033 fails after 030 and 032 were written, none of the three stays."""
    real = transitions._record

    def failing(document, transition, **kwargs):
        if transition.code == "033" and document.id == mix["new"].id:
            raise transitions.DomainError("the signing service is down")
        return real(document, transition, **kwargs)

    monkeypatch.setattr(transitions, "_record", failing)
    login(client, clerk, buyer_company)
    report = bulk(client, "accept", [mix["new"], mix["acknowledged"]], confirm=True)
    body = report.get_data(as_text=True)
    assert outcome(body, mix["new"]) == ("skipped", "the signing service is down")
    assert codes_of(mix["new"]) == [] and status_of(mix["new"]) == "received"
    assert outcome(body, mix["acknowledged"])[0] == "done"
    assert status_of(mix["acknowledged"]) == "accepted"


def test_does_the_bar_offer_032_when_the_listed_invoices_allow_it(
    client, supplier, seller, buyer_company, clerk
):
    login(client, clerk, buyer_company)
    doc = delivered(supplier, seller, buyer_company, "SETP880001")
    body = client.get("/inbox/received").get_data(as_text=True)
    for action in ("acknowledge", "receive", "accept"):
        assert f'data-bulk-action="{action}"' in body
    assert 'data-actions="acknowledge receive accept"' in body

    record(buyer_company, clerk, doc, "030")
    body = client.get("/inbox/received").get_data(as_text=True)
    assert 'data-bulk-action="receive"' in body and 'data-bulk-action="accept"' in body
    assert 'data-bulk-action="acknowledge"' not in body
    assert 'data-actions="receive accept"' in body

    record(buyer_company, clerk, doc, "032", "033")
    body = client.get("/inbox/received").get_data(as_text=True)
    assert "data-bulk-action=" not in body and 'data-actions=""' in body


def test_does_bulk_receipt_record_030_first_after_asking(
    client, supplier, seller, buyer_company, clerk
):
    new = delivered(supplier, seller, buyer_company, "SETP880002")
    acknowledged = delivered(supplier, seller, buyer_company, "SETP880003")
    record(buyer_company, clerk, acknowledged, "030")
    login(client, clerk, buyer_company)
    # Only acknowledged invoices: nothing beyond what was chosen, so no question.
    done = bulk(client, "receive", [acknowledged])
    assert 'data-outcome="done"' in done.get_data(as_text=True)
    assert codes_of(acknowledged) == ["030", "032"]
    # A new one needs 030 first: asked.
    asked = bulk(client, "receive", [new]).get_data(as_text=True)
    assert "recording the receipt records 030 and then 032 for them." in asked
    assert codes_of(new) == []
    bulk(client, "receive", [new], confirm=True)
    assert codes_of(new) == ["030", "032"] and status_of(new) == "goods_received"


def test_does_the_confirmation_say_the_identity_document_is_missing(
    client, supplier, seller, buyer_company
):
    nameless = make_user(buyer_company, role="payables", identity=False, locale="en")
    doc = delivered(supplier, seller, buyer_company, "SETP880004")
    login(client, nameless, buyer_company)
    body = bulk(client, "accept", [doc]).get_data(as_text=True)
    assert 'data-testid="confirm-notice"' in body and "identity document" in body
    assert 'href="/auth/profile"' in body
    report = bulk(client, "accept", [doc], confirm=True).get_data(as_text=True)
    state, message = outcome(report, doc)
    assert state == "skipped" and "My profile" in message
    assert codes_of(doc) == [] and status_of(doc) == "received"


@pytest.mark.parametrize("action", ["acknowledge", "receive", "accept"])
def test_are_another_companys_ids_in_the_bulk_form_refused(
    client, supplier, seller, buyer_company, clerk, other_company, action
):
    """Ids of documents between other companies: reported as not found, never touched."""
    mine = delivered(supplier, seller, buyer_company, "SETP880005")
    foreign = make_document(other_company, make_company("Tercera"), number="F-1")
    sent_by_me = make_document(buyer_company, make_company("Cliente"), number="S-1")
    login(client, clerk, buyer_company)
    body = bulk(client, action, [mine, foreign, sent_by_me], confirm=True).get_data(as_text=True)
    assert outcome(body, mine)[0] == "done"
    state, message = outcome(body, foreign)
    assert state == "skipped" and "does not exist" in message
    assert "F-1" not in body  # not even its number leaks
    assert outcome(body, sent_by_me)[0] == "skipped"
    assert codes_of(foreign) == [] and codes_of(sent_by_me) == []


def test_do_bulk_ids_of_the_wrong_type_answer_a_clear_message(client, buyer_company, clerk):
    login(client, clerk, buyer_company)
    for ids in (["x"], ["1.5"], [""], []):
        response = client.post(
            "/inbox/bulk", data={"action": "accept", "tray": "received", "document_ids": ids}
        )
        assert response.status_code == 303  # back to the tray with "Choose at least one document"
    response = client.post(
        "/inbox/bulk", data={"action": "reject", "tray": "received", "document_ids": ["1"]}
    )
    assert response.status_code == 303


def test_does_the_plan_name_the_steps_per_status():
    assert transitions.steps_to("received", "033") == ["030", "032", "033"]
    assert transitions.steps_to("acknowledged", "033") == ["032", "033"]
    assert transitions.steps_to("goods_received", "033") == ["033"]
    assert transitions.steps_to("received", "032") == ["030", "032"]
    assert transitions.steps_to("received", "031") is None  # a claim is never reached by steps
    assert transitions.steps_to("goods_received", "031") == ["031"]
    for final in ("accepted", "claimed", "tacitly_accepted"):
        assert transitions.steps_to(final, "033") is None
    assert transitions.steps_to("received", "034") is None
    assert bulk_events.bulk_actions("received", "CreditNote") == ()


def test_does_recording_a_plan_check_each_event_again(supplier, seller, buyer_company, clerk):
    """A plan made before someone else acknowledged the invoice records nothing twice."""
    doc = delivered(supplier, seller, buyer_company, "SETP880006")
    with acting_as(buyer_company.id, clerk.id):
        plan = bulk_events.plan_events(
            buyer_company.id, document_ids=[doc.id], code="033", actor=clerk
        )
        assert [row.steps for row in plan.rows] == [("030", "032", "033")]
        transitions.record_event(buyer_company.id, document_id=doc.id, code="030", actor=clerk)
        (result,) = bulk_events.record_events(buyer_company.id, plan=plan, actor=clerk)
        db.session.commit()
    assert not result.done and "(030)" in str(result.message)  # already recorded, it says
    assert codes_of(doc) == ["030"] and status_of(doc) == "acknowledged"
