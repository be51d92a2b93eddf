"""A company's bank accounts: name, bank, currency and number (an IBAN is checked with schwifty),
and the column mapping its CSV/XLSX exports are read with."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_babel import lazy_gettext as _l
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Select, select

from app.extensions import db
from app.gateways import currencies
from app.models.reconciliation import BankAccount
from app.models.user import User
from app.services import audit
from app.services.errors import FieldErrors, NotFound
from app.statements.model import ColumnMapping

_LIMITS = {"name": 100, "bank_name": 100, "number": 60}


def bank_accounts(company_id: int) -> Select[tuple[BankAccount]]:
    return (
        select(BankAccount)
        .where(BankAccount.company_id == company_id, BankAccount.active.is_(True))
        .order_by(BankAccount.name, BankAccount.id)
    )


def get_bank_account(company_id: int, account_id: int) -> BankAccount:
    account = db.session.get(BankAccount, account_id)
    if account is None or account.company_id != company_id or not account.active:
        raise NotFound(_l("No such bank account."))
    return account


def compact_number(number: str) -> str:
    return "".join(ch for ch in (number or "") if ch.isalnum()).upper()


def looks_like_iban(number: str) -> bool:
    compact = compact_number(number)
    return len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit()


def _check(name: str, bank_name: str, currency: str, number: str) -> tuple[dict[str, str], bool]:
    errors: dict[str, list[Any]] = {}
    values = {
        "name": (name or "").strip(),
        "bank_name": (bank_name or "").strip(),
        "number": compact_number(number),
        "currency": (currency or "").strip().upper(),
    }
    for field, limit in _LIMITS.items():
        if len(values[field]) > limit:
            errors[field] = [_l("At most %(n)s characters.", n=limit)]
    if not values["name"]:
        errors["name"] = [_l("Give the account a name, like “Bancolombia savings”.")]
    if not values["number"]:
        errors["number"] = [_l("Give the account number or IBAN.")]
    if values["currency"] not in currencies.ISO_DECIMALS:
        errors["currency"] = [_l("Choose the account's currency (a code like COP or EUR).")]
    is_iban = looks_like_iban(values["number"])
    if is_iban and "number" not in errors:
        try:
            values["number"] = IBAN(values["number"]).compact
        except SchwiftyException as exc:
            errors["number"] = [_l("This IBAN is not valid: %(reason)s", reason=str(exc))]
    if errors:
        raise FieldErrors(errors)
    return values, is_iban


def create_bank_account(
    company_id: int, *, actor: User | None, name: str, bank_name: str, currency: str, number: str
) -> BankAccount:
    values, is_iban = _check(name, bank_name, currency, number)
    existing = db.session.scalars(
        select(BankAccount).where(
            BankAccount.company_id == company_id, BankAccount.number == values["number"]
        )
    ).first()
    if existing is not None and existing.active:
        raise FieldErrors({"number": [_l("This account is already here.")]})
    if existing is not None:  # added again after removal
        account = existing
        account.active = True
        account.name, account.bank_name = values["name"], values["bank_name"]
        account.currency, account.is_iban = values["currency"], is_iban
    else:
        account = BankAccount(company_id=company_id, is_iban=is_iban, **values)
        db.session.add(account)
    db.session.flush()
    audit.record_event(
        actor, company_id, "reconciliation.bank_account_added", account,
        {"number": account.number[-4:]},
    )
    return account


def remove_bank_account(company_id: int, account_id: int, *, actor: User | None) -> None:
    """Hide the account; its lines and matches stay for the record."""
    account = get_bank_account(company_id, account_id)
    account.active = False
    audit.record_event(actor, company_id, "reconciliation.bank_account_removed", account, {})


def mapping_of(account: BankAccount) -> ColumnMapping | None:
    if not account.column_mapping:
        return None
    known = {f.name for f in dataclasses.fields(ColumnMapping)}
    return ColumnMapping(**{k: v for k, v in account.column_mapping.items() if k in known})


def save_mapping(company_id: int, account_id: int, mapping: ColumnMapping) -> BankAccount:
    account = get_bank_account(company_id, account_id)
    account.column_mapping = dataclasses.asdict(mapping)
    db.session.flush()
    return account


def has_bank_accounts(company_id: int) -> bool:
    """Whether the company reconciles at all (one active bank account)."""
    return db.session.scalars(bank_accounts(company_id).limit(1)).first() is not None
