"""A supplier's payment settings: partial payments (and their minimum), bank transfers and the
bank details a payer transfers to. One row per company, written on the first save."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.payment import PaymentSettings
from app.models.user import User
from app.services import audit
from app.services.errors import FieldErrors

#: The account types a Colombian bank offers (savings, checking); "" when none is given.
ACCOUNT_TYPES = ("", "savings", "checking")
_LIMITS = {"bank_name": 100, "account_number": 40, "account_holder": 200, "instructions": 2000}
_MAX_MINIMUM = Decimal("1000000000000")


def save_settings(
    company_id: int,
    *,
    actor: User | None,
    allow_partial: bool,
    partial_minimum: Any,
    accept_transfers: bool,
    bank_name: str = "",
    account_type: str = "",
    account_number: str = "",
    account_holder: str = "",
    instructions: str = "",
) -> PaymentSettings:
    """Check and store what the supplier accepts; FieldErrors names every wrong input."""
    errors: dict[str, list[Any]] = {}
    try:
        minimum = Decimal(str(partial_minimum if partial_minimum not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        minimum = None
    if minimum is None or not minimum.is_finite():
        errors["partial_minimum"] = [_l("Write the minimum as a number, like 50000.")]
    elif minimum < 0 or minimum >= _MAX_MINIMUM:
        errors["partial_minimum"] = [_l("The minimum cannot be negative.")]
    elif minimum != minimum.quantize(Decimal("0.01")):
        errors["partial_minimum"] = [_l("The minimum has at most two decimals.")]
    texts = {
        "bank_name": (bank_name or "").strip(),
        "account_number": (account_number or "").strip(),
        "account_holder": (account_holder or "").strip(),
        "instructions": (instructions or "").strip(),
    }
    for name, value in texts.items():
        if len(value) > _LIMITS[name]:
            errors[name] = [_l("At most %(n)s characters.", n=_LIMITS[name])]
    if account_type not in ACCOUNT_TYPES:
        errors["account_type"] = [_l("Choose one of the account types offered.")]
    if accept_transfers and not (texts["bank_name"] and texts["account_number"]):
        message = _l("Give the bank and the account number a payer transfers to.")
        for name in ("bank_name", "account_number"):
            if not texts[name]:
                errors.setdefault(name, [message])
    if errors:
        raise FieldErrors(errors)
    row = db.session.scalars(
        select(PaymentSettings).where(PaymentSettings.company_id == company_id)
    ).first()
    if row is None:
        row = PaymentSettings(company_id=company_id)
        db.session.add(row)
    row.allow_partial = bool(allow_partial)
    row.partial_minimum = (minimum or Decimal("0")).quantize(Decimal("0.01"))
    row.accept_transfers = bool(accept_transfers)
    row.account_type = account_type
    for name, value in texts.items():
        setattr(row, name, value)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "payments.settings_saved",
        ("payment_settings", row.id),
        {
            "allow_partial": row.allow_partial,
            "partial_minimum": str(row.partial_minimum),
            "accept_transfers": row.accept_transfers,
            "account_hint": ("…" + row.account_number[-4:]) if row.account_number else "",
        },
    )
    return row
