"""Do the sandbox gateway's webhooks leave right after the commit, come back on the sweep when
the portal failed, and do its pending charges and payouts happen on their own?"""

from __future__ import annotations

import datetime as dt
import sys
import types
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.gateways import base
from app.jobs import tasks
from app.models import SandboxAccount, SandboxCharge, SandboxPayout, SandboxWebhook, utcnow
from app.services import sandbox_gateway
from tests.services.sandbox_helpers import (
    Receiver,
    charge,
    gateway_for,
    new_charge,
    open_account,
    webhooks,
)


@pytest.fixture
def portal(monkeypatch):
    """The portal's receiver, as the job layer hands it to the sandbox."""
    receiver = Receiver()
    monkeypatch.setattr(tasks, "send_to_portal", receiver)
    return receiver


@pytest.fixture
def account():
    return open_account()


def _decide(charge_id: str, outcome: str = "approve") -> None:
    sandbox_gateway.decide(charge_id, outcome)
    db.session.commit()


def test_does_the_portal_hear_of_a_payment_as_soon_as_it_is_committed(portal, account):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve")
    assert portal.received == []  # not before the commit
    db.session.commit()
    assert portal.types() == ["charge.succeeded"]
    target, body, headers = portal.received[0]
    assert target == "conn_public_1"
    [event] = gateway_for(account, utcnow()).parse_webhook(body, headers)
    assert event.gateway_reference == opened.charge_id
    assert [row.state for row in webhooks()] == ["sent"]


def test_does_a_rolled_back_decision_send_nothing(portal, account):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve")
    db.session.rollback()
    assert portal.received == [] and webhooks() == []


def test_does_the_sweep_send_again_what_the_portal_failed(portal, account):
    portal.answers = [500]
    opened = new_charge(account)
    _decide(opened.charge_id)
    [row] = webhooks()
    assert (row.state, row.attempts, row.last_error) == ("due", 1, "HTTP 500")
    assert tasks.sweep.call_local()["sandbox_webhooks"] == 0  # not due for a minute
    db.session.execute(update(SandboxWebhook).values(due_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert tasks.sweep.call_local()["sandbox_webhooks"] == 1
    [row] = webhooks()
    assert (row.state, row.attempts) == ("sent", 2)
    assert portal.types() == ["charge.succeeded", "charge.succeeded"]


def test_does_the_job_send_newer_webhooks_first_for_a_reverse_account(portal, account, held_jobs):
    sandbox_gateway.set_delivery_options(account.account_id, reverse=True)
    db.session.commit()
    opened = new_charge(account, amount="1000.00")
    _decide(opened.charge_id)
    request = base.RefundRequest(opened.charge_id, Decimal("100.00"), "COP", idempotency_key="r1")
    gateway_for(account, utcnow()).refund(request)
    db.session.commit()
    assert len(held_jobs) == 2
    held_jobs.run()  # the oldest row's task first, as the queue would
    assert portal.types() == ["charge.refunded", "charge.succeeded"]
    assert [row.state for row in webhooks()] == ["sent", "sent"]


def test_are_pending_charges_settled_every_minute(portal, account):
    opened = new_charge(account)
    _decide(opened.charge_id, "pending")
    assert tasks.sandbox_settlements.call_local() == 0
    db.session.execute(update(SandboxCharge).values(settle_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert tasks.sandbox_settlements.call_local() == 1
    assert charge(opened.charge_id).status == "succeeded"
    assert portal.types() == ["charge.pending", "charge.succeeded"]


def test_are_yesterdays_payouts_made_once(portal, account):
    opened = new_charge(account)
    _decide(opened.charge_id)
    yesterday = utcnow() - dt.timedelta(days=1)
    db.session.execute(update(SandboxCharge).values(paid_at=yesterday))
    db.session.commit()
    assert tasks.sandbox_payouts.call_local() == 1
    assert tasks.sandbox_payouts.call_local() == 0
    payout = db.session.scalars(select(SandboxPayout)).one()
    assert payout.paid_on == yesterday.date()


# ---------------------------------------------------------------- the receiver it hands over


@pytest.fixture
def receive_webhook(monkeypatch):
    """Stand in for app.services.payments.webhooks (written elsewhere): what it is given and
    what it answers."""
    calls: list[tuple] = []
    module = types.ModuleType("app.services.payments.webhooks")
    module.answer = 200

    def receive(gateway, public_id, body, headers):
        calls.append((gateway, public_id, body, dict(headers)))
        # The portal's work in the delivering transaction: kept or undone with its answer.
        db.session.add(
            SandboxAccount(
                account_id=f"acct_p{len(calls)}",
                secret_key=f"sk_p{len(calls)}",
                webhook_secret="x",
            )
        )
        db.session.flush()
        if isinstance(module.answer, Exception):
            raise module.answer
        return module.answer

    module.receive_webhook = receive
    module.calls = calls
    package = types.ModuleType("app.services.payments")
    package.webhooks = module
    monkeypatch.setitem(sys.modules, "app.services.payments", package)
    monkeypatch.setitem(sys.modules, "app.services.payments.webhooks", module)
    return module


def _accounts() -> int:
    return db.session.scalar(select(func.count(SandboxAccount.id)))


def test_is_the_webhook_handed_to_the_portals_receiver_with_its_connection(
    receive_webhook, account
):
    opened = new_charge(account)
    _decide(opened.charge_id)
    [(gateway, public_id, body, headers)] = receive_webhook.calls
    assert (gateway, public_id) == ("sandbox", "conn_public_1")
    assert b"charge.succeeded" in body and "Sandbox-Signature" in headers
    assert [row.state for row in webhooks()] == ["sent"]
    assert _accounts() == 2  # the receiver's work committed with the delivery


@pytest.mark.parametrize(
    ("answer", "state"),
    [(202, "sent"), (None, "sent"), (503, "due"), (404, "dead"), (RuntimeError("boom"), "due")],
)
def test_does_the_receivers_answer_decide_the_delivery(receive_webhook, account, answer, state):
    receive_webhook.answer = answer
    opened = new_charge(account)
    _decide(opened.charge_id)
    assert [row.state for row in webhooks()] == [state]
    # What the receiver wrote stays only when it answered rather than raised.
    assert _accounts() == (1 if isinstance(answer, Exception) else 2)
