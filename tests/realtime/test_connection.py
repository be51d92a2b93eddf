"""Who may open a live connection, and which company's events reach it?"""

from __future__ import annotations

import time

from app import realtime
from app.extensions import socketio
from tests.conftest import isolated, login


def _wait_for(client, name, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = [p for p in client.get_received() if p["name"] == name]
        if received:
            return received
        time.sleep(0.05)
    return []


def test_is_an_anonymous_socket_refused(app, client):
    socket = isolated(socketio.test_client, app, flask_test_client=client)
    assert not socket.is_connected()


def test_is_a_socket_from_another_origin_refused(app, client, company, owner):
    login(client, owner, company)
    socket = isolated(socketio.test_client, app, flask_test_client=client,
                                  headers={"Origin": "https://evil.example"})
    assert not socket.is_connected()


def test_do_a_companys_events_reach_its_members_and_no_one_else(
    app, company, owner, other_company, outsider
):
    ours, theirs = app.test_client(), app.test_client()
    login(ours, owner, company)
    login(theirs, outsider, other_company)
    our_socket = isolated(socketio.test_client, app, flask_test_client=ours)
    their_socket = isolated(socketio.test_client, app, flask_test_client=theirs)
    assert our_socket.is_connected() and their_socket.is_connected()
    our_socket.get_received()
    their_socket.get_received()

    realtime.notify_company(company.id, "document:received", {"id": 7})

    received = _wait_for(our_socket, "document:received")
    assert received and received[0]["args"][0] == {"id": 7}
    assert _wait_for(their_socket, "document:received", timeout=0.5) == []
    our_socket.disconnect()
    their_socket.disconnect()


def test_does_a_bumped_session_version_close_the_door_to_sockets(app, client, company, owner):
    login(client, owner, company)
    owner.session_version += 1
    from app.extensions import db

    db.session.commit()
    socket = isolated(socketio.test_client, app, flask_test_client=client)
    assert not socket.is_connected()
