"""Reactions across areas, in one place: when an area publishes an event, who handles it.

    event (app.services.events)  published by                    handled here by
    CompanyRegistered            accounts.register_company         documents.storing: hand over
                                                                   the documents waiting for it;
                                                                   payments: what was paid on
                                                                   them by link becomes its own
    CreditNoteLinked             documents.storing (a note came    disputes: resolve the dispute
                                 in, issued or uploaded)           that agreed on that credit note
    ClaimRecorded                lifecycle.transitions (031)       disputes: open the dispute
                                                                   the claim implies
    DisputeResolved              disputes                          disputes.transcripts: attach
                                                                   the transcript to the document

``create_app`` calls ``register()`` (so does every app: web, CLI, worker, tests). The handlers
run in the publisher's transaction, in the order below.
"""

from __future__ import annotations

from app.services import events
from app.services.disputes import disputes, transcripts
from app.services.documents import storing
from app.services.events import ClaimRecorded, CompanyRegistered, CreditNoteLinked, DisputeResolved
from app.services.payments import paying


def claim_waiting_documents(event: CompanyRegistered) -> None:
    storing.claim_waiting_documents(event.company, actor=event.actor)


def adopt_link_payments(event: CompanyRegistered) -> None:
    paying.adopt_link_payments(event.company.id)


def settle_agreed_dispute(event: CreditNoteLinked) -> None:
    disputes.credit_note_linked(event.invoice_id, event.note, actor=event.actor)


def open_dispute_from_claim(event: ClaimRecorded) -> None:
    disputes.open_from_claim(
        event.document, claim_reason=event.claim_reason, note=event.note, actor=event.actor
    )


def attach_transcript(event: DisputeResolved) -> None:
    transcripts.attach_transcript(event.company_id, event.dispute, actor=event.actor)


def register() -> None:
    """Subscribe every handler to its event (safe to call again: each is kept once)."""
    events.subscribe(CompanyRegistered, claim_waiting_documents)
    events.subscribe(CompanyRegistered, adopt_link_payments)  # after the documents are its own
    events.subscribe(CreditNoteLinked, settle_agreed_dispute)
    events.subscribe(ClaimRecorded, open_dispute_from_claim)
    events.subscribe(DisputeResolved, attach_transcript)
    events.mark_registered()
