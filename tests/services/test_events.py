"""Domain events: every app has the reactions, once each; publishing without them fails loudly.

What each reaction does is tested where the user sees it: a claim opens its dispute
(test_disputes), a credit note resolves the dispute that agreed on it (test_issuing), a company
that registers receives what waited for its tax id (test_inbox) — and a handler that fails rolls
back the action that published the event (test_lifecycle).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.services import events, reactions
from app.services.events import ClaimRecorded, CompanyRegistered, CreditNoteLinked, DisputeResolved

ROOT = Path(__file__).resolve().parents[2]
REACTIONS = {
    CompanyRegistered: (reactions.claim_waiting_documents, reactions.adopt_link_payments),
    CreditNoteLinked: (reactions.settle_agreed_dispute,),
    ClaimRecorded: (reactions.open_dispute_from_claim,),
    DisputeResolved: (reactions.attach_transcript,),
}


def test_does_the_test_app_have_every_reaction_once(app):
    for event_type, handlers in REACTIONS.items():
        assert events.handlers_of(event_type) == handlers


def test_is_publishing_before_the_reactions_are_registered_an_error(app, monkeypatch):
    monkeypatch.setattr(events, "_registered", False)
    with pytest.raises(RuntimeError, match="not registered"):
        events.publish(DisputeResolved(dispute=None, company_id=1, actor=None))  # type: ignore[arg-type]


def test_does_the_app_the_cli_and_the_servers_load_register_the_reactions(tmp_path):
    """`flask --app wsgi …` (commands, jobs) and gunicorn import wsgi: the reactions come with
    it, once however many apps a process makes."""
    check = (
        "from app.services import events\n"
        "from app.services.events import CreditNoteLinked\n"
        "assert events.handlers_of(CreditNoteLinked) == ()\n"
        "import wsgi\n"
        "from app.services import reactions\n"
        "assert events.handlers_of(CreditNoteLinked) == (reactions.settle_agreed_dispute,)\n"
        "from app import create_app\n"
        "create_app()\n"  # a second app (a worker's, say) registers nothing twice
        "assert events.handlers_of(CreditNoteLinked) == (reactions.settle_agreed_dispute,)\n"
    )
    env = {
        **os.environ,
        "APP_ENV": "test",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
