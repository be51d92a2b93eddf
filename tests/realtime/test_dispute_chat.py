"""The dispute chat over Socket.IO (one process): rooms the server picks, acks with ids,
backfill after a reconnection, refusals for strangers and for users who lost access."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db, socketio
from app.models import DisputeMessage, Membership
from app.services.disputes import disputes
from app.tenancy import acting_as, unscoped
from tests.conftest import isolated, login, make_company, make_user
from tests.realtime.test_live import collect
from tests.services.inbox_helpers import give_certificate, make_document

pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def parties():
    supplier = make_company("Proveedora")
    give_certificate(supplier)
    customer = make_company("Compradora")
    seller = make_user(supplier, role="receivables", name="Sara Vendedora")
    buyer = make_user(customer, role="payables", name="Ana Compradora")
    document = make_document(supplier, customer, payable="500000.00")
    db.session.commit()
    with acting_as(customer.id, buyer.id):
        dispute = disputes.open_dispute(
            customer.id, document_id=document.id, reason="quantity", amount="1000",
            message="Llegaron 8 de 10", actor=buyer,
        )
        db.session.commit()
    return {"supplier": supplier, "customer": customer, "seller": seller, "buyer": buyer,
            "document": document, "dispute": dispute}


def connect(app, user, company):
    client = app.test_client()
    login(client, user, company)
    socket = isolated(socketio.test_client, app, flask_test_client=client)
    assert socket.is_connected()
    socket.get_received()
    return socket


def call(socket, event, data):
    return isolated(socket.emit, event, data, callback=True)


def test_does_a_message_reach_both_companies_in_the_room_and_no_one_else(app, parties):
    dispute = parties["dispute"]
    buyer = connect(app, parties["buyer"], parties["customer"])
    seller = connect(app, parties["seller"], parties["supplier"])
    stranger_company = make_company("Ajena")
    stranger = connect(app, make_user(stranger_company, role="owner"), stranger_company)

    joined = call(seller, "dispute:join", {"dispute_id": dispute.id, "after": 0})
    assert joined["ok"] and [m["body"] for m in joined["messages"]][-1] == "Llegaron 8 de 10"
    assert call(buyer, "dispute:join", {"dispute_id": dispute.id})["ok"]
    refused = call(stranger, "dispute:join", {"dispute_id": dispute.id})
    assert refused == {"ok": False, "error": {"code": "not_found",
                                              "message": refused["error"]["message"]}}
    for s in (buyer, seller, stranger):
        s.get_received()

    ack = call(seller, "message:send", {"dispute_id": dispute.id, "body": "Enviamos las 2 cajas",
                                        "client_id": "c-1"})
    assert ack["ok"] and not ack["duplicate"]
    # Written before it was broadcast: the row exists with the acknowledged id.
    stored = db.session.scalars(
        unscoped(select(DisputeMessage).where(DisputeMessage.id == ack["id"]))
    ).one()
    assert stored.body == "Enviamos las 2 cajas" and stored.company_id == parties["supplier"].id

    got = collect(buyer, "message:new")
    assert [(m["id"], m["body"], m["author"]) for m in got["message:new"]] == [
        (ack["id"], "Enviamos las 2 cajas", "Sara Vendedora")
    ]
    assert "message:new" not in collect(stranger, "message:new", timeout=0.5)
    # A stranger cannot write in it either.
    assert call(stranger, "message:send", {"dispute_id": dispute.id, "body": "hola"})["ok"] is False


def test_does_a_reconnecting_client_receive_what_it_missed(app, parties):
    dispute = parties["dispute"]
    buyer = connect(app, parties["buyer"], parties["customer"])
    first = call(buyer, "dispute:join", {"dispute_id": dispute.id})
    last_seen = first["messages"][-1]["id"]
    isolated(buyer.disconnect)

    seller = connect(app, parties["seller"], parties["supplier"])
    call(seller, "dispute:join", {"dispute_id": dispute.id})
    sent = [call(seller, "message:send", {"dispute_id": dispute.id, "body": f"m{i}",
                                          "client_id": f"k{i}"})["id"] for i in range(3)]

    buyer = connect(app, parties["buyer"], parties["customer"])
    again = call(buyer, "dispute:join", {"dispute_id": dispute.id, "after": last_seen})
    assert [m["id"] for m in again["messages"]] == sent
    assert [m["body"] for m in again["messages"]] == ["m0", "m1", "m2"]


def test_is_a_resent_message_acknowledged_with_the_same_id(app, parties):
    dispute = parties["dispute"]
    seller = connect(app, parties["seller"], parties["supplier"])
    call(seller, "dispute:join", {"dispute_id": dispute.id})
    one = call(seller, "message:send", {"dispute_id": dispute.id, "body": "x", "client_id": "same"})
    two = call(seller, "message:send", {"dispute_id": dispute.id, "body": "x", "client_id": "same"})
    assert one["id"] == two["id"] and two["duplicate"] is True


def test_is_a_user_who_lost_access_refused(app, parties):
    dispute = parties["dispute"]
    buyer = connect(app, parties["buyer"], parties["customer"])
    assert call(buyer, "dispute:join", {"dispute_id": dispute.id})["ok"]
    membership = db.session.scalars(
        unscoped(select(Membership).where(Membership.user_id == parties["buyer"].id))
    ).one()
    membership.active = False
    db.session.commit()
    refused = call(buyer, "message:send", {"dispute_id": dispute.id, "body": "sigo aquí"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"


def test_is_a_role_that_cannot_take_part_refused_but_may_read(app, parties):
    dispute = parties["dispute"]
    viewer = make_user(parties["customer"], role="viewer")
    socket = connect(app, viewer, parties["customer"])
    assert call(socket, "dispute:join", {"dispute_id": dispute.id})["ok"]
    refused = call(socket, "message:send", {"dispute_id": dispute.id, "body": "opino"})
    assert refused["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"dispute_id": "abc"}, "not_found"),
        ({"dispute_id": None}, "not_found"),
        ("just a string", "not_found"),
        ({"dispute_id": 10**9, "body": "x"}, "not_found"),
    ],
)
def test_are_malformed_events_answered_not_crashed(app, parties, data, code):
    seller = connect(app, parties["seller"], parties["supplier"])
    answer = call(seller, "message:send", data)
    assert answer["ok"] is False and answer["error"]["code"] == code


def test_is_a_too_long_message_refused(app, parties):
    seller = connect(app, parties["seller"], parties["supplier"])
    answer = call(seller, "message:send", {"dispute_id": parties["dispute"].id,
                                           "body": "a" * 4097})
    assert answer["ok"] is False and answer["error"]["code"] == "invalid"


def test_are_messages_limited_per_user(app, parties, monkeypatch):
    monkeypatch.setitem(app.config, "CHAT_RATE_LIMIT", "3 per minute")
    seller = connect(app, parties["seller"], parties["supplier"])
    answers = [call(seller, "message:send", {"dispute_id": parties["dispute"].id,
                                             "body": f"r{i}"}) for i in range(4)]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[-1]["error"]["code"] == "rate_limited"


def test_do_typing_and_read_receipts_reach_the_other_side(app, parties):
    dispute = parties["dispute"]
    buyer = connect(app, parties["buyer"], parties["customer"])
    seller = connect(app, parties["seller"], parties["supplier"])
    for s in (buyer, seller):
        call(s, "dispute:join", {"dispute_id": dispute.id})
        s.get_received()
    call(seller, "dispute:typing", {"dispute_id": dispute.id})
    got = collect(buyer, "dispute:typing")
    assert got["dispute:typing"][0]["name"] == "Sara Vendedora"
    assert "dispute:typing" not in collect(seller, "dispute:typing", timeout=0.3)
    sent = call(seller, "message:send", {"dispute_id": dispute.id, "body": "¿Lo leyó?"})
    call(buyer, "dispute:read", {"dispute_id": dispute.id, "message_id": sent["id"]})
    receipts = collect(seller, "dispute:read")
    assert receipts["dispute:read"][-1] == {"dispute_id": dispute.id,
                                            "user_id": parties["buyer"].id,
                                            "message_id": sent["id"]}


def test_are_connections_per_address_limited(app, parties, monkeypatch):
    from collections import Counter

    from app.blueprints.main import events as connection_events

    monkeypatch.setattr(connection_events, "_per_ip", Counter())
    monkeypatch.setitem(app.config, "SOCKET_MAX_CONNECTIONS_PER_IP", 2)
    first = connect(app, parties["buyer"], parties["customer"])
    second = connect(app, parties["seller"], parties["supplier"])
    client = app.test_client()
    login(client, parties["buyer"], parties["customer"])
    third = isolated(socketio.test_client, app, flask_test_client=client)
    assert not third.is_connected()
    isolated(first.disconnect)
    fourth = isolated(socketio.test_client, app, flask_test_client=client)
    assert fourth.is_connected()
    for s in (second, fourth):
        isolated(s.disconnect)
