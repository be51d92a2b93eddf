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
    DDL,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
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


# ------------------------------------------------------------------------- full-text search
# The search index of the items a buyer looks for (``app.services.catalogs.search``): name,
# description, code, GTIN and categories, accents ignored. Built by DDL on each database
# (migration 0023_catalog_search writes the same statements), not mapped: nothing but the
# search reads it.
#
# SQLite: an external-content FTS5 table over catalog_items (its rowid is the item's id), kept
# in step by triggers; ``remove_diacritics 2`` folds "ñandú" to "nandu" on both sides.
# PostgreSQL: a GIN index over a stored generated column ``search_vector``, a weighted
# 'spanish' tsvector (stemmed, so "tornillos" finds "tornillo") of the text folded by
# ``catalog_fold`` (unaccent when the
# extension can be created, else translate(); anything but letters and digits a space, as the
# search splits what a person types, so "MART-16" is the words "mart" and "16"). The column
# is not mapped (SQLite has none): the search names it in SQL.

FTS_TABLE = "catalog_items_fts"
SEARCH_INDEX = "ix_catalog_items_search"
#: PostgreSQL only: the stored tsvector the index covers (ranking reads it, never recomputes).
SEARCH_COLUMN = "search_vector"
#: Tables the search DDL makes that the models do not map (the FTS table and its shadows).
SEARCH_TABLES = frozenset(
    {FTS_TABLE} | {f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config", "content")}
)

SQLITE_SEARCH_DDL = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_items_fts USING fts5(
        name, description, seller_item_id, standard_item_id, categories,
        content='catalog_items', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2", prefix='2 3')""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_insert AFTER INSERT ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id,
                                categories)
        VALUES (new.id, new.name, new.description, new.seller_item_id, new.standard_item_id,
                new.categories);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_delete AFTER DELETE ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id,
                                standard_item_id, categories)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_update AFTER UPDATE OF name, description,
        seller_item_id, standard_item_id, categories ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id,
                                standard_item_id, categories)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories);
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id,
                                categories)
        VALUES (new.id, new.name, new.description, new.seller_item_id, new.standard_item_id,
                new.categories);
    END""",
    # A table that had rows before the index existed (the migration) is indexed once.
    "INSERT INTO catalog_items_fts(catalog_items_fts) VALUES ('rebuild')",
)

SEARCH_VECTOR = (
    "(setweight(to_tsvector('spanish'::regconfig, catalog_fold(name)), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, catalog_fold(seller_item_id || ' ' || "
    "standard_item_id)), 'A') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(categories)), 'B') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(description)), 'C'))"
)

POSTGRESQL_SEARCH_DDL = (
    # unaccent is not IMMUTABLE (its dictionary could change), so an index cannot call it;
    # catalog_fold wraps it with the dictionary named and promises what the index needs. When
    # the extension cannot be created here, translate() does the common accents.
    """DO $do$
    BEGIN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
            EXECUTE $f$CREATE OR REPLACE FUNCTION catalog_fold(text) RETURNS text
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $b$ SELECT regexp_replace(
                    lower(public.unaccent('public.unaccent'::regdictionary, $1)),
                    '[^[:alnum:]]+', ' ', 'g') $b$$f$;
        ELSE
            EXECUTE $f$CREATE OR REPLACE FUNCTION catalog_fold(text) RETURNS text
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $b$ SELECT regexp_replace(translate(lower($1), 'áàâäãåéèêëíìîïóòôöõúùûüñçý',
                                                                   'aaaaaaeeeeiiiiooooouuuuncy'),
                                           '[^[:alnum:]]+', ' ', 'g') $b$$f$;
        END IF;
    END
    $do$""",
    f"ALTER TABLE catalog_items ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED",
    f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON catalog_items USING gin ({SEARCH_COLUMN})",
)

for _statement in SQLITE_SEARCH_DDL:
    event.listen(
        CatalogItem.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in POSTGRESQL_SEARCH_DDL:
    event.listen(
        CatalogItem.__table__, "after_create",
        DDL(_statement.replace("%", "%%")).execute_if(dialect="postgresql"),
    )
# drop_all drops the items table; its FTS table would be left behind on SQLite.
event.listen(
    CatalogItem.__table__, "after_drop",
    DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"),
)
