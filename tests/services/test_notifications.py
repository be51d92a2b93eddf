"""Notifications at the service level: who hears of what, by which channel, in which language."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale, format_date
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationPreference
from app.services import notifications
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user
from tests.services.inbox_helpers import give_certificate, make_document, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    company = make_company("Proveedora")
    give_certificate(company)
    return company


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="owner", name="Sara Vendedora")


@pytest.fixture
def customer():
    company = make_company("Compradora")
    give_certificate(company)
    return company


@pytest.fixture
def buyer_owner(customer):
    return make_user(customer, role="owner", name="Olga Dueña", locale="en")


@pytest.fixture
def payables(customer):
    return make_user(customer, role="payables", name="Pedro Pagos", locale="es")


@pytest.fixture
def sales(customer):
    return make_user(customer, role="sales", name="Vera Ventas")


def rows(**where) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notification, name) == value)
    return list(db.session.scalars(unscoped(stmt)))


def test_does_a_received_document_notify_the_buyers_payables_and_owner_but_not_sales(
    supplier, seller, customer, buyer_owner, payables, sales, outbox
):
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id))
    assert result.accepted, result.findings

    got = rows(kind="received")
    assert {n.user_id for n in got} == {buyer_owner.id, payables.id}
    assert all(n.company_id == customer.id and n.document_id == result.document.id for n in got)
    assert {m["to"] for m in outbox()} >= {buyer_owner.email, payables.email}
    assert sales.email not in {m["to"] for m in outbox()}
    assert seller.id not in {n.user_id for n in rows()}


def test_does_a_preference_switch_off_the_email_of_one_kind_only(
    supplier, seller, customer, buyer_owner, payables, outbox
):
    db.session.add(
        NotificationPreference(
            company_id=customer.id, user_id=payables.id, kind="received", in_app=True, email=False
        )
    )
    db.session.commit()

    submit(supplier, seller, signed_invoice(supplier, customer.tax_id))

    recipients = [m["to"] for m in outbox()]
    assert buyer_owner.email in recipients and payables.email not in recipients
    assert {n.user_id for n in rows(kind="received")} == {buyer_owner.id, payables.id}
    with acting_as(customer.id):
        assert notifications.preferences(customer.id, payables.id)["received"] == (True, False)
        assert notifications.preferences(customer.id, payables.id)["overdue"] == (True, True)


def test_is_the_email_in_the_users_language_with_a_link_to_the_document(
    supplier, seller, customer, buyer_owner, payables, outbox
):
    document = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document

    mails = {m["to"]: m for m in outbox()}
    for user, locale in ((buyer_owner, "en"), (payables, "es")):
        body = mails[user.email]["body"]
        assert f"http://portal.test/documents/{document.id}" in body
        with force_locale(locale):
            assert format_date(document.issue_date, "medium") in body
        assert document.number in mails[user.email]["subject"]
    with force_locale("en"):
        english = format_date(document.issue_date, "medium")
    with force_locale("es"):
        spanish = format_date(document.issue_date, "medium")
    assert english != spanish


def test_is_nothing_written_or_sent_when_the_submission_rolls_back(
    supplier, seller, customer, buyer_owner, outbox
):
    from app.services.documents import storing

    with acting_as(supplier.id, seller.id):
        data = signed_invoice(supplier, customer.tax_id)
        storing.submit_xml(supplier.id, filename="f.xml", data=data, actor=seller)
        db.session.rollback()
    assert rows() == [] and outbox() == []


def test_does_a_document_waiting_for_its_customer_tell_the_senders_colleagues(
    supplier, seller, outbox
):
    colleague = make_user(supplier, role="receivables", name="Rita Cobros")
    unregistered = "9001234560"
    result = submit(supplier, seller, signed_invoice(supplier, unregistered))
    assert result.accepted and result.document.receiver_company_id is None

    assert {n.user_id for n in rows(kind="waiting")} == {colleague.id}  # not the uploader


def test_is_the_due_soon_and_overdue_job_idempotent(supplier, customer, payables, outbox):
    today = dt.date(2026, 11, 20)
    soon = make_document(supplier, customer, due_date=today + dt.timedelta(days=2))
    late = make_document(supplier, customer, due_date=today - dt.timedelta(days=1))
    make_document(supplier, customer, due_date=today + dt.timedelta(days=10))  # not yet
    make_document(supplier, customer)  # no due date

    report = notifications.notify_due_and_overdue(today)
    db.session.commit()
    assert (report.due_soon, report.overdue) == ([soon.id], [late.id])
    assert [(n.kind, n.document_id) for n in rows(user_id=payables.id)] == [
        ("due_soon", soon.id),
        ("overdue", late.id),
    ]
    sent = len(outbox())

    again = notifications.notify_due_and_overdue(today)
    db.session.commit()
    assert (again.due_soon, again.overdue) == ([], [])
    assert len(rows()) == 2 and len(outbox()) == sent

    # Once past due, the due-soon invoice gets its overdue reminder: once.
    later = notifications.notify_due_and_overdue(today + dt.timedelta(days=5))
    db.session.commit()
    assert later.overdue == [soon.id]
    assert notifications.notify_due_and_overdue(today + dt.timedelta(days=6)).overdue == []


def test_are_reminders_of_paid_invoices_skipped(supplier, customer, payables):
    paid = make_document(supplier, customer, due_date=dt.date(2026, 1, 1))
    paid.payment_status = "paid"
    db.session.commit()
    assert notifications.notify_due_and_overdue(dt.date(2026, 11, 20)).overdue == []


def test_does_a_claim_notify_the_supplier(supplier, seller, customer, buyer_owner):
    from app.services.lifecycle import transitions

    document = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document
    for code in ("030", "032"):
        with acting_as(customer.id, buyer_owner.id):
            transitions.record_event(
                customer.id, document_id=document.id, code=code, actor=buyer_owner
            )
            db.session.commit()
    with acting_as(customer.id, buyer_owner.id):
        transitions.record_event(
            customer.id,
            document_id=document.id,
            code="031",
            actor=buyer_owner,
            claim_reason="02",
            note="Faltan 3 cajas",
        )
        db.session.commit()

    claimed = rows(kind="claimed")
    assert [(n.company_id, n.user_id) for n in claimed] == [(supplier.id, seller.id)]
    with force_locale("en"):
        assert notifications.title(claimed[0]) == (
            f"{document.customer_name} claimed invoice {document.number}"
        )
