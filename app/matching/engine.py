"""Reconciliation matching: bank lines against open candidates, plain data in and out.

A ``Matcher`` is built once from the open candidates (any iterable, one pass) and indexes them:
reference key → candidates, (currency, amount in thousandths) → candidates, partner →
candidates (sorted by date on first use), end-to-end id → candidates. A line's work stays within
a shortlist found through those indexes: never a scan of all candidates.

Score = the sum of the evidence points (suggestions are ranked and told apart on that sum; the
``score`` shown is capped at 100):

  END_TO_END            70  the line's end-to-end id is the candidate's (55 partial, 30 over)
  REFERENCE             55  a candidate's reference found in the text; 45 when the line pays part
                            of it, 25 when the line is larger than it (unless a combination of
                            several referenced candidates explains the amount); one-character
                            typo of a reference of 6+ characters: 50 / 35 / 15
  AMOUNT_EXACT          35  the same amount
  AMOUNT_SUM            35  several candidates add up to the line exactly (referenced ones, or
                            of one known partner); within tolerance 10 + AMOUNT_CLOSE 10
  AMOUNT_CLOSE          30  within tolerance (max of ``tolerance``, ``tolerance_ratio`` × amount);
                            a shortfall becomes ``fee``; 35 when a fee_difference rule accepts it
  COUNTERPARTY_TAX_ID   30  the partner's tax id appears in the text
  COUNTERPARTY_ACCOUNT  30  the line's counterparty account is known for the partner (hints)
  COUNTERPARTY_NAME     20  rapidfuzz token_set_ratio ≥ 85 against the partner's name
  LABEL_PATTERN         15  a learnt label (hints.labels) of the partner is in the text
  DATE_NEAR              5  within ``date_window_days`` of the candidate's date
  RULE                  70 partner_oldest_first, 55 gateway_payout, 10 fee_difference

``auto`` (confirm without a person), for the line's best suggestion only:
  * one candidate of the partner the line names (tax id, known account, or a name no other
    partner's fits), ``MARGIN`` above the second best, with the line's exact amount or named
    in the line (a reference or end-to-end id) and paid in part: whatever its score;
  * not made by a rule: score ≥ ``auto_threshold`` and at least ``MARGIN`` (25) points above the
    line's second best (same-amount candidates left unscored in a crowded amount count as a
    second best of 40); a partial payment also needs a reference or end-to-end id and the
    partner known by tax id or account; a near amount (or a combination near the amount)
    needs a reference to each of its candidates; and never when the line names a known
    partner (tax id, account or name) other than the candidate's;
  * made by a rule: the rule's ``auto_confirm`` and score ≥ ``auto_threshold`` (and, when the
    rule chose among candidates — fee_difference, gateway_payout — the same margin).
``run`` then lets no two automatic suggestions take more of a candidate than is open.
"""

from __future__ import annotations

import bisect
import gc
import operator
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from itertools import combinations, islice, repeat
from operator import attrgetter

from rapidfuzz import fuzz

from app.matching import text
from app.matching.model import (
    AMOUNT_CLOSE,
    AMOUNT_EXACT,
    AMOUNT_SUM,
    COUNTERPARTY_ACCOUNT,
    COUNTERPARTY_NAME,
    COUNTERPARTY_TAX_ID,
    CREDIT_KINDS,
    DATE_NEAR,
    DEBIT_KINDS,
    END_TO_END,
    KINDS,
    LABEL_PATTERN,
    PAYABLE,
    PAYOUT,
    RECEIVABLE,
    REFERENCE,
    RULE,
    Candidate,
    Evidence,
    Hints,
    Item,
    Line,
    Rule,
    Settings,
    Suggestion,
)

SCALE = 1000  # amounts are indexed as integer thousandths (exact for up to 3 decimals)

P_END_TO_END = (70, 55, 30)  # fits / line pays part / line is larger
P_REFERENCE = (55, 45, 25)
P_REFERENCE_TYPO = (50, 35, 15)
P_AMOUNT_EXACT = 35
P_AMOUNT_SUM = 35
P_AMOUNT_SUM_CLOSE = 20
P_AMOUNT_CLOSE = 30
P_TAX_ID = 30
P_ACCOUNT = 30
P_NAME = 20
P_LABEL = 15
P_DATE = 5
P_RULE = {"partner_oldest_first": 70, "gateway_payout": 55, "fee_difference": 10}
P_COMBINATION_SOME_REFERENCES = 30  # a combination where only some items are referenced
_EXACT = (AMOUNT_EXACT, P_AMOUNT_EXACT, "")
_RAW = attrgetter("raw")

MARGIN = 25  # an automatic suggestion stands this far above the line's second best
NAME_RATIO = 85  # rapidfuzz token_set_ratio for a counterparty name
CROWDED_AMOUNT = 40  # more candidates than this with one amount: only known partners' are scored
SUBSET_CANDIDATES = 30  # a partner's open candidates nearest the line's date tried together
PARTNER_SAME_AMOUNT = 4  # of one partner's candidates with the line's amount, scored at most
NEAREST_STEPS = 500  # candidates looked at to find a partner's nearest in date
SUBSET_BUDGET = 20_000  # search steps of one combination search
NAME_PARTNERS = 5  # partners pre-selected by the words of a name, at most
EVIDENCE_CACHE = 200_000
NAME_CACHE = 100_000  # names of lines remembered with the partners they match
_UNDATED = 10**7  # sorts after every real date
PARALLEL_LINES = 5_000  # lines a forked worker takes at least (fewer: not worth a process)
_STOPWORDS = frozenset(
    "sa sas s a ltda ltd inc llc gmbh srl sl sac cia y de del la las los el e and the co "
    "company limited".split()
)


def _exact_subsets(values: list[int], target: int, max_k: int, limit: int = 3) -> list[tuple]:
    """Index tuples of 2…``max_k`` (≤ 4) values adding up to ``target`` exactly, ``limit`` at
    most, pairs first, then triples, then quadruples, each in index order: all three through
    one map of pair sums."""
    n = len(values)
    # Most calls find nothing: the sums alone (in C) say so before any index is tracked.
    sums = set(map(sum, combinations(values, 2)))
    if target not in sums and (
        max_k < 3 or not any(target - v in sums for v in values)
    ) and (max_k < 4 or sums.isdisjoint([target - t for t in sums])):
        return []
    pairs: dict[int, list[tuple[int, int]]] = {}
    for i in range(n):
        vi = values[i]
        for j in range(i + 1, n):
            s = vi + values[j]
            same = pairs.get(s)
            if same is None:
                pairs[s] = [(i, j)]
            else:
                same.append((i, j))
    found: list[tuple] = list(pairs.get(target, ()))
    if max_k >= 3 and len(found) < limit:
        triples = [
            (i, j, k)
            for k in range(2, n)
            for i, j in pairs.get(target - values[k], ())
            if j < k
        ]
        triples.sort()
        found.extend(triples)
    if max_k >= 4 and len(found) < limit:
        for total, firsts in pairs.items():
            seconds = pairs.get(target - total)
            if seconds:
                for a, b in firsts:
                    for c, d in seconds:
                        if c > b:
                            found.append((a, b, c, d))
            if len(found) >= limit:
                break
    return found[:limit]


_FIELD_NAMES = (
    "kind", "id", "amount", "currency", "references", "partner", "partner_name", "date",
    "end_to_end_id",
)
_KIND_SET = frozenset(KINDS)
_DECIMAL_SCALE = Decimal(SCALE)


class _Column:
    """One attribute of the candidates, read when asked for."""

    __slots__ = ("items", "name")

    def __init__(self, items: list, name: str) -> None:
        self.items = items
        self.name = name

    def __getitem__(self, i: int) -> object:
        return getattr(self.items[i], self.name)

    def __len__(self) -> int:
        return len(self.items)


def _minor_or_zero(amount: Decimal) -> int:
    try:
        return int(amount * _DECIMAL_SCALE)
    except (ValueError, OverflowError):
        return 0


def _grouped(keys: Sequence, positions: Sequence[int], *, unique: bool = False) -> dict:
    """``keys`` → a lone position as an int, or several as a list in the given order (millions
    of one-item lists would cost time and memory). ``unique``: keys expected to be (mostly)
    distinct, so a whole column goes in at once and the few repeated ones are fixed after."""
    if unique:
        index: dict = dict(zip(keys, positions, strict=True))
        if len(index) == len(keys):
            return index
        several = {k for k, pos in zip(keys, positions, strict=True) if index[k] != pos}
        for k in several:
            index[k] = []
        for k, pos in [(k, pos) for k, pos in zip(keys, positions, strict=True) if k in several]:
            index[k].append(pos)
        return index
    index = {}
    setdefault = index.setdefault
    for k, pos in zip(keys, positions, strict=True):
        seen = setdefault(k, pos)
        if seen != pos:
            if type(seen) is int:
                index[k] = [seen, pos]
            else:
                seen.append(pos)
    return index


def _each(hit: int | list[int] | None) -> Sequence[int]:
    """The positions of an index entry."""
    if hit is None:
        return ()
    return (hit,) if type(hit) is int else hit


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: building or matching makes millions of objects
    and no cycles, and each collection pass would walk them all again. The first collection
    after the pause walks every object made during it that is still alive: a caller that
    reads, builds and runs pauses once around all of it and drops the matcher inside."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Partner:
    """A partner's open candidates, sorted by date (built on first use)."""

    __slots__ = ("positions", "ords", "minor", "sorted_by_amount")

    def __init__(
        self, positions: list[int], every_ord: Sequence[int], minor: Sequence[int]
    ) -> None:
        """``positions`` in the build's order (ascending); sorted by date, then position (the
        sort is stable and keyed by the list's own ``__getitem__``: no Python call per item)."""
        self.positions = sorted(positions, key=every_ord.__getitem__)
        self.ords = list(map(every_ord.__getitem__, self.positions))
        self.minor = minor
        self.sorted_by_amount: tuple[list[int], list[int]] | None = None

    @property
    def cheapest(self) -> list[int]:
        return self._by_amount()[0]

    @property
    def amounts(self) -> list[int]:
        return self._by_amount()[1]

    def _by_amount(self) -> tuple[list[int], list[int]]:
        """The positions by amount (then date), and their amounts (built on first use)."""
        if self.sorted_by_amount is None:
            cheapest = sorted(self.positions, key=self.minor.__getitem__)
            self.sorted_by_amount = (cheapest, list(map(self.minor.__getitem__, cheapest)))
        return self.sorted_by_amount

    def nearest(
        self, center: int, count: int, days: int, most: int, usable: tuple
    ) -> list[int]:
        """Up to ``count`` positions dated within ``days`` of ``center``, below ``most`` and
        ``usable`` — (kind of each, kinds, currency of each, currency): of the line's kind and
        currency —, nearest ``center`` first; the walk outwards stops where both sides leave
        the window (or after ``NEAREST_STEPS``)."""
        kind_of, kinds, cur_of, currency = usable
        ords = self.ords
        positions = self.positions
        minor = self.minor
        right = bisect.bisect_left(ords, center)
        left = right - 1
        n = len(positions)
        earliest, latest = center - days, center + days
        out: list[int] = []
        steps = 0
        while len(out) < count and steps < NEAREST_STEPS:
            if left >= 0 and ords[left] < earliest:
                left = -1  # the earlier side has left the window
            if right < n and ords[right] > latest:
                right = n
            if left < 0 and right >= n:
                break
            steps += 1
            if right >= n or (left >= 0 and center - ords[left] <= ords[right] - center):
                p = positions[left]
                left -= 1
            else:
                p = positions[right]
                right += 1
            if minor[p] < most and kind_of[p] in kinds and cur_of[p] == currency:
                out.append(p)
        return out

    def near(
        self, every_ord: Sequence[int], center: int | None, days: int, lo: int, hi: int
    ) -> list[int]:
        """Positions dated within ``days`` of ``center`` (any date when None; undated ones too)
        with an amount in [lo, hi]: through whichever sorted list leaves fewer to check."""
        a, b = bisect.bisect_left(self.amounts, lo), bisect.bisect_right(self.amounts, hi)
        if center is None:
            return self.cheapest[a:b]
        ords = self.ords
        first = bisect.bisect_left(ords, center - days)
        last = bisect.bisect_right(ords, center + days)
        undated = bisect.bisect_left(ords, _UNDATED)
        if b - a <= last - first + len(ords) - undated:
            return [
                p for p in self.cheapest[a:b]
                if abs(every_ord[p] - center) <= days or every_ord[p] == _UNDATED
            ]
        minor = self.minor
        dated = self.positions[first:last] + self.positions[undated:]
        return [p for p in dated if lo <= minor[p] <= hi]


class _Option:
    """One way to explain a line, before it becomes a ``Suggestion``."""

    __slots__ = (
        "raw", "items", "evidence", "fee", "rule", "partial", "known", "referenced", "loose",
        "stranger", "light", "exact", "named",
    )

    def __init__(self) -> None:
        self.raw = 0
        self.items: list[tuple[int, Decimal | None]] = []  # position, amount (None: all open)
        self.evidence: list[tuple[str, int, str]] = []
        self.fee = False
        self.rule: Rule | None = None
        self.partial = False
        self.known = False  # partner known by tax id or account
        self.referenced = False  # a reference or end-to-end id points to it
        self.loose = False  # a combination near the amount without all of its references
        self.stranger = False  # the line names a known partner, not this one
        self.light = False  # scored in short: only its amount (and date) speak for it
        self.exact = False  # one candidate, the line's amount to the cent
        self.named = False  # the line names its partner (tax id, known account or name)

    def add(self, code: str, points: int, detail: str = "") -> None:
        self.evidence.append((code, points, detail))
        self.raw += points


class _Context:
    """What one line says, worked out once."""

    __slots__ = (
        "line", "minor", "absolute", "currency", "kinds", "tol", "fee_max", "fee_rule",
        "keys", "norm", "name_text", "strong", "names", "booking", "window", "named",
        "identified", "points",
    )


class Matcher:
    """Suggest what bank lines settle, from indexes built once over the open candidates."""

    def __init__(
        self,
        candidates: Iterable[Candidate],
        *,
        rules: Sequence[Rule] = (),
        hints: Hints | None = None,
        settings: Settings | None = None,
    ) -> None:
        with collector_paused():
            cands = candidates if type(candidates) is list else list(candidates)
            for t in set(map(type, cands)):
                if not issubclass(t, Candidate):
                    bad = next(c for c in cands if type(c) is t)
                    raise TypeError(f"not a Candidate: {bad!r}")
            columns = [
                list(map(attrgetter(name), cands)) if name != "partner_name"
                else _Column(cands, name)  # one per partner is read
                for name in _FIELD_NAMES
            ]
            del cands
            self._build(columns, rules, hints, settings)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Sequence[object]],
        *,
        rules: Sequence[Rule] = (),
        hints: Hints | None = None,
        settings: Settings | None = None,
    ) -> Matcher:
        """A matcher over plain rows, as a database returns them, without a ``Candidate`` each:
        ``(kind, id, amount, currency, references, partner, partner_name, date)`` and optionally
        ``end_to_end_id`` last. ``amount`` is a Decimal; ``references`` one string (or None) or
        a tuple of them; ``partner`` None when unknown; ``date`` a date or None."""
        with collector_paused():
            rows = rows if type(rows) is list else list(rows)
            sizes = set(map(len, rows))
            width = len(_FIELD_NAMES)
            if not sizes <= {width - 1, width}:
                raise ValueError(f"a candidate row has {width - 1} or {width} fields")
            if width - 1 in sizes and width in sizes:
                rows = [(*r, "") if len(r) < width else r for r in rows]
            columns = list(zip(*rows, strict=False)) if rows else [()] * width
            del rows
            return cls.from_columns(columns, rules=rules, hints=hints, settings=settings)

    @classmethod
    def from_columns(
        cls,
        columns: Sequence[Sequence[object]],
        *,
        rules: Sequence[Rule] = (),
        hints: Hints | None = None,
        settings: Settings | None = None,
    ) -> Matcher:
        """``from_rows`` given the rows' fields as columns (one sequence per field, all of one
        length; ``end_to_end_id`` may be left out): what a loader that reads a whole table
        column-wise hands over without making a tuple per row."""
        width = len(_FIELD_NAMES)
        if len(columns) not in (width - 1, width) or len(set(map(len, columns))) > 1:
            raise ValueError(f"candidates come as {width - 1} or {width} columns of one length")
        self = cls.__new__(cls)
        with collector_paused():
            columns = list(columns)
            if len(columns) == width - 1:
                columns.append([""] * len(columns[0]))
            refs = columns[4]
            if set(map(type, refs)) - {tuple}:
                columns[4] = [
                    r if type(r) is tuple else ((r,) if isinstance(r, str) else tuple(r or ()))
                    for r in refs
                ]
            e2e = columns[8]
            if None in set(e2e):
                columns[8] = [e or "" for e in e2e]
            self._build(columns, rules, hints, settings)
        return self

    def _build(
        self,
        columns: list[Sequence],
        rules: Sequence[Rule],
        hints: Hints | None,
        settings: Settings | None,
    ) -> None:
        """Index the candidates given as columns (one sequence per ``_FIELD_NAMES``): whole
        columns at a time where Python allows, ints for lone positions in the indexes."""
        hints = hints if hints is not None else Hints()
        self.settings = settings if settings is not None else Settings()
        kinds, ids, amounts, currencies, references, partners, names_of, dates, e2es = columns
        for t in set(map(type, amounts)):
            if not issubclass(t, Decimal):
                i = next(i for i, a in enumerate(amounts) if type(a) is t)
                raise TypeError(f"candidate {kinds[i]} {ids[i]}: amount is not a Decimal")
        if not set(kinds) <= _KIND_SET:
            i = next(i for i, k in enumerate(kinds) if k not in _KIND_SET)
            raise ValueError(f"candidate {ids[i]}: unknown kind {kinds[i]!r}")
        scale = _DECIMAL_SCALE
        try:
            minor = [int(a * scale) for a in amounts]
        except (ValueError, OverflowError):
            minor = [_minor_or_zero(a) for a in amounts]  # NaN or infinite: nothing to settle
        if minor and min(minor) <= 0:  # nothing open: left out
            keep = [i for i, m in enumerate(minor) if m > 0]
            columns = [list(map(col.__getitem__, keep)) for col in columns]
            kinds, ids, amounts, currencies, references, partners, names_of, dates, e2es = columns
            minor = list(map(minor.__getitem__, keep))
        self._kind = kinds
        self._id = ids
        self._amount = amounts
        self._ref_of = references
        self._partner_of = partners
        self._date = dates
        self._minor = minor
        canonical: dict[str, str] = {}
        upper = {c: canonical.setdefault(c.upper(), c.upper()) for c in set(currencies)}
        self._cur = cur = list(map(upper.__getitem__, currencies))
        self._currency_ix = {c: i for i, c in enumerate(sorted(set(upper.values())))}
        self._currencies = ncur = len(self._currency_ix)
        ordinal = {d: d.toordinal() if d is not None else _UNDATED for d in set(dates)}
        self._ords = list(map(ordinal.__getitem__, dates))
        # amount × currencies + the currency's index → a position, or the positions (build
        # order) when several.
        if ncur == 1:
            amount_keys = minor
        else:
            ix = list(map(self._currency_ix.__getitem__, cur))
            amount_keys = list(map(operator.add, map(operator.mul, minor, repeat(ncur)), ix))
        amounts_index = _grouped(amount_keys, range(len(minor)))
        del amount_keys
        # Reference keys → positions.
        if set(map(len, references)) <= {1}:
            ref_keys = text.keys([rs[0] for rs in references])
            ref_positions: Sequence[int] = range(len(references))
        else:
            ref_keys = text.keys([r for rs in references for r in rs])
            ref_positions = [pos for pos, rs in enumerate(references) for _ in rs]
        refs = _grouped(ref_keys, ref_positions, unique=True)  # (invoice numbers, mostly)
        if ref_keys and min(map(len, ref_keys)) < 3:
            for k in [k for k in refs if len(k) < 3]:
                del refs[k]
        with_e2e = [p for p, e in enumerate(e2es) if e]
        e2e = _grouped([text.key(e2es[p]) for p in with_e2e], with_e2e)
        del ref_keys
        # Partner → its positions (in build order).
        groups: dict[str, list[int]] = {}
        for pos, partner in enumerate(partners):
            group = groups.get(partner)
            if group is None:
                groups[partner] = [pos]
            else:
                group.append(pos)
        groups.pop(None, None)  # type: ignore[call-overload]
        names = {p: names_of[g[0]] for p, g in groups.items()}
        self._refs = refs
        self._amounts = amounts_index
        self._e2e = e2e
        self._partner_groups = groups
        self._partner_data: dict[str, _Partner] = {}
        self._same: dict[int, dict[str, list[int]]] = {}  # a crowded amount → partner → positions
        self._sorted_amounts: dict[int, list[int]] = {}
        self._names = {p: text.normalize(n) for p, n in names.items()}
        self._raw_names = names
        self._name_cache: dict[str, dict[str, bool]] = {}  # a line's name → partner → match
        self._named_cache: dict[str, list[str]] = {}  # a line's name → partners it names
        self._evidence: dict[tuple[str, int, str], Evidence] = {}  # (immutable) shared evidence
        self._tax_ids = self._index_tax_ids(groups)
        self._name_words = self._index_name_words(self._names)
        self._accounts = {text.key(a): p for a, p in hints.accounts.items() if text.key(a)}
        self._labels = {text.key(t): p for t, p in hints.labels.items() if text.key(t)}
        self._strong_keys = frozenset(k for k in self._tax_ids if not k.isalpha()) | frozenset(
            self._labels
        )
        self._rules = sorted((r for r in rules if r.enabled), key=lambda r: (r.position, r.id))
        self._rule_text = {r.id: text.normalize(r.text_contains) for r in self._rules}
        s = self.settings
        self._tol_abs = int(s.tolerance * SCALE)
        self._tol_ppm = int(s.tolerance_ratio * 1_000_000)

    def __len__(self) -> int:
        return len(self._minor)

    @staticmethod
    def _index_tax_ids(partners: Iterable[str]) -> dict[str, str]:
        """Tax id keys → partner; "900123456-7" is also found without its check digit."""
        out: dict[str, str] = {}
        for p in partners:
            k = text.key(p)
            if len(k) >= 6:
                out[k] = p
            head, sep, _tail = p.rpartition("-")
            if sep:
                hk = text.key(head)
                if len(hk) >= 6:
                    out.setdefault(hk, p)
        return out

    @staticmethod
    def _index_name_words(names: dict[str, str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p, n in names.items():
            for w in set(n.split()):
                if len(w) >= 3 and w not in _STOPWORDS:
                    out.setdefault(w, []).append(p)
        return out

    # -- the line ------------------------------------------------------------------------------

    def _partner(self, p: str) -> _Partner:
        data = self._partner_data.get(p)
        if data is None:
            data = _Partner(self._partner_groups[p], self._ords, self._minor)
            self._partner_data[p] = data
        return data

    def _context(self, line: Line) -> _Context | None:
        if not isinstance(line, Line):
            raise TypeError(f"not a Line: {line!r}")
        amount = line.amount
        if not isinstance(amount, Decimal):
            raise TypeError(f"line {line.id}: amount is not a Decimal")
        if not amount.is_finite() or amount == 0:
            return None
        ctx = _Context()
        ctx.line = line
        ctx.absolute = abs(amount)
        ctx.minor = int(ctx.absolute * _DECIMAL_SCALE)
        if ctx.minor == 0:
            return None
        ctx.currency = line.currency.upper()
        ctx.kinds = CREDIT_KINDS if amount > 0 else DEBIT_KINDS
        ctx.tol = max(self._tol_abs, ctx.minor * self._tol_ppm // 1_000_000)
        ctx.fee_max = 0
        ctx.fee_rule = None
        atoms = text.words(f"{line.reference} {line.description} {line.counterparty_name}")
        ctx.keys = text.glue(atoms)
        ctx.norm = " " + " ".join(atoms) + " "
        ctx.name_text = (
            text.normalize(line.counterparty_name) if line.counterparty_name else ctx.norm.strip()
        )
        ctx.booking = line.booking_date.toordinal() if line.booking_date is not None else None
        ctx.window = self.settings.date_window_days
        # Partners known by tax id in the text, by a learnt account, by a learnt label.
        strong: dict[str, list[tuple[str, int, str]]] = {}
        tax_ids = self._tax_ids
        labels = self._labels
        hits = self._strong_keys.intersection(ctx.keys)
        for k in ctx.keys if hits else ():
            if k not in hits:
                continue
            p = None if k.isalpha() else tax_ids.get(k)
            if p is not None and not any(e[0] == COUNTERPARTY_TAX_ID for e in strong.get(p, ())):
                strong.setdefault(p, []).append((COUNTERPARTY_TAX_ID, P_TAX_ID, p))
            if labels:
                p = labels.get(k)
                if p is not None and not any(e[0] == LABEL_PATTERN for e in strong.get(p, ())):
                    strong.setdefault(p, []).append((LABEL_PATTERN, P_LABEL, k))
        if line.counterparty_account and self._accounts:
            p = self._accounts.get(text.key(line.counterparty_account))
            if p is not None:
                strong.setdefault(p, []).append(
                    (COUNTERPARTY_ACCOUNT, P_ACCOUNT, line.counterparty_account)
                )
        ctx.strong = strong
        names = self._name_cache.get(ctx.name_text)
        if names is None:
            if len(self._name_cache) > NAME_CACHE:
                self._name_cache.clear()
            names = self._name_cache[ctx.name_text] = {}
        ctx.names = names
        ctx.named = None
        ctx.identified = None
        ctx.points = {}
        return ctx

    def _identified(self, ctx: _Context) -> set[str]:
        """Partners the line names: by tax id, account or name (a label alone does not)."""
        if ctx.identified is None:
            ids = {p for p, evs in ctx.strong.items() if any(e[0] != LABEL_PATTERN for e in evs)}
            ids.update(self._named_partners(ctx))
            ctx.identified = ids
        return ctx.identified

    def _name_matches(self, ctx: _Context, p: str | None) -> bool:
        if p is None or not ctx.name_text:
            return False
        hit = ctx.names.get(p)
        if hit is None:
            pname = self._names.get(p, "")
            hit = bool(pname) and (
                fuzz.token_set_ratio(ctx.name_text, pname, score_cutoff=NAME_RATIO) >= NAME_RATIO
            )
            ctx.names[p] = hit
        return hit

    def _named_partners(self, ctx: _Context) -> list[str]:
        """Partners sharing the rarest words of the line's name, checked with rapidfuzz."""
        if ctx.named is not None:
            return ctx.named
        named = self._named_cache.get(ctx.name_text)
        if named is None:
            index = self._name_words
            found = [ps for w in dict.fromkeys(ctx.name_text.split()) if (ps := index.get(w))]
            found.sort(key=len)
            counts: dict[str, float] = {}
            for ps in found[:3]:
                weight = 1.0 / len(ps)
                for q in ps:
                    counts[q] = counts.get(q, 0.0) + weight
            best = sorted(counts, key=counts.__getitem__, reverse=True)[:NAME_PARTNERS]
            named = [q for q in best if self._name_matches(ctx, q)]
            if len(self._named_cache) > NAME_CACHE:
                self._named_cache.clear()
            self._named_cache[ctx.name_text] = named
        ctx.named = named
        return named

    def _partner_same(self, p: str, m: int) -> tuple[Sequence[int], list[int]]:
        """Partner ``p``'s candidates (any currency or kind) with the amount ``m``, in date
        order, and their dates; kept per amount when the amount is crowded."""
        per = self._same.get(m)
        if per is None:
            found: list[int] = []
            ncur = self._currencies
            for ix in range(ncur):
                found.extend(_each(self._amounts.get(m * ncur + ix)))
            ords = self._ords
            partner_of = self._partner_of
            if len(found) <= CROWDED_AMOUNT:  # few: looked through each time
                mine = sorted(q for q in found if partner_of[q] == p)
                if len(mine) > 1:
                    mine.sort(key=ords.__getitem__)
                return mine, [ords[q] for q in mine]
            shift = max(1, len(ords)).bit_length()
            mask = (1 << shift) - 1
            per = {}
            for k in sorted([ords[q] << shift | q for q in found]):
                q = k & mask
                group = per.get(partner_of[q])
                if group is None:
                    per[partner_of[q]] = ([q], [k >> shift])
                else:
                    group[0].append(q)
                    group[1].append(k >> shift)
            self._same[m] = per
        return per.get(p, ((), []))

    # -- options -------------------------------------------------------------------------------

    def _counterparty(self, ctx: _Context, opt: _Option, p: str | None) -> None:
        if p is None:
            return
        for ev in ctx.strong.get(p, ()):
            opt.add(*ev)
            if ev[0] != LABEL_PATTERN:
                opt.known = opt.named = True
        if self._name_matches(ctx, p):
            opt.add(COUNTERPARTY_NAME, P_NAME, self._raw_names.get(p, ""))
            # A name names the partner when no other partner's name fits the line as well.
            opt.named = opt.named or len(self._named_partners(ctx)) == 1

    def _partner_points(self, ctx: _Context, p: str | None) -> int:
        """What ``_counterparty`` would add for partner ``p``."""
        if p is None:
            return 0
        points = ctx.points.get(p)
        if points is None:
            points = sum(e[1] for e in ctx.strong.get(p, ()))
            if self._name_matches(ctx, p):
                points += P_NAME
            ctx.points[p] = points
        return points

    def _date_near(self, ctx: _Context, pos: int) -> bool:
        o = self._ords[pos]
        return ctx.booking is not None and o != _UNDATED and abs(o - ctx.booking) <= ctx.window

    def _single(self, ctx: _Context, pos: int, ref: str | None, typo: str | None, e2e: bool):
        diff = self._minor[pos] - ctx.minor
        opt = _Option()
        fit = 0
        if diff == 0:
            opt.evidence.append(_EXACT)
            opt.raw = P_AMOUNT_EXACT
            opt.exact = True
        elif -ctx.tol <= diff <= ctx.tol:
            opt.add(AMOUNT_CLOSE, P_AMOUNT_CLOSE, str(self._amount[pos] - ctx.absolute))
            opt.fee = diff > 0
            opt.loose = True  # unless a reference points to it
        elif ctx.fee_rule is not None and 0 < diff <= ctx.fee_max:
            opt.add(AMOUNT_CLOSE, P_AMOUNT_EXACT, str(self._amount[pos] - ctx.absolute))
            opt.add(RULE, P_RULE["fee_difference"], ctx.fee_rule.name)
            opt.fee = True
            opt.rule = ctx.fee_rule
        else:
            fit = 1 if diff > 0 else 2
        if e2e:
            opt.add(END_TO_END, P_END_TO_END[fit], ctx.line.end_to_end_id)
        elif ref is not None:
            opt.add(REFERENCE, P_REFERENCE[fit], ref)
        elif typo is not None:
            opt.add(REFERENCE, P_REFERENCE_TYPO[fit], typo)
        referenced = opt.referenced = e2e or ref is not None or typo is not None
        if referenced:
            opt.loose = False
        elif fit:
            return None
        partner = self._partner_of[pos]
        if partner is not None:
            self._counterparty(ctx, opt, partner)
        identified = ctx.identified
        if identified is None:
            identified = self._identified(ctx)
        opt.stranger = bool(identified) and partner not in identified
        booking = ctx.booking
        if booking is not None:
            o = self._ords[pos]
            if o != _UNDATED and abs(o - booking) <= ctx.window:
                opt.add(DATE_NEAR, P_DATE, str(self._date[pos]))
        opt.partial = fit == 1
        opt.items.append((pos, ctx.absolute if fit == 1 else None))
        return opt

    def _combination(self, ctx: _Context, positions: Sequence[int], referenced: dict[int, str]):
        total = sum(self._minor[p] for p in positions)
        diff = total - ctx.minor
        opt = _Option()
        opt.items = [(p, None) for p in positions]
        amount = sum((self._amount[p] for p in positions), Decimal(0))
        n = str(len(positions))
        if diff == 0:
            opt.add(AMOUNT_SUM, P_AMOUNT_SUM, n)
        elif 0 < diff <= ctx.tol:
            opt.add(AMOUNT_SUM, P_AMOUNT_SUM_CLOSE - 10, n)
            opt.add(AMOUNT_CLOSE, 10, str(amount - ctx.absolute))
            opt.fee = True
            opt.loose = True
        elif ctx.fee_rule is not None and 0 < diff <= ctx.fee_max:
            opt.add(AMOUNT_SUM, P_AMOUNT_SUM, n)
            opt.add(AMOUNT_CLOSE, 0, str(amount - ctx.absolute))
            opt.add(RULE, P_RULE["fee_difference"], ctx.fee_rule.name)
            opt.fee = True
            opt.rule = ctx.fee_rule
        else:
            return None
        found = [referenced[p] for p in positions if p in referenced]
        if found:
            points = P_REFERENCE[0] if len(found) == len(positions) else (
                P_COMBINATION_SOME_REFERENCES
            )
            opt.add(REFERENCE, points, ", ".join(found))
            opt.referenced = True
            opt.loose = opt.loose and len(found) < len(positions)
        partners = {self._partner_of[p] for p in positions}
        identified = self._identified(ctx)
        opt.stranger = bool(identified) and not partners <= identified
        if len(partners) == 1:
            self._counterparty(ctx, opt, partners.pop())
        if all(self._date_near(ctx, p) for p in positions):
            opt.add(DATE_NEAR, P_DATE)
        return opt

    def _subsets(
        self, ctx: _Context, positions: Sequence[int], upper: int, budget: int = SUBSET_BUDGET
    ) -> list[list[int]]:
        """Up to 3 combinations (2…max_subset) of ``positions`` adding up to the line, or up to
        ``upper`` more (a fee): the closest first. Exact sums of 2–4 by hashing, the rest by a
        pruned search of at most ``budget`` steps."""
        minor = self._minor
        max_k = max(2, self.settings.max_subset)
        if upper == 0:
            values = [minor[p] for p in positions]
            exact = _exact_subsets(values, ctx.minor, min(max_k, 4))
            if exact or max_k <= 4:
                return [[positions[i] for i in combo] for combo in exact]
            budget = min(budget, SUBSET_BUDGET // 50)  # 5 or 6 items: a short look only
        items = sorted(
            (p for p in positions if minor[p] <= ctx.minor + upper),
            key=minor.__getitem__,
            reverse=True,
        )
        values = [minor[p] for p in items]
        n = len(values)
        if n < 2:
            return []
        suffix = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix[i] = suffix[i + 1] + values[i]
        lo, hi = ctx.minor, ctx.minor + upper  # the items may exceed the line by a fee
        if suffix[0] < lo:
            return []
        found: list[list[int]] = []
        chosen: list[int] = []
        steps = [budget]

        def walk(start: int, acc: int) -> None:
            for j in range(start, n):
                steps[0] -= 1
                if steps[0] < 0 or len(found) >= 8:
                    return
                if acc + suffix[j] < lo:
                    return  # even everything left falls short
                s = acc + values[j]
                if s > hi:
                    continue
                chosen.append(j)
                if s >= lo:
                    if len(chosen) >= 2:
                        found.append([items[i] for i in chosen])
                elif len(chosen) < max_k:
                    walk(j + 1, s)
                chosen.pop()

        walk(0, 0)
        found.sort(key=lambda combo: sum(minor[p] for p in combo))  # the exact ones first
        return found[:3]

    def _oldest_first(self, ctx: _Context, rule: Rule, partner: str) -> _Option | None:
        kind = RECEIVABLE if ctx.kinds is CREDIT_KINDS else PAYABLE
        kinds, currencies, amounts = self._kind, self._cur, self._amount
        opt = _Option()
        left = ctx.absolute
        for pos in self._partner(partner).positions:
            if kinds[pos] != kind or currencies[pos] != ctx.currency:
                continue
            amount = amounts[pos]
            if amount <= left:
                opt.items.append((pos, None))
                left -= amount
            else:
                opt.items.append((pos, left))
                opt.partial = True
                left = Decimal(0)
            if left == 0:
                break
        if not opt.items:
            return None
        opt.add(RULE, P_RULE["partner_oldest_first"], rule.name)
        opt.rule = rule
        if left == 0 and not opt.partial:
            if len(opt.items) == 1:
                opt.add(AMOUNT_EXACT, P_AMOUNT_EXACT)
            else:
                opt.add(AMOUNT_SUM, P_AMOUNT_SUM, str(len(opt.items)))
        self._counterparty(ctx, opt, partner)
        return opt

    def _rule_applies(self, ctx: _Context, rule: Rule) -> bool:
        line = ctx.line
        if rule.text_contains:
            needle = self._rule_text.get(rule.id) or text.normalize(rule.text_contains)
            if not needle or needle not in ctx.norm:
                return False
        if rule.direction:
            credit = line.amount > 0
            if rule.direction not in ("credit", "debit") or credit != (rule.direction == "credit"):
                return False
        if rule.amount_min is not None and ctx.absolute < rule.amount_min:
            return False
        if rule.amount_max is not None and ctx.absolute > rule.amount_max:
            return False
        if rule.bank_account_id is not None and line.bank_account_id != rule.bank_account_id:
            return False
        if rule.counterparty and self._rule_partner(ctx, rule.counterparty) is None:
            return False
        return True

    def _rule_partner(self, ctx: _Context, counterparty: str) -> str | None:
        """The partner a rule's counterparty names on this line (tax id or fuzzy name)."""
        k = text.key(counterparty)
        p = self._tax_ids.get(k)
        if p is not None:
            known = ctx.strong.get(p, ())
            if any(e[0] != LABEL_PATTERN for e in known) or self._name_matches(ctx, p):
                return p
            return None
        name = text.normalize(counterparty)
        if not name or not ctx.name_text:
            return None
        if fuzz.token_set_ratio(ctx.name_text, name, score_cutoff=NAME_RATIO) < NAME_RATIO:
            return None
        for q in self._named_partners(ctx):
            if fuzz.token_set_ratio(self._names[q], name, score_cutoff=NAME_RATIO) >= NAME_RATIO:
                return q
        return ""  # the name holds, though no open candidate's partner bears it

    def _options(self, ctx: _Context) -> tuple[list[_Option], int]:
        """Every option for the line, and the floor a crowded amount puts under the second best."""
        minor = self._minor
        kind_of = self._kind
        cur_of = self._cur
        rule = None
        for r in self._rules:
            if self._rule_applies(ctx, r):
                rule = r
                break
        if rule is not None and rule.action == "gateway_payout":
            ctx.kinds = (PAYOUT,)
        if rule is not None and rule.action == "fee_difference":
            ctx.fee_rule = rule
            ctx.fee_max = int(rule.fee_max * SCALE)
        kinds = ctx.kinds
        currency = ctx.currency
        options: list[_Option] = []
        if rule is not None and rule.action == "partner_oldest_first":
            partner = rule.partner or (
                self._rule_partner(ctx, rule.counterparty) if rule.counterparty else None
            )
            if not partner:
                partner = next(iter(ctx.strong), None) or next(
                    iter(self._named_partners(ctx)), None
                )
            if partner and partner in self._partner_groups:
                opt = self._oldest_first(ctx, rule, partner)
                if opt is not None:
                    options.append(opt)
        # 1. References, end-to-end id.
        refs_get = self._refs.get
        referenced: dict[int, str] = {}
        hit_keys: dict[str, list[int]] = {}
        present = self._refs.keys() & ctx.keys  # (one pass in C; most keys name nothing)
        for k in ctx.keys if present else ():
            if k not in present:
                continue
            hit = refs_get(k)
            if type(hit) is int:
                hit = (hit,)
            elif len(hit) > CROWDED_AMOUNT:
                continue
            for pos in hit:
                if pos not in referenced and kind_of[pos] in kinds and cur_of[pos] == currency:
                    referenced[pos] = self._original_reference(pos, k)
                    hit_keys.setdefault(k, []).append(pos)
        e2e: dict[int, None] = {}
        line = ctx.line
        if line.end_to_end_id:
            k = text.key(line.end_to_end_id)
            if len(k) >= 3 and k != "notprovided":
                for pos in sorted(_each(self._e2e.get(k))):
                    if kind_of[pos] in kinds and cur_of[pos] == currency:
                        e2e[pos] = None
        shortlist: dict[int, None] = dict.fromkeys(referenced)
        shortlist.update(e2e)
        # 2. The same amount: everyone's when few, the known partners' when crowded.
        floor = 0
        ix = self._currency_ix.get(currency)
        bucket = (
            _each(self._amounts.get(ctx.minor * self._currencies + ix)) if ix is not None else ()
        )
        payouts = kinds == (PAYOUT,)
        if bucket:
            if len(bucket) <= CROWDED_AMOUNT or payouts:
                for pos in islice(bucket, 2000):
                    if kind_of[pos] in kinds and cur_of[pos] == currency:
                        shortlist[pos] = None
            else:
                floor = P_AMOUNT_EXACT + P_DATE
        strong = ctx.strong
        partners = list(strong)
        for p in self._named_partners(ctx):
            if p not in strong:
                partners.append(p)
        groups = self._partner_groups
        partners = [p for p in partners if p in groups]
        beyond: list[int] = []  # a known partner's candidates with the amount, not shortlisted
        if len(bucket) > (2000 if payouts else CROWDED_AMOUNT):
            # A crowded amount: each known partner's candidates with it (those nearest in date
            # when many; the rest of the bucket was taken whole above).
            for p in partners:
                same, dates = self._partner_same(p, ctx.minor)
                if len(same) > PARTNER_SAME_AMOUNT:
                    beyond.extend(same)  # their numbers are still read for a typo (step 3)
                    start = 0
                    if ctx.booking is not None:
                        start = bisect.bisect_left(dates, ctx.booking)
                        start = max(0, min(start - PARTNER_SAME_AMOUNT // 2,
                                           len(same) - PARTNER_SAME_AMOUNT))
                    same = same[start:start + PARTNER_SAME_AMOUNT]
                for pos in same:
                    if kind_of[pos] in kinds and cur_of[pos] == currency:
                        shortlist[pos] = None
        # 3. Typos of long references, among the shortlist only.
        tol = ctx.tol
        typos: dict[int, str] = {}
        if not e2e and not any(abs(minor[p] - ctx.minor) <= tol for p in referenced):
            # A number that is exactly an invoice of the partner the line names is no typo.
            identified = self._identified(ctx)
            partner_of = self._partner_of
            long_keys = [
                k for k in ctx.keys
                if text.is_reference_like(k)
                and not any(partner_of[q] in identified for q in hit_keys.get(k, ()))
            ]
            if long_keys:
                for pos in shortlist:
                    if pos in referenced:
                        continue
                    for r in self._ref_of[pos]:
                        if text.near_reference(long_keys, text.key(r)) is not None:
                            typos[pos] = r
                            break
                # A crowded amount of a known partner: the number with a typo may be on one of
                # its candidates left out of the shortlist (not the nearest in date).
                for pos in beyond:
                    if pos in shortlist or kind_of[pos] not in kinds or cur_of[pos] != currency:
                        continue
                    for r in self._ref_of[pos]:
                        if text.near_reference(long_keys, text.key(r)) is not None:
                            typos[pos] = r
                            shortlist[pos] = None
                            break
        # 4. One candidate each; those with the amount but no reference scored in short (their
        # evidence is worked out if they make the suggestions).
        partner_of = self._partner_of
        ords = self._ords
        booking = ctx.booking
        window = ctx.window
        points = ctx.points
        line_minor = ctx.minor
        for pos in shortlist:
            if (
                minor[pos] == line_minor
                and pos not in referenced and pos not in typos and pos not in e2e
            ):
                opt = _Option()
                p = partner_of[pos]
                raw = P_AMOUNT_EXACT
                if p is not None:
                    extra = points.get(p)
                    raw += extra if extra is not None else self._partner_points(ctx, p)
                if booking is not None:
                    o = ords[pos]
                    if o != _UNDATED and abs(o - booking) <= window:
                        raw += P_DATE
                opt.raw = raw
                opt.items.append((pos, None))
                opt.light = True
                options.append(opt)
                continue
            opt = self._single(ctx, pos, referenced.get(pos), typos.get(pos), pos in e2e)
            if opt is not None:
                options.append(opt)
        threshold = self.settings.auto_threshold
        best = max((o.raw for o in options), default=0)
        # 5. Close amounts (a fee) among the known partners' candidates near the date.
        upper = max(tol, ctx.fee_max)
        if best < threshold and partners:
            for p in partners[:2]:
                near = self._partner(p).near(
                    ords, ctx.booking, ctx.window, ctx.minor - tol, ctx.minor + upper
                )
                for pos in near:
                    if pos not in shortlist and kind_of[pos] in kinds and cur_of[pos] == currency:
                        shortlist[pos] = None
                        opt = self._single(ctx, pos, None, None, False)
                        if opt is not None:
                            options.append(opt)
        if ctx.fee_rule is not None and best < threshold:
            for pos in self._amount_range(ctx.currency, ctx.minor, ctx.minor + ctx.fee_max):
                if pos not in shortlist and kind_of[pos] in kinds and cur_of[pos] == currency:
                    shortlist[pos] = None
                    opt = self._single(ctx, pos, None, None, False)
                    if opt is not None:
                        options.append(opt)
        # 6. Several candidates: the referenced ones, else a known partner's near the date.
        pointed = {**typos, **referenced}
        if len(pointed) >= 2:
            for combo in self._subsets(ctx, list(pointed), upper):
                opt = self._combination(ctx, combo, pointed)
                if opt is not None:
                    options.append(opt)
        best = max((o.raw for o in options), default=0)
        if best < threshold and partners and not pointed and not e2e:
            for p in partners[:2]:
                if self._partner_same(p, ctx.minor)[0]:
                    continue  # one of its candidates has the amount
                # Exact sums only (a fee up to a rule's fee_max): near ones would be noise.
                most = ctx.minor + ctx.fee_max
                data = self._partner(p)
                if ctx.booking is None:
                    window = [
                        q for q in data.cheapest[: bisect.bisect_right(data.amounts, most)]
                        if kind_of[q] in kinds and cur_of[q] == currency
                    ][:SUBSET_CANDIDATES]
                else:
                    window = data.nearest(
                        ctx.booking, SUBSET_CANDIDATES, ctx.window, most,
                        (kind_of, kinds, cur_of, currency),
                    )
                for combo in self._subsets(ctx, window, ctx.fee_max):
                    opt = self._combination(ctx, combo, pointed)
                    if opt is not None:
                        options.append(opt)
        if rule is not None and rule.action == "gateway_payout":
            for opt in options:
                if opt.rule is None:
                    self._payout_rule(opt, rule)
        return options, floor

    @staticmethod
    def _payout_rule(opt: _Option, rule: Rule) -> None:
        opt.rule = rule
        opt.add(RULE, P_RULE["gateway_payout"], rule.name)

    def _heavy(self, ctx: _Context, opt: _Option) -> _Option:
        """The option with all of its evidence (a short-scored one worked out)."""
        if not opt.light:
            return opt
        full = self._single(ctx, opt.items[0][0], None, None, False)
        assert full is not None  # the same amount (and so the same points)
        if opt.rule is not None:
            self._payout_rule(full, opt.rule)
        return full

    def _original_reference(self, pos: int, k: str) -> str:
        for r in self._ref_of[pos]:
            if text.key(r) == k:
                return r
        return k

    def _amount_range(self, currency: str, lo: int, hi: int) -> list[int]:
        """Candidates with an amount in [lo, hi] (a sorted list of amounts, built on first use)."""
        ix = self._currency_ix.get(currency)
        if ix is None:
            return []
        ncur = self._currencies
        ordered = self._sorted_amounts.get(ix)
        if ordered is None:
            ordered = sorted(k // ncur for k in self._amounts if k % ncur == ix)
            self._sorted_amounts[ix] = ordered
        out: list[int] = []
        i = bisect.bisect_left(ordered, lo)
        while i < len(ordered) and ordered[i] <= hi and len(out) < CROWDED_AMOUNT:
            out.extend(_each(self._amounts[ordered[i] * ncur + ix]))
            i += 1
        return out[:CROWDED_AMOUNT]

    # -- suggestions ---------------------------------------------------------------------------

    def _ranked(self, line: Line, limit: int) -> tuple[list[Suggestion], float, list[int]]:
        ctx = self._context(line)
        if ctx is None or limit <= 0:
            return [], 0.0, []
        options, floor = self._options(ctx)
        if not options:
            return [], 0.0, []
        if len(options) > 1:
            options.sort(key=_RAW, reverse=True)  # stable: ties keep their order
        kept: list[_Option] = []
        seen: set[int | frozenset[int]] = set()
        wanted = max(limit, 2)
        for opt in options:
            items = opt.items
            ident = items[0][0] if len(items) == 1 else frozenset(p for p, _ in items)
            if ident in seen:
                continue
            seen.add(ident)
            kept.append(opt if not opt.light else self._heavy(ctx, opt))
            if len(kept) == wanted:
                break
        top = kept[0]
        second = max(kept[1].raw if len(kept) > 1 else 0, floor)
        auto = self._auto(top, second)
        out = []
        for i, opt in enumerate(kept[:limit]):
            out.append(self._suggestion(ctx, opt, auto and i == 0))
        return out, float(top.raw), [p for p, _ in top.items]

    def _auto(self, top: _Option, second: int) -> bool:
        threshold = self.settings.auto_threshold
        clear = top.raw - second >= MARGIN
        if top.raw < threshold:
            # The partner the line names has this exact amount open once, or the line names the
            # invoice it pays part of, and nothing else comes near: what a person would confirm
            # without a second look.
            return (
                top.rule is None and top.named and not top.stranger and len(top.items) == 1
                and clear and (top.exact or (top.partial and top.referenced))
            )
        if top.rule is not None:
            if not top.rule.auto_confirm:
                return False
            return top.rule.action == "partner_oldest_first" or clear
        if top.partial and not (top.referenced and top.known):
            return False
        if top.loose or top.stranger:
            return False
        return clear

    def _suggestion(self, ctx: _Context, opt: _Option, auto: bool) -> Suggestion:
        kinds, ids, amounts = self._kind, self._id, self._amount
        items = [
            Item(kinds[pos], ids[pos], amounts[pos] if amount is None else amount)
            for pos, amount in opt.items
        ]
        fee = Decimal(0)
        if opt.fee:
            fee = sum((i.amount for i in items), Decimal(0)) - ctx.absolute
            fee = max(fee, Decimal(0))
        cache = self._evidence
        evidence = []
        for triple in opt.evidence:
            ev = cache.get(triple)
            if ev is None:
                if len(cache) > EVIDENCE_CACHE:
                    cache.clear()
                ev = cache[triple] = Evidence(triple[0], float(triple[1]), triple[2])
            evidence.append(ev)
        return Suggestion(
            line_id=ctx.line.id,
            items=tuple(items),
            score=float(min(100, opt.raw)),
            evidence=tuple(evidence),
            fee=fee,
            rule_id=opt.rule.id if opt.rule is not None else None,
            auto=auto,
        )

    def suggest(self, line: Line, limit: int = 5) -> list[Suggestion]:
        """Return the line's best suggestions, best first; the first may be ``auto``."""
        return self._ranked(line, limit)[0]

    def run(
        self, lines: Iterable[Line], limit: int = 5, *, workers: int = 1
    ) -> dict[int, list[Suggestion]]:
        """Suggest for every line, then keep automatic ones within each candidate's open amount.

        Automatic suggestions are served by score (then line id); one that would take more of a
        candidate than is left loses ``auto``. ``workers`` > 1 ranks a long list of lines in
        that many processes at once (forked from this one where the system can: the indexes are
        shared, not copied or rebuilt); the answer is the same as with one.
        """
        out: dict[int, list[Suggestion]] = {}
        autos: list[tuple[float, int, list[int]]] = []
        with collector_paused():
            lines = lines if type(lines) is list else list(lines)
            for line_id, suggestions, raw, positions in self._rank_all(lines, limit, workers):
                out[line_id] = suggestions
                if suggestions and suggestions[0].auto:
                    autos.append((-raw, line_id, positions))
            autos.sort()
            open_amount = self._amount
            left: dict[int, Decimal] = {}
            for _, line_id, positions in autos:
                first = out[line_id][0]
                needs = list(zip(positions, (item.amount for item in first.items), strict=True))
                if all(left.get(pos, open_amount[pos]) >= amount for pos, amount in needs):
                    for pos, amount in needs:
                        left[pos] = left.get(pos, open_amount[pos]) - amount
                else:
                    out[line_id][0] = replace(first, auto=False)
        return out

    def _rank_some(self, lines: Sequence[Line], limit: int) -> list[tuple]:
        ranked = self._ranked
        return [(line.id, *ranked(line, limit)) for line in lines]

    def _rank_all(self, lines: list[Line], limit: int, workers: int) -> list[tuple]:
        """(line id, suggestions, best raw score, best positions) of every line, in order: the
        first share ranked here, the others in forked processes that send theirs back pickled.
        A share whose process fails is ranked here (slower, never lost)."""
        workers = max(1, min(workers, len(lines) // PARALLEL_LINES))
        if workers == 1 or not hasattr(os, "fork"):
            return self._rank_some(lines, limit)
        size = -(-len(lines) // workers)
        shares = [lines[i:i + size] for i in range(0, len(lines), size)]
        children: list[tuple[int, int, list[Line]]] = []
        for share in shares[1:]:
            reader, writer = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: rank, send, leave without running the parent's cleanup
                status = 1
                try:
                    os.close(reader)
                    with os.fdopen(writer, "wb") as pipe:
                        pickle.dump(self._rank_some(share, limit), pipe, pickle.HIGHEST_PROTOCOL)
                    status = 0
                finally:
                    os._exit(status)
            os.close(writer)
            children.append((pid, reader, share))
        out = self._rank_some(shares[0], limit)
        for pid, reader, share in children:
            try:
                with os.fdopen(reader, "rb") as pipe:
                    part = pickle.load(pipe)  # noqa: S301 - our own forked child writes it
            except Exception:  # noqa: BLE001 - a broken share is ranked here instead
                part = None
            _pid, status = os.waitpid(pid, 0)
            if part is None or status != 0:
                part = self._rank_some(share, limit)
            out.extend(part)
        return out
