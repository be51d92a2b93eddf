"""Reconciliation's plain data: bank lines, what they may settle, the evidence and suggestions.

No Flask, no database: ``app.services.reconciliation`` builds these from rows, runs
``app.matching.engine`` and stores what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# What a bank line can settle.
RECEIVABLE = "receivable"  # an invoice the company issued, open (credit lines)
PAYABLE = "payable"  # an invoice the company received, open (debit lines)
PAYMENT_IN = "payment_in"  # a payment the company received and the bank has not shown yet
PAYMENT_OUT = "payment_out"  # a payment the company made (debit lines)
PAYOUT = "payout"  # a gateway's payout to the company's bank (credit lines)
KINDS = (RECEIVABLE, PAYABLE, PAYMENT_IN, PAYMENT_OUT, PAYOUT)
CREDIT_KINDS = (RECEIVABLE, PAYMENT_IN, PAYOUT)
DEBIT_KINDS = (PAYABLE, PAYMENT_OUT)

# Evidence codes (the UI names them for people).
AMOUNT_EXACT = "amount_exact"
AMOUNT_CLOSE = "amount_close"  # within tolerance; the difference becomes a fee when allowed
AMOUNT_SUM = "amount_sum"  # several candidates add up to the line
REFERENCE = "reference"  # an invoice number / payment reference / payout id found in the text
END_TO_END = "end_to_end"  # the line's end-to-end id is the candidate's
COUNTERPARTY_TAX_ID = "counterparty_tax_id"
COUNTERPARTY_ACCOUNT = "counterparty_account"  # a bank account already seen for that partner
COUNTERPARTY_NAME = "counterparty_name"  # fuzzy (rapidfuzz)
LABEL_PATTERN = "label_pattern"  # a label learnt from an earlier confirmation
DATE_NEAR = "date_near"
RULE = "rule"
EVIDENCE_CODES = (
    AMOUNT_EXACT, AMOUNT_CLOSE, AMOUNT_SUM, REFERENCE, END_TO_END, COUNTERPARTY_TAX_ID,
    COUNTERPARTY_ACCOUNT, COUNTERPARTY_NAME, LABEL_PATTERN, DATE_NEAR, RULE,
)


@dataclass(frozen=True)
class Line:
    """One bank statement line."""

    id: int
    amount: Decimal  # signed: credits positive
    currency: str
    booking_date: date | None
    reference: str = ""
    description: str = ""
    end_to_end_id: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    bank_account_id: int | None = None


@dataclass(frozen=True)
class Candidate:
    """Something open that a line may settle, seen from the company reconciling."""

    kind: str  # one of KINDS
    id: int
    amount: Decimal  # what is still open, positive
    currency: str
    references: tuple[str, ...] = ()  # invoice number, payment reference, e2e id, payout id
    partner: str | None = None  # the counterparty's key (its tax id)
    partner_name: str = ""
    date: date | None = None  # due date (invoices), payment or payout date
    end_to_end_id: str = ""


@dataclass(frozen=True)
class Evidence:
    code: str  # one of EVIDENCE_CODES
    points: float  # what it adds to the score
    detail: str = ""  # the matched text, the difference, the rule's name …


@dataclass(frozen=True)
class Item:
    kind: str
    id: int
    amount: Decimal  # how much of the line goes to it (positive)


@dataclass(frozen=True)
class Suggestion:
    line_id: int
    items: tuple[Item, ...]
    score: float  # 0 … 100
    evidence: tuple[Evidence, ...]
    fee: Decimal = Decimal("0")  # line = items − fee (a bank or gateway fee, positive)
    rule_id: int | None = None
    auto: bool = False  # confident enough, and allowed, to confirm without a person


@dataclass(frozen=True)
class Rule:
    """A company's reconciliation rule: conditions, then one action. Applied in ``position``."""

    id: int
    name: str
    position: int = 0
    enabled: bool = True
    auto_confirm: bool = False  # may its matches confirm without review?
    # Conditions (all must hold; empty ones are ignored).
    text_contains: str = ""  # in reference, description or counterparty name (case-insensitive)
    direction: str = ""  # "credit", "debit" or ""
    amount_min: Decimal | None = None  # absolute amount
    amount_max: Decimal | None = None
    counterparty: str = ""  # a partner key (tax id) or a name
    bank_account_id: int | None = None
    # Action: "partner_oldest_first" (invoices of ``partner`` oldest first), "fee_difference"
    # (a shortfall up to ``fee_max`` is a bank fee), "gateway_payout" (match payouts only).
    action: str = "partner_oldest_first"
    partner: str | None = None
    fee_max: Decimal = Decimal("0")


@dataclass(frozen=True)
class Hints:
    """What earlier confirmations taught: bank accounts and label patterns → partner keys."""

    accounts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # a normalised text token → partner


@dataclass(frozen=True)
class Settings:
    tolerance: Decimal = Decimal("0")  # an absolute amount difference still "close"
    tolerance_ratio: Decimal = Decimal("0.005")  # or this share of the amount
    auto_threshold: float = 90.0
    max_subset: int = 6  # invoices combined to explain one line
    date_window_days: int = 45
    options: dict[str, Any] = field(default_factory=dict)
