"""Catalog search for buyers: the items a buyer may see, found by words, at the price it pays.

Only published items shown to the buyer are found (``CatalogItem.tenant_criteria``, applied
explicitly so the answer does not depend on who is bound); a company that also sells finds its
own published items too, as its customers see them (``SearchHit.own``), never its unpublished
ones. Words are matched accent-blind, each as a prefix ("torn" finds "tornillo"): through the
FTS5 table on SQLite, through the 'spanish' text-search index on PostgreSQL (also stemmed:
"tornillos" finds "tornillo"); see the search DDL in ``app.models.catalog``. Whatever a person
types becomes a list of plain words (``query_words``): quotes, operators, parentheses and
colons are never passed to the search engine, so no query can fail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.expression import column

from app.extensions import db
from app.models import Company, Partnership
from app.models.catalog import (
    ACCESS_CHOSEN,
    ACCESS_COLUMN,
    ACCESS_CONNECTED,
    ACCESS_NETWORK,
    ACCESS_SUPPLIER,
    FTS_TABLE,
    KEY_SEPARATOR,
    SEARCH_COLUMN,
    CatalogItem,
    CustomerPrice,
)
from app.models.network import ACTIVE
from app.tenancy import unscoped

MAX_WORDS = 8
# A lexeme as PostgreSQL writes a tsquery: quoted, a quote inside doubled.
_LEXEME = re.compile(r"'((?:[^']|'')*)'")
PORTAL_ZONE = ZoneInfo("America/Bogota")
# Words too common to narrow a search: left out when the query has others.
STOPWORDS = frozenset(
    "a al con de del e el en la las lo los o para por sin su u un una y x".split()
)
# A word this short is matched whole, not as a beginning ("ca" would match most of a catalog).
MIN_PREFIX = 3
MAX_WORD = 40
MAX_LIMIT = 100
SNIPPET = 160
COMPARE_LIMIT = 50
# PostgreSQL: the access tokens one condition on the index's keys asks for (see ``_chunks``).
KEYED_CHUNK = 10
TABLE = CatalogItem.__tablename__
FTS = table(FTS_TABLE, column("rowid"))
# bm25 weights per column: name, description, code, GTIN, categories, access tokens (lower is
# better; the access tokens never count).
BM25 = literal_column(f"bm25({FTS_TABLE}, 10.0, 1.0, 8.0, 8.0, 3.0, 0.0)")
# The FTS5 table's columns of the item's text (not its access tokens).
TEXT_COLUMNS = ("name", "description", "seller_item_id", "standard_item_id", "categories")


@dataclass
class SearchHit:
    """One item as a buyer reads it in a result list."""

    item_id: int
    supplier_id: int
    supplier_name: str
    code: str
    gtin: str
    name: str
    snippet: str
    unit_code: str
    price: Decimal  # what this buyer pays today
    list_price: Decimal  # the item's own price
    customer_price: bool  # whether ``price`` is the buyer's own price
    currency: str
    tax_percent: Decimal | None
    min_quantity: Decimal
    pack_size: Decimal
    availability: str
    lead_time_days: int | None
    has_picture: bool
    own: bool = False  # the buyer's own item (a company that also sells)


@dataclass
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False
    offset: int = 0
    limit: int = 25


def query_words(query: str) -> list[str]:
    """The words of what a person typed, folded (lower case, no accents), operators dropped."""
    if len(query) > 1000:  # cut between words, not inside one
        query = query[:1000].rsplit(None, 1)[0]
    text_ = unicodedata.normalize("NFKD", query).lower()
    text_ = "".join(c for c in text_ if not unicodedata.combining(c))
    words = []
    for word in re.findall(r"[^\W_]+", text_):
        word = word[:MAX_WORD]
        if word not in words:
            words.append(word)
    plain = [w for w in words if w not in STOPWORDS]
    return (plain or words)[:MAX_WORDS]


def fold(text_: str) -> str:
    """Text as the search compares it: lower case, accents removed, words single-spaced."""
    return " ".join(_words(text_))


def _words(text_: str) -> list[str]:
    """Every word of ``text_``, folded."""
    text_ = unicodedata.normalize("NFKD", text_ or "").lower()
    text_ = "".join(c for c in text_ if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", text_)


def buyer_price(buyer_company_id: int, on: date) -> ColumnElement[Decimal]:
    """What the buyer pays for a ``CatalogItem`` row on ``on``: its own price valid that day
    (the one that started last, as ``items.price_for``), else the item's."""
    own = (
        select(CustomerPrice.price)
        .where(
            CustomerPrice.item_id == CatalogItem.id,
            CustomerPrice.customer_company_id == buyer_company_id,
            or_(CustomerPrice.valid_from.is_(None), CustomerPrice.valid_from <= on),
            or_(CustomerPrice.valid_to.is_(None), CustomerPrice.valid_to >= on),
        )
        .order_by(CustomerPrice.valid_from.desc().nulls_last(), CustomerPrice.id.desc())
        .limit(1)
        .correlate(CatalogItem)
        .scalar_subquery()
    )
    return own


def today_here() -> date:
    """The day prices are valid on: the portal's (Bogotá's), not the server's or UTC's."""
    return datetime.now(PORTAL_ZONE).date()


def visible_to(buyer_company_id: int) -> ColumnElement[bool]:
    """The items a buyer may find: published, and its own or shown to it."""
    return and_(CatalogItem.published.is_(True), CatalogItem.tenant_criteria(buyer_company_id))


def search_items(
    buyer_company_id: int,
    query: str = "",
    *,
    supplier_id: int | None = None,
    category: str = "",
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    limit: int = 25,
    offset: int = 0,
) -> SearchPage:
    """Find the items the buyer may see: by words (best match first, then name), a supplier,
    a category and the price the buyer pays today."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    if supplier_id is not None and int(supplier_id) <= 0:  # no company has such an id
        return SearchPage(offset=offset, limit=limit)
    today = today_here()
    own_price = buyer_price(buyer_company_id, today)
    paid = func.coalesce(own_price, CatalogItem.price)
    # First the page's ids, by rank and name; then those rows' details. A sort keeps every
    # column it is given, so one query would work out the price and the supplier's name of
    # every matching item, not only of the page's. With words, the index matches only the
    # items the buyer may see (their access tokens); the rule itself is checked on the page's
    # rows (``_base``). Without words, the rule picks them.
    words = query_words(query)
    access = _access(buyer_company_id, supplier_id)
    by_row = bool(category.strip()) or price_min is not None or price_max is not None
    if words and not by_row and db.session.get_bind().dialect.name == "sqlite":
        stmt = _ranked_page(words, access, limit=limit, offset=offset)
    else:
        stmt, rank = _matching(select(CatalogItem.id), words, access=access)
        if rank is None:  # no words (or only words the search leaves out): the rule picks them
            stmt = stmt.where(visible_to(buyer_company_id))
        if category.strip():
            stmt = stmt.where(_in_category(category))
        if price_min is not None:
            stmt = stmt.where(paid >= price_min)
        if price_max is not None:
            stmt = stmt.where(paid <= price_max)
        order = [CatalogItem.name, CatalogItem.id]
        if rank is not None:
            order.insert(0, rank)
        stmt = stmt.order_by(*order).limit(limit + 1).offset(offset)
    if supplier_id is not None:
        stmt = stmt.where(CatalogItem.company_id == supplier_id)
    ids = list(db.session.scalars(unscoped(stmt)))
    more = len(ids) > limit
    ids = ids[:limit]
    hits: list[SearchHit] = []
    if ids:
        rows = db.session.execute(unscoped(
            _base(buyer_company_id, own_price, paid).where(CatalogItem.id.in_(ids))
        )).all()
        by_id = {row[0]: _hit(row, buyer_company_id) for row in rows}
        hits = [by_id[i] for i in ids if i in by_id]
    return SearchPage(hits=hits, more=more, offset=offset, limit=limit)


def compare(buyer_company_id: int, item_id: int) -> list[SearchHit]:
    """The same item from every supplier the buyer may see it from, cheapest first: the same
    GTIN, else the same name (accents and case aside) and unit. Empty when the buyer may not
    see the item."""
    today = today_here()
    own_price = buyer_price(buyer_company_id, today)
    paid = func.coalesce(own_price, CatalogItem.price)
    item = db.session.execute(
        unscoped(
            select(CatalogItem.standard_item_id, CatalogItem.name, CatalogItem.unit_code).where(
                CatalogItem.id == item_id, visible_to(buyer_company_id)
            )
        )
    ).first()
    if item is None:
        return []
    gtin, name, unit = item
    stmt = _base(buyer_company_id, own_price, paid)
    if gtin:
        stmt = stmt.where(CatalogItem.standard_item_id == gtin)
        wanted = None
    else:
        # The words of the name find the candidates; the whole folded name decides.
        stmt, _rank = _matching(stmt, _words(name)[:MAX_WORDS], prefix=False,
                                access=_access(buyer_company_id))
        stmt = stmt.where(CatalogItem.unit_code == unit)
        wanted = fold(name)
    stmt = stmt.order_by(paid, CatalogItem.name, CatalogItem.id).limit(COMPARE_LIMIT * 4)
    rows = db.session.execute(unscoped(stmt)).all()
    hits = [_hit(row, buyer_company_id) for row in rows]
    if wanted is not None:
        hits = [h for h in hits if fold(h.name) == wanted]
    hits.sort(key=lambda h: (h.price, h.currency, h.supplier_name.lower(), h.item_id))
    return hits[:COMPARE_LIMIT]


# ------------------------------------------------------------------------------- building


def _base(buyer_company_id: int, own_price: Any, paid: Any) -> Select[Any]:
    return (
        select(
            CatalogItem.id, CatalogItem.company_id, Company.legal_name, Company.trade_name,
            CatalogItem.seller_item_id, CatalogItem.standard_item_id, CatalogItem.name,
            func.substr(CatalogItem.description, 1, SNIPPET + 1), CatalogItem.unit_code,
            paid.label("paid"), CatalogItem.price, own_price.label("own_price"),
            CatalogItem.currency, CatalogItem.tax_percent, CatalogItem.min_quantity,
            CatalogItem.pack_size, CatalogItem.availability, CatalogItem.lead_time_days,
            CatalogItem.image_type,
        )
        .join(Company, Company.id == CatalogItem.company_id)
        .where(visible_to(buyer_company_id))
    )


def _access(buyer_company_id: int, supplier_id: int | None = None) -> list[list[str]]:
    """The access tokens (``app.models.catalog``) an item needs for the buyer to see it, as
    groups ANDed together, each of tokens ORed: the whole network's, its own items', those
    chosen for it and those of each supplier it has an active partnership with; with a
    supplier, that supplier's only."""
    suppliers = db.session.scalars(unscoped(
        select(Partnership.supplier_id).where(
            Partnership.customer_id == buyer_company_id, Partnership.status == ACTIVE
        )
    ))
    seen = [ACCESS_NETWORK, f"{ACCESS_SUPPLIER}{buyer_company_id}",
            f"{ACCESS_CHOSEN}{buyer_company_id}",
            *(f"{ACCESS_CONNECTED}{s}" for s in sorted(set(suppliers)))]
    if supplier_id is None:
        return [seen]
    return [seen, [f"{ACCESS_SUPPLIER}{int(supplier_id)}"]]


def _matching(
    stmt: Select[Any], words: list[str], *, prefix: bool = True, access: list[list[str]]
) -> tuple[Select[Any], Any]:
    """Keep the rows matching every word and the access tokens; return the statement and its
    rank (lower first). No rank (and the statement as it was) when no word is left to match:
    on PostgreSQL, when the words are all ones its 'spanish' configuration leaves out ("que");
    the caller then picks the rows by the access rule (as the index did: every item the buyer
    may see) and orders them by name."""
    if not words:
        return stmt, None
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        terms = " & ".join(f"{w}:*" if prefix and len(w) >= MIN_PREFIX else w for w in words)
        # The words are folded and plain already (letters and digits only); so are the tokens,
        # which are lexemes as they are (not parsed, not stemmed).
        tsquery = func.to_tsquery(literal_column("'spanish'::regconfig"), terms)
        # The words as the index holds them (stemmed, stop words left out): "'tornill':*". In
        # the same round trip, for the rest of the transaction (the search's statements): no
        # parallel workers and no JIT compilation, whose start costs more than a search of the
        # index (a common word's ranking was estimated costly enough for both: 30 ms of JIT).
        lexemes = db.session.execute(select(
            cast(tsquery, Text),
            func.set_config("max_parallel_workers_per_gather", "0", True),
            func.set_config("jit", "off", True),
        )).first()[0] or ""
        if not _LEXEME.search(lexemes):
            return stmt, None
        # The index's expression (``SEARCH_INDEXED``), its columns named with their table.
        indexed = literal_column(
            f"catalog_search_keys({TABLE}.{SEARCH_COLUMN}, {TABLE}.{ACCESS_COLUMN})"
        )
        stmt = stmt.where(*(
            or_(*(indexed.op("@@")(cast(_keyed_query(lexemes, tokens), TSQUERY))
                  for tokens in _chunks(group)))
            for group in access
        ))
        # ts_rank of the words over the text alone: higher is better; negated so every dialect
        # sorts ascending.
        vector = literal_column(f"{TABLE}.{SEARCH_COLUMN}")
        return stmt, -func.ts_rank(vector, tsquery)
    stmt = stmt.join(FTS, FTS.c.rowid == CatalogItem.id).where(
        _fts_match(words, access, prefix=prefix)
    )
    return stmt, BM25


def _keyed_query(lexemes: str, tokens: list[str]) -> str:
    """PostgreSQL: the query of the index's keys (``SEARCH_INDEXED``) for an item holding one
    of ``tokens`` and the words: the words' query (``lexemes``, as to_tsquery writes it) once
    per token, its lexemes joined to the token, ORed."""
    def keyed(token: str) -> str:
        return _LEXEME.sub(lambda m: f"'{token}{KEY_SEPARATOR}{m.group(1)}'", lexemes)

    return " | ".join(f"({keyed(token)})" for token in tokens)


def _chunks(tokens: list[str]) -> list[list[str]]:
    """PostgreSQL: a group of access tokens as the index is searched for them, each part a
    condition of its own (ORed, one bitmap each): the first token (the whole network's, the
    items of most matches) alone, the others by tens. One condition of 50 suppliers' tokens
    and the network's took the GIN index twice as long to check as these; one per token
    would cost the planner more than it saves once a buyer has hundreds of suppliers."""
    return [tokens[:1]] + [tokens[i:i + KEYED_CHUNK] for i in range(1, len(tokens), KEYED_CHUNK)]


def _fts_match(words: list[str], access: list[list[str]], *, prefix: bool = True) -> Any:
    """SQLite: the FTS5 condition of the words and the access tokens."""
    # Every word quoted (a phrase of one token: no operator survives), each a prefix, looked
    # for in the text columns only; the access tokens in theirs.
    match = " ".join(f'"{w}"*' if prefix and len(w) >= MIN_PREFIX else f'"{w}"'
                     for w in words)
    match = f"{{{' '.join(TEXT_COLUMNS)}}} : ({match})"
    for group in access:  # (quoted too: a token is letters and digits, but never trusted)
        tokens = " OR ".join(f'"{token}"' for token in group)
        match += f" AND {ACCESS_COLUMN} : ({tokens})"
    return text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=match)


def _ranked_page(
    words: list[str], access: list[list[str]], *, limit: int, offset: int
) -> Select[Any]:
    """SQLite: the page's ids by rank, then name, ranked in the FTS table alone; only the rows
    that rank as well as the page's last are read from the items for their names. (Sorting every
    match by rank and name read each one's row: half the time of a common word's search.)"""
    ranked = (
        select(FTS.c.rowid.label("id"), BM25.label("rank"))
        .where(_fts_match(words, access))
        .cte("ranked")
        .prefix_with("MATERIALIZED")
    )
    last = (
        select(ranked.c.rank).order_by(ranked.c.rank).limit(1).offset(offset + limit)
        .scalar_subquery()
    )
    return (
        select(CatalogItem.id)
        .select_from(ranked)
        .join(CatalogItem, CatalogItem.id == ranked.c.id)
        .where(or_(last.is_(None), ranked.c.rank <= last))
        .order_by(ranked.c.rank, CatalogItem.name, CatalogItem.id)
        .limit(limit + 1)
        .offset(offset)
    )


def _in_category(category: str) -> ColumnElement[bool]:
    """One of the item's comma-separated categories is ``category`` (case aside)."""
    wanted = category.strip().lower()
    wanted = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    listed = func.lower(
        "," + func.replace(func.replace(CatalogItem.categories, ", ", ","), " ,", ",") + ","
    )
    return listed.like(f"%,{wanted},%", escape="\\")


def _hit(row: Any, buyer_company_id: int) -> SearchHit:
    (item_id, supplier_id, legal, trade, code, gtin, name, description, unit, paid, price,
     own_price, currency, tax, minimum, pack, availability, lead, image_type) = row
    snippet = " ".join((description or "").split())
    if len(snippet) > SNIPPET:
        snippet = snippet[: SNIPPET - 1].rsplit(" ", 1)[0] + "…"
    return SearchHit(
        item_id=item_id, supplier_id=supplier_id, supplier_name=trade or legal, code=code,
        gtin=gtin, name=name, snippet=snippet, unit_code=unit, price=Decimal(paid),
        list_price=price, customer_price=own_price is not None, currency=currency,
        tax_percent=tax, min_quantity=minimum, pack_size=pack, availability=availability,
        lead_time_days=lead, has_picture=image_type is not None,
        own=supplier_id == buyer_company_id,
    )
