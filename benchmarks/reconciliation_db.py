"""Reconciliation on a real database: 100,000 statement lines against 1,000,000 open invoices of
1,000 partners, on SQLite and on PostgreSQL (a line when no server answers).

The data is ``app.matching.generate``'s noisy set (its receivables become invoices, its credit
lines that settle receivables or nothing become bank lines, its learnt accounts and labels become
counterparty hints), inserted with Core executemany (not timed). Timed, as the service runs it:

(1) a full matching run: the open invoices read from the database (``candidates.receivables``),
    the hints, the ``Matcher`` built, the lines read and ``run`` over all of them — the engine's
    answer for every line (storing suggestions is timed apart, below);
(2) precision and recall of the automatic confirmations against the generator's truth;
(3) one line's suggestions as the line page and the API ask them (``matching.suggestions_of``:
    a shortlist from the database by number, amount and partner, then the engine): p50 / p99
    over 200 lines;
(4) storing what a run found and confirming the confident ones (``matching.match_lines``) for
    2,000 lines — each confirmation records a payment, an audit event and a webhook — per line.

BENCH_RECON_INVOICES / BENCH_RECON_LINES scale it down. Each database runs in a subprocess
(``python -m benchmarks.reconciliation_db --one URL``).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARTNERS = 1000
BENCH_DB = "portal_benchrecon"


def _sizes() -> tuple[int, int]:
    return (int(os.environ.get("BENCH_RECON_INVOICES", "1000000")),
            int(os.environ.get("BENCH_RECON_LINES", "100000")))


def one(url: str) -> None:  # noqa: PLR0915 (one straight story)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-recon")
    os.environ["JOBS_IN_PROCESS"] = "0"

    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.matching import model as m
    from app.matching.engine import Matcher, collector_paused
    from app.matching.generate import evaluate, generate
    from app.models import BankAccount, BankLine, Company, CounterpartyHint, Document, utcnow
    from app.services.reconciliation import candidates, matching
    from app.tenancy import acting_as

    invoices, lines = _sizes()
    upgrade_database(url)
    app = create_app("production")
    with app.app_context():
        t = time.perf_counter()
        # About 86 % of the generator's lines are credits settling receivables or nothing (the
        # rest settle payables, payments or payouts, which this set leaves out): a fifth more
        # are generated and the first ``lines`` of those kept.
        data = generate(PARTNERS, invoices, lines * 6 // 5, seed=11)
        company = Company(country="CO", tax_id="900000001", legal_name="Conciliadora S.A.S.",
                          trade_name=None, contact_email="conciliadora@bench.test")
        db.session.add(company)
        db.session.flush()
        account = BankAccount(company_id=company.id, name="Corriente", currency="COP",
                              number="0001", is_iban=False)
        db.session.add(account)
        db.session.commit()
        now = utcnow()
        table = Document.__table__
        batch: list[dict] = []
        receivables = [c for c in data.candidates if c.kind == m.RECEIVABLE]
        for c in receivables:
            batch.append({
                "id": c.id, "sender_company_id": company.id, "receiver_company_id": None,
                "customer_country": "CO", "customer_tax_id": c.partner or "",
                "supplier_name": company.legal_name, "supplier_tax_id": company.tax_id,
                "customer_name": c.partner_name, "document_type": "Invoice",
                "number": c.references[0], "issue_date": c.date, "due_date": c.date,
                "currency": c.currency, "payable": c.amount, "open_balance": c.amount,
                "status": "received", "payment_status": "unpaid", "original": b"",
                "filename": "", "findings": [], "signature": {}, "origin": "xml",
                "is_legal": True, "created_at": now, "paid_amount": 0, "refunded_amount": 0,
                "held_amount": 0,
            })
            if len(batch) == 20_000:
                db.session.execute(table.insert(), batch)
                db.session.commit()
                batch = []
        if batch:
            db.session.execute(table.insert(), batch)
            db.session.commit()
        keep = {line.id for line in data.lines if line.amount > 0
                and all(kind == m.RECEIVABLE for kind, _id in data.truth.get(line.id, ()))}
        keep = set(sorted(keep)[:lines])
        truth = {i: data.truth[i] for i in keep}
        rows = [{
            "id": line.id, "company_id": company.id, "bank_account_id": account.id,
            "booking_date": line.booking_date, "value_date": line.booking_date,
            "amount": line.amount, "currency": line.currency, "reference": line.reference[:500],
            "end_to_end_id": line.end_to_end_id[:100],
            "counterparty_name": line.counterparty_name[:200],
            "counterparty_account": line.counterparty_account[:60],
            "description": line.description, "bank_reference": "", "fingerprint": str(line.id),
            "status": "unmatched", "matched_amount": 0, "created_at": now,
        } for line in data.lines if line.id in keep]
        for start in range(0, len(rows), 20_000):
            db.session.execute(BankLine.__table__.insert(), rows[start:start + 20_000])
        hints = [{"company_id": company.id, "kind": kind, "value": value[:100], "partner": p,
                  "partner_name": "", "uses": 1, "updated_at": now}
                 for kind, source in (("account", data.hints.accounts),
                                      ("label", data.hints.labels))
                 for value, p in source.items()]
        for start in range(0, len(hints), 20_000):
            db.session.execute(CounterpartyHint.__table__.insert(), hints[start:start + 20_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE documents")
                conn.exec_driver_sql("ANALYZE bank_lines")
                conn.commit()
        del data, receivables, rows, hints, batch
        gc.collect()
        print(f"  data: {invoices:,} open invoices, {len(keep):,} bank lines, "
              f"{PARTNERS:,} partners, inserted in {time.perf_counter() - t:.1f} s (not timed)")

        with acting_as(company.id):
            t0, c0 = time.perf_counter(), time.process_time()
            with collector_paused():  # as matching.match_lines runs it
                opened = candidates.invoice_columns(company.id, m.RECEIVABLE, None)
                t1 = time.perf_counter()
                matcher = Matcher.from_columns(opened, rules=matching.engine_rules(company.id),
                                            hints=matching.engine_hints(company.id))
                t2 = time.perf_counter()
                plain = matching.open_lines(company.id)
                stored = plain
                t3 = time.perf_counter()
                results = matcher.run(plain, limit=matching.KEEP_SUGGESTIONS,
                                      workers=matching.run_workers())
                invoices_read = len(opened[0])
                del matcher, opened
            t4, c4 = time.perf_counter(), time.process_time()
            print(f"  (1) full matching run            {t4 - t0:7.2f} s   target < 10 s "
                  f"(CPU of this process {c4 - c0:.2f} s; {matching.run_workers()} processes)")
            print(f"      read {invoices_read:,} open invoices {t1 - t0:6.2f} s · build "
                  f"{t2 - t1:5.2f} s · read {len(plain):,} lines {t3 - t2:5.2f} s · run "
                  f"{t4 - t3:5.2f} s")
            q = evaluate(results, truth)
            print(f"  (2) precision {q.precision:.2%} (target ≥ 99.5 %) · recall {q.recall:.2%} "
                  f"(target ≥ 90 %) · {q.autos:,} automatic of {q.matchable:,} matchable")
            del results
            gc.collect()
            sample = [line.id for line in stored[:: max(1, len(stored) // 200)]][:200]
            times = []
            for line_id in sample:
                s0 = time.perf_counter()
                matching.suggestions_of(company.id, line_id)
                times.append((time.perf_counter() - s0) * 1000)
            times.sort()
            print(f"  (3) one line's suggestions       p50 {statistics.median(times):6.1f} ms · "
                  f"p99 {times[int(len(times) * 0.99) - 1]:6.1f} ms   target < 50 ms")
            some = [line.id for line in stored[:2000]]
            s0 = time.perf_counter()
            report = matching.match_lines(company.id, line_ids=some)
            db.session.commit()
            spent = time.perf_counter() - s0
            print(f"  (4) store + confirm {len(some):,} lines      {spent:7.2f} s "
                  f"({spent / len(some) * 1000:.1f} ms a line; {report.confirmed:,} confirmed, "
                  f"each a payment) — over the shared ledger, not timed for 100,000")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", help="run on this database URL only (a subprocess)")
    args = parser.parse_args(argv)
    if args.one:
        one(args.one)
        return 0
    invoices, lines = _sizes()
    print(f"Reconciliation on a database ({lines:,} lines × {invoices:,} invoices)")
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:")
        _child(f"sqlite:///{tmp}/recon.db")
    from benchmarks import inbox_pages

    server = inbox_pages.postgres_server()
    if server is None:
        print("PostgreSQL: skipped (no server; set BENCH_DATABASE_URL)")
        return 0
    previous, inbox_pages.BENCH_DB = inbox_pages.BENCH_DB, BENCH_DB
    try:
        url = inbox_pages._recreate_postgres(server)
        print("PostgreSQL:")
        _child(url)
        inbox_pages._recreate_postgres(server, drop_only=True)
    finally:
        inbox_pages.BENCH_DB = previous
    return 0


def _child(url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.reconciliation_db", "--one", url],
                          cwd=ROOT, check=False)
    if done.returncode:
        print(f"  failed (exit {done.returncode})")


if __name__ == "__main__":
    raise SystemExit(main())
