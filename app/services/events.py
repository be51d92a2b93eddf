"""Domain events: what one area tells the others without importing them.

The area that knows a fact publishes it (``publish(CreditNoteLinked(...))``); the areas that
care handle it. Which handler reacts to which event is written in one place,
``app.services.reactions``, which ``create_app`` registers — so every web process, CLI command,
job worker and test app has them. ``publish`` runs the handlers at once, in the order they were
registered, in the publisher's transaction: a handler's error rolls the whole action back.
Publishing before the handlers are registered is an error, never a silent loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from app.models import Company, Dispute, Document, User


class Event:
    """A fact one area publishes for the others."""


@dataclass(frozen=True)
class CompanyRegistered(Event):
    """A company registered (its tax id may be the customer of documents waiting for it)."""

    company: Company
    actor: User


@dataclass(frozen=True)
class CreditNoteLinked(Event):
    """A credit note was linked to the invoice it credits (its balance already lowered)."""

    invoice_id: int
    note: Document
    actor: User


@dataclass(frozen=True)
class ClaimRecorded(Event):
    """The buyer recorded a claim (DIAN event 031) on a received invoice."""

    document: Document
    claim_reason: str
    note: str
    actor: User


@dataclass(frozen=True)
class DisputeResolved(Event):
    """A dispute was resolved, by company_id's side (or by the credit note it agreed on)."""

    dispute: Dispute
    company_id: int
    actor: User


E = TypeVar("E", bound=Event)
_handlers: dict[type[Event], list[Callable[[Any], None]]] = {}
_registered = False


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Run handler whenever an event_type is published (registering twice keeps one)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def mark_registered() -> None:
    """Note that the reactions are registered: publishing is allowed from now on."""
    global _registered
    _registered = True


def handlers_of(event_type: type[Event]) -> tuple[Callable[[Any], None], ...]:
    """Return the handlers of an event type, in the order they run."""
    return tuple(_handlers.get(event_type, ()))


def publish(event: Event) -> None:
    """Run every handler of the event now, in this transaction; their errors propagate."""
    if not _registered:
        raise RuntimeError(
            "Domain event handlers are not registered: create the app (app.create_app), "
            "which registers app.services.reactions, before calling the services."
        )
    for handler in handlers_of(type(event)):
        handler(event)
