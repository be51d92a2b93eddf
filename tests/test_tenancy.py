"""Can one company reach another company's rows? Never: not by id, not by query."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.models import (
    ApiToken,
    AuditEvent,
    Dispute,
    DisputeProposal,
    DocumentAttachment,
    DocumentEvent,
    Membership,
    Notification,
    Partnership,
    PdfUpload,
    QuarantinedUpload,
    SavedFilter,
    TeamInvitation,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.models.network import PENDING
from app.services.audit import record_event
from tests.conftest import bearer, login, make_api_token, make_company, make_user
from tests.services.inbox_helpers import make_document

# Routes whose variable parts are secrets rather than ids: they are tested with forged tokens.
# The gateways' webhook endpoint is named by a connection's opaque public id and answers the
# gateway, not a session (tests/services/payments/test_core.py forges it).
# (The sandbox gateway's checkout: its charge id is the payer's unguessable link, no company's.)
TOKEN_ROUTES = {
    "auth.confirm",
    "auth.reset",
    "auth.invitation",
    "static",
    "gateway_webhooks.receive",
    "sandbox_gateway.checkout",
    "sandbox_gateway.decide",
    "sandbox_gateway.challenge",
}


@pytest.fixture
def foreign_rows(other_company, outsider):
    """Rows of another company (and a partnership between two companies we are not part of)."""
    third = make_company("Tercera")
    colleague = make_user(other_company, role="viewer", name="Colega Ajeno")
    membership = db.session.scalars(
        tenancy.unscoped(select(Membership).where(Membership.user_id == colleague.id))
    ).one()
    invitation = TeamInvitation(company_id=other_company.id, email="x@example.test", role="viewer",
                                token_hash="f" * 64, expires_at=utcnow() + timedelta(days=1))
    partnership = Partnership(supplier_id=third.id, customer_id=other_company.id,
                              requested_by_id=third.id, status=PENDING)
    db.session.add_all([invitation, partnership])
    db.session.commit()
    token, _plaintext = make_api_token(other_company)
    # A document between two companies we are not part of, with an event, an attachment, and a
    # quarantined upload of one of them.
    document = make_document(third, other_company)
    event = DocumentEvent(document_id=document.id, sender_company_id=third.id,
                          receiver_company_id=other_company.id, code="030", number="EV030-x",
                          actor_company_id=other_company.id, xml=b"<ApplicationResponse/>")
    attachment = DocumentAttachment(document_id=document.id, sender_company_id=third.id,
                                    receiver_company_id=other_company.id,
                                    company_id=other_company.id, filename="a.txt",
                                    content_type="text/plain", size=1, visibility="both",
                                    data=b"a")
    quarantined = QuarantinedUpload(company_id=third.id, filename="q.xml", original=b"<a/>",
                                    reason="unreadable")
    notification = Notification(company_id=other_company.id, user_id=colleague.id,
                                kind="received", document_id=document.id)
    saved_filter = SavedFilter(company_id=other_company.id, user_id=outsider.id, name="Suyo",
                               tray="received", query="status=claimed")
    db.session.add_all([event, attachment, quarantined, notification, saved_filter])
    db.session.commit()
    endpoint = WebhookEndpoint(company_id=other_company.id, url="http://127.0.0.1:9/hooks",
                               secret="whsec_x", events=["document.received"])
    db.session.add(endpoint)
    db.session.flush()
    delivery = WebhookDelivery(company_id=other_company.id, endpoint_id=endpoint.id,
                               event_type="document.received", payload={})
    db.session.add(delivery)
    db.session.commit()
    dispute = Dispute(document_id=document.id, supplier_company_id=third.id,
                      buyer_company_id=other_company.id, opened_by_company_id=other_company.id,
                      reason="price", amount=Decimal("1"), currency="COP")
    db.session.add(dispute)
    upload = PdfUpload(company_id=other_company.id, token="t" * 32, filename="theirs.pdf",
                       data=b"%PDF-1.4", digest="0" * 64)
    db.session.add(upload)
    db.session.flush()
    proposal = DisputeProposal(dispute_id=dispute.id, supplier_company_id=third.id,
                               buyer_company_id=other_company.id, company_id=third.id,
                               resolution="paid")
    db.session.add(proposal)
    db.session.commit()
    # A payment between two companies we are not part of (a transfer with its proof), and
    # their gateway connection.
    from tests.payments_helpers import connect_fake
    from tests.payments_helpers import invoice as payment_invoice

    connection = connect_fake(third, gateway="stripe")
    payment_document = payment_invoice(third, other_company)
    with tenancy.acting_as(other_company.id, colleague.id):
        from app.services.payments import paying

        payment = paying.record_transfer(
            other_company.id, items=[paying.Item(payment_document.id)], actor=colleague,
            transfer_date=utcnow().date(), reference="TRX-1", proof=b"%PDF-1.4 proof",
        )
    db.session.commit()
    # Its bank account, a statement line waiting between two invoices, and a suggested match.
    from app.models.reconciliation import Match, ReconciliationRule
    from tests.services.reconciliation.helpers import bank_account, entry, statement, store

    for _ in range(2):
        payment_invoice(other_company, third, "777.00")
    account = bank_account(other_company, number="555000111")
    stored = store(other_company, account, statement(entry("777.00", text="x")))
    (line_id,) = stored.line_ids
    match = db.session.scalars(
        tenancy.unscoped(select(Match).where(Match.bank_line_id == line_id))
    ).first()
    rule = ReconciliationRule(company_id=other_company.id, name="Suya", action="gateway_payout")
    db.session.add(rule)
    db.session.commit()
    # Their supplier's catalog item (shown to its connected customers, not to us), with a
    # picture and a customer's price.
    from app.models.catalog import CatalogItem, CustomerPrice

    item = CatalogItem(company_id=third.id, seller_item_id="X-1", name="Suyo",
                       price=Decimal("10"), image=b"\x89PNG\r\n\x1a\n", image_type="image/png")
    db.session.add(item)
    db.session.flush()
    price = CustomerPrice(company_id=third.id, item_id=item.id,
                          customer_company_id=other_company.id, price=Decimal("9"))
    db.session.add(price)
    db.session.commit()
    # An order between them (we are neither its buyer nor its supplier), with a delivery.
    from app.models import Order, OrderDelivery

    order = Order(buyer_company_id=other_company.id, supplier_company_id=third.id,
                  number="OC-X", currency="COP", issue_date=utcnow().date(), xml=b"<Order/>",
                  status="accepted")
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderDelivery(order_id=order.id, buyer_company_id=other_company.id,
                                 supplier_company_id=third.id, kind="despatch", number="D1",
                                 day=utcnow().date(), xml=b"<DespatchAdvice/>"))
    db.session.commit()
    return {
        "order_id": order.id,
        "item_id": item.id,
        "price_id": price.id,
        "import_id": stored.imports[0].id,
        "rule_id": rule.id,
        "account_id": account.id,
        "line_id": line_id,
        "match_id": match.id,
        "payment_id": payment.id,
        "connection_id": connection.id,
        "dispute_id": dispute.id,
        "token": upload.token,
        "proposal_id": proposal.id,
        "document_id": document.id,
        "event_id": event.id,
        "attachment_id": attachment.id,
        "quarantine_id": quarantined.id,
        "membership_id": membership.id,
        "invitation_id": invitation.id,
        "partnership_id": partnership.id,
        "token_id": token.id,
        "notification_id": notification.id,
        "filter_id": saved_filter.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
    }


def test_does_every_route_with_an_id_answer_404_to_another_company(
    app, client, company, owner, foreign_rows
):
    """Walk every registered route with an id in it, as the owner of another company.

    API routes are walked with an API token of that company, since they ignore the session.
    """
    login(client, owner, company)
    _token, plaintext = make_api_token(company)
    walked = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint in TOKEN_ROUTES:
            continue
        missing = rule.arguments - foreign_rows.keys()
        assert not missing, (
            f"route {rule.rule} takes {missing}: add another company's row for it to foreign_rows"
        )
        url = rule.build({name: foreign_rows[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            headers = bearer(plaintext) if rule.rule.startswith("/api/") else {}
            # The API reads JSON (form data would be a 415 before the id is looked at).
            body = {"json": {}} if headers and method != "GET" else {"data": {"role": "viewer"}}
            response = client.open(url, method=method, headers=headers, **body)
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            walked += 1
    assert walked >= 6
    # And nothing of theirs changed.
    membership = db.session.scalars(
        tenancy.unscoped(select(Membership).where(Membership.id == foreign_rows["membership_id"]))
    ).one()
    assert membership.active and membership.role == "viewer"
    partnership = db.session.scalars(
        tenancy.unscoped(
            select(Partnership).where(Partnership.id == foreign_rows["partnership_id"])
        )
    ).one()
    assert partnership.status == PENDING
    token = db.session.scalars(
        tenancy.unscoped(select(ApiToken).where(ApiToken.id == foreign_rows["token_id"]))
        .execution_options(populate_existing=True)
    ).one()
    assert token.revoked_at is None


def test_do_queries_see_only_the_acting_companys_rows(company, other_company, owner, outsider):
    with tenancy.acting_as(company.id):
        rows = db.session.scalars(select(Membership)).all()
        assert {m.company_id for m in rows} == {company.id}
    with tenancy.acting_as(other_company.id):
        rows = db.session.scalars(select(Membership)).all()
        assert {m.company_id for m in rows} == {other_company.id}


def test_with_no_company_bound_do_queries_return_nothing(company, owner):
    assert db.session.scalars(select(Membership)).all() == []
    assert db.session.scalars(select(Partnership)).all() == []


def test_is_a_partnership_visible_only_to_its_two_companies(company, other_company):
    third = make_company("Tercera")
    db.session.add(Partnership(supplier_id=company.id, customer_id=other_company.id,
                               requested_by_id=company.id))
    db.session.commit()
    for visible_to in (company, other_company):
        with tenancy.acting_as(visible_to.id):
            assert len(db.session.scalars(select(Partnership)).unique().all()) == 1
    with tenancy.acting_as(third.id):
        assert db.session.scalars(select(Partnership)).unique().all() == []


def test_does_the_filter_hold_for_an_object_already_loaded_in_the_session(
    company, other_company, outsider
):
    """get_or_404 must not hand out a row that sits in the identity map from a system query."""
    membership = db.session.scalars(
        tenancy.unscoped(select(Membership).where(Membership.company_id == other_company.id))
    ).one()
    with tenancy.acting_as(company.id):
        stmt = select(Membership).where(Membership.id == membership.id)
        assert db.session.scalars(stmt).first() is None


def test_are_audit_events_private_to_their_company(company, other_company, owner):
    record_event(owner, company, "test.event")
    record_event(owner, other_company, "test.event")
    db.session.commit()
    with tenancy.acting_as(company.id):
        events = db.session.scalars(select(AuditEvent)).all()
    assert [e.company_id for e in events] == [company.id]
