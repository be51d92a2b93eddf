"""Documents and disputes written straight to the database for the home's tests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from app.extensions import db
from app.models import Company, Dispute, Document, NumberingRange
from app.models.dispute import OPEN

_numbers = itertools.count(1)


def doc(
    sender: Company,
    receiver: Company | None,
    *,
    status: str = "accepted",
    due: dt.date | None = None,
    amount: str = "100.00",
    open_balance: str | None = None,
    currency: str = "COP",
    payment_status: str = "unpaid",
    document_type: str = "Invoice",
    issue_date: dt.date = dt.date(2026, 1, 5),
    number: str | None = None,
) -> Document:
    """Add a document row (no XML) with what the home's figures read."""
    document = Document(
        sender_company_id=sender.id,
        receiver_company_id=receiver.id if receiver else None,
        customer_country="CO",
        customer_tax_id=receiver.tax_id if receiver else "9001234560",
        supplier_name=sender.legal_name,
        supplier_tax_id=sender.tax_id,
        customer_name=receiver.legal_name if receiver else "Cliente",
        document_type=document_type,
        number=number or f"H{next(_numbers):06d}",
        issue_date=issue_date,
        due_date=due,
        currency=currency,
        payable=Decimal(amount),
        open_balance=Decimal(amount if open_balance is None else open_balance),
        status=status,
        payment_status=payment_status,
        original=b"<Invoice/>",
        is_legal=False,
    )
    db.session.add(document)
    db.session.commit()
    return document


def dispute(document: Document, *, waiting: Company | None, status: str = OPEN) -> Dispute:
    """Add a dispute on document, waiting for the answer of waiting."""
    row = Dispute(
        document_id=document.id,
        supplier_company_id=document.sender_company_id,
        buyer_company_id=document.receiver_company_id,
        opened_by_company_id=document.receiver_company_id,
        reason="price",
        amount=Decimal("10.00"),
        currency=document.currency,
        status=status,
        waiting_company_id=waiting.id if waiting else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def give_numbering_range(company: Company) -> NumberingRange:
    """Give company an active numbering range (what issuing an invoice needs with its fiscal
    profile and certificate)."""
    today = dt.date.today()
    numbering = NumberingRange(
        company_id=company.id,
        prefix="SETT",
        range_from=1,
        range_to=5000,
        resolution="18760000001",
        valid_from=today - dt.timedelta(days=30),
        valid_to=today + dt.timedelta(days=300),
        technical_key_encrypted=b"-",
        next_number=1,
        active=True,
    )
    db.session.add(numbering)
    db.session.commit()
    return numbering
