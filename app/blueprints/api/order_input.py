"""What an ERP's order says, read into what ``orders.placing.place`` takes: the supplier (by id,
tax id, or the UBL Order's seller party), its catalog items by code as the buyer sees them, and
the quantities checked against each item's minimum and pack, every refusal naming its input's
path (``lines[2].item_code``) as the API's other refusals do.

The services place orders from a cart or a file (items by id); an ERP names items by the
supplier's codes, so the few reads that need are here, on the catalog's own visibility rule
(``catalogs.search.visible_to``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.einvoice.ordering import OrderingParty, OrderingType, read_ordering
from app.extensions import db
from app.models import Company, Order, User
from app.models.catalog import CatalogItem
from app.services.catalogs.search import visible_to
from app.services.errors import DomainError, FieldErrors
from app.services.orders import cart, placing
from app.services.parties import PARTICIPANT_SCHEME
from app.tenancy import unscoped

SELLER = "Order.SellerSupplierParty"
BUYER = "Order.BuyerCustomerParty"


@dataclass
class Requested:
    """An order as an ERP asked for it: the supplier, its lines by code, the details."""

    supplier_id: int
    lines: list[tuple[str, Decimal | None]]  # (item code, quantity)
    details: placing.OrderInput
    currency: str = ""  # the XML's DocumentCurrencyCode, when it names one


# ---------------------------------------------------------------------------------- supplier


def supplier_of(
    buyer: Company,
    *,
    company_id: int | None,
    tax_id: str | None,
    field: str,
    country: str | None = None,
) -> int:
    """The supplier named by id or tax id (in ``country``, else the buyer's), when the buyer
    can order from it; else a 422 on ``field``."""
    supplier = None
    if company_id is not None:
        supplier = db.session.get(Company, company_id)
    elif tax_id:
        supplier = _company_by_tax_id(country or buyer.country, tax_id)
    else:
        raise FieldErrors(
            {"supplier_id": [_l("Name the supplier: supplier_id or supplier_tax_id.")]}
        )
    if supplier is None or supplier.id == buyer.id or not _sells_to(supplier.id, buyer.id):
        raise FieldErrors({field: [_l("No supplier with a catalog you can order from has it.")]})
    return supplier.id


def _company_by_tax_id(country: str, tax_id: str) -> Company | None:
    compact = re.sub(r"[^0-9A-Za-z]", "", tax_id).upper()
    if not compact:
        return None
    return db.session.scalars(
        select(Company).where(Company.country == country.upper(), Company.tax_id == compact)
    ).first()


def _sells_to(supplier_id: int, buyer_id: int) -> bool:
    """Whether the supplier has a published item shown to the buyer."""
    found = db.session.scalars(
        unscoped(
            select(CatalogItem.id)
            .where(CatalogItem.company_id == supplier_id, visible_to(buyer_id))
            .limit(1)
        )
    ).first()
    return found is not None


# ----------------------------------------------------------------------------------- the XML


def read_order_xml(buyer: Company, data: bytes, *, language: str) -> Requested:
    """Read a UBL Order (Peppol T01) an ERP sent: the seller is the supplier, each line's
    SellersItemIdentification and Quantity an item and how many, the Order's ID its number."""
    if not data.strip():
        raise FieldErrors({"body": [_l("The request body is empty: send the UBL Order.")]})
    document, findings = read_ordering(data)
    if document is None:
        raise FieldErrors({"body": [f.as_dict(language)["message"] for f in findings[:5]]})
    if document.document_type is not OrderingType.ORDER:
        raise FieldErrors(
            {
                "body": [
                    _l(
                        "This is a UBL %(kind)s: send an Order.",
                        kind=document.document_type.value,
                    )
                ]
            }
        )
    if document.buyer is not None and not _names(document.buyer, buyer):
        raise FieldErrors({BUYER: [_l("The buyer of this order is not your company.")]})
    seller = document.seller
    country, tax_id = _identity(seller, default_country=buyer.country)
    if not tax_id:
        raise FieldErrors({SELLER: [_l("Name the supplier by its endpoint or tax id.")]})
    supplier_id = supplier_of(buyer, company_id=None, tax_id=tax_id, field=SELLER, country=country)
    address = document.delivery_address
    details = placing.OrderInput(
        delivery_date=document.delivery_start,
        delivery_address="\n".join([*address.lines, address.city] if address else []).strip(),
        buyer_reference=""
        if document.customer_reference in ("", document.number)
        else document.customer_reference,
        note="\n".join(n for n in document.notes if n),
        number=document.number,
    )
    lines = [(line.seller_item_id, line.quantity) for line in document.lines]
    return Requested(supplier_id, lines, details, currency=document.currency)


def _identity(party: OrderingParty | None, *, default_country: str) -> tuple[str, str]:
    """(country, tax id) of a party: its network endpoint (scheme 0203, ``CO<tax id>``), else
    its legal or party id, in the buyer's country."""
    if party is None:
        return default_country, ""
    endpoint = party.endpoint_id.strip()
    if party.endpoint_scheme == PARTICIPANT_SCHEME and re.fullmatch(r"[A-Z]{2}\w+", endpoint):
        return endpoint[:2], endpoint[2:]
    return default_country, (party.legal_id or party.tax_id or party.id).strip()


def _names(party: OrderingParty, company: Company) -> bool:
    """Whether a party names the company (or names nobody that could be told apart)."""
    country, tax_id = _identity(party, default_country=company.country)
    compact = re.sub(r"[^0-9A-Za-z]", "", tax_id).upper()
    return not compact or (country, compact) == (company.country, company.tax_id)


# ------------------------------------------------------------------------------------ placing


def place_order(
    buyer: Company, requested: Requested, *, actor: User | None, today: dt.date
) -> Order:
    """Check each line's item and quantity, then place the order (origin ``api``)."""
    wanted = _wanted(buyer.id, requested)
    try:
        return placing.place(
            buyer.id,
            requested.supplier_id,
            wanted,
            requested.details,
            actor=actor,
            today=today,
            origin="api",
        )
    except FieldErrors as error:
        raise FieldErrors(
            {_path(name): messages for name, messages in error.errors.items()}
        ) from None


def _path(name: str) -> str:
    """The API's path for a field placing names: ``lines-2`` is ``lines[2]``."""
    found = re.fullmatch(r"lines-([0-9]+)", name)
    return f"lines[{found[1]}]" if found else name


def _wanted(buyer_id: int, requested: Requested) -> list[placing.Wanted]:
    codes = {code.strip().upper() for code, _quantity in requested.lines if code.strip()}
    items = {
        item.seller_item_id.upper(): item
        for item in db.session.scalars(
            unscoped(
                select(CatalogItem).where(
                    CatalogItem.company_id == requested.supplier_id,
                    func.upper(CatalogItem.seller_item_id).in_(sorted(codes) or [""]),
                    visible_to(buyer_id),
                )
            )
        )
    }
    errors: dict[str, list[Any]] = {}
    wanted: list[placing.Wanted] = []
    for index, (code, quantity) in enumerate(requested.lines):
        item = items.get(code.strip().upper())
        if item is None:
            errors[f"lines[{index}].item_code"] = [
                _l(
                    "The supplier has no item with the code %(code)s that you can see.",
                    code=code.strip()[:100],
                )
            ]
            continue
        if requested.currency and requested.currency != item.currency:
            errors[f"lines[{index}]"] = [
                _l("%(name)s is priced in %(currency)s.", name=item.name, currency=item.currency)
            ]
            continue
        if quantity is None:
            errors[f"lines[{index}].quantity"] = [_l("Give the quantity as a number.")]
            continue
        try:
            cart.check_quantity(item, quantity)
        except DomainError as error:
            errors[f"lines[{index}].quantity"] = [error.message]
            continue
        wanted.append(placing.Wanted(item, quantity))
    if errors:
        raise FieldErrors(errors)
    return wanted
