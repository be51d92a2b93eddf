"""When a user's access ends, do the sockets they opened before stop hearing at once (one process)?

Signing out (which ends every session), changing or resetting the password, being deactivated
in (removed from) a company, or being given a role without ``disputes.participate``: the
sockets opened before hear nothing more — no ``message:new``, ``dispute:activity``,
``dispute:read``, ``dispute:changed``, ``document:*`` or ``notification:new`` — and are
disconnected, while a colleague whose session is still valid keeps hearing everything.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from app import realtime, security
from app.extensions import db, socketio
from app.models import Membership, User
from app.services.disputes import disputes
from app.tenancy import acting_as, unscoped
from tests.conftest import PASSWORD, isolated, login, make_company, make_user
from tests.realtime.test_dispute_chat import call, connect
from tests.realtime.test_live import collect
from tests.services.inbox_helpers import give_certificate, make_document

pytestmark = pytest.mark.usefixtures("no_official_rules")

NEW_PASSWORD = "Otra-Clave-Muy-Segura-2026"  # noqa: S105 (a test password)
HEARD_BY_MEMBERS = ("message:new", "dispute:activity", "dispute:read", "dispute:changed")


@pytest.fixture
def parties(app):
    supplier = make_company("Proveedora")
    give_certificate(supplier)
    customer = make_company("Compradora")
    owner = make_user(customer, role="owner", name="Olga Dueña")
    seller = make_user(supplier, role="receivables", name="Sara Vendedora")
    buyer = make_user(customer, role="payables", name="Ana Compradora")
    colleague = make_user(customer, role="payables", name="Carlos Colega")
    document = make_document(supplier, customer, payable="500000.00")
    db.session.commit()
    with acting_as(customer.id, buyer.id):
        dispute = disputes.open_dispute(
            customer.id,
            document_id=document.id,
            reason="quantity",
            amount="1000",
            message="Llegaron 8 de 10",
            actor=buyer,
        )
        db.session.commit()
    return {
        "supplier": supplier,
        "customer": customer,
        "owner": owner,
        "seller": seller,
        "buyer": buyer,
        "colleague": colleague,
        "document": document,
        "dispute": dispute,
    }


def _http(app, user, company):
    client = app.test_client()
    login(client, user, company)
    return client


def _membership_id(user, company) -> int:
    stmt = select(Membership.id).where(
        Membership.user_id == user.id, Membership.company_id == company.id
    )
    return db.session.scalars(unscoped(stmt)).one()


def _closed(socket) -> bool:
    """Wait until the server closed the socket; forget what it heard while it was still open.

    An emit published before the close (a chat's trailing ``dispute:activity``, sent up to a
    second late) may reach it through the message queue while it is open; that is allowed.
    Whatever lands in its queue afterwards is what the tests forbid.
    """
    if not _until(lambda: not socket.is_connected()):
        return False
    socket.queue.clear()
    return True


def _until(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# Each way access ends, done as the user (or their administrator) does it: through the site.


def _sign_out_here(app, p, session):
    assert session.post("/auth/logout").status_code == 303


def _sign_out_elsewhere(app, p, session):
    other_device = _http(app, p["buyer"], p["customer"])
    assert other_device.post("/auth/logout").status_code == 303


def _change_password(app, p, session):
    other_device = _http(app, p["buyer"], p["customer"])
    response = other_device.post(
        "/auth/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303, response.status_code


def _reset_password(app, p, session):
    buyer = p["buyer"]
    token = security.make_token(
        "password-reset", {"u": buyer.id, "f": security.fingerprint(buyer.password_hash)}
    )
    response = app.test_client().post(
        f"/auth/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 303, response.status_code


def _team_action(path, data=None):
    def act(app, p, session):
        admin = _http(app, p["owner"], p["customer"])
        membership_id = _membership_id(p["buyer"], p["customer"])
        response = admin.post(f"/team/members/{membership_id}/{path}", data=data or {})
        assert response.status_code == 303, response.status_code

    return act


ENDINGS = {
    "sign-out in this session": (_sign_out_here, True),
    "sign-out on another device": (_sign_out_elsewhere, True),
    "password changed on another device": (_change_password, True),
    "password reset by e-mail link": (_reset_password, True),
    "deactivated (removed from the company)": (_team_action("deactivate", {"confirm": "1"}), True),
    "role changed to viewer": (_team_action("role", {"role": "viewer"}), False),
    "role changed to sales": (_team_action("role", {"role": "sales"}), False),
}


def _hear_everything(app, p):
    """Make every kind of event the buyer's socket could hear; return the colleague's events."""
    dispute = p["dispute"]
    seller = connect(app, p["seller"], p["supplier"])
    colleague = connect(app, p["colleague"], p["customer"])
    assert call(colleague, "dispute:join", {"dispute_id": dispute.id})["ok"]
    colleague.get_received()
    time.sleep(1.05)  # dispute:activity is sent at most once a second per dispute
    sent = call(seller, "message:send", {"dispute_id": dispute.id, "body": "Salen mañana"})
    assert sent["ok"], sent
    assert call(colleague, "dispute:read", {"dispute_id": dispute.id, "message_id": sent["id"]})[
        "ok"
    ]
    realtime.notify_company(p["customer"].id, "dispute:changed", {"dispute_id": dispute.id})
    realtime.notify_company(p["customer"].id, "document:changed", {"id": p["document"].id})
    realtime.notify_user(p["buyer"].id, "notification:new", {"id": 1, "kind": "test"})
    realtime.notify_user(p["colleague"].id, "notification:new", {"id": 2, "kind": "test"})
    heard = collect(colleague, *HEARD_BY_MEMBERS, "document:changed", "notification:new")
    assert [m["id"] for m in heard["message:new"]] == [sent["id"]]
    return heard


@pytest.mark.parametrize("ending", list(ENDINGS), ids=list(ENDINGS))
def test_does_a_socket_opened_before_access_ended_hear_nothing_more_and_close(app, parties, ending):
    act, session_ended = ENDINGS[ending]
    p = parties
    session = _http(app, p["buyer"], p["customer"])
    buyer = isolated(socketio.test_client, app, flask_test_client=session)
    assert buyer.is_connected()
    assert call(buyer, "dispute:join", {"dispute_id": p["dispute"].id})["ok"]
    buyer.get_received()
    # Before: the buyer's socket hears the conversation (so this test can fail).
    seller = connect(app, p["seller"], p["supplier"])
    before = call(seller, "message:send", {"dispute_id": p["dispute"].id, "body": "Hola"})
    got = collect(buyer, "message:new", "dispute:activity")  # activity may trail by a second
    assert [m["id"] for m in got["message:new"]] == [before["id"]] and got["dispute:activity"]
    buyer.queue.clear()

    act(app, p, session)

    assert _closed(buyer), "the socket was not disconnected"
    heard = _hear_everything(app, p)
    assert set(HEARD_BY_MEMBERS) <= set(heard)  # the colleague still hears everything
    assert buyer.queue == [], f"the socket heard {[e['name'] for e in buyer.queue]}"
    # The same cookie cannot open a new socket once its session ended.
    again = isolated(socketio.test_client, app, flask_test_client=session)
    assert again.is_connected() is not session_ended
    if again.is_connected():
        again.disconnect()


def test_does_an_ended_socket_hear_nothing_even_before_it_is_closed(app, parties, monkeypatch):
    """Emits skip a socket as soon as its access ends, not only once the disconnect is done."""
    p = parties
    session = _http(app, p["buyer"], p["customer"])
    buyer = isolated(socketio.test_client, app, flask_test_client=session)
    assert call(buyer, "dispute:join", {"dispute_id": p["dispute"].id})["ok"]
    buyer.get_received()
    monkeypatch.setattr(realtime, "_disconnect_later", lambda server, sockets: None)

    _sign_out_elsewhere(app, p, session)

    assert buyer.is_connected()  # the disconnect was held back on purpose
    _hear_everything(app, p)
    assert buyer.queue == []
    # Its own events are refused too (the session ended).
    refused = call(buyer, "message:send", {"dispute_id": p["dispute"].id, "body": "sigo aquí"})
    assert refused["ok"] is False and refused["error"]["code"] == "unauthenticated"
    buyer.disconnect()


def test_does_a_role_change_in_one_company_leave_the_users_sockets_of_another(app, parties):
    """A role is per company: the user's socket acting for their other company stays open."""
    p = parties
    other = make_company("Otra Empresa")
    db.session.add(Membership(company_id=other.id, user_id=p["buyer"].id, role="payables"))
    db.session.commit()
    here = isolated(
        socketio.test_client, app, flask_test_client=_http(app, p["buyer"], p["customer"])
    )
    there = isolated(socketio.test_client, app, flask_test_client=_http(app, p["buyer"], other))
    assert here.is_connected() and there.is_connected()
    there.get_received()

    _team_action("role", {"role": "viewer"})(app, p, None)

    assert _until(lambda: not here.is_connected())
    realtime.notify_company(other.id, "document:changed", {"id": 7})
    assert collect(there, "document:changed")["document:changed"] == [{"id": 7}]
    there.disconnect()


def test_is_a_socket_still_connecting_when_access_ends_refused(app, parties):
    """A connect that read the user before the end arrived must not keep the old access."""
    buyer, customer = parties["buyer"], parties["customer"]
    started = time.monotonic()
    realtime._mark_ended(
        {"user_id": buyer.id, "company_id": None, "below_version": buyer.session_version + 1}
    )
    tracked = {"user_id": buyer.id, "company_id": customer.id}
    assert not realtime.track_socket(
        "s-1", **tracked, session_version=buyer.session_version, since=started
    )
    # A session at the new version, or a connect that began after the end, is let in.
    assert realtime.track_socket(
        "s-2", **tracked, session_version=buyer.session_version + 1, since=started
    )
    assert realtime.track_socket(
        "s-3", **tracked, session_version=buyer.session_version, since=time.monotonic()
    )
    # A company's end does not refuse the user's sockets of another company.
    realtime._mark_ended({"user_id": buyer.id, "company_id": customer.id, "below_version": None})
    assert realtime.track_socket(
        "s-4",
        user_id=buyer.id,
        company_id=customer.id + 1000,
        session_version=buyer.session_version + 1,
        since=started,
    )
    for sid in ("s-2", "s-3", "s-4"):
        realtime.forget_socket(sid)


def _lost_signal(app, p, session):
    """A sign-out whose signal never arrived (as if the message queue was down)."""
    original = realtime.end_access
    realtime.end_access = lambda *args, **kwargs: None
    try:
        _sign_out_elsewhere(app, p, session)
    finally:
        realtime.end_access = original


def _deactivated_outside_the_services(app, p, session):
    db.session.execute(update(User).where(User.id == p["buyer"].id).values(active=False))
    db.session.commit()


def _role_changed_outside_the_services(app, p, session):
    membership_id = _membership_id(p["buyer"], p["customer"])
    db.session.execute(
        update(Membership).where(Membership.id == membership_id).values(role="viewer")
    )
    db.session.commit()


RECHECKED = {
    "signal lost": _lost_signal,
    "user deactivated outside the services": _deactivated_outside_the_services,
    "role changed outside the services": _role_changed_outside_the_services,
}


@pytest.mark.parametrize("ending", list(RECHECKED), ids=list(RECHECKED))
def test_does_the_periodic_recheck_close_a_socket_whose_end_was_not_signalled(app, parties, ending):
    from app.blueprints.main.events import recheck_sockets

    p = parties
    session = _http(app, p["buyer"], p["customer"])
    buyer = isolated(socketio.test_client, app, flask_test_client=session)
    assert call(buyer, "dispute:join", {"dispute_id": p["dispute"].id})["ok"]
    colleague = connect(app, p["colleague"], p["customer"])
    buyer.get_received()
    sid = socketio.server.manager.sid_from_eio_sid(buyer.eio_sid, "/")

    RECHECKED[ending](app, p, session)
    assert buyer.is_connected()  # nothing told this process
    assert recheck_sockets() == [sid]

    assert _closed(buyer)
    assert colleague.is_connected()
    _hear_everything(app, p)
    assert buyer.queue == []
    assert recheck_sockets() == []  # nothing left to close: the colleague is still valid
    colleague.disconnect()


def test_does_each_process_recheck_its_sockets_on_its_own(app, parties, monkeypatch):
    """With SOCKET_ACCESS_RECHECK set, a change nobody signalled closes the socket by itself."""
    p = parties
    monkeypatch.setitem(app.config, "SOCKET_ACCESS_RECHECK", 0.1)
    buyer = isolated(
        socketio.test_client, app, flask_test_client=_http(app, p["buyer"], p["customer"])
    )
    colleague = connect(app, p["colleague"], p["customer"])
    try:
        _deactivated_outside_the_services(app, p, None)
        assert _until(lambda: not buyer.is_connected()), "the re-check did not close the socket"
        time.sleep(0.3)
        assert colleague.is_connected()
    finally:
        app.config["SOCKET_ACCESS_RECHECK"] = 0.0  # the re-check task ends
    colleague.disconnect()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_does_the_recheck_start_again_after_a_pass_failed(app, parties, monkeypatch):
    """A pass that raises ends the re-check task; the next connect starts it again."""
    from app.blueprints.main import events

    p = parties
    passes = []

    def failing_once():
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("a pass failed")
        return []

    monkeypatch.setattr(events, "recheck_sockets", failing_once)
    monkeypatch.setitem(app.config, "SOCKET_ACCESS_RECHECK", 0.05)
    try:
        first = connect(app, p["colleague"], p["customer"])
        assert _until(lambda: passes and not events._recheck_started), "the task did not end"
        second = connect(app, p["colleague"], p["customer"])
        assert _until(lambda: len(passes) >= 2), "the re-check did not start again"
    finally:
        app.config["SOCKET_ACCESS_RECHECK"] = 0.0  # the re-check task ends
    assert _until(lambda: not events._recheck_started)
    first.disconnect()
    second.disconnect()
