"""A supplier's catalog as a Peppol BIS Ordering 3 Catalogue (T19), for download.

For a receiver: the supplier's items that receiver may see (``search.visible_to``), at the
prices it pays today, each line valid until its customer price ends. Without one: every
published item at its own price, the supplier named as receiver too (a catalogue for whoever
downloads it; T19 needs a ReceiverParty).

The parties are written by ``app.services.parties.ordering_party`` (why EAS 0203: see there).
The catalogue is a file a person downloads, not a Peppol message: when the portal joins Peppol,
its participants' registered ids replace that address.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.einvoice import ordering_writer as w
from app.extensions import db
from app.models import Company
from app.models.catalog import OUT_OF_STOCK, CatalogItem, CustomerPrice
from app.services.catalogs.search import today_here, visible_to
from app.services.errors import DomainError, NotFound
from app.services.parties import ordering_party
from app.tenancy import unscoped

VALID_DAYS = 365


def catalogue_xml(supplier_company_id: int, *, receiver_company_id: int | None = None) -> bytes:
    """Write the supplier's catalog (for a receiver: what it sees, at its prices) as a Peppol
    Catalogue (T19)."""
    supplier = db.session.get(Company, supplier_company_id)
    if supplier is None:
        raise NotFound(_l("This company is not on the network."))
    receiver = supplier
    if receiver_company_id is not None and receiver_company_id != supplier_company_id:
        receiver = db.session.get(Company, receiver_company_id)
        if receiver is None:
            raise NotFound(_l("This company is not on the network."))
    stmt = select(CatalogItem).where(
        CatalogItem.company_id == supplier.id, CatalogItem.published.is_(True)
    )
    if receiver is not supplier:
        stmt = stmt.where(visible_to(receiver.id))
    items = list(db.session.scalars(unscoped(stmt.order_by(CatalogItem.name, CatalogItem.id))))
    if not items:
        raise DomainError(_l("There are no published items to write in a catalogue."))
    today = today_here()
    end = today + dt.timedelta(days=VALID_DAYS)
    prices = _customer_prices(receiver.id, [i.id for i in items], today) if (
        receiver is not supplier) else {}
    # A catalogue has one currency: the one most items use; the others are said in a note.
    currency = Counter(i.currency for i in items).most_common(1)[0][0]
    kept = [i for i in items if i.currency == currency]
    notes = []
    if len(kept) < len(items):
        notes.append(f"{len(items) - len(kept)} artículos en otra moneda no están incluidos.")
    lines = []
    for n, item in enumerate(kept, start=1):
        price, until = prices.get(item.id, (item.price, None))
        lines.append(w.CatalogueLine(
            id=str(n),
            item=w.Item(
                name=item.name,
                seller_item_id=item.seller_item_id,
                standard_item_id=item.standard_item_id,
                description=" ".join(item.description.split()),
                pack_size=item.pack_size if item.pack_size != 1 else None,
                **_tax(item.tax_percent),
            ),
            orderable_unit=item.unit_code,
            price=price,
            min_quantity=item.min_quantity,
            orderable=item.availability != OUT_OF_STOCK,
            validity_end=until if until is not None and today <= until < end else None,
            note=(f"Entrega en {item.lead_time_days} días"
                  if item.lead_time_days is not None else ""),
        ))
    return w.write_catalogue(w.Catalogue(
        number=f"CAT-{supplier.id}-{receiver.id}-{today:%Y%m%d}",
        issue_date=today,
        validity_start=today,
        validity_end=end,
        provider=ordering_party(supplier),
        receiver=ordering_party(receiver),
        lines=lines,
        currency=currency,
        name=f"Catálogo de {supplier.display_name}"[:200],
        notes=notes,
    ))


def _tax(percent: Decimal | None) -> dict[str, object]:
    if percent is None:
        return {}
    return {"tax_category": "S" if percent > 0 else "Z", "tax_percent": percent}


def _customer_prices(
    customer_id: int, item_ids: list[int], on: dt.date
) -> dict[int, tuple[Decimal, dt.date | None]]:
    """Each item's price for the customer on ``on`` (the one that started last) and its end."""
    found: dict[int, tuple[Decimal, dt.date | None]] = {}
    for start in range(0, len(item_ids), 500):
        rows = db.session.execute(unscoped(
            select(CustomerPrice.item_id, CustomerPrice.price, CustomerPrice.valid_to)
            .where(
                CustomerPrice.item_id.in_(item_ids[start:start + 500]),
                CustomerPrice.customer_company_id == customer_id,
                or_(CustomerPrice.valid_from.is_(None), CustomerPrice.valid_from <= on),
                or_(CustomerPrice.valid_to.is_(None), CustomerPrice.valid_to >= on),
            )
            .order_by(CustomerPrice.item_id, CustomerPrice.valid_from.desc().nulls_last(),
                      CustomerPrice.id.desc())
        ))
        for item_id, price, until in rows:
            found.setdefault(item_id, (price, until))
    return found
