"""Run every benchmark and print its figures: ``python -m benchmarks`` (what ``make bench`` runs).

e-invoice ingest (a)–(e) with the ratios c/b and c/e, the verify step in detail, and the official
rules' agreement with their own published unit tests (skipped without a rules folder), and the
field-level accuracy of PDF extraction on ../shared/data/pdf; then the Inbox pages at N documents
(BENCH_DOCUMENTS, default 1,000,000) on SQLite and PostgreSQL (a line when no server answers), and
the API's ingestion throughput beside the engine's; then the access audit's cost on the
document and Inbox pages (audit on vs off); then the dispute chat's fan-out latency with 200
sockets in one room, over two processes and Redis and over one process; then payments through
the sandbox gateway: webhook acknowledgement under 50 concurrent deliveries, approve → paid on
both sides, one checkout for 100 invoices, on SQLite and on PostgreSQL + Redis; last, bank
reconciliation's matching engine: the quality of its automatic confirmations on a noisy generated
statement, and its speed over 1,000,000 open candidates and 100,000 lines; then catalogs: buyer
search over 1,000,000 items, a 50,000-row catalog import and suggestions from 100,000 invoice
lines, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    api_ingest,
    audit_overhead,
    catalog,
    chat_fanout,
    einvoice_ingest,
    einvoice_verify,
    inbox_pages,
    payments,
    pdf_accuracy,
    pdf_fields,
    reconciliation,
    rules_agreement,
)


def main() -> int:
    """Run the benchmarks one after the other (figures only: the status is 0 unless one crashes)."""
    einvoice_ingest.main()
    print()
    einvoice_verify.main()
    print()
    rules_agreement.main([])
    print()
    pdf_accuracy.main([])
    print()
    pdf_fields.main([])
    print()
    inbox_pages.main([])
    print()
    api_ingest.main([])
    print()
    audit_overhead.main([])
    print()
    chat_fanout.main([])
    print()
    payments.main([])
    print()
    reconciliation.main([])
    print()
    catalog.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
