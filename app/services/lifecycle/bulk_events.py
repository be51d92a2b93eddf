"""Bulk events: a clerk records 030, 032 or 033 on a selection of received invoices at once.

``plan_events`` says per document which events the action takes (the missing steps first) or
why it cannot be; ``record_events`` records each document's chain all or nothing
(``transitions.record_chain``), so a refusal leaves the other documents' events in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.models import User
from app.models.document import INVOICE
from app.services.documents import queries, trays
from app.services.errors import DomainError, NotFound
from app.services.lifecycle import transitions


@dataclass
class BulkOutcome:
    """What a bulk action did to one document."""

    document_id: int
    number: str
    done: bool
    message: Any


#: The events a clerk records on a selection, by the bulk bar's action names.
BULK_EVENTS = {"acknowledge": "030", "receive": "032", "accept": "033"}


#: How the confirmation names each action ("accepting records 032 and then 033 for them").
BULK_VERBS = {
    "030": _l("acknowledging"),
    "032": _l("recording the receipt"),
    "033": _l("accepting"),
}


#: How the confirmation of each bulk event names it (title, consequence, button).
BULK_QUESTIONS = {
    "030": (
        _l("Acknowledge these invoices?"),
        _l("The acknowledgement of receipt (030) is sent to each supplier; it cannot be undone."),
        _l("Acknowledge"),
    ),
    "032": (
        _l("Record the receipt of the goods?"),
        _l(
            "The receipt of the goods or service (032) is sent to each supplier; it cannot be "
            "undone, and three business days later an invoice not claimed is accepted tacitly."
        ),
        _l("Record the receipt"),
    ),
    "033": (
        _l("Accept these invoices?"),
        _l("Acceptance is final and is sent to the supplier."),
        _l("Accept the invoices"),
    ),
}


#: Events after which nothing can be undone or changed by the buyer: always confirmed first.
FINAL_EVENTS = frozenset({"033"})


def bulk_actions(status: str, document_type: str) -> tuple[str, ...]:
    """Return the bulk actions (BULK_EVENTS keys) a received document in status allows."""
    if document_type != INVOICE:
        return ()
    return tuple(
        action
        for action, code in BULK_EVENTS.items()
        if transitions.steps_to(status, code) is not None
    )


@dataclass
class PlannedRow:
    """One selected document: the events recording the action takes on it, or why it cannot."""

    document_id: int
    number: str
    steps: tuple[str, ...] = ()
    problem: Any = None


@dataclass
class BulkPlan:
    """What a bulk event would do to each selected document, before anything is recorded."""

    code: str
    rows: list[PlannedRow]
    person_missing: bool  # some chain needs 030/032 and the user has no identity document

    @property
    def ready(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.problem is None]

    @property
    def refused(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.problem is not None]

    @property
    def needs_confirmation(self) -> bool:
        """Tell whether the clerk must confirm: a final event, or steps they did not choose.

        Nothing to confirm when no document would change (the report says why).
        """
        ready = self.ready
        return bool(ready) and (self.code in FINAL_EVENTS or any(len(r.steps) > 1 for r in ready))

    def details(self) -> list[Any]:
        """Return what the confirmation lists: the count, the missing steps, who is left out."""
        return [
            _l("%(count)d documents selected.", count=len(self.rows)),
            *self.summary(),
            *(
                _l(
                    "%(number)s is left as it is: %(reason)s",
                    number=row.number or f"#{row.document_id}",
                    reason=row.problem,
                )
                for row in self.refused
            ),
        ]

    def summary(self) -> list[Any]:
        """Return one sentence per group of documents that still need events before the action."""
        groups: dict[tuple[str, ...], int] = {}
        for row in self.ready:
            if len(row.steps) > 1:
                groups[row.steps] = groups.get(row.steps, 0) + 1
        sentences = []
        for steps, count in sorted(groups.items(), key=lambda item: -len(item[0])):
            missing = [transitions.TRANSITIONS[c].name for c in steps[:-1]]
            sentences.append(
                _l(
                    "%(count)d invoices still need %(missing)s; %(action)s records %(steps)s "
                    "for them.",
                    count=count,
                    missing=_joined(missing, _l(" and ")),
                    action=BULK_VERBS.get(self.code, self.code),
                    steps=_joined(list(steps), _l(" and then ")),
                )
            )
        return sentences


def _joined(items: list[Any], last: Any) -> Any:
    """Join items as a sentence does: "a, b and then c" (last is the final separator)."""

    def text() -> str:
        words = [str(item) for item in items]
        if len(words) < 2:
            return "".join(words)
        return ", ".join(words[:-1]) + str(last) + words[-1]

    return LazyString(text)


def plan_events(company_id: int, *, document_ids: list[int], code: str, actor: User) -> BulkPlan:
    """Say, per selected document, which events recording code takes, or why it cannot be."""
    rows = []
    for document_id in trays.selection(document_ids):
        try:
            number = queries.get_document(company_id, document_id).number
        except NotFound as problem:
            rows.append(PlannedRow(document_id, "", problem=problem.message))
            continue
        try:
            steps = transitions.plan_event(company_id, document_id=document_id, code=code)
        except DomainError as problem:
            rows.append(PlannedRow(document_id, number, problem=problem.message))
            continue
        rows.append(PlannedRow(document_id, number, tuple(steps)))
    needs_person = any({"030", "032"} & set(r.steps) for r in rows if r.problem is None)
    has_person = bool(actor.id_document_type and actor.id_document_number)
    return BulkPlan(code, rows, person_missing=needs_person and not has_person)


def record_events(company_id: int, *, plan: BulkPlan, actor: User) -> list[BulkOutcome]:
    """Record a plan's events on each document it found ready; say why not on the others.

    Each document's events are all or nothing (transitions.record_chain, which checks each event
    again as it records it), and a refusal leaves the other documents' events in place.
    """
    outcomes = []
    for row in plan.rows:
        if row.problem is not None:
            outcomes.append(BulkOutcome(row.document_id, row.number, False, row.problem))
            continue
        try:
            events = transitions.record_chain(
                company_id, document_id=row.document_id, steps=list(row.steps), actor=actor
            )
        except DomainError as problem:
            outcomes.append(BulkOutcome(row.document_id, row.number, False, problem.message))
            continue
        names = [transitions.TRANSITIONS[e.code].name for e in events]
        outcomes.append(
            BulkOutcome(
                row.document_id,
                row.number,
                True,
                _l("%(events)s recorded.", events=_joined(names, _l(" and then "))),
            )
        )
    return outcomes
