"""A catalog suggested by the supplier's own invoices, and its review.

The lines of every invoice the supplier issued (``DocumentLine``) are grouped into items: by
the supplier's item id, else the GTIN, else the name and unit. Each suggestion carries its last
price, how often and how much it sold, and each customer's price over time. Compared with the
catalog it is new, a changed price, or the same. Nothing reaches the catalog until the supplier
publishes the suggestions it ticks; a suggestion set aside comes back only when the invoices say
something new about it (another price, a later sale).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Document, DocumentLine, User, utcnow
from app.models.catalog import (
    CONNECTED,
    GTIN_SCHEME,
    VISIBILITIES,
    CatalogItem,
    SuggestionDismissal,
)
from app.models.document import INVOICE
from app.numbers import parse_number
from app.services import audit
from app.services.catalogs import items as catalog_items
from app.services.catalogs.items import valid_gtin
from app.services.errors import DomainError
from app.tenancy import unscoped

NEW, PRICE_CHANGED, SAME = "new", "price", "same"
HISTORY_PER_CUSTOMER = 12


@dataclass
class PricePoint:
    day: date
    price: Decimal
    number: str  # the invoice's number


@dataclass
class CustomerHistory:
    name: str
    tax_id: str
    points: list[PricePoint] = field(default_factory=list)  # newest first

    @property
    def last(self) -> PricePoint:
        return self.points[0]


@dataclass
class Suggestion:
    key: str
    seller_item_id: str
    standard_item_id: str
    name: str
    description: str
    unit_code: str
    tax_percent: Decimal | None
    currency: str
    last_price: Decimal
    last_sold: date
    first_sold: date
    invoices: int  # how many invoices carried it
    quantity: Decimal  # how much was sold in all
    customers: list[CustomerHistory]
    change: str = NEW
    item_id: int | None = None
    catalog_price: Decimal | None = None


@dataclass
class Review:
    """What the invoices suggest against what the catalog holds."""

    new: list[Suggestion]
    changed: list[Suggestion]
    same: int
    set_aside: int
    lines: int  # invoice lines read

    @property
    def pending(self) -> int:
        return len(self.new) + len(self.changed)


class _Group:
    __slots__ = ("key", "seller", "standard", "names", "description", "unit", "tax", "currency",
                 "last", "first", "docs", "quantity", "customers")

    def __init__(self, key: str) -> None:
        self.key = key
        self.seller = ""
        self.standard = ""
        self.names: dict[str, int] = {}
        self.description = ""
        self.unit = ""
        self.tax: Decimal | None = None
        self.currency = ""
        self.last: tuple[date, int, Decimal] | None = None  # day, document id, price
        self.first: date | None = None
        self.docs: set[int] = set()
        self.quantity = Decimal(0)
        self.customers: dict[str, CustomerHistory] = {}


def invoice_lines(company_id: int) -> Iterable[Sequence[Any]]:
    """The lines of the supplier's issued invoices, oldest first, as plain rows."""
    line = DocumentLine
    stmt = (
        select(
            line.seller_item_id, line.standard_item_id, line.standard_item_scheme, line.name,
            line.description,
            line.unit_code, line.price, line.base_quantity, line.quantity, line.line_extension,
            line.tax_percent, Document.id, Document.issue_date, Document.number,
            Document.currency, Document.customer_name, Document.customer_tax_id,
        )
        .join(Document, Document.id == line.document_id)
        .where(
            line.sender_company_id == company_id,
            Document.sender_company_id == company_id,
            Document.document_type == INVOICE,
        )
        .order_by(Document.issue_date, Document.id, line.position)
    )
    return db.session.connection().execute(unscoped(stmt))


def build(rows: Iterable[Sequence[Any]]) -> tuple[list[Suggestion], int]:
    """Group invoice lines (``invoice_lines``'s rows, oldest first) into suggestions."""
    groups: dict[str, _Group] = {}
    count = 0
    for (seller, standard, scheme, name, description, unit, price, base, quantity, amount, tax,
         doc_id, day, number, currency, customer, customer_tax) in rows:
        count += 1
        seller, standard = _codes(seller or "", standard or "", scheme or "")
        name = name or (description or "").strip().split("\n")[0][:300]
        unit_price = _unit_price(price, base, quantity, amount)
        if unit_price is None or not (name or seller or standard):
            continue
        key = item_key(seller, standard, name, unit)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key)
            group.first = day
        group.seller = seller or group.seller
        group.standard = standard or group.standard
        if name:
            group.names[name] = group.names.get(name, 0) + 1
        group.description = description or group.description
        group.unit = unit or group.unit
        group.tax = tax if tax is not None else group.tax
        group.currency = currency or group.currency
        group.last = (day, doc_id, unit_price)
        group.docs.add(doc_id)
        group.quantity += quantity or 0
        who = customer_tax or customer or ""
        history = group.customers.get(who)
        if history is None:
            history = group.customers[who] = CustomerHistory(customer or who, customer_tax or "")
        points = history.points
        if not points or points[0].price != unit_price or points[0].day != day:
            points.insert(0, PricePoint(day, unit_price, number))
            del points[HISTORY_PER_CUSTOMER:]
    out = []
    for group in groups.values():
        assert group.last is not None and group.first is not None
        name = max(group.names.items(), key=lambda kv: (kv[1], kv[0]))[0] if group.names else ""
        out.append(Suggestion(
            key=group.key,
            seller_item_id=group.seller or _code_from(group),
            standard_item_id=group.standard,
            name=(name or group.seller or group.standard)[:300],
            description=group.description,
            unit_code=group.unit or "94",
            tax_percent=group.tax,
            currency=group.currency or "COP",
            last_price=group.last[2],
            last_sold=group.last[0],
            first_sold=group.first,
            invoices=len(group.docs),
            quantity=group.quantity,
            customers=sorted(group.customers.values(), key=lambda h: h.last.day, reverse=True),
        ))
    out.sort(key=lambda s: (-s.invoices, s.name.lower()))
    return out, count


def _codes(seller: str, standard: str, scheme: str) -> tuple[str, str]:
    """(the supplier's item code, a GTIN): DIAN's scheme 999 is the issuer's own code (the
    portal's own invoices write ``L1``, ``L2``… there, line numbers, not items); a standard id
    is kept as a GTIN only when it is one (scheme 0160, or digits with a valid check digit)."""
    seller, standard = seller.strip(), standard.strip()
    if scheme == "999":
        if not seller and not _LINE_NUMBER.fullmatch(standard):
            seller = standard
        return seller, ""
    if standard and not (scheme == GTIN_SCHEME or valid_gtin(standard)):
        return seller or standard, ""
    return seller, standard


_LINE_NUMBER = re.compile(r"L\d+")


def _unit_price(
    price: Decimal | None, base: Decimal | None, quantity: Decimal | None,
    amount: Decimal | None,
) -> Decimal | None:
    if price is not None:
        if base not in (None, 0, 1):
            assert base is not None
            return (price / base).quantize(Decimal("0.000001")).normalize()
        return price.normalize()
    if amount is not None and quantity:
        return (amount / quantity).quantize(Decimal("0.000001")).normalize()
    return None


def item_key(seller: str, standard: str, name: str, unit: str) -> str:
    """How invoice lines are told apart as items: item id, else GTIN, else name and unit."""
    if seller and seller.strip():
        return "id:" + seller.strip().upper()[:100]
    if standard and standard.strip():
        return "gtin:" + standard.strip()[:100]
    return f"name:{_folded(name)[:100]}|{(unit or '').upper()}"


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _code_from(group: _Group) -> str:
    """An item code for a line that had none: from its name ("TORNILLO-3-8-ACERO")."""
    name = max(group.names, key=group.names.__getitem__) if group.names else "item"
    return "-".join(_folded(name).upper().split())[:40] or "ITEM"


# ------------------------------------------------------------------------------------ review


def review(company_id: int) -> Review:
    """The suggestions of the supplier's invoices against its catalog."""
    suggestions, count = build(invoice_lines(company_id))
    items = db.session.execute(
        select(CatalogItem.id, CatalogItem.seller_item_id, CatalogItem.standard_item_id,
               CatalogItem.price, CatalogItem.currency)
        .where(CatalogItem.company_id == company_id)
    ).all()
    codes = catalog_items.CodeIndex()
    by_id = {}
    for iid, code, _, price, cur in items:
        codes.add(code, iid)
        by_id[iid] = (iid, price, cur)
    by_gtin = {gtin: (iid, price, cur) for iid, _, gtin, price, cur in items if gtin}
    dismissed = {
        d.item_key: d for d in db.session.scalars(
            select(SuggestionDismissal).where(SuggestionDismissal.company_id == company_id)
        )
    }
    new: list[Suggestion] = []
    changed: list[Suggestion] = []
    same = set_aside = 0
    for s in suggestions:
        found = by_id.get(codes.find(s.seller_item_id)) or (
            by_gtin.get(s.standard_item_id) if s.standard_item_id else None
        )
        if found is not None:
            s.item_id, s.catalog_price = found[0], found[1]
            if found[1] == s.last_price and found[2] == s.currency:
                s.change = SAME
            else:
                s.change = PRICE_CHANGED
        if s.change == SAME:
            same += 1
            continue
        gone = dismissed.get(s.key)
        if gone is not None and gone.price == s.last_price and gone.last_sold >= s.last_sold:
            set_aside += 1
            continue
        (new if s.change == NEW else changed).append(s)
    return Review(new=new, changed=changed, same=same, set_aside=set_aside, lines=count)


def publish(
    company_id: int, keys: Sequence[str], *, actor: User, visibility: str = CONNECTED,
    prices: dict[str, str] | None = None, decimal_mark: str = ".",
) -> tuple[int, int]:
    """Add the ticked new suggestions to the catalog and give the ticked changed ones their
    new price (or the price the supplier typed instead, read with ``decimal_mark``); return
    (added, repriced)."""
    if visibility not in VISIBILITIES:
        raise DomainError(_l("Choose who sees the items."), field="visibility")
    wanted = set(keys)
    if not wanted:
        raise DomainError(_l("Tick at least one suggestion."), field="key")
    current = review(company_id)
    taken = {s.seller_item_id.upper() for s in current.new}
    codes = {
        code.upper() for code in db.session.scalars(
            select(CatalogItem.seller_item_id).where(CatalogItem.company_id == company_id)
        )
    }
    added = repriced = 0
    now = utcnow()
    for s in current.new + current.changed:
        if s.key not in wanted:
            continue
        price = _typed_price((prices or {}).get(s.key), s.last_price, decimal_mark)
        if s.change == NEW:
            code = s.seller_item_id
            if code.upper() in codes or (code.upper() in taken and not s.key.startswith("id:")):
                code = _unique_code(code, codes)
            codes.add(code.upper())
            db.session.add(CatalogItem(
                company_id=company_id, seller_item_id=code[:100],
                standard_item_id=s.standard_item_id[:100], name=s.name[:300],
                description=s.description, unit_code=s.unit_code[:10], price=price,
                currency=s.currency, tax_percent=s.tax_percent, visibility=visibility,
                published=True, created_at=now, updated_at=now,
            ))
            added += 1
        else:
            item = db.session.get(CatalogItem, s.item_id)
            if item is None or item.company_id != company_id:
                continue
            item.price, item.currency, item.updated_at = price, s.currency, now
            repriced += 1
    if not added and not repriced:
        raise DomainError(
            _l("The ticked suggestions are no longer pending: the page was out of date."),
            field="key",
        )
    db.session.flush()
    audit.record_event(actor, company_id, "catalog.suggestions_published", None,
                       {"added": added, "repriced": repriced})
    return added, repriced


def _typed_price(typed: str | None, default: Decimal, decimal_mark: str) -> Decimal:
    try:
        value = parse_number(typed, decimal_mark=decimal_mark)
    except ValueError:
        raise DomainError(_l("A price must be a number, like 1250.50."), field="price") from None
    if value is None:
        return default
    if value < 0 or value > Decimal("1e13"):
        raise DomainError(_l("A price must be a number, like 1250.50."), field="price")
    return value


def _unique_code(code: str, taken: set[str]) -> str:
    base = code[:94]
    n = 2
    while f"{base}-{n}".upper() in taken:
        n += 1
    return f"{base}-{n}"


def set_aside(company_id: int, keys: Sequence[str], *, actor: User) -> int:
    """Set suggestions aside until their invoices change; return how many."""
    current = review(company_id)
    count = 0
    for s in current.new + current.changed:
        if s.key not in set(keys):
            continue
        row = db.session.scalars(
            select(SuggestionDismissal).where(SuggestionDismissal.company_id == company_id,
                                              SuggestionDismissal.item_key == s.key)
        ).first()
        if row is None:
            row = SuggestionDismissal(company_id=company_id, item_key=s.key)
            db.session.add(row)
        row.price, row.last_sold = s.last_price, s.last_sold
        count += 1
    if count:
        audit.record_event(actor, company_id, "catalog.suggestions_set_aside", None,
                           {"count": count})
    return count
