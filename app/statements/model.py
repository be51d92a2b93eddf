"""What a bank statement holds, whatever its format: plain data, no Flask, no database.

Amounts are ``Decimal``, signed from the account holder's side: credits (money in) positive,
debits (money out) negative. Dates are ``datetime.date``; text fields are ``None`` where the file
has nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

FORMATS = ("camt053", "mt940", "ofx", "csv")  # "csv" also names XLSX exports (tabular)
#: Amounts and balances are kept with at most 15 digits before the decimal point (the app's
#: bank line columns are NUMERIC(20, 5)): ``read_statement`` refuses a file with a larger one.
MAX_AMOUNT = Decimal(10) ** 15


class StatementError(Exception):
    """A file that cannot be read: ``message`` (English) and ``message_es`` name the line or
    element at fault, in words a person understands."""

    def __init__(self, message: str, message_es: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_es = message_es or message


@dataclass(frozen=True)
class Counterparty:
    name: str | None = None
    account: str | None = None  # IBAN or local account number, as the bank wrote it


@dataclass(frozen=True)
class Entry:
    booking_date: date | None
    value_date: date | None
    amount: Decimal  # signed: credits positive, debits negative
    currency: str | None
    reference: str | None = None  # remittance information / payment reference as written
    end_to_end_id: str | None = None
    counterparty: Counterparty = field(default_factory=Counterparty)
    description: str | None = None
    bank_reference: str | None = None  # the bank's own id of the entry (AcctSvcrRef, FITID, …)


@dataclass(frozen=True)
class Statement:
    account: str | None  # IBAN or account number
    currency: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    entries: tuple[Entry, ...] = ()
    statement_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    pending: int = 0  # entries not booked yet (camt PDNG, INFO, FUTR): left out, counted

    def balance_gap(self) -> Decimal | None:
        """closing − (opening + entries); None when either balance is absent."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.closing_balance - (self.opening_balance + sum(
            (e.amount for e in self.entries), Decimal("0")))


@dataclass(frozen=True)
class ColumnMapping:
    """How to read one bank's CSV or XLSX export (saved per bank account)."""

    date_column: str
    amount_column: str | None = None  # one signed column …
    debit_column: str | None = None  # … or debit and credit columns
    credit_column: str | None = None
    date_format: str = "%Y-%m-%d"  # strptime format
    decimal_comma: bool = False  # "1.234,56"
    skip_rows: int = 0  # lines before the header row
    delimiter: str | None = None  # None: sniffed
    encoding: str | None = None  # None: UTF-8, then Windows-1252
    value_date_column: str | None = None
    description_column: str | None = None
    reference_column: str | None = None
    counterparty_name_column: str | None = None
    counterparty_account_column: str | None = None
    currency_column: str | None = None
    currency: str | None = None  # when the file has no currency column
    debit_is_negative: bool = False  # debit column already carries its minus sign


@dataclass(frozen=True)
class ParseResult:
    """One file as `flask statements inspect --json` prints it."""

    file: str
    format: str | None
    statements: tuple[Statement, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        def day(value: date | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "file": self.file,
            "format": self.format,
            "statements": [
                {
                    "account": s.account,
                    "currency": s.currency,
                    "opening_balance": money(s.opening_balance),
                    "closing_balance": money(s.closing_balance),
                    "entries": [
                        {
                            "booking_date": day(e.booking_date),
                            "value_date": day(e.value_date),
                            "amount": money(e.amount),
                            "currency": e.currency,
                            "reference": e.reference,
                            "end_to_end_id": e.end_to_end_id,
                            "counterparty": {
                                "name": e.counterparty.name,
                                "account": e.counterparty.account,
                            },
                            "description": e.description,
                        }
                        for e in s.entries
                    ],
                }
                for s in self.statements
            ],
            "error": self.error,
        }
