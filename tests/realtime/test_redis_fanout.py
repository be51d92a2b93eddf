"""With REDIS_URL set, does an event published by another process reach a live browser socket?

A real server process (``python wsgi.py``) runs with Redis as its Socket.IO message queue; this
test process publishes through Redis, as a background job or a second server would, and a
python-socketio client signed in to the server must receive it — and a client of another
company must not.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio as socketio_client
from flask_socketio import SocketIO

from tests.services_helpers import redis_url

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    url = redis_url()
    port = _free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "REDIS_URL": url,
        "APP_ENV": "development",
        "PORT": str(port),
        "LOGIN_RATE_LIMIT": "100 per minute",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/auth/login", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
    yield {"base": base, "redis": url, "db": tmp_path / "portal.db"}
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _signed_in_socket(base: str, email: str) -> tuple[socketio_client.Client, list]:
    http = requests.Session()
    page = http.get(base + "/auth/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = http.post(base + "/auth/login", timeout=10, allow_redirects=False,
                         data={"email": email, "password": "demo-pass-2026", "csrf_token": token})
    assert response.status_code == 303, response.text[:500]
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    received: list = []
    arrived = threading.Event()
    client = socketio_client.Client(reconnection=False)

    @client.on("invoice:changed")
    def _on(data):
        received.append(data)
        arrived.set()

    client.connect(base, headers={"Cookie": cookie}, transports=["websocket"],
                   wait_timeout=10)
    received.append(arrived)
    return client, received


def test_does_an_event_published_through_redis_reach_only_the_right_company(server):
    with sqlite3.connect(server["db"]) as conn:
        andina = conn.execute("SELECT id FROM companies WHERE tax_id = '9001234568'").fetchone()[0]
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
