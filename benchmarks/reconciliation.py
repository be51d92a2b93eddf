"""Reconciliation matching (app/matching): quality on a noisy generated data set, and speed.

(a) Quality: ``app.matching.generate`` makes 20,000 bank lines against 200,000 open invoices of
    1,000 partners (plus payments, payouts and payables; its docstring gives the mix), with the
    truth of each line; ``Matcher.run`` suggests. Printed: precision of the automatic
    confirmations (correct autos / autos), their recall (correct autos / lines with a true match),
    and for the lines with a match not confirmed correctly, how many have it in their top 5.
(b) Speed: a ``Matcher`` built over 1,000,000 candidates of 1,000 partners, ``run`` over 100,000
    lines (seconds each and in total, wall clock and this process's CPU time — they differ when
    the machine is shared; the data's generation is not counted), the build again from plain
    rows (``Matcher.from_rows``, what a database loader hands over), and one line's ``suggest``
    alone: p50 / p99 over 2,000 lines.
BENCH_RECON_INVOICES / BENCH_RECON_LINES scale (b) down (and (a) with them when smaller).
Run: ``.venv/bin/python -m benchmarks.reconciliation`` (also part of ``make bench``).
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.matching.engine import Matcher  # noqa: E402
from app.matching.generate import evaluate, generate  # noqa: E402

PARTNERS = 1000


def _quality(invoices: int, lines: int) -> None:
    data = generate(PARTNERS, invoices, lines, seed=7)
    matcher = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    q = evaluate(matcher.run(data.lines), data.truth)
    print(f"(a) quality: {lines:,} lines, {invoices:,} invoices, {PARTNERS:,} partners "
          f"({len(data.candidates):,} candidates)")
    print(f"    lines with a true match            {q.matchable:>8,}")
    print(f"    automatic confirmations            {q.autos:>8,}")
    print(f"    precision (correct autos / autos)  {q.precision:>8.2%}   target ≥ 99.5 %")
    print(f"    recall (correct autos / matchable) {q.recall:>8.2%}   target ≥ 90 %")
    print(f"    the rest with the truth in top 5   {q.top5_recall:>8.2%}   ({q.top5:,} of "
          f"{q.rest:,})")


def _speed(invoices: int, lines: int) -> None:
    data = generate(PARTNERS, invoices, lines, seed=11)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    matcher = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    t1, c1 = time.perf_counter(), time.process_time()
    matcher.run(data.lines)
    t2, c2 = time.perf_counter(), time.process_time()
    # The same candidates as the plain rows a database returns (``Matcher.from_rows``).
    rows = [(c.kind, c.id, c.amount, c.currency, c.references, c.partner, c.partner_name, c.date,
             c.end_to_end_id) for c in data.candidates]
    del matcher
    gc.collect()
    r0, rc0 = time.perf_counter(), time.process_time()
    Matcher.from_rows(rows, rules=data.rules, hints=data.hints)
    r1, rc1 = time.perf_counter(), time.process_time()
    del rows
    # One line at a time, on a fresh matcher (nothing learnt from the run's lines).
    matcher = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    times = []
    for line in data.lines[:2000]:
        s = time.perf_counter()
        matcher.suggest(line)
        times.append((time.perf_counter() - s) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"(b) speed: {len(data.candidates):,} candidates of {PARTNERS:,} partners, "
          f"{lines:,} lines")
    print("                   wall     CPU")
    print(f"    Matcher build  {t1 - t0:6.2f} s {c1 - c0:6.2f} s   target ≤ 2.5 s")
    print(f"      from rows    {r1 - r0:6.2f} s {rc1 - rc0:6.2f} s   (Matcher.from_rows)")
    print(f"    run            {t2 - t1:6.2f} s {c2 - c1:6.2f} s   target ≤ 3.5 s")
    print(f"    total          {t2 - t0:6.2f} s {c2 - c0:6.2f} s   target < 6 s (+ the database's"
          " 3-4 s < 10 s)")
    print(f"    one line's suggestions: p50 {statistics.median(times):.2f} ms, "
          f"p99 {p99:.2f} ms   target < 50 ms")


def main(argv: list[str] | None = None) -> int:
    """Print the quality figures, then the speed figures."""
    invoices = int(os.environ.get("BENCH_RECON_INVOICES", 1_000_000))
    lines = int(os.environ.get("BENCH_RECON_LINES", 100_000))
    print("Reconciliation matching (app/matching)")
    _quality(min(invoices, 200_000), min(lines, 20_000))
    _speed(invoices, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
