"""Building blocks of the reconciliation tests: a bank account and statements as plain data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.extensions import db
from app.models import Company, User
from app.services.reconciliation import accounts, importing
from app.statements.model import Counterparty, Entry, Statement
from app.tenancy import acting_as


def bank_account(company: Company, *, currency: str = "COP", number: str = "123456789"):
    with acting_as(company.id):
        account = accounts.create_bank_account(
            company.id, actor=None, name="Cuenta corriente", bank_name="Banco",
            currency=currency, number=number)
        db.session.commit()
    return account


def entry(amount: str, *, text: str = "", e2e: str = "", name: str = "", account: str = "",
          day: dt.date = dt.date(2026, 12, 2), bank_reference: str | None = None,
          currency: str = "COP") -> Entry:
    return Entry(
        booking_date=day, value_date=day, amount=Decimal(amount), currency=currency,
        reference=text or None, end_to_end_id=e2e or None,
        counterparty=Counterparty(name=name or None, account=account or None),
        description=None, bank_reference=bank_reference,
    )


def statement(*entries: Entry, opening: str | None = "0", closing: str | None = None,
              account: str | None = None, currency: str = "COP") -> Statement:
    total = sum((e.amount for e in entries), Decimal("0"))
    return Statement(
        account=account, currency=currency,
        opening_balance=None if opening is None else Decimal(opening),
        closing_balance=(Decimal(opening or "0") + total) if closing is None else Decimal(closing),
        entries=tuple(entries),
    )


def store(company: Company, account, *statements: Statement, user: User | None = None,
          digest: str = "x"):
    with acting_as(company.id, user.id if user else None):
        result = importing.store_statements(
            company.id, account_id=account.id, fmt="camt053", statements=list(statements),
            digest=digest, filename="test.xml", actor=user)
        db.session.commit()
    return result
