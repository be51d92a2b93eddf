"""The access audit: are views and downloads recorded, and who may read the trail?"""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy import update as sa_update

from app.extensions import db
from app.models import AuditEvent
from app.services import audit
from app.tenancy import acting_as, unscoped
from tests.conftest import bearer, login, make_api_token, make_company, make_user
from tests.services.inbox_helpers import make_document, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")

BROWSER = {"User-Agent": "Mozilla/5.0 (Audit test)"}


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="owner", name="Sara Vendedora", email="sara@example.test")


@pytest.fixture
def buyer(customer):
    return make_user(customer, role="payables", name="Ana Gómez", email="ana@example.test")


@pytest.fixture
def invoice(supplier, seller, customer):
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number="SETP1"))
    assert result.accepted, result.findings
    return result.document


def access_events(document_id=None):
    stmt = unscoped(select(AuditEvent).where(AuditEvent.action.in_(audit.ACCESS_ACTIONS)))
    if document_id is not None:
        stmt = stmt.where(AuditEvent.target_id == str(document_id))
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def test_is_each_view_and_download_of_a_document_recorded(client, invoice, customer, buyer):
    login(client, buyer, customer)
    base = f"/documents/{invoice.id}"
    for path in ("", "/xml", "/pdf", "/zip"):
        assert client.get(base + path, headers=BROWSER).status_code == 200, path
    events = access_events(invoice.id)
    assert [e.action for e in events] == [
        "document.viewed", "document.xml_downloaded", "document.pdf_downloaded",
        "document.zip_downloaded",
    ]
    viewed = events[0]
    assert (viewed.company_id, viewed.actor_user_id, viewed.actor) == (
        customer.id, buyer.id, "ana@example.test")
    assert viewed.ip == "127.0.0.1" and viewed.user_agent == BROWSER["User-Agent"]
    assert audit.verify_chains().intact


def test_is_the_live_refresh_of_the_page_not_counted_as_a_view(client, invoice, customer, buyer):
    login(client, buyer, customer)
    client.get(f"/documents/{invoice.id}", headers={"HX-Request": "true"})
    assert access_events(invoice.id) == []


def test_is_an_attachment_download_recorded_with_its_name(client, invoice, customer, buyer):
    login(client, buyer, customer)
    posted = client.post(
        f"/documents/{invoice.id}/attachments",
        data={"file": (io.BytesIO(b"hola"), "nota.txt"), "visibility": "both"},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 303
    attachment_id = db.session.scalars(
        unscoped(select(AuditEvent.details).where(AuditEvent.action == "document.attachment_added"))
    ).one()["attachment_id"]
    client.get(f"/documents/{invoice.id}/attachments/{attachment_id}")
    (event,) = access_events(invoice.id)
    assert event.action == "attachment.downloaded"
    assert event.details == {"attachment_id": attachment_id, "filename": "nota.txt"}


def test_is_an_api_read_recorded_with_its_token(client, invoice, customer):
    token, plaintext = make_api_token(customer)
    for path in ("", "/xml", "/pdf"):
        response = client.get(f"/api/v1/documents/{invoice.id}{path}", headers=bearer(plaintext))
        assert response.status_code == 200, path
    events = access_events(invoice.id)
    assert [e.action for e in events] == [
        "document.viewed", "document.xml_downloaded", "document.pdf_downloaded"]
    assert {(e.actor_token_id, e.company_id, e.details["via"]) for e in events} == {
        (token.id, customer.id, "api")}
    assert audit.verify_chains().intact


def test_can_views_be_left_out_for_the_benchmark(app, client, invoice, customer, buyer,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ACCESS_EVENTS", False)
    login(client, buyer, customer)
    assert client.get(f"/documents/{invoice.id}").status_code == 200
    assert access_events() == []


# ------------------------------------------------------------------------ the access panel


def test_does_the_panel_show_both_companies_access(client, invoice, supplier, seller, customer,
                                                   buyer):
    login(client, buyer, customer)
    client.get(f"/documents/{invoice.id}/pdf", headers=BROWSER)
    seller_client = client.application.test_client()
    login(seller_client, seller, supplier)
    seller_client.get(f"/documents/{invoice.id}/xml")
    response = seller_client.get(f"/audit/documents/{invoice.id}/access")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ana@example.test" in page and "sara@example.test" in page
    assert f'data-company="{customer.id}"' in page and f'data-company="{supplier.id}"' in page
    assert "descargó el PDF" in page and "descargó el XML" in page  # Spanish by default
    assert "Mozilla/5.0 (Audit test)" in page


def test_does_the_panel_leave_out_the_other_companys_unrelated_trail(
    client, invoice, supplier, seller, customer, buyer
):
    other = make_document(customer, supplier)  # another shared document
    with acting_as(customer.id, buyer.id):
        audit.record_event(buyer, customer, "document.viewed", other)
        audit.record_event(buyer, customer, "company.updated", ("documents", invoice.id))
        db.session.commit()
    login(client, seller, supplier)
    page = client.get(f"/audit/documents/{invoice.id}/access").get_data(as_text=True)
    assert "ana@example.test" not in page


def test_is_the_panel_404_for_a_company_that_does_not_share_the_document(client, invoice, buyer,
                                                                          customer):
    login(client, buyer, customer)
    client.get(f"/documents/{invoice.id}")
    outsider_company = make_company("Ajena")
    outsider = make_user(outsider_company, role="owner")
    login(client, outsider, outsider_company)
    assert client.get(f"/audit/documents/{invoice.id}/access").status_code == 404


def test_is_the_panel_in_english_for_an_english_user(client, invoice, supplier, customer):
    reader = make_user(customer, role="viewer", locale="en")
    login(client, reader, customer)
    client.get(f"/documents/{invoice.id}/zip")
    page = client.get(f"/audit/documents/{invoice.id}/access").get_data(as_text=True)
    assert "downloaded the ZIP" in page


# ------------------------------------------------------------------------- the audit page


@pytest.fixture
def trail(supplier, seller, customer):
    """A few events of the supplier: two users, documents, a sign-in."""
    clerk = make_user(supplier, role="receivables", email="clerk@example.test")
    first = make_document(supplier, customer, number="FV-1")
    second = make_document(supplier, customer, number="FV-2")
    with acting_as(supplier.id, seller.id, ip="198.51.100.4", user_agent="Firefox"):
        audit.record_event(seller, supplier, "auth.signed_in", seller)
        audit.record_event(seller, supplier, "document.viewed", first)
        audit.record_event(clerk, supplier, "document.viewed", second)
        audit.record_event(clerk, supplier, "document.pdf_downloaded", second, {"n": "ñ"})
        db.session.commit()
    return {"clerk": clerk, "first": first, "second": second}


def test_does_the_audit_page_list_the_company_events_newest_first(client, supplier, seller, trail,
                                                                   customer, buyer):
    with acting_as(customer.id):
        audit.record_event(buyer, customer, "auth.signed_in", buyer)
        db.session.commit()
    login(client, seller, supplier)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.findall(r'data-event="(\d+)"', page) == ["4", "3", "2", "1"]
    assert "ana@example.test" not in page  # another company's trail
    assert "198.51.100.4" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=document.viewed", 2),
        ("document=FV-2", 2),
        ("date_from=2000-01-01&date_to=2000-12-31", 0),
    ],
)
def test_do_the_filters_narrow_the_list(client, supplier, seller, trail, query, expected):
    login(client, seller, supplier)
    response = client.get(f"/audit/?{query}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="audit-events"')
    assert fragment.count("data-event=") == expected


def test_does_the_user_filter_keep_one_users_events(client, supplier, seller, trail):
    login(client, seller, supplier)
    fragment = client.get(f"/audit/?user={trail['clerk'].id}").get_data(as_text=True)
    assert fragment.count("data-event=") == 2


def test_is_a_backwards_period_refused_with_422(client, supplier, seller, trail):
    login(client, seller, supplier)
    response = client.get("/audit/?date_from=2025-02-01&date_to=2025-01-01")
    assert response.status_code == 422


def test_does_the_next_page_continue_without_repeats(app, client, supplier, seller, trail,
                                                     monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_PAGE_SIZE", 3)
    login(client, seller, supplier)
    first = client.get("/audit/").get_data(as_text=True)
    assert first.count("data-event=") == 3 and "cursor=2" in first
    rest = client.get("/audit/?cursor=2").get_data(as_text=True)
    assert rest.count("data-event=") == 1 and 'data-event="1"' in rest


def test_does_the_csv_export_hold_the_filtered_events(client, supplier, seller, trail):
    login(client, seller, supplier)
    response = client.get("/audit/events.csv?document=FV-2")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Cuándo (America/Bogota)"
    # Each event as a sentence naming the document by its number, not by codes or ids.
    assert [(r[1], r[3]) for r in rows[1:]] == [
        ("clerk@example.test", "Usuario descargó el PDF de la factura FV-2"),
        ("clerk@example.test", "Usuario vio la factura FV-2"),
    ]
    assert rows[1][4] == "la factura FV-2" and rows[1][6] == "198.51.100.4"
    assert "document." not in response.get_data(as_text=True)
    assert rows[1][5] == '{"n": "ñ"}'


def test_does_the_xlsx_export_hold_the_same_rows(client, supplier, seller, trail):
    en = make_user(supplier, role="admin", locale="en")
    login(client, en, supplier)
    response = client.get("/audit/events.xlsx?action=document.viewed")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "When (America/Bogota)"
    assert [r[3] for r in rows[1:]] == [
        "Usuario viewed invoice FV-2",
        "Sara Vendedora viewed invoice FV-1",
    ]
    # A typed date-time in the reader's zone: five hours behind the UTC it was stored in.
    newest = db.session.scalars(
        unscoped(select(AuditEvent).where(AuditEvent.action == "document.viewed"))
        .order_by(AuditEvent.id.desc())
    ).first()
    shifted = newest.created_at.replace(tzinfo=None) - rows[1][0]
    assert abs(shifted - datetime.timedelta(hours=5)) < datetime.timedelta(seconds=1)


def test_may_only_owners_and_admins_read_the_audit_page(client, supplier, trail):
    login(client, trail["clerk"], supplier)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/events.csv").status_code == 403
    page = client.get("/inbox/received").get_data(as_text=True)
    assert 'data-testid="nav-audit"' not in page


def test_does_the_audit_link_appear_for_an_owner(client, supplier, seller):
    login(client, seller, supplier)
    assert 'data-testid="nav-audit"' in client.get("/inbox/received").get_data(as_text=True)


def test_is_the_audit_page_in_spanish_and_english(client, supplier, seller, trail):
    login(client, seller, supplier)
    assert "Exportar esta lista" in client.get("/audit/").get_data(as_text=True)
    en = make_user(supplier, role="admin", locale="en")
    login(client, en, supplier)
    assert "Export this list" in client.get("/audit/").get_data(as_text=True)


def test_is_the_period_the_readers_days_not_utcs(app, client, supplier, seller, monkeypatch):
    """An event at 8 p.m. in Bogotá on 31 January is 1 February in UTC: the page shows it on the
    31st, so a reader in Bogotá finds it on the 31st and not on the 1st (the list and both
    exports); a reader whose zone is UTC, the other way round."""
    late = datetime.datetime(2026, 2, 1, 1, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(audit, "utcnow", lambda: late)
    with acting_as(supplier.id, seller.id):
        audit.record_event(seller, supplier, "auth.signed_in", seller)
        db.session.commit()
    login(client, seller, supplier)
    assert seller.timezone in (None, "America/Bogota")

    def found(reader, day: str) -> int:
        page = reader.get(f"/audit/?date_from={day}&date_to={day}").get_data(as_text=True)
        exported = reader.get(f"/audit/events.csv?date_from={day}&date_to={day}")
        rows = exported.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()[1:]
        assert page.count("data-event=") == len(rows)
        return len(rows)

    assert found(client, "2026-01-31") == 1
    assert found(client, "2026-02-01") == 0
    utc = make_user(supplier, role="admin", email="utc@example.test")
    db.session.execute(
        sa_update(type(utc)).where(type(utc).id == utc.id).values(timezone="UTC")
    )
    db.session.commit()
    other = app.test_client()
    login(other, utc, supplier)
    assert found(other, "2026-01-31") == 0
    assert found(other, "2026-02-01") == 1
