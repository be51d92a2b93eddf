"""On a noisy generated statement, are automatic confirmations right and frequent enough?"""

from __future__ import annotations

import os

from app.matching.engine import Matcher
from app.matching.generate import evaluate, generate


def test_are_automatic_confirmations_precise_and_frequent_on_a_noisy_statement():
    data = generate(partners=300, invoices=20_000, lines=2_000, seed=1)
    matcher = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    q = evaluate(matcher.run(data.lines), data.truth)
    assert q.lines == 2_000
    assert q.matchable > 1_800  # a few unknown senders only
    assert q.precision >= 0.995, q
    assert q.recall >= 0.90, q
    assert q.top5_recall >= 0.5, q


def test_is_the_generator_seeded():
    a = generate(partners=20, invoices=500, lines=100, seed=3)
    b = generate(partners=20, invoices=500, lines=100, seed=3)
    c = generate(partners=20, invoices=500, lines=100, seed=4)
    assert a.lines == b.lines and a.truth == b.truth
    assert a.lines != c.lines


def test_does_the_truth_name_only_candidates_that_exist():
    data = generate(partners=20, invoices=500, lines=300, seed=5)
    known = {(c.kind, c.id) for c in data.candidates}
    assert len(data.lines) == len(data.truth) == 300
    assert all(pair in known for settles in data.truth.values() for pair in settles)
    assert any(not settles for settles in data.truth.values())  # unknown senders
    assert any(len(settles) > 1 for settles in data.truth.values())  # combined payments
    assert any(line.amount < 0 for line in data.lines)  # debits


def test_does_a_run_in_several_processes_answer_as_one_does(monkeypatch):
    """A long run ranks its lines in forked processes: the same suggestions, the same automatic
    confirmations (the open amounts shared out across the processes' lines), in line order."""
    from app.matching import engine

    data = generate(partners=50, invoices=3_000, lines=900, seed=8)
    alone = Matcher(data.candidates, rules=data.rules, hints=data.hints).run(data.lines)
    monkeypatch.setattr(engine, "PARALLEL_LINES", 200)  # 900 lines: four processes
    together = Matcher(data.candidates, rules=data.rules, hints=data.hints).run(
        data.lines, workers=4
    )
    assert together == alone
    assert list(together) == [line.id for line in data.lines]
    assert sum(1 for s in together.values() if s and s[0].auto) > 500


def test_is_a_share_whose_process_fails_ranked_by_the_parent(monkeypatch):
    from app.matching import engine

    data = generate(partners=20, invoices=1_000, lines=300, seed=9)
    alone = Matcher(data.candidates, rules=data.rules, hints=data.hints).run(data.lines)
    monkeypatch.setattr(engine, "PARALLEL_LINES", 100)
    broken = Matcher(data.candidates, rules=data.rules, hints=data.hints)
    parent = os.getpid()
    real = broken._rank_some

    def dies_in_children(lines, limit):
        if os.getpid() != parent:
            raise MemoryError("a child runs out of memory")
        return real(lines, limit)

    monkeypatch.setattr(broken, "_rank_some", dies_in_children)
    assert broken.run(data.lines, workers=3) == alone
