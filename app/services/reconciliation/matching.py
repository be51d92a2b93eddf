"""Matching bank lines: run the engine (``app.matching``) over a company's open lines, keep its
suggestions with their evidence, confirm the confident ones, and let a person confirm, choose
by hand or undo. Every confirmation and undo is in the audit chain; a confirmation teaches the
counterparty's bank account and label for next time and tells the ERP
(``reconciliation.matched``).

Confirming settles what the items name: open invoices get the payment that closes them
(``payments.banked``, one record for both companies), a transfer awaiting confirmation is
confirmed, a gateway payout is marked reconciled (its lines already closed their payments).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz, process
from sqlalchemy import delete, select, update

from app.extensions import db
from app.matching import model as m
from app.matching.engine import Matcher, collector_paused
from app.matching.text import normalize, tokens
from app.models.base import utcnow
from app.models.company import Company
from app.models.payment import AWAITING_CONFIRMATION, Payment
from app.models.reconciliation import (
    IGNORED,
    MATCH_CONFIRMED,
    MATCH_REJECTED,
    MATCH_SUGGESTED,
    MATCH_UNDONE,
    MATCHED,
    SUGGESTED,
    UNMATCHED,
    BankLine,
    CounterpartyHint,
    GatewayPayout,
    Match,
    MatchItem,
    ReconciliationRule,
)
from app.models.user import User
from app.models.webhook import RECONCILIATION_MATCHED
from app.services import audit, webhooks
from app.services.errors import Conflict, DomainError, NotFound
from app.services.payments import banked
from app.services.reconciliation import candidates as sources
from app.tenancy import unscoped

_ZERO = Decimal("0")
KEEP_SUGGESTIONS = 3


@dataclass
class RunReport:
    """Lines looked at, lines given at least one suggestion, lines confirmed automatically."""

    lines: int = 0
    suggested: int = 0
    confirmed: int = 0


# ------------------------------------------------------------------------------ the engine


def engine_rules(company_id: int) -> list[m.Rule]:
    rows = db.session.scalars(
        select(ReconciliationRule)
        .where(ReconciliationRule.company_id == company_id)
        .order_by(ReconciliationRule.position, ReconciliationRule.id)
    )
    return [
        m.Rule(
            id=r.id, name=r.name, position=r.position, enabled=r.enabled,
            auto_confirm=r.auto_confirm, text_contains=r.text_contains, direction=r.direction,
            amount_min=r.amount_min, amount_max=r.amount_max, counterparty=r.counterparty,
            bank_account_id=r.bank_account_id, action=r.action, partner=r.partner or None,
            fee_max=r.fee_max,
        )
        for r in rows
    ]


def engine_hints(company_id: int, line: m.Line | None = None) -> m.Hints:
    """What confirmations taught (all of it, or only what concerns one line)."""
    accounts: dict[str, str] = {}
    labels: dict[str, str] = {}
    stmt = select(CounterpartyHint.kind, CounterpartyHint.value, CounterpartyHint.partner).where(
        CounterpartyHint.company_id == company_id)
    if line is not None:
        keys = tokens(f"{line.reference} {line.description} {line.counterparty_name}")
        stmt = stmt.where(CounterpartyHint.value.in_(
            [v for v in (line.counterparty_account, *keys[:200]) if v]))
    for kind, value, partner in db.session.execute(stmt):
        (accounts if kind == "account" else labels)[value] = partner
    return m.Hints(accounts=accounts, labels=labels)


def engine_line(line: BankLine) -> m.Line:
    return m.Line(
        id=line.id,
        amount=line.amount,
        currency=line.currency,
        booking_date=line.booking_date,
        reference=line.reference,
        description=line.description,
        end_to_end_id=line.end_to_end_id,
        counterparty_name=line.counterparty_name,
        counterparty_account=line.counterparty_account,
        bank_account_id=line.bank_account_id,
    )


def matcher_for(company_id: int, lines: Sequence[BankLine] | Sequence[m.Line]) -> Matcher:
    """The engine over everything the lines may settle (credits: receivables, payments in,
    payouts; debits: payables, payments out), in the lines' currency when they share one."""
    credits = any(line.amount > 0 for line in lines)
    debits = any(line.amount < 0 for line in lines)
    currencies = {line.currency for line in lines}
    currency = currencies.pop() if len(currencies) == 1 else None
    columns: list[list] = [[] for _ in range(8)]
    others: list[m.Candidate] = []
    if credits:
        _extend(columns, sources.invoice_columns(company_id, m.RECEIVABLE, currency))
        others += sources.payments_in(company_id, currency)
        others += sources.payouts(company_id, currency)
    if debits:
        _extend(columns, sources.invoice_columns(company_id, m.PAYABLE, currency))
        others += sources.payments_out(company_id, currency)
    columns.append([""] * len(columns[0]))  # invoices carry no end-to-end id
    if others:
        _extend(columns, [list(col) for col in zip(*map(sources.as_row, others), strict=True)])
    return Matcher.from_columns(
        columns, rules=engine_rules(company_id), hints=engine_hints(company_id)
    )


def _extend(columns: list[list], more: list[list]) -> None:
    for column, values in zip(columns, more, strict=False):
        column.extend(values)


def run_workers() -> int:
    """Processes a whole run ranks its lines in (the app's RECONCILIATION_WORKERS)."""
    return max(1, int(current_app.config.get("RECONCILIATION_WORKERS", 1)))


def open_lines(company_id: int) -> list[m.Line]:
    """Every line of the company still waiting (unmatched or suggested), as the engine's plain
    lines, read on the connection (a whole ledger's run)."""
    stmt = unscoped(select(
        BankLine.id, BankLine.amount, BankLine.currency, BankLine.booking_date,
        BankLine.reference, BankLine.description, BankLine.end_to_end_id,
        BankLine.counterparty_name, BankLine.counterparty_account, BankLine.bank_account_id,
    ).where(BankLine.company_id == company_id, BankLine.status.in_((UNMATCHED, SUGGESTED)))
        .order_by(BankLine.booking_date, BankLine.id))
    return list(map(m.Line, *sources.read_columns(stmt)))


def match_lines(
    company_id: int, *, line_ids: Iterable[int] | None = None, actor: User | None = None
) -> RunReport:
    """Suggest matches for the company's open lines (or those ids) and confirm the confident
    ones. Old suggestions of those lines are replaced."""
    stmt = select(BankLine).where(
        BankLine.company_id == company_id, BankLine.status.in_((UNMATCHED, SUGGESTED))
    )
    if line_ids is not None:
        ids = list(line_ids)
        if not ids:
            return RunReport()
        stmt = stmt.where(BankLine.id.in_(ids))
    lines = list(db.session.scalars(stmt.order_by(BankLine.booking_date, BankLine.id)))
    report = RunReport(lines=len(lines))
    if not lines:
        return report
    with collector_paused():  # a million open invoices: no collector pass over them
        matcher = matcher_for(company_id, lines)
        results = matcher.run(
            [engine_line(line) for line in lines], limit=KEEP_SUGGESTIONS, workers=run_workers()
        )
        del matcher
    by_id = {line.id: line for line in lines}
    for start in range(0, len(lines), 500):
        chunk = [line.id for line in lines[start : start + 500]]
        db.session.execute(
            delete(Match)
            .where(Match.bank_line_id.in_(chunk), Match.status == MATCH_SUGGESTED)
            .execution_options(synchronize_session=False)
        )
    to_confirm: list[Match] = []
    for line_id, suggestions in results.items():
        line = by_id[line_id]
        kept = suggestions[:KEEP_SUGGESTIONS]
        line.status = SUGGESTED if kept else UNMATCHED
        report.suggested += 1 if kept else 0  # lines, not suggestions: the import counts lines
        for suggestion in kept:
            match = _store(company_id, line, suggestion)
            if suggestion.auto and suggestion is kept[0]:
                to_confirm.append(match)
    db.session.flush()
    for match in to_confirm:
        try:
            with db.session.begin_nested():
                _confirm(company_id, match, actor=None, auto=True)
                report.confirmed += 1
        except DomainError:
            continue  # what it would settle moved meanwhile: it waits for a person
    return report


def _store(company_id: int, line: BankLine, suggestion: m.Suggestion) -> Match:
    match = Match(
        company_id=company_id,
        bank_line_id=line.id,
        status=MATCH_SUGGESTED,
        score=float(suggestion.score),
        evidence=[
            {"code": e.code, "points": e.points, "detail": e.detail} for e in suggestion.evidence
        ],
        fee=suggestion.fee,
        rule_id=suggestion.rule_id,
        auto=False,
    )
    db.session.add(match)
    db.session.flush()
    for item in suggestion.items:
        db.session.add(MatchItem(company_id=company_id, match_id=match.id, **_target(item)))
    return match


def _target(item: m.Item) -> dict[str, object]:
    column = {
        m.RECEIVABLE: "document_id", m.PAYABLE: "document_id", m.PAYMENT_IN: "payment_id",
        m.PAYMENT_OUT: "payment_id", m.PAYOUT: "payout_id",
    }[item.kind]
    return {"kind": item.kind, column: item.id, "amount": item.amount}


def suggestions_of(company_id: int, line_id: int) -> list[m.Suggestion]:
    """Fresh suggestions for one line, from a shortlist the database gives by its indexes
    (numbers named, amounts near, the partners the line points to): never the whole ledger."""
    line = get_line(company_id, line_id)
    plain = engine_line(line)
    hints = engine_hints(company_id, plain)
    shortlist = sources.line_candidates(company_id, plain, _partners_of_line(company_id, plain,
                                                                             hints))
    matcher = Matcher(shortlist, rules=engine_rules(company_id), hints=hints)
    return matcher.suggest(plain, limit=5)


def _partners_of_line(company_id: int, line: m.Line, hints: m.Hints) -> set[str]:
    """Partner tax ids a line points to: a learnt account or label, a tax id in its text, a
    partner's name close to the counterparty's."""
    found: set[str] = set()
    if line.counterparty_account and line.counterparty_account in hints.accounts:
        found.add(hints.accounts[line.counterparty_account])
    for key in tokens(f"{line.reference} {line.description} {line.counterparty_name}"):
        if key in hints.labels:
            found.add(hints.labels[key])
    found.update(t for t in tokens(f"{line.reference} {line.description}")
                 if t.isdigit() and 8 <= len(t) <= 12)
    if line.counterparty_name:
        names = sources.partner_names(company_id, credit=line.amount > 0)
        best = process.extractOne(line.counterparty_name, names, scorer=fuzz.token_set_ratio,
                                  processor=normalize, score_cutoff=85)
        if best is not None:
            found.add(best[2])
    return found


# --------------------------------------------------------------------------- confirm, undo


def get_line(company_id: int, line_id: int) -> BankLine:
    line = db.session.get(BankLine, line_id)
    if line is None or line.company_id != company_id:
        raise NotFound(_l("No such bank line."))
    return line


def get_match(company_id: int, match_id: int) -> Match:
    match = db.session.get(Match, match_id)
    if match is None or match.company_id != company_id:
        raise NotFound(_l("No such match."))
    return match


def items_of(match_id: int) -> list[MatchItem]:
    return list(db.session.scalars(
        select(MatchItem).where(MatchItem.match_id == match_id).order_by(MatchItem.id)
    ))


def confirm_match(company_id: int, *, match_id: int, actor: User | None) -> Match:
    match = get_match(company_id, match_id)
    if match.status == MATCH_CONFIRMED:
        return match  # a double click, a retried request
    if match.status != MATCH_SUGGESTED:
        raise Conflict(_l("This suggestion is no longer open."))
    _confirm(company_id, match, actor=actor, auto=False)
    return match


def manual_match(
    company_id: int,
    *,
    line_id: int,
    items: Sequence[tuple[str, int, Decimal | None]],
    fee: Decimal = _ZERO,
    actor: User | None,
) -> Match:
    """A person chose what the line settles (kind, id, amount or None for all that is open)."""
    line = get_line(company_id, line_id)
    if line.status in (MATCHED, IGNORED):
        raise Conflict(_l("This line is already matched."))
    if not items:
        raise DomainError(_l("Choose at least one invoice, payment or payout."))
    allowed = m.CREDIT_KINDS if line.amount > 0 else m.DEBIT_KINDS
    chosen: list[m.Item] = []
    for kind, target_id, amount in items:
        if kind not in allowed:
            raise DomainError(_l("A money-in line settles what you are owed; a money-out line "
                                 "what you owe."))
        found = sources.open_ones(company_id, kind, [target_id]).get(target_id)
        if found is None:
            raise NotFound(_l("That is not open any more, or not yours."))
        if found.currency != line.currency:
            raise DomainError(_l("The line and %(ref)s are in different currencies.",
                                 ref=found.references[0] if found.references else target_id))
        value = found.amount if amount is None else amount
        if value <= 0 or value > found.amount:
            raise DomainError(_l("Each amount must be above zero and at most what is open."))
        chosen.append(m.Item(kind=kind, id=target_id, amount=value))
    fee = fee or _ZERO
    if fee < 0:
        raise DomainError(_l("A fee cannot be negative."))
    if fee >= sum((i.amount for i in chosen), _ZERO):
        raise DomainError(_l("The fee must be less than what the line settles."))
    total = sum((i.amount for i in chosen), _ZERO) - fee
    room = abs(line.amount) - line.matched_amount
    if total > room:
        raise DomainError(_l("That is more than the line's %(amount)s still unmatched.",
                             amount=str(room)))
    suggestion = m.Suggestion(
        line_id=line.id, items=tuple(chosen), score=100.0,
        evidence=(m.Evidence(code="manual", points=0, detail=""),), fee=fee,
    )
    match = _store(company_id, line, suggestion)
    match.manual = True
    db.session.flush()
    _confirm(company_id, match, actor=actor, auto=False)
    return match


def _confirm(company_id: int, match: Match, *, actor: User | None, auto: bool) -> None:
    line = db.session.get(BankLine, match.bank_line_id)
    assert line is not None
    items = items_of(match.id)
    documents = [i for i in items if i.kind in (m.RECEIVABLE, m.PAYABLE)]
    if documents:
        payment = banked.record_bank_payment(
            company_id,
            allocations=[(i.document_id, i.amount) for i in documents],  # type: ignore[misc]
            booked_on=line.booking_date,
            reference=line.reference or line.description[:100],
            end_to_end_id=line.end_to_end_id,
            fee=match.fee,
            actor=actor,
        )
        for item in documents:
            item.payment_id = payment.id
            item.created_payment = True
    for item in items:
        if item.kind == m.PAYMENT_IN and item.payment_id is not None:
            payment = db.session.get(Payment, item.payment_id)
            if payment is not None and payment.status == AWAITING_CONFIRMATION:
                banked.confirm_transfer_seen(company_id, payment_id=payment.id, actor=actor)
        if item.kind == m.PAYOUT and item.payout_id is not None:
            done = db.session.execute(
                update(GatewayPayout)
                .where(GatewayPayout.id == item.payout_id, GatewayPayout.reconciled.is_(False))
                .values(reconciled=True)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                raise Conflict(_l("This payout is already matched."))
    settled = sum((i.amount for i in items), _ZERO) - match.fee
    moved = db.session.execute(
        update(BankLine)
        .where(BankLine.id == line.id, BankLine.matched_amount + settled <= abs(line.amount))
        .values(matched_amount=BankLine.matched_amount + settled)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict(_l("This line is already matched."))
    db.session.refresh(line)
    match.status = MATCH_CONFIRMED
    match.auto = auto
    match.confirmed_at = utcnow()
    match.confirmed_by_user_id = actor.id if actor else None
    if line.matched_amount >= abs(line.amount):
        line.status = MATCHED
        db.session.execute(
            update(Match)
            .where(Match.bank_line_id == line.id, Match.status == MATCH_SUGGESTED)
            .values(status=MATCH_REJECTED)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    _learn(company_id, line, items)
    data = matched_data(line, match, items)
    audit.record_event(
        actor or "reconciliation",
        company_id,
        "reconciliation.match_confirmed",
        ("bank_line", line.id),
        {"match": match.id, "auto": auto, "amount": str(line.amount),
         "items": [[i.kind, i.document_id or i.payment_id or i.payout_id, str(i.amount)]
                   for i in items]},
    )
    webhooks.enqueue(company_id, RECONCILIATION_MATCHED, data)


def matched_data(line: BankLine, match: Match, items: Sequence[MatchItem]) -> dict[str, object]:
    return {
        "match_id": match.id,
        "bank_line": {
            "id": line.id,
            "booking_date": line.booking_date.isoformat(),
            "amount": str(line.amount),
            "currency": line.currency,
            "reference": line.reference or None,
            "end_to_end_id": line.end_to_end_id or None,
        },
        "auto": match.auto,
        "fee": str(match.fee),
        "items": [
            {"kind": i.kind, "document_id": i.document_id, "payment_id": i.payment_id,
             "payout_id": i.payout_id, "amount": str(i.amount)}
            for i in items
        ],
    }


def undo_match(company_id: int, *, match_id: int, actor: User | None) -> Match:
    match = get_match(company_id, match_id)
    if match.status != MATCH_CONFIRMED:
        raise Conflict(_l("Only a confirmed match can be undone."))
    line = db.session.get(BankLine, match.bank_line_id)
    assert line is not None
    items = items_of(match.id)
    payments = {i.payment_id for i in items if i.created_payment and i.payment_id}
    for payment_id in payments:
        banked.reverse_bank_payment(company_id, payment_id=payment_id, actor=actor)
    for item in items:
        if item.kind == m.PAYOUT and item.payout_id is not None:
            db.session.execute(
                update(GatewayPayout).where(GatewayPayout.id == item.payout_id)
                .values(reconciled=False).execution_options(synchronize_session=False)
            )
        if item.created_payment:
            item.payment_id = None
            item.created_payment = False
    settled = sum((i.amount for i in items), _ZERO) - match.fee
    line.matched_amount = max(line.matched_amount - settled, _ZERO)
    line.status = UNMATCHED if line.matched_amount == 0 else SUGGESTED
    match.status = MATCH_UNDONE
    match.undone_at = utcnow()
    db.session.flush()
    audit.record_event(
        actor, company_id, "reconciliation.match_undone", ("bank_line", line.id),
        {"match": match.id},
    )
    return match


def ignore_line(company_id: int, *, line_id: int, actor: User | None, ignore: bool = True) -> None:
    """A line nothing in the portal explains (bank charges, taxes): out of the queue."""
    line = get_line(company_id, line_id)
    if line.status == MATCHED and ignore:
        raise Conflict(_l("This line is already matched."))
    line.status = IGNORED if ignore else UNMATCHED
    audit.record_event(actor, company_id, "reconciliation.line_ignored" if ignore
                       else "reconciliation.line_restored", ("bank_line", line.id), {})


# ---------------------------------------------------------------------------------- learning


def _learn(company_id: int, line: BankLine, items: Sequence[MatchItem]) -> None:
    """The counterparty's bank account and the line's label now mean this partner."""
    partners = _partners_of(company_id, items)
    if len(partners) != 1:
        return
    partner, partner_name = partners.pop()
    pairs = []
    if line.counterparty_account:
        pairs.append(("account", line.counterparty_account[:100]))
    label = learnt_label(line.counterparty_name)
    if label:
        pairs.append(("label", label))
    for kind, value in pairs:
        hint = db.session.scalars(
            select(CounterpartyHint).where(
                CounterpartyHint.company_id == company_id,
                CounterpartyHint.kind == kind,
                CounterpartyHint.value == value,
            )
        ).first()
        if hint is None:
            db.session.add(CounterpartyHint(company_id=company_id, kind=kind, value=value,
                                            partner=partner, partner_name=partner_name[:200]))
        else:
            hint.partner, hint.partner_name = partner, partner_name[:200]
            hint.uses += 1
            hint.updated_at = utcnow()


_GENERIC = frozenset(
    "sas ltda limitada sociedad compania cia s a y de del la las los el pago pagos abono "
    "transferencia transf consignacion factura facturas nit ref banco bank payment".split()
)


def learnt_label(name: str | None) -> str:
    """The word of a counterparty's name worth remembering: its longest distinctive word."""
    candidates = [w for w in normalize(name or "").split() if len(w) >= 5 and w not in _GENERIC
                  and not w.isdigit()]
    return max(candidates, key=len)[:100] if candidates else ""


def _partners_of(company_id: int, items: Sequence[MatchItem]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for kind in (m.RECEIVABLE, m.PAYABLE, m.PAYMENT_IN, m.PAYMENT_OUT):
        ids = [i.document_id if kind in (m.RECEIVABLE, m.PAYABLE) else i.payment_id
               for i in items if i.kind == kind]
        ids = [i for i in ids if i]
        if not ids:
            continue
        if kind in (m.PAYMENT_IN, m.PAYMENT_OUT):
            opened = {c.id: c for c in _any_payments(company_id, kind, ids)}
        else:
            opened = sources._invoices_by_id(company_id, kind, set(ids))
        found |= {(c.partner, c.partner_name) for c in opened.values() if c.partner}
    return found


def _any_payments(company_id: int, kind: str, ids: list[int]) -> list[m.Candidate]:
    # Confirmed payments are no longer candidates; their partner is read directly.
    payments = banked.payments_by_ids(ids)
    other_ids = {
        (p.payer_company_id if kind == m.PAYMENT_IN else p.payee_company_id)
        for p in payments.values()
    } - {None}
    companies = {
        c.id: c for c in db.session.scalars(unscoped(select(Company).where(
            Company.id.in_(list(other_ids)))))
    }
    out = []
    for p in payments.values():
        other = companies.get(p.payer_company_id if kind == m.PAYMENT_IN else p.payee_company_id)
        if other is not None:
            out.append(m.Candidate(kind=kind, id=p.id, amount=p.amount, currency=p.currency,
                                   partner=other.tax_id, partner_name=other.legal_name))
    return out
