"""A seeded, noisy reconciliation data set with its truth, for benchmarks and tests.

``generate(partners, invoices, lines, seed)`` makes ``partners`` companies (names, tax ids, bank
accounts), ``invoices`` open receivables (numbers "FE-000123", "FV123", "SETT12"; a third of the
amounts round, so they collide across partners; due dates over eight months) plus, in
proportion, payments received not yet in the bank (PAYMENT_IN), gateway payouts (PAYOUT), open
payables (PAYABLE) and payments made (PAYMENT_OUT). Then ``lines`` bank lines, each with its
truth: the (kind, id) pairs it settles, or none. The mix (share of lines):

  53 % one invoice paid exactly, its number in the text (spelt "FE-1", "FE 1", "fe1" …)
   6 % the same with a one-character typo in the number
   8 % no number: the payer's name (often), account (often), tax id (sometimes) and the amount
   2 % part of an invoice, its number in the text
   3 % instalments: two or three lines paying parts of one invoice
   5 % 2–4 invoices of one partner in one line (their numbers listed in 60 % of them)
   4 % an invoice less a small bank fee (≤ 0.4 %)
   2 % a payment received (PAYMENT_IN) by its reference or end-to-end id
   5 % a gateway payout, its payout id in the text in 70 % of them
   6 % debits: a payable by its number (or only name and amount), a payment made by its
       end-to-end id or reference
   4 % unknown senders (truth: none), half of them with an amount some invoice also has
Names on lines vary (upper case, no accents, no legal suffix, truncated, missing); 80 % of the
partners' accounts are known from earlier confirmations (``hints``), a tenth have a label.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from app.matching.model import (
    PAYABLE,
    PAYMENT_IN,
    PAYMENT_OUT,
    PAYOUT,
    RECEIVABLE,
    Candidate,
    Hints,
    Line,
    Rule,
    Suggestion,
)

Truth = dict[int, frozenset[tuple[str, int]]]


class Dataset(NamedTuple):
    candidates: list[Candidate]
    lines: list[Line]
    truth: Truth  # line id → the (kind, id) it settles; empty: it settles nothing open
    hints: Hints
    rules: list[Rule]


_FIRST = (
    "Comercial Distribuidora Inversiones Ferretería Importadora Constructora Transportes "
    "Servicios Agropecuaria Laboratorios Textiles Alimentos Tecnología Soluciones Grupo "
    "Industrias Papelería Droguería Logística Consultores"
).split()
_CORE = (
    "Andina|del Valle|Pacífico|Santa Fe|El Dorado|Los Andes|La Montaña|San José|Caribe|Oriente|"
    "Nogal|Roble|Cóndor|Horizonte|Esmeralda|Aurora|Atlas|Delta|Omega|Sol Naciente|Luna Azul|"
    "Río Grande|Altamira|Bolívar|Libertad|Guadalupe|Cordillera|Llanos|Sabana|Magdalena"
).split("|")
_SURNAME = (
    "García Rodríguez Martínez López Gómez Hernández Díaz Pérez Sánchez Ramírez Torres Flores "
    "Rivera Vargas Castro Ortiz Moreno Rojas Herrera Medina"
).split()
_SUFFIX = ("S.A.S.", "Ltda.", "S.A.", "S.A.S.", "& Cía.")
_PEOPLE = (
    "Juan Pablo Ospina|María Fernanda Cárdenas|Luis Alberto Quintero|Ana Milena Restrepo|"
    "Carlos Andrés Betancur|Diana Marcela Zuluaga|Jorge Iván Arango|Paola Andrea Giraldo|"
    "Sergio Mauricio Londoño|Natalia Cristina Osorio"
).split("|")
_ROUND = [Decimal(v) for v in (
    "100000", "150000", "200000", "250000", "300000", "400000", "500000", "750000", "1000000",
    "1200000", "1500000", "2000000", "2500000", "3000000", "5000000",
)]
START = date(2025, 1, 1)
STRIPE = "Stripe Payments Europe Ltd"


class Quality(NamedTuple):
    lines: int
    matchable: int  # lines with a true match
    autos: int
    correct_autos: int
    top5: int  # of the matchable lines not confirmed correctly, those with the truth in the top 5
    rest: int  # matchable lines not confirmed correctly

    @property
    def precision(self) -> float:
        return self.correct_autos / self.autos if self.autos else 1.0

    @property
    def recall(self) -> float:
        return self.correct_autos / self.matchable if self.matchable else 1.0

    @property
    def top5_recall(self) -> float:
        return self.top5 / self.rest if self.rest else 1.0


def evaluate(results: dict[int, list[Suggestion]], truth: Truth) -> Quality:
    """Score ``Matcher.run``'s results against the truth."""
    matchable = autos = correct = top5 = rest = 0
    for line_id, settles in truth.items():
        suggestions = results.get(line_id, [])
        first = suggestions[0] if suggestions else None
        if settles:
            matchable += 1
        if first is not None and first.auto:
            autos += 1
            if frozenset((i.kind, i.id) for i in first.items) == settles:
                correct += 1
                continue
        if settles:
            rest += 1
            if any(frozenset((i.kind, i.id) for i in s.items) == settles for s in suggestions):
                top5 += 1
    return Quality(len(truth), matchable, autos, correct, top5, rest)


def _strip_accents(s: str) -> str:
    table = str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")
    return s.translate(table)


class _Partner(NamedTuple):
    key: str
    name: str
    accounts: tuple[str, ...]
    label: str


def _partners(rnd: random.Random, n: int) -> list[_Partner]:
    names: set[str] = set()
    out = []
    tax = rnd.sample(range(800_000_000, 901_999_999), n)
    accounts = rnd.sample(range(10**10, 10**11), 2 * n)
    while len(out) < n:
        core = rnd.choice(_CORE)
        parts = [rnd.choice(_FIRST), core]
        if rnd.random() < 0.5:
            parts.append(rnd.choice(_SURNAME))
        name = " ".join(parts) + " " + rnd.choice(_SUFFIX)
        if name in names:
            continue
        names.add(name)
        i = len(out)
        nit = tax[i]
        key = f"{nit}-{nit % 10}"
        accts = tuple(str(a) for a in accounts[2 * i: 2 * i + (1 if rnd.random() < 0.7 else 2)])
        label = ""
        if rnd.random() < 0.1:
            label = core.split()[-1][:3].upper() + str(rnd.randint(100, 999))
        out.append(_Partner(key, name, accts, _strip_accents(label)))
    return out


def _amount(rnd: random.Random, currency: str) -> Decimal:
    if currency == "USD":
        return Decimal(rnd.randint(10_000, 2_000_000)) / 100
    if rnd.random() < 0.33:
        return rnd.choice(_ROUND)
    pesos = int(10 ** rnd.uniform(4.7, 7.3))
    if rnd.random() < 0.5:
        return Decimal(pesos)
    return Decimal(pesos * 100 + rnd.randint(1, 99)) / 100


def _name_variant(rnd: random.Random, name: str) -> str:
    r = rnd.random()
    if r < 0.4:
        return name.upper()
    if r < 0.65:
        return _strip_accents(name.rsplit(" ", 1)[0]).upper()
    if r < 0.8:
        return _strip_accents(name.upper())[: rnd.randint(20, 26)]
    if r < 0.9:
        return _strip_accents(name).lower()
    return ""


def _spell(rnd: random.Random, ref: str) -> str:
    """The same reference as a payer might type it."""
    head = ref.rstrip("0123456789").rstrip("-")
    digits = ref[len(ref.rstrip("0123456789")):]
    r = rnd.random()
    if r < 0.5 or not head:
        return ref
    if r < 0.7:
        return f"{head} {digits}"
    if r < 0.85:
        return f"{head}{digits}".lower()
    return f"{head}{digits}"


def _typo(rnd: random.Random, ref: str) -> str:
    """One wrong or missing character in the number of ``ref``."""
    digits_at = [i for i, ch in enumerate(ref) if ch.isdigit()]
    i = rnd.choice(digits_at[1:] or digits_at)
    if rnd.random() < 0.6:
        wrong = rnd.choice([d for d in "0123456789" if d != ref[i]])
        return ref[:i] + wrong + ref[i + 1:]
    return ref[:i] + ref[i + 1:]


def generate(
    partners: int = 1000, invoices: int = 200_000, lines: int = 20_000, seed: int = 1
) -> Dataset:
    """Return a seeded noisy data set: candidates, bank lines, their truth, hints and rules."""
    rnd = random.Random(seed)
    people = _partners(rnd, partners)
    weights = [1.0 / (i + 1) ** 0.6 for i in range(partners)]
    cands: list[Candidate] = []
    inv_of: dict[int, list[int]] = {}  # partner index → positions of its receivables
    # Receivables.
    owners = rnd.choices(range(partners), weights=weights, k=invoices)
    for n, owner in enumerate(owners, start=1):
        p = people[owner]
        r = rnd.random()
        ref = f"FE-{n:06d}" if r < 0.85 else (f"FV{n}" if r < 0.95 else f"SETT{n}")
        currency = "USD" if rnd.random() < 0.05 else "COP"
        inv_of.setdefault(owner, []).append(len(cands))
        cands.append(Candidate(
            RECEIVABLE, n, _amount(rnd, currency), currency, (ref,), p.key, p.name,
            START + timedelta(days=rnd.randint(0, 240)),
        ))
    receivables = len(cands)
    extra: dict[str, list[int]] = {PAYMENT_IN: [], PAYOUT: [], PAYABLE: [], PAYMENT_OUT: []}
    for kind, share in ((PAYMENT_IN, 0.02), (PAYOUT, 0.01), (PAYABLE, 0.05), (PAYMENT_OUT, 0.01)):
        for n in range(1, max(4, int(invoices * share)) + 1):
            owner = rnd.choices(range(partners), weights=weights)[0]
            p = people[owner]
            day = START + timedelta(days=rnd.randint(0, 240))
            e2e = ""
            if kind == PAYMENT_IN:
                refs: tuple[str, ...] = (f"PAY-{n:06d}",)
                e2e = f"E2EIN{rnd.getrandbits(40):012X}"
            elif kind == PAYOUT:
                refs = ("po_" + "".join(rnd.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=14)),)
                p = _Partner("", STRIPE, (), "")
            elif kind == PAYABLE:
                refs = (f"{rnd.choice(['A', 'FC', 'FAC'])}-{rnd.randint(1000, 999999)}",)
            else:
                refs = (f"TRF-{n:07d}",)
                e2e = f"E2EOUT{rnd.getrandbits(40):012X}"
            extra[kind].append(len(cands))
            amount = _amount(rnd, "COP")
            if kind == PAYOUT:
                amount = Decimal(rnd.randint(100_000_00, 90_000_000_00)) / 100
            cands.append(Candidate(
                kind, n, amount, "COP", refs, p.key or None, p.name, day, e2e,
            ))
    hints = Hints(
        accounts={a: p.key for p in people if rnd.random() < 0.8 for a in p.accounts},
        labels={p.label.lower(): p.key for p in people if p.label},
    )
    rules = [Rule(1, "Stripe payouts", position=1, auto_confirm=True, text_contains="stripe",
                  direction="credit", action="gateway_payout")]
    partner_index = {p.key: i for i, p in enumerate(people)}
    used: set[int] = set()
    out_lines: list[Line] = []
    truth: Truth = {}

    def fresh(pool: list[int]) -> int | None:
        for _ in range(20):
            pos = rnd.choice(pool)
            if pos not in used:
                used.add(pos)
                return pos
        return None

    def fresh_receivable() -> int:
        while True:
            pos = rnd.randrange(receivables)
            if pos not in used:
                used.add(pos)
                return pos

    def who(c: Candidate, *, name: bool = True) -> dict[str, str]:
        p = people[partner_index[c.partner]] if c.partner in partner_index else None
        if p is None:
            return {}
        out = {"counterparty_name": _name_variant(rnd, p.name) if name else ""}
        if rnd.random() < 0.75:
            out["counterparty_account"] = rnd.choice(p.accounts)
        return out

    def extras(c: Candidate) -> str:
        p = people[partner_index[c.partner]] if c.partner in partner_index else None
        bits = []
        if p is not None and rnd.random() < 0.25:
            nit = p.key if rnd.random() < 0.5 else p.key.split("-")[0]
            bits.append(f"NIT {nit}")
        if p is not None and p.label and rnd.random() < 0.5:
            bits.append(p.label)
        return " ".join(bits)

    def add(amount: Decimal, c: Candidate | None, settles: frozenset, *, reference: str = "",
            description: str = "", when: date | None = None, **kw: str) -> None:
        line_id = len(out_lines) + 1
        day = when or (c.date + timedelta(days=rnd.randint(-10, 25)) if c else START)
        currency = c.currency if c is not None else "COP"
        out_lines.append(Line(line_id, amount, currency, day, reference, description.strip(),
                              **kw))
        truth[line_id] = settles

    def ref_text(c: Candidate, typo: bool = False) -> tuple[str, str]:
        ref = c.references[0]
        ref = _typo(rnd, ref) if typo else _spell(rnd, ref)
        tail = extras(c)
        if rnd.random() < 0.4:
            return ref, rnd.choice(["PAGO", "TRANSFERENCIA", "ABONO ACH", ""]) + " " + tail
        template = rnd.choice(["PAGO FACTURA {}", "PAGO FRA {}", "ABONO {} ", "TRANSF REF {}",
                               "Factura {} pago total", "CANCELA {}"])
        return "", template.format(ref) + " " + tail

    def one(kind: str, c_pos: int) -> frozenset:
        c = cands[c_pos]
        return frozenset({(c.kind, c.id)})

    def line_exact(typo: bool = False) -> None:
        pos = fresh_receivable()
        c = cands[pos]
        reference, description = ref_text(c, typo)
        add(c.amount, c, one(RECEIVABLE, pos), reference=reference, description=description,
            **who(c))

    def line_no_reference() -> None:
        pos = fresh_receivable()
        c = cands[pos]
        description = rnd.choice(["TRANSFERENCIA", "PAGO PROVEEDOR", "ABONO ACH", "CONSIGNACION"])
        add(c.amount, c, one(RECEIVABLE, pos), description=description + " " + extras(c), **who(c))

    def line_partial() -> None:
        pos = fresh_receivable()
        c = cands[pos]
        part = (c.amount * Decimal(rnd.randint(20, 80)) / 100).quantize(Decimal("1"))
        reference, description = ref_text(c)
        add(part, c, one(RECEIVABLE, pos), reference=reference,
            description=description + " ABONO PARCIAL", **who(c))

    def line_instalments() -> None:
        pos = fresh_receivable()
        c = cands[pos]
        k = rnd.randint(2, 3)
        each = (c.amount / (k + 1)).quantize(Decimal("1"))
        for _ in range(k):
            reference, description = ref_text(c)
            add(each, c, one(RECEIVABLE, pos), reference=reference,
                description=description + " CUOTA", **who(c))

    def line_combined() -> None:
        for _ in range(50):
            owner = rnd.choices(range(partners), weights=weights)[0]
            pool = inv_of.get(owner, [])
            first = fresh(pool) if pool else None
            if first is None:
                continue
            f = cands[first]
            near = [q for q in pool if q not in used and cands[q].currency == f.currency
                    and abs((cands[q].date - f.date).days) <= 30]
            want = rnd.randint(1, 3)
            if len(near) < want:
                used.discard(first)
                continue
            chosen = [first, *rnd.sample(near, want)]
            used.update(chosen)
            total = sum((cands[q].amount for q in chosen), Decimal(0))
            settles = frozenset((RECEIVABLE, cands[q].id) for q in chosen)
            if rnd.random() < 0.6:
                refs = " ".join(_spell(rnd, cands[q].references[0]) for q in chosen)
                description = f"PAGO FACTURAS {refs} {extras(f)}"
            else:
                description = f"PAGO VARIAS FACTURAS {extras(f)}"
            add(total, f, settles, description=description, **who(f))
            return

    def line_fee() -> None:
        pos = fresh_receivable()
        c = cands[pos]
        fee = max(Decimal("0.01"), (c.amount * Decimal(rnd.randint(5, 40)) / 10_000)
                  .quantize(Decimal("0.01")))
        reference, description = ref_text(c)
        add(c.amount - fee, c, one(RECEIVABLE, pos), reference=reference,
            description=description, **who(c))

    def line_payment_in() -> None:
        pos = fresh(extra[PAYMENT_IN])
        if pos is None:
            return line_exact()
        c = cands[pos]
        if rnd.random() < 0.5:
            add(c.amount, c, one(PAYMENT_IN, pos), description=f"PAGO {c.references[0]}",
                **who(c))
        else:
            add(c.amount, c, one(PAYMENT_IN, pos), description="PAGO ELECTRONICO",
                end_to_end_id=c.end_to_end_id, **who(c))

    def line_payout() -> None:
        pos = fresh(extra[PAYOUT])
        if pos is None:
            return line_exact()
        c = cands[pos]
        description = f"STRIPE PAYOUT {c.references[0]}" if rnd.random() < 0.7 else "STRIPE"
        add(c.amount, c, one(PAYOUT, pos), description=description,
            when=c.date + timedelta(days=2), counterparty_name=STRIPE.upper())

    def line_debit() -> None:
        if rnd.random() < 0.66:
            pos = fresh(extra[PAYABLE])
            if pos is None:
                return line_exact()
            c = cands[pos]
            p = people[partner_index[c.partner]]
            description = (f"PAGO PROVEEDOR {p.name.upper()} FAC {c.references[0]}"
                           if rnd.random() < 0.8 else f"PAGO PROVEEDOR {p.name.upper()}")
            add(-c.amount, c, one(PAYABLE, pos), description=description, **who(c, name=False))
        else:
            pos = fresh(extra[PAYMENT_OUT])
            if pos is None:
                return line_exact()
            c = cands[pos]
            if rnd.random() < 0.8:
                add(-c.amount, c, one(PAYMENT_OUT, pos), description="TRANSFERENCIA ENVIADA",
                    end_to_end_id=c.end_to_end_id, **who(c))
            else:
                add(-c.amount, c, one(PAYMENT_OUT, pos), description=f"TRF {c.references[0]}",
                    **who(c))

    def line_unknown() -> None:
        if rnd.random() < 0.5:
            amount = cands[rnd.randrange(receivables)].amount
        else:
            amount = _amount(rnd, "COP")
        add(amount, None, frozenset(), description=rnd.choice(["CONSIGNACION", "TRANSFERENCIA"]),
            counterparty_name=rnd.choice(_PEOPLE).upper(),
            when=START + timedelta(days=rnd.randint(0, 240)))

    mix: list[tuple[float, Callable[[], None]]] = [
        (0.53, line_exact), (0.06, lambda: line_exact(typo=True)), (0.085, line_no_reference),
        (0.025, line_partial), (0.012, line_instalments), (0.05, line_combined),
        (0.04, line_fee), (0.02, line_payment_in), (0.05, line_payout), (0.06, line_debit),
        (0.04, line_unknown),
    ]
    makers = [m for _, m in mix]
    shares = [w for w, _ in mix]
    while len(out_lines) < lines:
        rnd.choices(makers, weights=shares)[0]()
    for extra_line in out_lines[lines:]:
        truth.pop(extra_line.id)
    return Dataset(cands, out_lines[:lines], truth, hints, rules)
