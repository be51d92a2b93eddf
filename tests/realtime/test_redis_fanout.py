"""With REDIS_URL set, does an event published by another process reach a live browser socket?

A real server process (``python wsgi.py``) runs with Redis as its Socket.IO message queue; this
test process publishes through Redis, as a background job or a second server would, and a
python-socketio client signed in to the server must receive it — and a client of another
company must not.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask_socketio import SocketIO

from tests.realtime.servers import (
    connect_socket,
    cookie_header,
    prepare_database,
    server_env,
    sign_in,
    sql,
    start_servers,
)
from tests.services_helpers import redis_url


@pytest.fixture
def server(tmp_path):
    url = redis_url()
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    env = server_env(tmp_path, database_url, url)
    prepare_database(env)
    (process,) = start_servers(env, tmp_path, 1)
    yield {"base": process.base, "redis": url, "db": database_url}
    process.stop()


def _signed_in_socket(base: str, email: str):
    received: list = []
    arrived = threading.Event()

    def _on(data):
        received.append(data)
        arrived.set()

    cookie = cookie_header(sign_in(base, email))
    client = connect_socket(base, cookie, {"invoice:changed": _on})
    received.append(arrived)
    return client, received


def test_does_an_event_published_through_redis_reach_only_the_right_company(server):
    ((andina,),) = sql(server["db"], "SELECT id FROM companies WHERE tax_id = '9001234568'")
    buyer, buyer_got = _signed_in_socket(server["base"], "buyer@demo.test")
    supplier, supplier_got = _signed_in_socket(server["base"], "supplier@demo.test")
    try:
        time.sleep(0.3)  # let both sockets finish joining their rooms
        publisher = SocketIO(message_queue=server["redis"])  # write-only, like a worker
        publisher.emit("invoice:changed", {"id": 42}, to=f"company:{andina}")
        arrived = buyer_got[0]
        assert arrived.wait(10), "the buyer's socket never received the event"
        assert buyer_got[1:] == [{"id": 42}]
        time.sleep(0.5)
        assert supplier_got[1:] == [], "another company's socket received the event"
    finally:
        buyer.disconnect()
        supplier.disconnect()
