"""Supplier catalogs: the items a supplier sells, who may see them, and per-customer prices.

An item belongs to its supplier (``company_id``). Buyers read it through the tenancy rule of
``CatalogItem.tenant_criteria``: published, and visible to the whole network, to the supplier's
connected customers, or to the customers the supplier chose. Only the supplier changes it
(``app.services.catalogs`` loads an item for a change by its owner, never through that rule).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, TenantScoped, utcnow
from app.models.network import ACTIVE, Partnership

# Who sees a published item.
NETWORK, CONNECTED, CHOSEN = "network", "connected", "chosen"
VISIBILITIES = (NETWORK, CONNECTED, CHOSEN)

# Whether it can be ordered now.
IN_STOCK, ON_REQUEST, OUT_OF_STOCK = "in_stock", "on_request", "out_of_stock"
AVAILABILITIES = (IN_STOCK, ON_REQUEST, OUT_OF_STOCK)

# GTIN's scheme in Peppol (ISO 6523 ICD 0160).
GTIN_SCHEME = "0160"


class CatalogItem(SharedAccess, Base):
    """One item a supplier sells."""

    __tablename__ = "catalog_items"
    __table_args__ = (
        UniqueConstraint("company_id", "seller_item_id"),
        Index("ix_catalog_items_company_name", "company_id", "name"),
        Index("ix_catalog_items_visible", "published", "visibility", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    seller_item_id: Mapped[str] = mapped_column(String(100))
    standard_item_id: Mapped[str] = mapped_column(String(100), default="")  # GTIN
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    unit_code: Mapped[str] = mapped_column(String(10), default="94")  # UN/ECE Rec 20
    price: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    currency: Mapped[str] = mapped_column(String(3), default="COP")
    tax_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    min_quantity: Mapped[Decimal] = mapped_column(Numeric(20, 6), default=Decimal("1"))
    pack_size: Mapped[Decimal] = mapped_column(Numeric(20, 6), default=Decimal("1"))
    availability: Mapped[str] = mapped_column(String(20), default=IN_STOCK)
    lead_time_days: Mapped[int | None]
    # Comma-separated, as the supplier writes them ("Ferretería, Tornillos").
    categories: Mapped[str] = mapped_column(String(300), default="")
    visibility: Mapped[str] = mapped_column(String(12), default=CONNECTED)
    published: Mapped[bool] = mapped_column(default=True)
    # The image as sniffed from its bytes (PNG, JPEG, WebP), never as the browser claimed.
    image_type: Mapped[str | None] = mapped_column(String(30))
    image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """The supplier sees its items; a buyer the published ones shown to it."""
        partners = Partnership.__table__.c
        audience = CatalogAudience.__table__.c
        return or_(
            cls.company_id == company_id,
            and_(
                cls.published.is_(True),
                or_(
                    cls.visibility == NETWORK,
                    and_(
                        cls.visibility == CONNECTED,
                        exists(
                            select(partners.id).where(
                                partners.supplier_id == cls.company_id,
                                partners.customer_id == company_id,
                                partners.status == ACTIVE,
                            )
                        ),
                    ),
                    and_(
                        cls.visibility == CHOSEN,
                        exists(
                            select(audience.id).where(
                                audience.item_id == cls.id,
                                audience.customer_company_id == company_id,
                            )
                        ),
                    ),
                ),
            ),
        )

    @property
    def category_list(self) -> list[str]:
        return [c.strip() for c in self.categories.split(",") if c.strip()]


class CatalogAudience(TenantScoped, Base):
    """A customer chosen to see an item whose visibility is ``chosen`` (the supplier's row)."""

    __tablename__ = "catalog_audiences"
    __table_args__ = (UniqueConstraint("item_id", "customer_company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    customer_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )


class CustomerPrice(TenantScoped, Base):
    """A customer's own price for an item, valid from/to (either open); the supplier's row."""

    __tablename__ = "catalog_customer_prices"
    __table_args__ = (Index("ix_catalog_customer_prices_item", "item_id", "customer_company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    customer_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    price: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuggestionDismissal(TenantScoped, Base):
    """A suggestion from the supplier's invoices it set aside: shown again only when the
    invoices say something new (another price or a later sale)."""

    __tablename__ = "catalog_suggestion_dismissals"
    __table_args__ = (UniqueConstraint("company_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    last_sold: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
