"""Does the sandbox gateway behave as a real gateway would, with test money: one checkout per
attempt, the payer's outcome, refunds within what was paid, fees, daily payouts, and signed
webhooks that arrive late, twice, out of order or only after the portal recovers?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.gateways import base
from app.models import SandboxCharge, SandboxPayout, SandboxRefund
from app.services import sandbox_gateway
from app.services.errors import Conflict, DomainError, NotFound
from tests.services.sandbox_helpers import (
    T0,
    Receiver,
    charge,
    checkout_request,
    gateway_for,
    new_charge,
    open_account,
    webhooks,
)

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _webhooks_wait_for_the_test(held_jobs):
    """These tests send the webhooks themselves (deliver, deliver_due) through a Receiver;
    tests/jobs/test_sandbox_tasks.py shows them leaving right after the commit."""


@pytest.fixture(autouse=True)
def _english(_clean):
    """Read the messages the payer would read in English."""
    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The sandbox's clock, at T0 unless a test moves it (``clock.now = …``)."""

    class Clock:
        now = T0

    monkeypatch.setattr(sandbox_gateway, "utcnow", lambda: Clock.now)
    return Clock


@pytest.fixture
def account():
    return open_account()


@pytest.fixture
def gateway(account):
    return gateway_for(account)


def refund(gateway, charge_id, amount, key="refund-1", currency="COP"):
    result = gateway.refund(
        base.RefundRequest(charge_id, Decimal(amount), currency, idempotency_key=key)
    )
    db.session.commit()
    return result


# ---------------------------------------------------------------------------------- accounts


def test_does_each_account_get_its_own_ids_and_secrets():
    one, two = open_account("conn_1"), open_account("conn_2")
    assert one.account_id.startswith("acct_") and one.secret_key.startswith("sk_sandbox_")
    assert one.webhook_secret.startswith("whsec_sandbox_")
    assert {one.account_id, one.secret_key, one.webhook_secret}.isdisjoint(
        {two.account_id, two.secret_key, two.webhook_secret}
    )
    assert (one.webhook_target, two.webhook_target) == ("conn_1", "conn_2")


# --------------------------------------------------------------------------------- checkouts


def test_does_the_same_attempt_open_one_checkout_only(account, gateway):
    first = gateway.create_checkout(checkout_request(key="attempt-1"))
    again = gateway.create_checkout(checkout_request(key="attempt-1"))
    db.session.commit()
    assert again == first
    assert first.url == f"/sandbox-gateway/checkout/{first.gateway_reference}"
    assert db.session.scalar(select(func.count(SandboxCharge.id))) == 1
    other = gateway.create_checkout(checkout_request(key="attempt-2"))
    assert other.gateway_reference != first.gateway_reference


def test_is_a_key_reused_for_another_amount_refused(gateway):
    gateway.create_checkout(checkout_request("100.00", key="attempt-1"))
    with pytest.raises(base.GatewayError, match="idempotency key"):
        gateway.create_checkout(checkout_request("200.00", key="attempt-1"))


def test_is_one_accounts_key_its_own(account, gateway):
    """Another merchant using the same idempotency key gets a checkout of its own."""
    other = gateway_for(open_account("conn_2"))
    mine = gateway.create_checkout(checkout_request(key="k"))
    theirs = other.create_checkout(checkout_request(key="k"))
    assert mine.gateway_reference != theirs.gateway_reference
    with pytest.raises(base.GatewayError, match="no such charge"):
        other.fetch_payment(mine.gateway_reference)


def test_does_a_checkout_keep_what_the_payer_will_see(account):
    opened = new_charge(account)
    assert (opened.amount, opened.currency, opened.status) == (Decimal("150000.00"), "COP", "open")
    page = sandbox_gateway.checkout(opened.charge_id)
    assert page.merchant == "Proveedora Andina"
    assert [(line.description, line.amount) for line in page.lines] == [
        ("Invoice FE-101", Decimal("75000.00")),
        ("Invoice FE-102", Decimal("75000.00")),
    ]
    assert page.return_url is None  # nothing decided yet


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": 0}, "positive"),
        ({"amount": 10.5}, "integer"),
        ({"currency": "JPY"}, "currency"),
        ({"reference": ""}, "reference"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"lines": [{"description": "x", "amount": 1}]}, "add up"),
        ({"lines": "all"}, "lines"),
    ],
)
def test_is_a_malformed_checkout_refused_with_its_reason(account, change, message):
    payload = {
        "reference": "1",
        "amount": 1000,
        "currency": "COP",
        "idempotency_key": "k",
        **change,
    }
    answer = sandbox_gateway.BACKEND.create_checkout(account.secret_key, payload)
    assert message in answer["error"]["message"]
    assert db.session.scalar(select(func.count(SandboxCharge.id))) == 0


def test_is_a_wrong_secret_key_refused(account):
    answer = sandbox_gateway.BACKEND.get_charge("sk_sandbox_guess", "ch_x")
    assert answer["error"]["type"] == "authentication"


# -------------------------------------------------------------------------------- outcomes


def test_does_an_approved_payment_succeed_with_its_fee(account, gateway):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve", method="pse", now=T0)
    paid = charge(opened.charge_id)
    assert (paid.status, paid.method, paid.paid_at) == ("succeeded", "pse", T0)
    assert paid.fee == Decimal("5250.00")  # 2.90 % of 150 000 + 900
    status = gateway.fetch_payment(opened.charge_id)
    assert (status.kind, status.amount, status.method) == (
        base.PAYMENT_SUCCEEDED,
        Decimal("150000.00"),
        "pse",
    )
    assert sandbox_gateway.return_url(paid) == "https://portal.test/payments/1/done"


def test_does_a_declined_payment_fail_and_send_the_payer_back(account, gateway):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "decline", now=T0)
    assert gateway.fetch_payment(opened.charge_id).kind == base.PAYMENT_FAILED
    assert sandbox_gateway.return_url(charge(opened.charge_id)).endswith("/canceled")


def test_does_a_canceled_checkout_say_so(account, gateway):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "cancel", now=T0)
    assert gateway.fetch_payment(opened.charge_id).kind == base.PAYMENT_CANCELED


@pytest.mark.parametrize(
    ("outcome", "final"), [("pending", "succeeded"), ("pending_decline", "failed")]
)
def test_does_a_pending_payment_settle_later(account, gateway, outcome, final):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, outcome, now=T0)
    assert gateway.fetch_payment(opened.charge_id).kind == base.PAYMENT_PENDING
    assert sandbox_gateway.return_url(charge(opened.charge_id)).endswith("/done")
    assert sandbox_gateway.settle_due(T0 + MINUTE) == 0  # not yet
    assert charge(opened.charge_id).status == "pending"
    later = T0 + sandbox_gateway.SETTLE_AFTER
    assert sandbox_gateway.settle_due(later) == 1
    settled = charge(opened.charge_id)
    assert settled.status == final
    assert sandbox_gateway.settle_due(later + MINUTE) == 0  # once
    if final == "succeeded":
        assert settled.paid_at == later and settled.fee > 0
    receiver = Receiver()
    sandbox_gateway.deliver_due(later, receiver)
    assert receiver.types() == ["charge.pending", f"charge.{final}"]


@pytest.mark.parametrize(
    ("code", "final"), [("123456", "succeeded"), ("654321", "failed"), ("", "failed")]
)
def test_does_a_3ds_challenge_pass_only_with_its_code(account, code, final):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "challenge", now=T0)
    assert charge(opened.charge_id).status == "challenge"
    sandbox_gateway.answer_challenge(opened.charge_id, code, now=T0)
    assert charge(opened.charge_id).status == final
    with pytest.raises(Conflict):
        sandbox_gateway.answer_challenge(opened.charge_id, "123456", now=T0)
    assert charge(opened.charge_id).status == final
    receiver = Receiver()
    sandbox_gateway.deliver_due(T0, receiver)
    # Pending while the payer types the code, then the outcome (once).
    assert receiver.types() == ["charge.pending", f"charge.{final}"]


def test_is_a_challenge_answer_refused_for_a_checkout_not_asking_one(account):
    opened = new_charge(account)
    with pytest.raises(Conflict, match="not waiting"):
        sandbox_gateway.answer_challenge(opened.charge_id, "123456")
    assert charge(opened.charge_id).status == "open"


@pytest.mark.parametrize("second", ["approve", "decline", "pending", "challenge", "cancel"])
def test_is_a_decided_payment_never_decided_again(account, second):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "decline", now=T0)
    db.session.commit()
    with pytest.raises(Conflict, match="already decided"):
        sandbox_gateway.decide(opened.charge_id, second, now=T0)
    db.session.rollback()
    assert charge(opened.charge_id).status == "failed"
    assert len(webhooks()) == 1


def test_is_an_outcome_not_offered_refused(account):
    opened = new_charge(account)
    with pytest.raises(DomainError, match="outcomes offered"):
        sandbox_gateway.decide(opened.charge_id, "steal")
    with pytest.raises(DomainError, match="methods offered"):
        sandbox_gateway.decide(opened.charge_id, "approve", method="cash")
    assert charge(opened.charge_id).status == "open"


def test_is_an_unknown_checkout_not_found():
    with pytest.raises(NotFound):
        sandbox_gateway.checkout("ch_nothing")
    with pytest.raises(NotFound):
        sandbox_gateway.decide("ch_nothing", "approve")


# ---------------------------------------------------------------------------------- refunds


@pytest.fixture
def paid(account):
    opened = new_charge(account, amount="1000.00")
    sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
    db.session.commit()
    return opened


def test_is_a_payment_refunded_in_parts_then_whole(gateway, paid):
    first = refund(gateway, paid.charge_id, "300.00", key="r1")
    second = refund(gateway, paid.charge_id, "700.00", key="r2")
    assert (first.status, first.amount, second.amount) == (
        "succeeded",
        Decimal("300.00"),
        Decimal("700.00"),
    )
    assert first.refund_reference != second.refund_reference
    assert charge(paid.charge_id).refunded_amount == Decimal("1000.00")
    with pytest.raises(base.GatewayError, match="above what is left"):
        refund(gateway, paid.charge_id, "0.01", key="r3")


def test_is_a_refund_above_what_is_left_refused_and_nothing_moves(gateway, paid):
    refund(gateway, paid.charge_id, "600.00", key="r1")
    with pytest.raises(base.GatewayError, match=r"above what is left to refund \(40000\)"):
        refund(gateway, paid.charge_id, "400.01", key="r2")
    db.session.rollback()
    assert charge(paid.charge_id).refunded_amount == Decimal("600.00")
    assert db.session.scalar(select(func.count(SandboxRefund.id))) == 1


def test_is_a_retried_refund_made_once(gateway, paid):
    first = refund(gateway, paid.charge_id, "250.00", key="same")
    again = refund(gateway, paid.charge_id, "250.00", key="same")
    assert again == first
    assert charge(paid.charge_id).refunded_amount == Decimal("250.00")
    with pytest.raises(base.GatewayError, match="another amount"):
        refund(gateway, paid.charge_id, "100.00", key="same")


@pytest.mark.parametrize("outcome", ["decline", "pending", "cancel"])
def test_is_a_payment_not_succeeded_never_refunded(account, gateway, outcome):
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, outcome, now=T0)
    with pytest.raises(base.GatewayError, match="only a succeeded charge"):
        refund(gateway, opened.charge_id, "1.00")


def test_is_a_zero_refund_refused(gateway, paid):
    with pytest.raises(base.GatewayError, match="positive"):
        refund(gateway, paid.charge_id, "0")


# ------------------------------------------------------------------------------------- fees


@pytest.mark.parametrize(
    ("amount", "currency", "percent", "fixed", "fee"),
    [
        ("150000.00", "COP", "2.90", "900", "5250.00"),
        ("10.05", "USD", "2.90", "0.30", "0.59"),  # 0.59145 → 0.59
        ("10.35", "USD", "2.90", "0.30", "0.60"),  # 0.60015 → 0.60
        ("15015", "CLP", "2.90", "100", "535"),  # 535.435 → 535, no decimals
        ("15035", "CLP", "2.90", "100", "536"),  # 536.015 → 536
        ("5.00", "USD", "2.90", "900", "5.00"),  # never more than the payment
    ],
)
def test_is_the_fee_the_accounts_percent_plus_fixed_in_the_currencys_quantum(
    amount, currency, percent, fixed, fee
):
    account = open_account(fee_percent=Decimal(percent), fee_fixed=Decimal(fixed))
    opened = new_charge(account, amount=amount, currency=currency)
    sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
    assert charge(opened.charge_id).fee == Decimal(fee)


# ---------------------------------------------------------------------------------- payouts


def test_is_a_days_payout_the_charges_less_fees_and_refunds(account, gateway):
    day = T0.date()
    amounts = ("100000.00", "50000.00")
    for number, amount in enumerate(amounts):
        opened = new_charge(account, amount=amount, key=f"a{number}", reference=str(number))
        sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
        db.session.commit()
    refunded = charge(opened.charge_id)
    refund(gateway, refunded.charge_id, "20000.00")
    declined = new_charge(account, key="declined")
    sandbox_gateway.decide(declined.charge_id, "decline", now=T0)
    [payout] = sandbox_gateway.pay_out(day, now=T0 + dt.timedelta(days=1))
    db.session.commit()
    fees = Decimal("3800.00") + Decimal("2350.00")  # 2.90 % + 900 each
    assert payout.amount == Decimal("150000.00") - fees - Decimal("20000.00")
    assert (payout.paid_on, payout.currency) == (day, "COP")

    [settlement] = gateway.list_settlements(since=day)
    assert settlement.amount == payout.amount
    assert sum(line.net for line in settlement.lines) == payout.amount
    assert sorted((line.kind, line.amount, line.fee) for line in settlement.lines) == [
        ("charge", Decimal("50000.00"), Decimal("2350.00")),
        ("charge", Decimal("100000.00"), Decimal("3800.00")),
        ("refund", Decimal("-20000.00"), Decimal("0.00")),
    ]
    assert {line.reference for line in settlement.lines} == {"0", "1"}
    assert gateway.list_settlements(since=day + dt.timedelta(days=1)) == []


def test_is_a_payout_made_once_a_day(account, paid):
    day = T0.date()
    assert len(sandbox_gateway.pay_out(day)) == 1
    db.session.commit()
    assert sandbox_gateway.pay_out(day) == []
    assert db.session.scalar(select(func.count(SandboxPayout.id))) == 1


def test_is_each_currency_paid_out_apart_and_only_up_to_the_day(account):
    day = T0.date()
    usd = new_charge(account, amount="10.00", currency="USD", key="usd")
    sandbox_gateway.decide(usd.charge_id, "approve", now=T0)
    cop = new_charge(account, amount="1000.00", key="cop")
    sandbox_gateway.decide(cop.charge_id, "approve", now=T0)
    tomorrow = new_charge(account, amount="2000.00", key="tomorrow")
    sandbox_gateway.decide(tomorrow.charge_id, "approve", now=T0 + dt.timedelta(days=1))
    payouts = sandbox_gateway.pay_out(day)
    assert sorted(p.currency for p in payouts) == ["COP", "USD"]
    assert charge(tomorrow.charge_id).payout_id is None
    # Tomorrow's payout takes it, and what an earlier day left behind.
    [next_payout] = sandbox_gateway.pay_out(day + dt.timedelta(days=1))
    assert charge(tomorrow.charge_id).payout_id == next_payout.id


def test_does_a_refund_after_the_payout_go_in_the_next(account, gateway, paid, clock):
    day = T0.date()
    sandbox_gateway.pay_out(day)
    db.session.commit()
    clock.now = T0 + dt.timedelta(days=1)
    refund(gateway, paid.charge_id, "100.00")
    [payout] = sandbox_gateway.pay_out(day + dt.timedelta(days=1))
    assert payout.amount == Decimal("-100.00")  # a refund alone is a debit


# --------------------------------------------------------------------------------- webhooks


def test_can_the_portal_verify_each_webhook_with_the_adapter(account, gateway, paid):
    refund(gateway, paid.charge_id, "100.00")
    receiver = Receiver()
    report = sandbox_gateway.deliver_due(T0, receiver)
    assert len(report.sent) == 2
    events = []
    for target, body, headers in receiver.received:
        assert target == "conn_public_1"
        assert headers["Content-Type"] == "application/json"
        events += gateway.parse_webhook(body, headers)
    assert [e.kind for e in events] == [base.PAYMENT_SUCCEEDED, base.REFUND_SUCCEEDED]
    succeeded, refunded = events
    assert (succeeded.reference, succeeded.amount, succeeded.currency) == (
        "1",
        Decimal("1000.00"),
        "COP",
    )
    assert (refunded.amount, refunded.refunded_total) == (Decimal("100.00"), Decimal("100.00"))
    assert refunded.refund_reference.startswith("re_")
    assert [row.state for row in webhooks()] == ["sent", "sent"]
    assert sandbox_gateway.deliver_due(T0, receiver).sent == []  # sent once


def test_is_a_webhook_signed_with_another_accounts_secret_refused(account, paid):
    receiver = Receiver()
    sandbox_gateway.deliver_due(T0, receiver)
    _target, body, headers = receiver.received[0]
    stranger = gateway_for(open_account("conn_2"))
    with pytest.raises(base.SignatureError):
        stranger.parse_webhook(body, headers)


def test_are_duplicates_sent_with_the_same_event_id(account):
    sandbox_gateway.set_delivery_options(account.account_id, duplicate=2)
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
    receiver = Receiver()
    assert len(sandbox_gateway.deliver_due(T0, receiver).sent) == 3
    ids = {event["id"] for event in receiver.events()}
    assert len(ids) == 1 and receiver.types() == ["charge.succeeded"] * 3


def test_is_a_delayed_webhook_sent_only_when_due(account):
    sandbox_gateway.set_delivery_options(account.account_id, delay_seconds=90)
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
    receiver = Receiver()
    assert sandbox_gateway.deliver_due(T0 + MINUTE, receiver).sent == []
    assert sandbox_gateway.due_webhooks(T0 + MINUTE) == []
    assert len(sandbox_gateway.deliver_due(T0 + dt.timedelta(seconds=90), receiver).sent) == 1
    assert receiver.types() == ["charge.succeeded"]


def test_are_webhooks_due_at_once_sent_newest_first_when_asked(account, gateway, paid):
    refund(gateway, paid.charge_id, "100.00", key="r1")
    refund(gateway, paid.charge_id, "200.00", key="r2")
    sandbox_gateway.set_delivery_options(account.account_id, reverse=True)
    receiver = Receiver()
    assert len(sandbox_gateway.deliver_due(T0, receiver).sent) == 3
    assert receiver.types() == ["charge.refunded", "charge.refunded", "charge.succeeded"]
    totals = [e["data"]["charge"]["refunded_amount"] for e in receiver.events()]
    assert totals == [30000, 10000, 0]


def test_are_webhooks_sent_oldest_first_by_default(account, gateway, paid):
    refund(gateway, paid.charge_id, "100.00")
    receiver = Receiver()
    sandbox_gateway.deliver_due(T0, receiver)
    assert receiver.types() == ["charge.succeeded", "charge.refunded"]


def test_is_a_webhook_retried_on_its_backoff_until_the_portal_answers(account, paid):
    receiver = Receiver(RuntimeError("portal down"), 500, 503)
    [row] = webhooks()
    now = T0
    assert sandbox_gateway.deliver(row.id, receiver, now=now) is False
    waits = []
    for _attempt in range(2):
        row = webhooks()[0]
        waits.append(row.due_at - now)
        assert sandbox_gateway.deliver(row.id, receiver, now=row.due_at - MINUTE / 60) is None
        now = row.due_at
        assert sandbox_gateway.deliver(row.id, receiver, now=now) is False
    row = webhooks()[0]
    waits.append(row.due_at - now)
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30)]
    assert (row.state, row.attempts, row.last_error) == ("due", 3, "HTTP 503")
    assert sandbox_gateway.deliver(row.id, receiver, now=row.due_at) is True
    row = webhooks()[0]
    assert (row.state, row.attempts, row.last_error) == ("sent", 4, "")
    assert len({body for _t, body, _h in receiver.received}) == 1  # the same event each time
    assert len(receiver.received) == 4


def test_is_a_webhook_dead_after_its_sixth_failure(account, paid):
    receiver = Receiver(*([500] * 10))
    [row] = webhooks()
    now = T0
    for _attempt in range(sandbox_gateway.MAX_ATTEMPTS):
        assert sandbox_gateway.deliver(row.id, receiver, now=now) is False
        row = webhooks()[0]
        now = row.due_at
    assert (row.state, row.attempts) == ("dead", 6)
    assert sandbox_gateway.deliver(row.id, receiver, now=now + dt.timedelta(days=1)) is None
    assert sandbox_gateway.due_webhooks(now + dt.timedelta(days=1)) == []
    assert len(receiver.received) == 6


def test_is_a_refused_webhook_not_retried(account, paid):
    receiver = Receiver(400)
    [row] = webhooks()
    assert sandbox_gateway.deliver(row.id, receiver, now=T0) is False
    row = webhooks()[0]
    assert (row.state, row.last_error) == ("dead", "HTTP 400: refused, not retried")


def test_does_an_account_without_a_target_write_no_webhooks():
    account = open_account("")
    opened = new_charge(account)
    sandbox_gateway.decide(opened.charge_id, "approve", now=T0)
    assert webhooks() == []
