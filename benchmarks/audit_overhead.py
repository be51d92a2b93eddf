"""The access audit's cost: server time of the document page and the Inbox page, audit on vs off.

Every view of a document page writes a chained audit record (the head row upsert, the event,
the head's hash) and commits it in the request. For SQLite (a throwaway file) and PostgreSQL (a
throwaway database ``portal_audit_bench``, as in ``inbox_pages``; skipped with a line when no
server answers):
  1. the schema, the demo data and N bulk documents (``flask demo bulk``), default 3,000;
  2. server time (Flask test client, signed in as buyer@demo.test) of a received document's page
     and of /inbox/received, with AUDIT_ACCESS_EVENTS on and off, in alternating rounds so drift
     hits both: median and p95, and the difference of the medians;
  3. ``audit.record_event`` alone: microseconds per event, committed one by one.
Run: ``.venv/bin/python -m benchmarks.audit_overhead`` (also part of ``make bench``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import inbox_pages  # noqa: E402

DEFAULT_DOCUMENTS = 3_000
ROUNDS = 4


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * len(times)) - 1)]


def _timed(client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
    return times


def _received_document(app, company_id: int) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Document
    from app.tenancy import unscoped

    with app.app_context():
        document_id = db.session.scalars(
            unscoped(select(Document.id).where(Document.receiver_company_id == company_id))
            .order_by(Document.id.desc())
            .limit(1)
        ).one()
        db.session.remove()
    return document_id


def _record_cost(app, company_id: int, events: int) -> float:
    """Return microseconds per audit event, each recorded and committed on its own."""
    from app.extensions import db
    from app.services import audit
    from app.tenancy import acting_as

    with app.app_context(), acting_as(company_id, ip="127.0.0.1", user_agent="bench"):
        start = time.perf_counter()
        for i in range(events):
            audit.record_event("bench", company_id, "bench.event", ("documents", i), {"i": i})
            db.session.commit()
        elapsed = time.perf_counter() - start
        db.session.remove()
    return elapsed / events * 1e6


def _verify(app) -> str:
    from app.extensions import db
    from app.services import audit

    with app.app_context():
        start = time.perf_counter()
        report = audit.verify_chains()
        elapsed = time.perf_counter() - start
        db.session.remove()
    state = "all intact" if report.intact else "BROKEN"
    return f"{len(report.chains)} chains, {report.records:,} records, {state} in {elapsed:.2f} s"


def run_database(label: str, url: str, args: argparse.Namespace, instance: Path) -> None:
    """Fill one database, then time the pages with the access audit on and off."""
    from app import create_app

    print(f"{label}: {args.documents:,} documents across {args.partners} partners")
    on = inbox_pages.build(url, args.documents, args.partners, instance)
    off = create_app(
        "production",
        DATABASE_URL=url,
        JOBS_IN_PROCESS=False,
        MAIL_DIR=instance / "mail",
        AUDIT_ACCESS_EVENTS=False,
    )
    clients = {}
    for name, app in (("on", on), ("off", off)):
        clients[name], company_id = inbox_pages._signed_in_client(app)
    document = f"/documents/{_received_document(on, company_id)}"
    pages = (("document page", document), ("Inbox page", "/inbox/received"))
    per_round = max(args.requests // ROUNDS, 1)
    print(
        f"  server time over {per_round * ROUNDS} requests each (Flask test client), "
        f"{ROUNDS} alternating rounds:"
    )
    for name, path in pages:
        times: dict[str, list[float]] = {"on": [], "off": []}
        for client in clients.values():
            _timed(client, path, 10)  # warm up
        for _ in range(ROUNDS):
            for state in ("off", "on"):
                times[state] += _timed(clients[state], path, per_round)
        (m_on, p_on), (m_off, p_off) = _stats(times["on"]), _stats(times["off"])
        print(
            f"    {name:<14} audit off: median {m_off:6.2f} ms  p95 {p_off:6.2f} ms   "
            f"audit on: median {m_on:6.2f} ms  p95 {p_on:6.2f} ms   "
            f"(+{m_on - m_off:.2f} ms, {100 * (m_on - m_off) / m_off:+.0f}%)"
        )
    cost = _record_cost(on, company_id, args.events)
    print(f"  record_event + commit alone: {cost:,.0f} µs per event ({args.events:,} events)")
    print(f"  audit verify: {_verify(on)}")
    for app in (on, off):
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=DEFAULT_DOCUMENTS)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    print(f"Access audit overhead at N = {args.documents:,} documents (--documents)")
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as folder:
        instance = Path(folder)
        (instance / "mail").mkdir()
        inbox_pages._env(instance)
        run_database("SQLite", f"sqlite:///{instance / 'bench.db'}", args, instance)
        if args.sqlite_only:
            return 0
        server = inbox_pages.postgres_server()
        if server is None:
            print("PostgreSQL: skipped (set BENCH_DATABASE_URL to a server to include it)")
            return 0
        bench_db = inbox_pages.BENCH_DB
        inbox_pages.BENCH_DB = "portal_audit_bench"  # never the Inbox benchmark's database
        try:
            url = inbox_pages._recreate_postgres(server)
            run_database("PostgreSQL", url, args, instance)
        except Exception as error:  # noqa: BLE001 (a broken server is a line, not a crash)
            print(f"PostgreSQL: failed: {type(error).__name__}: {error}")
        finally:
            try:
                inbox_pages._recreate_postgres(server, drop_only=True)
            except Exception as error:  # noqa: BLE001
                print(f"PostgreSQL: could not drop the database: {error}")
            inbox_pages.BENCH_DB = bench_db
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
