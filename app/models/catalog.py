"""Supplier catalogs: the items a supplier sells, who may see them, and per-customer prices.

An item belongs to its supplier (``company_id``). Buyers read it through the tenancy rule of
``CatalogItem.tenant_criteria``: published, and visible to the whole network, to the supplier's
connected customers, or to the customers the supplier chose. Only the supplier changes it
(``app.services.catalogs`` loads an item for a change by its owner, never through that rule).
"""

# The search DDL is SQL put together from this module's constants, never from input.
# ruff: noqa: S608

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
        # A search without words lists the items a buyer may see by name: read in this order,
        # the first page is found after a few hundred rows, not after sorting every one.
        Index("ix_catalog_items_name", "name", "id"),
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
# description, code, GTIN and categories, accents ignored, and beside them who may see the item.
# Built by DDL on each database (migration 0023_catalog_search writes the same statements), not
# mapped: nothing but the search reads it.
#
# Who may see an item is in the index, as access tokens, so that the words a buyer types and the
# items it may see are intersected inside the index (a common word matches a tenth of a large
# network's items; checking each of those against the access rule after matching, and ranking
# them, was what made a search slow). A published item holds:
#   ``zvs<supplier id>``    always (its supplier finds its own published items);
#   ``zvnet``               when shown to the whole network;
#   ``zvc<supplier id>``    when shown to the supplier's connected customers;
#   ``zvh<customer id>``    per customer chosen in ``catalog_audiences`` (visibility chosen).
# An unpublished item holds none, so no buyer's search finds it. A buyer's search asks for
# ``zvnet OR zvs<buyer> OR zvh<buyer> OR zvc<s>`` for each supplier it has an active partnership
# with (read when it searches, so a partnership that starts or ends needs no index change). The
# index only narrows: the search still applies ``CatalogItem.tenant_criteria`` to the rows it
# returns. The tokens are kept by triggers on catalog_items and catalog_audiences.
#
# SQLite: an external-content FTS5 table over catalog_items (its rowid is the item's id), kept
# in step by triggers; ``remove_diacritics 2`` folds "ñandú" to "nandu" on both sides. The
# access tokens are stored in the unmapped column catalog_items.search_access (an FTS5
# external-content row is deleted by giving the values it was indexed with, so they are kept).
# PostgreSQL: a GIN index over the stored generated column ``search_vector``, a weighted
# 'spanish' tsvector (stemmed, so "tornillos" finds "tornillo") of the text folded by
# ``catalog_fold`` (unaccent when the extension can be created, else translate(); anything but
# letters and digits a space, as the search splits what a person types, so "MART-16" is the
# words "mart" and "16"), and the tsvector column ``search_access`` of the access tokens (set
# by ``catalog_access``): the index holds each access token joined to each word
# (``catalog_search_keys``, see ``SEARCH_INDEXED``). Neither column is mapped: the search names
# them in SQL.

FTS_TABLE = "catalog_items_fts"
SEARCH_INDEX = "ix_catalog_items_search"
#: PostgreSQL only: the stored tsvector of the text (ranking reads it, never recomputes).
SEARCH_COLUMN = "search_vector"
#: Who may see the item, as index tokens (a tsvector on PostgreSQL, text on SQLite).
ACCESS_COLUMN = "search_access"
#: The columns the search DDL adds to catalog_items that the models do not map.
SEARCH_COLUMNS = frozenset({SEARCH_COLUMN, ACCESS_COLUMN})
#: Tables the search DDL makes that the models do not map (the FTS table and its shadows).
SEARCH_TABLES = frozenset(
    {FTS_TABLE} | {f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config", "content")}
)
#: The access tokens' beginnings (see above); the search builds the buyer's side from them.
ACCESS_NETWORK, ACCESS_SUPPLIER, ACCESS_CONNECTED, ACCESS_CHOSEN = "zvnet", "zvs", "zvc", "zvh"


def _sqlite_access(row: str) -> str:
    """SQLite: the access tokens of the catalog_items row ``row``, space-separated."""
    return (
        f"CASE WHEN {row}.published THEN 'zvs' || {row}.company_id || ' ' || "
        f"CASE {row}.visibility WHEN 'network' THEN 'zvnet' "
        f"WHEN 'connected' THEN 'zvc' || {row}.company_id "
        f"WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), "
        f"'') FROM catalog_audiences AS a WHERE a.item_id = {row}.id) "
        f"ELSE '' END ELSE '' END"
    )


_FTS_COLUMNS = "name, description, seller_item_id, standard_item_id, categories, search_access"


def _sqlite_reindex(item_id: str, *, when: str = "") -> tuple[str, str, str]:
    """SQLite: drop the item's index row, set its access tokens again, index it again."""
    where = f"id = {item_id}{when}"
    return (
        f"INSERT INTO catalog_items_fts(catalog_items_fts, rowid, {_FTS_COLUMNS}) "
        f"SELECT 'delete', id, {_FTS_COLUMNS} FROM catalog_items WHERE {where};",
        f"UPDATE catalog_items SET search_access = {_sqlite_access('catalog_items')} "
        f"WHERE {where};",
        f"INSERT INTO catalog_items_fts(rowid, {_FTS_COLUMNS}) "
        f"SELECT id, {_FTS_COLUMNS} FROM catalog_items WHERE {where};",
    )


# A change of audience matters only to a published item shown to chosen customers.
_CHOSEN_ONLY = " AND visibility = 'chosen' AND published"

SQLITE_SEARCH_DDL = (
    "ALTER TABLE catalog_items ADD COLUMN search_access TEXT",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS catalog_items_fts USING fts5(
        {_FTS_COLUMNS},
        content='catalog_items', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2", prefix='2 3')""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_items_fts_insert AFTER INSERT ON catalog_items
    BEGIN
        UPDATE catalog_items SET search_access = {_sqlite_access('new')} WHERE id = new.id;
        INSERT INTO catalog_items_fts(rowid, {_FTS_COLUMNS})
        SELECT id, {_FTS_COLUMNS} FROM catalog_items WHERE id = new.id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_items_fts_delete AFTER DELETE ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories, old.search_access);
    END""",
    # search_access is not among the columns: the triggers themselves set it.
    f"""CREATE TRIGGER IF NOT EXISTS catalog_items_fts_update AFTER UPDATE OF name, description,
        seller_item_id, standard_item_id, categories, company_id, published, visibility
        ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories, old.search_access);
        UPDATE catalog_items SET search_access = {_sqlite_access('new')} WHERE id = new.id;
        INSERT INTO catalog_items_fts(rowid, {_FTS_COLUMNS})
        SELECT id, {_FTS_COLUMNS} FROM catalog_items WHERE id = new.id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_insert AFTER INSERT
        ON catalog_audiences
    BEGIN
        {" ".join(_sqlite_reindex("new.item_id", when=_CHOSEN_ONLY))}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_delete AFTER DELETE
        ON catalog_audiences
    BEGIN
        {" ".join(_sqlite_reindex("old.item_id", when=_CHOSEN_ONLY))}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_update AFTER UPDATE OF item_id,
        customer_company_id ON catalog_audiences
    BEGIN
        {" ".join(_sqlite_reindex("old.item_id", when=_CHOSEN_ONLY))}
        {" ".join(_sqlite_reindex("new.item_id", when=_CHOSEN_ONLY))}
    END""",
    # A table that had rows before the index existed (the migration) is indexed once.
    f"UPDATE catalog_items SET search_access = {_sqlite_access('catalog_items')}",
    "INSERT INTO catalog_items_fts(catalog_items_fts) VALUES ('rebuild')",
)

SEARCH_VECTOR = (
    "(setweight(to_tsvector('spanish'::regconfig, catalog_fold(name)), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, catalog_fold(seller_item_id || ' ' || "
    "standard_item_id)), 'A') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(categories)), 'B') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(description)), 'C'))"
)
#: PostgreSQL: what the index holds and a search matches: every word of the item joined to each
#: of its access tokens ("zvc39_tornill" for an item of supplier 39 shown to its connected
#: customers). A buyer's search asks for its words joined to each token it may see (the words of
#: ``zvnet`` or of ``zvc39`` or ...), so the index reads only the entries of the items it may
#: see: a common word's whole entry (a tenth of a large network's items) is never read and
#: intersected with the access tokens' (the word and 50 suppliers' tokens ORed made a common
#: word's index scan take a quarter of a second over 1,000,000 items).
SEARCH_INDEXED = f"catalog_search_keys({SEARCH_COLUMN}, {ACCESS_COLUMN})"
#: The separator of an access token and a word in the index's keys (neither holds it).
KEY_SEPARATOR = "_"

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
    # The access tokens of an item (id, supplier, published, visibility): see above.
    """CREATE OR REPLACE FUNCTION catalog_access(integer, integer, boolean, text)
    RETURNS tsvector LANGUAGE sql STABLE AS $f$
        SELECT CASE WHEN $3 THEN array_to_tsvector(ARRAY['zvs' || $2] || CASE $4
            WHEN 'network' THEN ARRAY['zvnet']
            WHEN 'connected' THEN ARRAY['zvc' || $2]
            WHEN 'chosen' THEN ARRAY(SELECT 'zvh' || a.customer_company_id
                                     FROM catalog_audiences AS a WHERE a.item_id = $1)
            ELSE ARRAY[]::text[] END) ELSE ''::tsvector END $f$""",
    f"ALTER TABLE catalog_items ADD COLUMN IF NOT EXISTS {ACCESS_COLUMN} tsvector "
    "NOT NULL DEFAULT ''",
    """CREATE OR REPLACE FUNCTION catalog_items_access() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        NEW.search_access := catalog_access(NEW.id, NEW.company_id, NEW.published,
                                            NEW.visibility);
        RETURN NEW;
    END $f$""",
    """CREATE TRIGGER catalog_items_access BEFORE INSERT OR UPDATE OF company_id, published,
        visibility ON catalog_items FOR EACH ROW EXECUTE FUNCTION catalog_items_access()""",
    # A change of audience matters only to a published item shown to chosen customers.
    """CREATE OR REPLACE FUNCTION catalog_audiences_access() RETURNS trigger LANGUAGE plpgsql
    AS $f$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE catalog_items AS i SET search_access = catalog_access(i.id, i.company_id,
                                                                         i.published, i.visibility)
            WHERE i.id = OLD.item_id AND i.visibility = 'chosen' AND i.published;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE catalog_items AS i SET search_access = catalog_access(i.id, i.company_id,
                                                                         i.published, i.visibility)
            WHERE i.id = NEW.item_id AND i.visibility = 'chosen' AND i.published;
        END IF;
        RETURN NULL;
    END $f$""",
    """CREATE TRIGGER catalog_audiences_access AFTER INSERT OR DELETE
        OR UPDATE OF item_id, customer_company_id ON catalog_audiences
        FOR EACH ROW EXECUTE FUNCTION catalog_audiences_access()""",
    # A table that had rows before the index existed (the migration) gets its tokens once.
    "UPDATE catalog_items SET search_access = catalog_access(id, company_id, published, "
    "visibility)",
    # The index's keys (``SEARCH_INDEXED``): each access token joined to each word; no weights
    # and no positions (the ranking reads search_vector).
    # PL/pgSQL, not SQL: an SQL function's query is planned again for every statement that
    # calls it (every row an import inserts), a PL/pgSQL function's once per session.
    f"""CREATE OR REPLACE FUNCTION catalog_search_keys(tsvector, tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
    DECLARE
        words text[] := tsvector_to_array($1);
        token text;
        keys text[] := '{{}}';
    BEGIN
        FOREACH token IN ARRAY tsvector_to_array($2) LOOP
            keys := keys || ARRAY(SELECT token || '{KEY_SEPARATOR}' || w
                                  FROM unnest(words) AS w);
        END LOOP;
        RETURN array_to_tsvector(keys);
    END $f$""",
    f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON catalog_items USING gin ({SEARCH_INDEXED})",
)

#: PostgreSQL: the search's indexes, and the statements that build them (a bulk load may drop
#: them first and build them once after its rows, as a restore would).
SEARCH_INDEXES = (SEARCH_INDEX,)
POSTGRESQL_SEARCH_INDEX_DDL = POSTGRESQL_SEARCH_DDL[-1:]

# Made once both tables exist: the triggers and functions read catalog_audiences too.
for _statement in SQLITE_SEARCH_DDL:
    event.listen(
        CatalogAudience.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in POSTGRESQL_SEARCH_DDL:
    event.listen(
        CatalogAudience.__table__, "after_create",
        DDL(_statement.replace("%", "%%")).execute_if(dialect="postgresql"),
    )
# drop_all drops the items table; its FTS table would be left behind on SQLite.
event.listen(
    CatalogItem.__table__, "after_drop",
    DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"),
)
