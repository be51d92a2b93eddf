"""Real server processes for the real-time tests and the chat benchmark.

A Redis of our own (stopped and restarted at will), one database shared by every process (a
SQLite file, or a fresh PostgreSQL database when DATABASE_URL names a PostgreSQL server),
``python wsgi.py`` processes on free ports, signed-in HTTP sessions and python-socketio clients.
Run as ``python -m tests.realtime.servers prepare N`` (with the servers' environment), it
migrates the database, loads the demo data, adds N invoices from Ferretería El Tornillo to
Distribuidora Andina (the demo data has none) and prints their ids.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio as socketio_client

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-pass-2026"  # noqa: S105 (the demo data's password)
ANDINA_TAX_ID = "9001234568"
TORNILLO_TAX_ID = "9012345677"


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    """Return the redis-server executable; skip the test without one (fail under
    REQUIRE_SERVICES=1)."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        reason = "redis-server is not installed"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return binary


class RedisServer:
    """A redis-server of our own on a free port: nothing persisted, stoppable, restartable."""

    def __init__(self, binary: str, log_dir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        """Start (or restart) the server on the same port and wait until it answers."""
        import redis

        self.starts += 1
        log = open(self.log_dir / f"redis-{self.starts}.log", "wb")  # noqa: SIM115
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it to exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def subscribers(self, channel: str = "flask-socketio") -> int:
        """Return how many connections listen on the Socket.IO channel."""
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))


# ------------------------------------------------------------------------------------ database


@contextmanager
def shared_database(directory: Path) -> Iterator[str]:
    """Yield a database URL for every process: a SQLite file, or a fresh PostgreSQL database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql")):
        yield f"sqlite:///{directory / 'portal.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base.replace("postgres://", "postgresql://", 1))
    name = f"portal_rt_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(database_url: str, query: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on the shared database (``?`` placeholders) and return its rows."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(query, params).fetchall()
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        cursor = conn.execute(query.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


def server_env(directory: Path, database_url: str, redis_url: str = "", **extra: str) -> dict:
    """Return the environment every server process (and CLI command) of one cluster shares."""
    return {
        **os.environ,
        "INSTANCE_PATH": str(directory),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "APP_ENV": "development",
        "SECRET_KEY": "realtime-tests-shared-secret",  # one key: a cookie works on every server
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "JOBS_IN_PROCESS": "0",
        "FLASK_DEBUG": "0",
        **extra,
    }


def prepare_database(env: dict, documents: int = 0) -> list[int]:
    """Migrate, load the demo data and add invoices Tornillo → Andina; return their ids.

    One child process does it all (as ``flask db upgrade`` and ``flask demo load`` would): each
    interpreter that imports the app costs seconds.
    """
    done = subprocess.run(
        [sys.executable, "-m", "tests.realtime.servers", "prepare", str(documents)],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the database failed: {done.stderr.decode()[-3000:]}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def _prepare(count: int) -> list[int]:
    """Migrate, load the demo data, and add invoices from Ferretería El Tornillo to Andina."""
    from sqlalchemy import select

    from app import create_app
    from app.cli import upgrade_database
    from app.config import BASE_DIR
    from app.extensions import db
    from app.models import Company
    from app.services import demo
    from app.tenancy import unscoped
    from tests.services.inbox_helpers import make_document

    app = create_app()
    with app.app_context():
        upgrade_database(app.config["DATABASE_URL"])
        demo.load_demo(BASE_DIR / "fixtures" / "demo.json")

        def company(tax_id: str) -> Company:
            stmt = select(Company).where(Company.tax_id == tax_id)
            return db.session.scalars(unscoped(stmt)).one()

        andina, tornillo = company(ANDINA_TAX_ID), company(TORNILLO_TAX_ID)
        return [
            make_document(
                tornillo,
                andina,
                payable="500000.00",
                number=f"FT-{n + 1:04d}",
                customer_name=andina.legal_name,
                supplier_name=tornillo.legal_name,
            ).id
            for n in range(count)
        ]


# ------------------------------------------------------------------------------------ servers


class ServerProcess:
    """One ``python wsgi.py`` on a port of its own."""

    def __init__(self, env: dict, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env={**env, "PORT": str(self.port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until the login page answers (or raise with the server's log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                requests.get(self.base + "/auth/login", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start: " + self.log_tail())

    def log_tail(self, chars: int = 3000) -> str:
        """Return the end of the server's log."""
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Terminate the process and wait for it (kill it if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_servers(env: dict, log_dir: Path, count: int) -> list[ServerProcess]:
    """Start count servers at once and wait for all (stopping them all if one fails)."""
    servers = [ServerProcess(env, log_dir / f"server-{i}.log") for i in range(count)]
    try:
        for server in servers:
            server.wait_ready()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


# ------------------------------------------------------------------------------------ clients


def csrf_token(page: str) -> str:
    """Return the CSRF token a rendered page carries in its meta tag."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "no csrf-token on the page"
    return match.group(1)


def sign_in(base: str, email: str) -> requests.Session:
    """Sign a demo user in through the login form; the session holds the cookie."""
    http = requests.Session()
    token = csrf_token(http.get(base + "/auth/login", timeout=10).text)
    response = http.post(
        base + "/auth/login",
        timeout=10,
        allow_redirects=False,
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303, response.text[:500]
    return http


def cookie_header(http: requests.Session) -> str:
    """Return the Cookie header a socket needs to be the session's user."""
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def open_dispute(base: str, http: requests.Session, document_id: int, message: str) -> None:
    """Open a dispute on a document through the HTTP form (as the browser posts it)."""
    url = f"{base}/disputes/documents/{document_id}"
    token = csrf_token(http.get(url, timeout=10).text)
    response = http.post(
        url,
        timeout=10,
        allow_redirects=False,
        data={"reason": "quantity", "amount": "1000", "message": message, "csrf_token": token},
    )
    assert response.status_code == 303, (response.status_code, response.text[:500])


def connect_socket(
    base: str, cookie: str, handlers: dict[str, Callable[[Any], None]], timeout: float = 10
) -> socketio_client.Client:
    """Connect a python-socketio client as the cookie's user, with the given event handlers."""
    client = socketio_client.Client(reconnection=False)
    for event, handler in handlers.items():
        client.on(event, handler)
    client.connect(base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=timeout)
    return client


class ChatClient:
    """A dispute chat as the browser keeps it: messages by id, and the id it has everything up to.

    ``cursor`` only moves with a backfill (a ``dispute:join`` acknowledgement lists every message
    after it, from the database); live ``message:new`` events are added to the transcript, deduped
    by id, but never move it — a broadcast lost while Redis was down leaves no trace on a client,
    so the highest id heard is no proof that nothing before it was missed.
    """

    def __init__(self, base: str, cookie: str) -> None:
        self.base = base
        self.cookie = cookie
        self.transcript: dict[int, dict] = {}
        self.live: list[dict] = []
        self.cursor = 0
        self.changed = threading.Condition()
        self.socket: socketio_client.Client | None = None

    def connect(self) -> ChatClient:
        """(Re)connect the socket."""
        self.close()
        self.socket = connect_socket(self.base, self.cookie, {"message:new": self._heard})
        return self

    def _heard(self, payload: dict) -> None:
        with self.changed:
            self.live.append(payload)
            self.transcript.setdefault(payload["id"], payload)
            self.changed.notify_all()

    def call(self, event: str, data: dict, timeout: float = 15) -> Any:
        """Emit an event and return its acknowledgement."""
        assert self.socket is not None
        return self.socket.call(event, data, timeout=timeout)

    def join(self, dispute_id: int) -> dict:
        """Join the dispute's room and backfill every message after the cursor."""
        ack = self.call("dispute:join", {"dispute_id": dispute_id, "after": self.cursor})
        if ack.get("ok"):
            with self.changed:
                for message in ack["messages"]:
                    self.transcript.setdefault(message["id"], message)
                    self.cursor = max(self.cursor, message["id"])
                self.changed.notify_all()
        return ack

    def send(self, dispute_id: int, body: str, client_id: str | None = None) -> dict:
        """Send a message and return the acknowledgement."""
        return self.call(
            "message:send",
            {"dispute_id": dispute_id, "body": body, "client_id": client_id or uuid.uuid4().hex},
        )

    def wait_live(self, predicate: Callable[[list[dict]], bool], timeout: float = 15) -> bool:
        """Wait until the live messages heard satisfy predicate."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.live), timeout=timeout)

    def heard_ids(self) -> list[int]:
        """Return the ids heard live, in arrival order."""
        with self.changed:
            return [m["id"] for m in self.live]

    def ids(self) -> list[int]:
        """Return the transcript's ids in order."""
        with self.changed:
            return sorted(self.transcript)

    def close(self) -> None:
        """Disconnect the socket (if connected)."""
        if self.socket is not None:
            try:
                self.socket.disconnect()
            except Exception:  # noqa: BLE001 (already gone)
                pass
            self.socket = None


def close_all(clients: list[ChatClient]) -> None:
    """Disconnect many clients at once (each close waits up to 3 s for the server's reply)."""
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda c: c.close(), clients))


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        print(json.dumps(_prepare(int(sys.argv[2]))))
    else:
        raise SystemExit("usage: python -m tests.realtime.servers prepare N")
