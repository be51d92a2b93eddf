"""A payment's receipt as PDF, read back as text: in the reader's language and formats, the
fee on the payee's copy only, refunds listed."""

from __future__ import annotations

import io
from decimal import Decimal

import pdfplumber
import pytest
from sqlalchemy import update

from app.extensions import db
from app.gateways import base as gw
from app.models.payment import Payment
from app.services.errors import Conflict
from app.services.payments import paying, queries, receipts, refunds, webhooks
from app.services.payments.paying import Item
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.payments_helpers import connect_fake, invoice, sign, urls


def text_of(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages).replace("\xa0", " ")


@pytest.fixture
def paid(fake_gateway):
    supplier = make_company("Proveedora Ñandú S.A.S.")
    buyer = make_company("Compradora del Valle S.A.S.")
    payer = make_user(buyer, role="payables")
    connection = connect_fake(supplier)
    a, b = invoice(supplier, buyer, "1234.50"), invoice(supplier, buyer, "98765.40")
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id, items=[Item(a.id), Item(b.id)], method="sandbox", actor=payer, urls=urls()
        )
    db.session.commit()
    body, headers = sign(
        {
            "id": "evt_paid",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(payment.id),
            "gateway_reference": payment.gateway_reference,
            "amount": str(payment.amount),
            "currency": "COP",
        }
    )
    webhooks.receive_webhook(connection.gateway, connection.public_id, body, headers)
    db.session.commit()
    db.session.execute(update(Payment).where(Payment.id == payment.id).values(fee=Decimal("3210")))
    db.session.commit()
    return supplier, buyer, payer, payment, (a, b)


def render(payment, company_id, locale="es"):
    with acting_as(company_id):
        found = queries.get_payment(company_id, payment.id)
        return text_of(receipts.receipt_pdf(found, reader_company_id=company_id, locale=locale))


def test_the_payees_receipt_names_both_companies_each_invoice_and_the_fee_in_colombian_format(
    paid,
):
    supplier, buyer, _payer, payment, (a, b) = paid
    content = render(payment, supplier.id)
    assert f"Comprobante de pago {payment.id}" in content
    assert "Proveedora Ñandú S.A.S." in content and "Compradora del Valle S.A.S." in content
    assert supplier.tax_id_display in content and buyer.tax_id_display in content
    assert a.number in content and b.number in content
    assert "$ 1.234,50" in content and "$ 98.765,40" in content
    assert "$ 99.999,90" in content  # the total
    assert "Comisión de la pasarela" in content and "$ 3.210,00" in content
    assert "Pasarela de pruebas" in content and payment.gateway_reference in content


def test_the_payers_copy_has_no_fee_and_follows_the_readers_language(paid):
    _supplier, buyer, _payer, payment, (a, _b) = paid
    content = render(payment, buyer.id, locale="en")
    assert "Payment receipt" in content and a.number in content
    assert "COP 1,234.50" in content
    assert "3,210.00" not in content and "Gateway fee" not in content


def test_refunds_are_listed_on_the_receipt(paid):
    supplier, _buyer, _payer, payment, (_a, b) = paid
    db.session.expire_all()
    with acting_as(supplier.id):
        refunds.refund_payment(
            supplier.id,
            payment_id=payment.id,
            amount=Decimal("500.25"),
            reason="Unidad defectuosa",
            actor=None,
        )
    db.session.commit()
    content = render(payment, supplier.id)
    assert "Reembolsos" in content and "$ 500,25" in content and "Unidad defectuosa" in content
    assert b.number in content.split("Reembolsos")[1]  # the refund lowered the last invoice


def test_a_payment_not_yet_confirmed_has_no_receipt(fake_gateway):
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    payer = make_user(buyer, role="payables")
    connect_fake(supplier)
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id,
            items=[Item(invoice(supplier, buyer).id)],
            method="sandbox",
            actor=payer,
            urls=urls(),
        )
        with pytest.raises(Conflict):
            receipts.receipt_pdf(payment, reader_company_id=buyer.id)
