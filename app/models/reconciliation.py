"""Bank reconciliation: a company's bank accounts, the statements imported into them, their
lines, the matches that tie a line to invoices, payments or gateway payouts, the rules a company
keeps and what confirmations taught; and the gateway payouts as the portal copied them.

A match never edits money by itself: confirming one asks ``app.services.payments`` to record
(or confirm) the payment that closes the invoices, so the invoice's balance moves in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow

# A bank line's state, kept on the line for the lists.
UNMATCHED, SUGGESTED, MATCHED, IGNORED = "unmatched", "suggested", "matched", "ignored"
LINE_STATUSES = (UNMATCHED, SUGGESTED, MATCHED, IGNORED)
# A match's state.
MATCH_SUGGESTED, MATCH_CONFIRMED, MATCH_UNDONE, MATCH_REJECTED = (
    "suggested",
    "confirmed",
    "undone",
    "rejected",
)

LINE_AMOUNT = Numeric(20, 5)  # statements carry up to five decimals in some currencies


class BankAccount(TenantScoped, Base):
    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    currency: Mapped[str] = mapped_column(String(3))
    # Compact: an IBAN without spaces (checked with schwifty) or the local account number.
    number: Mapped[str] = mapped_column(String(60))
    is_iban: Mapped[bool] = mapped_column(default=False)
    # The CSV/XLSX column mapping (app.statements.model.ColumnMapping as a dict), once saved.
    column_mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatementImport(TenantScoped, Base):
    """One statement read from one file (a camt file with three statements makes three)."""

    __tablename__ = "statement_imports"
    __table_args__ = (Index("ix_statement_imports_account", "bank_account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(
        ForeignKey("bank_accounts.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    statement_id: Mapped[str] = mapped_column(String(120), default="")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    opening_balance: Mapped[Decimal | None] = mapped_column(LINE_AMOUNT)
    closing_balance: Mapped[Decimal | None] = mapped_column(LINE_AMOUNT)
    # closing − (opening + entries) when not zero: the file is missing lines (a finding).
    balance_gap: Mapped[Decimal | None] = mapped_column(LINE_AMOUNT)
    entries: Mapped[int] = mapped_column(default=0)
    new_lines: Mapped[int] = mapped_column(default=0)
    # "pending" while a job matches a large import's lines (small ones are matched at once).
    matching_state: Mapped[str] = mapped_column(String(10), default="done")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankLine(TenantScoped, Base):
    __tablename__ = "bank_lines"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "fingerprint"),
        Index("ix_bank_lines_account_date", "bank_account_id", "booking_date", "id"),
        Index("ix_bank_lines_company_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(
        ForeignKey("bank_accounts.id", ondelete="CASCADE")
    )
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement_imports.id", ondelete="SET NULL"), index=True
    )
    booking_date: Mapped[date]
    value_date: Mapped[date | None]
    amount: Mapped[Decimal] = mapped_column(LINE_AMOUNT)  # credits positive
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(500), default="")
    end_to_end_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    counterparty_name: Mapped[str] = mapped_column(String(200), default="")
    counterparty_account: Mapped[str] = mapped_column(String(60), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    bank_reference: Mapped[str] = mapped_column(String(120), default="")
    # What makes the line the same line in an overlapping file (see importing.fingerprint).
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=UNMATCHED)
    # How much of the line confirmed matches account for (a line may pay several invoices).
    matched_amount: Mapped[Decimal] = mapped_column(LINE_AMOUNT, default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(TenantScoped, Base):
    """One bank line tied to what it settles, with the evidence shown to the user."""

    __tablename__ = "reconciliation_matches"
    __table_args__ = (Index("ix_reconciliation_matches_line", "bank_line_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_line_id: Mapped[int] = mapped_column(ForeignKey("bank_lines.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default=MATCH_SUGGESTED, index=True)
    score: Mapped[float] = mapped_column(default=0.0)
    # [{code, points, detail}] (app.matching.model.Evidence)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fee: Mapped[Decimal] = mapped_column(LINE_AMOUNT, default=Decimal("0"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("reconciliation_rules.id", ondelete="SET NULL")
    )
    auto: Mapped[bool] = mapped_column(default=False)  # confirmed without a person
    manual: Mapped[bool] = mapped_column(default=False)  # chosen by a person's search
    confirmed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None]
    undone_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchItem(TenantScoped, Base):
    """What one match settles: an invoice (receivable or payable), a payment or a payout."""

    __tablename__ = "reconciliation_match_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliation_matches.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # app.matching.model KINDS
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("gateway_payouts.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(LINE_AMOUNT)
    # True when confirming this item recorded the payment (undo then reverses it).
    created_payment: Mapped[bool] = mapped_column(default=False)


class ReconciliationRule(TenantScoped, Base):
    """Conditions, then one action (app.matching.model.Rule), applied in ``position`` order."""

    __tablename__ = "reconciliation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    auto_confirm: Mapped[bool] = mapped_column(default=False)
    text_contains: Mapped[str] = mapped_column(String(100), default="")
    direction: Mapped[str] = mapped_column(String(6), default="")
    amount_min: Mapped[Decimal | None]
    amount_max: Mapped[Decimal | None]
    counterparty: Mapped[str] = mapped_column(String(200), default="")
    bank_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_accounts.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(30), default="partner_oldest_first")
    partner: Mapped[str] = mapped_column(String(20), default="")
    fee_max: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CounterpartyHint(TenantScoped, Base):
    """Learnt from a confirmed match: this bank account or label means this partner."""

    __tablename__ = "counterparty_hints"
    __table_args__ = (UniqueConstraint("company_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "account" | "label"
    value: Mapped[str] = mapped_column(String(100))
    partner: Mapped[str] = mapped_column(String(20))  # the partner's tax id
    partner_name: Mapped[str] = mapped_column(String(200), default="")
    uses: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GatewayPayout(TenantScoped, Base):
    """A gateway's payout to the company's bank (app.gateways.base.Settlement), copied."""

    __tablename__ = "gateway_payouts"
    __table_args__ = (UniqueConstraint("connection_id", "settlement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("gateway_connections.id", ondelete="CASCADE")
    )
    gateway: Mapped[str] = mapped_column(String(20))
    settlement_id: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]  # net paid out
    gross: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    fees: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    paid_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20))
    reconciled: Mapped[bool] = mapped_column(default=False)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class GatewayPayoutLine(TenantScoped, Base):
    __tablename__ = "gateway_payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(
        ForeignKey("gateway_payouts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # charge | refund | fee | adjustment
    gateway_reference: Mapped[str] = mapped_column(String(120), default="")
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal]
    fee: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    net: Mapped[Decimal]
    description: Mapped[str] = mapped_column(String(300), default="")
