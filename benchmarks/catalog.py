"""Catalogs on a real database: buyer search over 1,000,000 items of 1,000 suppliers, a 50,000-row
catalog import, and suggestions from 100,000 invoice lines — on SQLite and on PostgreSQL (a line
when no server answers).

The data is generated (Spanish hardware, food and office names with sizes and materials,
categories, GTINs with their check digit; a tenth of the suppliers' items shown to the whole
network, most to connected customers, some to chosen ones; 5 % unpublished) and inserted with
Core executemany through the migrated schema, its search triggers and index included (not
timed). One buyer is connected to 50 suppliers, chosen for some items and has its own prices on
about 20,000. Timed:

(a) ``search.search_items`` for that buyer: a few hundred queries of 1–3 words (whole words and
    beginnings), a fifth with a supplier, a category or a price range: p50 / p95, target
    p95 < 50 ms;
(b) ``transfer.import_items`` of a 50,000-row CSV into an empty catalog (new items), flushed and
    committed: target < 30 s;
(c) ``suggestions.review`` of a supplier with 100,000 invoice lines (10,000 invoices × 10
    lines, 5,000 distinct items): target < 10 s.

BENCH_CATALOG_ITEMS / BENCH_CATALOG_QUERIES / BENCH_CATALOG_IMPORT / BENCH_CATALOG_LINES scale it
down (an import or lines of 0 skips (b) or (c)); BENCH_CATALOG_DB names the PostgreSQL database
(made and dropped); BENCH_CATALOG_SLOWEST=N lists the N slowest searches. Each database runs in
a subprocess (``python -m benchmarks.catalog --one URL``). With --keep the databases stay
(SQLite under instance/bench/, one file per size; PostgreSQL's under its name) and the next
--keep run of the same size reuses them, migrated to head and analyzed: the same data (the
generator is replayed without inserting, so the queries are the same too), only not generated
again. (b) and (c) write into the database, so a kept database is measured with
BENCH_CATALOG_IMPORT=0 BENCH_CATALOG_LINES=0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SUPPLIERS = 1000
CONNECTED = 50
# The PostgreSQL database it makes and drops (BENCH_CATALOG_DB names another).
BENCH_DB = os.environ.get("BENCH_CATALOG_DB", "portal_benchcatalog")
#: Where --keep keeps the SQLite databases (one file per number of items) between runs.
KEEP_DIR = ROOT / "instance" / "bench"

NOUNS = {
    "Ferretería": ["tornillo", "tuerca", "arandela", "clavo", "broca", "martillo", "alicate",
                   "destornillador", "llave", "candado", "bisagra", "cinta aislante", "tubo",
                   "codo", "válvula", "manguera", "pintura", "brocha", "lija", "cemento",
                   "pegante", "silicona", "cable", "interruptor", "bombillo", "taladro",
                   "sierra", "nivel", "flexómetro", "guantes"],
    "Alimentos": ["café", "azúcar", "arroz", "fríjol", "lenteja", "aceite", "panela",
                  "chocolate", "harina", "sal", "atún", "leche", "queso", "galletas",
                  "pasta", "avena", "maíz", "té", "mermelada", "salsa de tomate"],
    "Oficina": ["lápiz", "bolígrafo", "cuaderno", "resma de papel", "carpeta", "grapadora",
                "clips", "marcador", "borrador", "tijeras", "sobre", "archivador",
                "calculadora", "cartulina", "post-it", "tóner", "cinta adhesiva", "regla"],
}
QUALIFIERS = ["de acero", "galvanizado", "inoxidable", "de bronce", "de plástico", "de PVC",
              "hexagonal", "rojo", "azul", "negro", "blanco", "orgánico", "tostado", "integral",
              "premium", "económico", "de ñandú", "extra fuerte", "reforzado", "ecológico",
              "de madera", "de aluminio", "colombiano", "importado", "industrial"]
SIZES = ["3/8", "1/2", "1/4", "2\"", "10 mm", "25 kg", "500 g", "1 kg", "50 kg", "1 L",
         "5 gal", "x 100", "x 12", "A4", "carta", "oficio", "n.º 2", "grande", "mediano"]
BRANDS = ["Andina", "Cóndor", "Caribe", "Pacífico", "Nevado", "Orquídea", "Llanero", "Paisa",
          "Sabana", "Cafetero", "Guadua", "Macondo"]


def _sizes() -> tuple[int, int, int, int]:
    return (int(os.environ.get("BENCH_CATALOG_ITEMS", "1000000")),
            int(os.environ.get("BENCH_CATALOG_QUERIES", "300")),
            int(os.environ.get("BENCH_CATALOG_IMPORT", "50000")),
            int(os.environ.get("BENCH_CATALOG_LINES", "100000")))


def gtin(rng: random.Random) -> str:
    body = "770" + "".join(rng.choice("0123456789") for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def item_name(rng: random.Random) -> tuple[str, str]:
    """A name and its category."""
    category = rng.choice(list(NOUNS))
    noun = rng.choice(NOUNS[category])
    parts = [noun.capitalize(), rng.choice(QUALIFIERS), rng.choice(SIZES)]
    if rng.random() < 0.5:
        parts.append(rng.choice(BRANDS))
    return " ".join(parts), category


def one(url: str, *, keep: bool = False) -> None:  # noqa: C901, PLR0912, PLR0915 (one story)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-catalog")
    os.environ["JOBS_IN_PROCESS"] = "0"

    from sqlalchemy import text

    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.models import Company, Partnership, utcnow
    from app.models.catalog import (
        POSTGRESQL_SEARCH_INDEX_DDL,
        SEARCH_INDEXES,
        CatalogAudience,
        CatalogItem,
        CustomerPrice,
    )
    from app.services.catalogs import search
    from app.tenancy import acting_as

    items_n, queries_n, import_n, lines_n = _sizes()
    upgrade_database(url)
    app = create_app("production")
    rng = random.Random(7)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        t = time.perf_counter()
        now = utcnow()
        per_supplier = max(1, items_n // SUPPLIERS)
        # A kept database of this size is reused: the generator below runs as it would (so the
        # queries come out the same) but inserts nothing.
        kept = keep and db.session.scalar(text("SELECT count(*) FROM catalog_items")) == (
            per_supplier * SUPPLIERS)
        if keep and not kept and db.session.scalar(text("SELECT count(*) FROM companies")):
            raise SystemExit("  the kept database holds another size: remove it first")
        companies = [{
            "id": i, "legal_name": f"Proveedor {i} S.A.S.", "trade_name": f"Proveedor {i}",
            "country": "CO", "tax_id": f"{900000000 + i}", "contact_email": f"p{i}@bench.test",
            "locale": "es", "created_at": now,
        } for i in range(1, SUPPLIERS + 3)]
        buyer, importer = SUPPLIERS + 1, SUPPLIERS + 2
        connected = rng.sample(range(1, SUPPLIERS + 1), CONNECTED)
        partnerships = [{
            "supplier_id": s, "customer_id": buyer, "requested_by_id": s, "status": "active",
            "created_at": now,
        } for s in connected]
        # Other customers, so the connected rule has rows to skip.
        others = [{
            "supplier_id": s, "customer_id": c, "requested_by_id": s, "status": "active",
            "created_at": now,
        } for s in range(1, SUPPLIERS + 1) for c in rng.sample(range(1, SUPPLIERS + 1), 5)
            if c != s]
        if not kept:
            db.session.execute(Company.__table__.insert(), companies)
            db.session.execute(Partnership.__table__.insert(), partnerships)
            db.session.execute(Partnership.__table__.insert(), others)
            db.session.commit()
        if postgres and not kept:  # the index is built once after the rows, as a restore would
            for index in SEARCH_INDEXES:
                db.session.execute(text(f"DROP INDEX IF EXISTS {index}"))
            db.session.commit()
        connected_set = set(connected)
        batch: list[dict] = []
        audiences: list[dict] = []
        prices: list[dict] = []
        item_id = 0
        for supplier in range(1, SUPPLIERS + 1):
            for n in range(per_supplier):
                item_id += 1
                name, category = item_name(rng)
                roll = rng.random()
                visibility = "network" if roll < 0.1 else "chosen" if roll > 0.9 else "connected"
                batch.append({
                    "id": item_id, "company_id": supplier, "seller_item_id": f"S{supplier}-{n}",
                    "standard_item_id": gtin(rng) if rng.random() < 0.7 else "",
                    "name": name, "description": f"{name}. Calidad garantizada, "
                                                  f"{rng.choice(QUALIFIERS)}.",
                    "unit_code": rng.choice(["94", "EA", "KGM", "BX"]),
                    "price": Decimal(rng.randint(500, 500_000)), "currency": "COP",
                    "tax_percent": Decimal(rng.choice([0, 5, 19])),
                    "min_quantity": Decimal(1), "pack_size": Decimal(rng.choice([1, 6, 12])),
                    "availability": "in_stock", "lead_time_days": rng.randint(0, 15),
                    "categories": f"{category}, {name.split()[0]}",
                    "visibility": visibility, "published": rng.random() < 0.95,
                    "created_at": now, "updated_at": now,
                })
                if visibility == "chosen":
                    audiences.append({"item_id": item_id, "company_id": supplier,
                                      "customer_company_id": buyer if (
                                          supplier in connected_set and rng.random() < 0.5)
                                      else rng.randint(1, SUPPLIERS)})
                if supplier in connected_set and rng.random() < 0.4:
                    prices.append({"item_id": item_id, "company_id": supplier,
                                   "customer_company_id": buyer,
                                   "price": Decimal(rng.randint(400, 400_000)),
                                   "valid_from": None, "valid_to": None, "created_at": now})
                if len(batch) == 20_000:
                    if not kept:
                        db.session.execute(CatalogItem.__table__.insert(), batch)
                        db.session.commit()
                    batch = []
        if batch and not kept:
            db.session.execute(CatalogItem.__table__.insert(), batch)
        for rows, model in ((audiences, CatalogAudience), (prices, CustomerPrice)):
            for start in range(0 if not kept else len(rows), len(rows), 20_000):
                db.session.execute(model.__table__.insert(), rows[start:start + 20_000])
        db.session.commit()
        if postgres:
            if not kept:
                for name in ("companies", "catalog_items"):  # rows were given their ids
                    db.session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"))
                for statement in POSTGRESQL_SEARCH_INDEX_DDL:
                    db.session.execute(text(statement))
                db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  data: {item_id:,} items of {SUPPLIERS:,} suppliers, buyer connected to "
              f"{CONNECTED}, {len(prices):,} customer prices, {len(audiences):,} chosen "
              f"audiences, {'kept from an earlier run' if kept else 'inserted and indexed'} "
              f"in {time.perf_counter() - t:.1f} s (not timed)")

        # (a) search
        words = [w for nouns in NOUNS.values() for noun in nouns for w in noun.split()
                 if len(w) > 2] + [q.split()[-1] for q in QUALIFIERS] + BRANDS
        queries = []
        for _ in range(queries_n):
            chosen = rng.sample(words, rng.choice([1, 1, 2, 2, 3]))
            chosen = [w if rng.random() < 0.7 else w[: max(3, len(w) - 2)] for w in chosen]
            filters: dict = {}
            roll = rng.random()
            if roll < 0.07:
                filters["supplier_id"] = rng.choice(connected)
            elif roll < 0.14:
                filters["category"] = rng.choice(list(NOUNS))
            elif roll < 0.2:
                low = rng.randint(1000, 100_000)
                filters.update(price_min=Decimal(low), price_max=Decimal(low * 3))
            queries.append((" ".join(chosen), filters))
        with acting_as(buyer):
            search.search_items(buyer, "tornillo")  # warm the caches
            times, found, slowest = [], 0, []
            for query, filters in queries:
                s0 = time.perf_counter()
                page = search.search_items(buyer, query, **filters)
                times.append((time.perf_counter() - s0) * 1000)
                found += bool(page.hits)
                slowest.append((times[-1], query, filters))
        times.sort()
        if os.environ.get("BENCH_CATALOG_SLOWEST"):  # which queries make the p95
            for spent, query, filters in sorted(slowest, reverse=True)[
                    :int(os.environ["BENCH_CATALOG_SLOWEST"])]:
                print(f"      {spent:6.1f} ms  {query!r} {filters or ''}")
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"  (a) search, {len(times)} queries     p50 {statistics.median(times):6.1f} ms · "
              f"p95 {p95:6.1f} ms · max {times[-1]:6.1f} ms   target p95 < 50 ms "
              f"({found} with hits)")

        if not import_n:
            print("  (b) import skipped (BENCH_CATALOG_IMPORT=0)")
        else:
            _import(importer, import_n, rng)
        if not lines_n:
            print("  (c) suggestions skipped (BENCH_CATALOG_LINES=0)")
        else:
            _suggestions(connected[0], lines_n, rng, now)


def _import(importer: int, import_n: int, rng: random.Random) -> None:
    """(b) the import of import_n CSV rows into an empty catalog."""
    from app.extensions import db
    from app.models import User
    from app.services.catalogs import transfer
    from app.tenancy import acting_as

    user = User(name="Importador", email="importador@bench.test", password_hash="x")
    db.session.add(user)
    db.session.commit()
    lines = ["code,gtin,name,description,unit,price,currency,tax %,minimum quantity,"
             "pack size,availability,lead time (days),categories,visibility"]
    for n in range(import_n):
        name, category = item_name(rng)
        lines.append(f'IMP-{n},{gtin(rng) if n % 2 else ""},"{name.replace(chr(34), "")}",'
                     f'"Descripción {n}",94,{rng.randint(500, 90000)},COP,19,1,1,'
                     f'en existencia,3,"{category}",clientes')
    content = "\n".join(lines).encode()
    with acting_as(importer, user.id):
        s0 = time.perf_counter()
        report = transfer.import_items(importer, content=content, actor=user)
        db.session.commit()
        spent = time.perf_counter() - s0
    print(f"  (b) import {import_n:,} CSV rows        {spent:7.2f} s   target < 30 s "
          f"({report.accepted:,} accepted)")


def _suggestions(seller: int, lines_n: int, rng: random.Random, now: dt.datetime) -> None:
    """(c) suggestions from lines_n invoice lines of the seller."""
    from app.extensions import db
    from app.models import Document, DocumentLine
    from app.services.catalogs import suggestions
    from app.tenancy import acting_as

    postgres = db.engine.dialect.name == "postgresql"
    products = [(f"P-{n}", *item_name(rng)) for n in range(5000)]
    docs_n = max(1, lines_n // 10)
    start_day = dt.date(2025, 1, 1)
    doc_rows, line_rows = [], []
    base_id = 10_000_000
    for d in range(docs_n):
        doc_id = base_id + d
        customer = rng.randint(1, SUPPLIERS)
        doc_rows.append({
            "id": doc_id, "sender_company_id": seller, "receiver_company_id": customer,
            "customer_country": "CO", "customer_tax_id": f"{900000000 + customer}",
            "supplier_name": f"Proveedor {seller} S.A.S.",
            "supplier_tax_id": f"{900000000 + seller}",
            "customer_name": f"Proveedor {customer} S.A.S.", "document_type": "Invoice",
            "number": f"FV-{d}", "issue_date": start_day + dt.timedelta(days=d % 700),
            "due_date": start_day, "currency": "COP", "payable": Decimal(1000),
            "open_balance": Decimal(0), "status": "received", "payment_status": "paid",
            "original": b"", "filename": "", "findings": [], "signature": {},
            "origin": "xml", "is_legal": True, "created_at": now, "paid_amount": 0,
            "refunded_amount": 0, "held_amount": 0,
        })
        for pos in range(1, 11):
            code, name, _category = rng.choice(products)
            line_rows.append({
                "document_id": doc_id, "sender_company_id": seller,
                "receiver_company_id": customer, "position": pos, "line_id": str(pos),
                "seller_item_id": code, "buyer_item_id": "", "standard_item_id": "",
                "standard_item_scheme": "", "name": name, "description": "",
                "quantity": Decimal(rng.randint(1, 50)), "unit_code": "94",
                "price": Decimal(rng.randint(500, 90000)), "base_quantity": None,
                "line_extension": None, "tax_percent": Decimal(19), "tax_category": "01",
            })
    for start in range(0, len(doc_rows), 5_000):
        db.session.execute(Document.__table__.insert(), doc_rows[start:start + 5_000])
    for start in range(0, len(line_rows), 20_000):
        db.session.execute(DocumentLine.__table__.insert(), line_rows[start:start + 20_000])
    db.session.commit()
    if postgres:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE documents")
            conn.exec_driver_sql("ANALYZE document_lines")
            conn.commit()
    with acting_as(seller):
        s0 = time.perf_counter()
        review = suggestions.review(seller)
        spent = time.perf_counter() - s0
    print(f"  (c) suggestions from {review.lines:,} invoice lines {spent:6.2f} s   "
          f"target < 10 s ({review.pending:,} pending)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", help="run on this database URL only (a subprocess)")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the databases (SQLite in {KEEP_DIR}, PostgreSQL {BENCH_DB}) "
                             "and reuse them when they hold as many items")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args(argv)
    if args.one:
        one(args.one, keep=args.keep)
        return 0
    items_n, queries_n, import_n, lines_n = _sizes()
    print(f"Catalogs on a database ({items_n:,} items, {queries_n} searches, "
          f"{import_n:,}-row import, {lines_n:,} invoice lines)")
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite:")
            if args.keep:
                KEEP_DIR.mkdir(parents=True, exist_ok=True)
                _child(f"sqlite:///{KEEP_DIR / f'catalog-{items_n}.sqlite'}", keep=True)
            else:
                _child(f"sqlite:///{tmp}/catalog.db")
    if args.sqlite_only:
        return 0
    from benchmarks import inbox_pages

    server = inbox_pages.postgres_server()
    if server is None:
        print("PostgreSQL: skipped (no server; set BENCH_DATABASE_URL)")
        return 0
    previous, inbox_pages.BENCH_DB = inbox_pages.BENCH_DB, BENCH_DB
    try:
        # The benchmarks' helpers (SLF001).
        url = inbox_pages._recreate_postgres(server, keep=args.keep)  # noqa: SLF001
        print("PostgreSQL:")
        _child(url, keep=args.keep)
        if not args.keep:
            inbox_pages._recreate_postgres(server, drop_only=True)  # noqa: SLF001
    finally:
        inbox_pages.BENCH_DB = previous
    return 0


def _child(url: str, *, keep: bool = False) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.catalog", "--one", url,
                           *(["--keep"] if keep else [])], cwd=ROOT, check=False)
    if done.returncode:
        print(f"  failed (exit {done.returncode})")


if __name__ == "__main__":
    raise SystemExit(main())
