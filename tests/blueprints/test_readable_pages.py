"""No code that a person must decode appears on a page: what a first-time user reads on the
document page, its PDF, the audit trail, the chat's read receipts and the profile's time zone."""

from __future__ import annotations

import datetime as dt
import io
import re

import pdfplumber
import pytest
from sqlalchemy import select, update

from app import humanize
from app.extensions import db
from app.models import AuditEvent, DisputeMessage, User
from app.services import audit
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import make_document

pytestmark = pytest.mark.usefixtures("no_official_rules")


def as_user(app, user, company, locale):
    user.locale = locale
    db.session.commit()
    client = app.test_client()
    login(client, user, company)
    return client


def profile_of(user) -> dict[str, str]:
    return {
        "name": user.name,
        "id_document_type": user.id_document_type or "",
        "id_document_number": user.id_document_number or "",
    }


def text_of(html: str) -> str:
    """The words a person sees: tags, attributes and scripts removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("es", ["unidades", "Efectivo", "Crédito", "19%", "IVA", "peso colombiano (COP)"]),
        ("en", ["units", "Cash", "Credit", "19%", "VAT (IVA)", "Colombian Peso (COP)"]),
    ],
)
def test_does_the_document_page_name_what_the_xml_codes(
    app, invoice, supplier, customer, buyer, locale, words
):
    page = as_user(app, buyer, customer, locale).get(f"/documents/{invoice.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    seen = text_of(html)
    for word in words:
        assert word in seen, word
    # The raw forms are gone: a unit code after the quantity, a rate with two decimals, the
    # payment means code, a bare tax id.
    assert not re.search(r"\d 94\b", seen)
    assert "19.00" not in seen and "19,00 %" not in seen
    assert 'data-testid="payment-means">Efectivo<' in html or locale == "en"
    assert humanize.tax_id(customer.tax_id, "CO") in seen
    assert re.search(r"NIT \d{3}\.\d{3}\.\d{3}-\d", seen)
    assert f" {customer.tax_id} " not in seen


def test_does_the_pdf_name_the_codes_too(app, invoice, customer, buyer):
    response = as_user(app, buyer, customer, "es").get(f"/documents/{invoice.id}/pdf")
    assert response.status_code == 200
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "unidades" in text and "Efectivo" in text and "Crédito" in text
    assert re.search(r"NIT \d{3}\.\d{3}\.\d{3}-\d", text)
    assert "19.00" not in text and "-05:00" not in text


@pytest.mark.parametrize(
    ("locale", "sentences"),
    [
        ("en", ["María Pérez viewed invoice SETP1", "María Pérez signed in"]),
        ("es", ["María Pérez vio la factura SETP1", "María Pérez inició sesión"]),
    ],
)
def test_does_the_audit_page_say_who_did_what_to_which_invoice(
    app, invoice, supplier, locale, sentences
):
    seller = make_user(supplier, role="owner", name="María Pérez")
    client = as_user(app, seller, supplier, locale)
    client.get(f"/documents/{invoice.id}")
    with acting_as(supplier.id, seller.id):
        audit.record_event(seller, supplier, "auth.signed_in", seller)
        db.session.commit()
    html = client.get("/audit/").get_data(as_text=True)
    seen = text_of(html)
    for sentence in sentences:
        assert sentence in seen, sentence
    assert "document.viewed" not in seen and "auth.signed_in" not in seen
    assert f"Document {invoice.id}" not in seen and f"Documento {invoice.id}" not in seen
    # The action filter offers the actions by name too.
    assert ">document.viewed<" not in html


def test_does_the_audit_page_show_times_in_the_users_own_zone(app, supplier):
    seller = make_user(supplier, role="owner", name="María Pérez")
    with acting_as(supplier.id, seller.id):
        event = audit.record_event(seller, supplier, "auth.signed_in", seller)
        db.session.commit()
    late = dt.datetime(2026, 12, 7, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 6th in Bogotá
    db.session.execute(
        unscoped(update(AuditEvent).where(AuditEvent.id == event.id).values(created_at=late))
    )
    db.session.commit()
    client = as_user(app, seller, supplier, "en")
    assert "12/6/26, 10:30\u202fPM" in client.get("/audit/").get_data(as_text=True)
    response = client.post("/auth/profile", data=profile_of(seller) | {"timezone": "UTC"})
    assert response.status_code == 303
    assert "12/7/26, 3:30\u202fAM" in client.get("/audit/").get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "x" * 300, "UTC\x00"])
def test_is_an_unknown_time_zone_refused_and_the_old_one_kept(client, zone):
    company = make_company("Compradora")
    user = make_user(company, name="Ana")
    login(client, user, company)
    response = client.post("/auth/profile", data=profile_of(user) | {"timezone": zone})
    if "\x00" in zone:  # refused before the form is read (a NUL in any field: app/web/errors)
        assert response.status_code == 400
        assert "no está permitido (NUL)" in response.get_data(as_text=True)
    else:
        assert response.status_code == 422
        assert "Elija una zona horaria de la lista." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone == "America/Bogota"


def test_does_the_profile_offer_the_time_zones(client):
    company = make_company("Compradora")
    user = make_user(company, name="Ana")
    login(client, user, company)
    html = client.get("/auth/profile").get_data(as_text=True)
    assert 'name="timezone"' in html
    assert re.search(
        r'<option selected value="America/Bogota"|value="America/Bogota" selected', html
    )


def test_do_read_receipts_name_the_message_read_not_its_id(
    app, invoice, supplier, seller, customer, buyer
):
    buyer.name, seller.name = "Bruno Comprador", "Sara Vendedora"
    db.session.commit()
    client_buyer = as_user(app, buyer, customer, "en")
    opened = client_buyer.post(
        f"/disputes/documents/{invoice.id}",
        data={"reason": "price", "amount": "100", "message": "El precio no es el pactado"},
    )
    assert opened.status_code in (200, 303)
    dispute_id = db.session.scalars(unscoped(select(DisputeMessage.dispute_id))).first()
    client_seller = as_user(app, seller, supplier, "en")
    assert client_seller.get(f"/disputes/documents/{invoice.id}").status_code == 200

    receipts = client_buyer.get(f"/disputes/{dispute_id}/receipts").get_data(as_text=True)
    assert "Sara Vendedora (everything," in text_of(receipts)
    assert "up to message" not in receipts

    client_buyer.post(f"/disputes/{dispute_id}/messages", data={"body": "¿Y entonces?"})
    receipts = text_of(client_buyer.get(f"/disputes/{dispute_id}/receipts").get_data(as_text=True))
    assert "Sara Vendedora (up to the message from " in receipts
    assert not re.search(r"message \d+\b", receipts)


def test_does_the_audit_page_not_name_a_document_the_company_cannot_see(app, supplier):
    owner = make_user(supplier, role="owner", name="María Pérez")
    stranger, other = make_company("Ajena"), make_company("Otra")
    hidden = make_document(stranger, other, number="SECRETO-1")
    with acting_as(supplier.id, owner.id):
        audit.record_event(owner, supplier, "document.viewed", ("documents", hidden.id))
        db.session.commit()
    seen = text_of(as_user(app, owner, supplier, "en").get("/audit/").get_data(as_text=True))
    assert "María Pérez viewed a document" in seen and "SECRETO-1" not in seen
