"""Small builders of candidates and lines for the matching tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from app.matching.model import RECEIVABLE, Candidate, Line, Suggestion

DAY = date(2025, 3, 1)
ANDINA = ("900123456-7", "Comercial Andina S.A.S.")
NOGAL = ("811222333-4", "Distribuidora El Nogal Ltda.")
OTHER = ("830999888-1", "Transportes Cóndor S.A.")


def inv(
    id: int,  # noqa: A002
    amount: str,
    partner: tuple[str, str] = ANDINA,
    ref: str | None = None,
    *,
    kind: str = RECEIVABLE,
    days: int = 0,
    currency: str = "COP",
    e2e: str = "",
) -> Candidate:
    """An open candidate: by default a receivable "FE-<id 6 digits>" due on DAY + days."""
    reference = ref if ref is not None else f"FE-{id:06d}"
    return Candidate(
        kind, id, Decimal(amount), currency, (reference,) if reference else (), partner[0],
        partner[1], DAY + timedelta(days=days), e2e,
    )


def line(
    amount: str,
    description: str = "",
    *,
    id: int = 1,  # noqa: A002
    name: str = "",
    account: str = "",
    reference: str = "",
    e2e: str = "",
    currency: str = "COP",
    days: int = 0,
    bank_account_id: int | None = None,
) -> Line:
    return Line(
        id, Decimal(amount), currency, DAY + timedelta(days=days), reference, description, e2e,
        name, account, bank_account_id,
    )


def ids(suggestion: Suggestion) -> set[tuple[str, int]]:
    return {(i.kind, i.id) for i in suggestion.items}


def codes(suggestion: Suggestion) -> set[str]:
    return {e.code for e in suggestion.evidence}


def evidence(suggestion: Suggestion, code: str):
    return next(e for e in suggestion.evidence if e.code == code)
