"""Minor units per currency, and each gateway's exceptions to them: the one table.

ISO 4217 gives a currency's decimals; gateways sometimes count differently (Stripe charges COP
in "cents" although the peso has no coins below one peso in use, and treats some currencies as
zero-decimal). Every conversion between a Decimal amount and a gateway's integer goes through
:func:`to_minor` and :func:`from_minor`, which refuse amounts a currency cannot carry.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 decimals of the currencies the portal handles.
ISO_DECIMALS: dict[str, int] = {
    "COP": 2,
    "CLP": 0,
    "MXN": 2,
    "USD": 2,
    "EUR": 2,
    "PEN": 2,
    "BRL": 2,
    "ARS": 2,
    "UYU": 2,
    "GBP": 2,
    "CAD": 2,
    "JPY": 0,
    "KRW": 0,
    "PYG": 0,
}

# A gateway's own count where it differs from ISO 4217 (decimals in the integer it exchanges).
GATEWAY_DECIMALS: dict[str, dict[str, int]] = {
    # Stripe: CLP, JPY, KRW, PYG are zero-decimal; COP is sent with two decimals (it is in
    # Stripe's "special cases": the amount must be a multiple of 100 for payouts). Nothing else
    # differs for the currencies above.
    "stripe": {},
    # Wompi: amount_in_cents for COP.
    "wompi": {},
    "sandbox": {},
}


class CurrencyError(ValueError):
    """An amount or currency the table cannot carry."""


def decimals(currency: str, gateway: str | None = None) -> int:
    """The decimals ``gateway`` (or ISO 4217, when None) uses for ``currency``."""
    code = (currency or "").upper()
    if gateway is not None and code in GATEWAY_DECIMALS.get(gateway, {}):
        return GATEWAY_DECIMALS[gateway][code]
    try:
        return ISO_DECIMALS[code]
    except KeyError:
        raise CurrencyError(f"unsupported currency {currency!r}") from None


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (Decimal('0.01'), Decimal('1'))."""
    return Decimal(1).scaleb(-decimals(currency))


def normalize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` at the currency's decimals; refuses what would need rounding."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise CurrencyError("amount must be a finite Decimal")
    q = quantum(currency)
    try:
        rounded = amount.quantize(q, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        # More digits than the decimal context carries: Decimal would raise its own error.
        raise CurrencyError(f"{amount} {currency} is too large") from None
    if rounded != amount:
        raise CurrencyError(f"{amount} has more decimals than {currency} allows")
    return rounded


def to_minor(amount: Decimal, currency: str, gateway: str | None = None) -> int:
    """The integer a gateway exchanges for ``amount`` (Decimal('12.34') USD → 1234)."""
    value = normalize(amount, currency)
    scaled = value.scaleb(decimals(currency, gateway))
    # A gateway counting fewer decimals than ISO 4217 cannot carry the fraction: refuse it
    # rather than let int() drop it.
    if scaled != scaled.to_integral_value():
        raise CurrencyError(f"{amount} {currency} has more decimals than {gateway} carries")
    return int(scaled)


def from_minor(value: int, currency: str, gateway: str | None = None) -> Decimal:
    """The Decimal amount of a gateway's integer (1234 USD → Decimal('12.34'))."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CurrencyError("a minor-unit amount must be an integer")
    # Built from text, so exact whatever the context's precision; normalize then refuses a
    # fraction the currency has no coin for (a gateway counting more decimals than ISO 4217)
    # instead of rounding it away.
    amount = Decimal(f"{value}E-{decimals(currency, gateway)}")
    return normalize(amount, currency)
