"""PLACEHOLDER until the matching helper's branch lands."""
from __future__ import annotations

from app.matching import model as m
from app.matching.text import normalize


class Matcher:
    def __init__(self, candidates, *, rules=(), hints=m.Hints(), settings=m.Settings()):
        self.candidates = list(candidates)

    def suggest(self, line: m.Line, limit: int = 5) -> list[m.Suggestion]:
        text = normalize(f"{line.reference} {line.description}").replace(" ", "")
        kinds = m.CREDIT_KINDS if line.amount > 0 else m.DEBIT_KINDS
        out = []
        for c in self.candidates:
            if c.kind not in kinds or c.currency != line.currency:
                continue
            ev = []
            if any(normalize(r).replace(" ", "") in text for r in c.references if r):
                ev.append(m.Evidence(m.REFERENCE, 50, c.references[0]))
            if c.amount == abs(line.amount):
                ev.append(m.Evidence(m.AMOUNT_EXACT, 45))
            if ev:
                score = sum(e.points for e in ev)
                out.append(m.Suggestion(line.id, (m.Item(c.kind, c.id, min(c.amount, abs(line.amount))),), score, tuple(ev), auto=score >= 90))
        out.sort(key=lambda s: -s.score)
        return out[:limit]

    def run(self, lines):
        return {line.id: self.suggest(line) for line in lines}
