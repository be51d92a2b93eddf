"""Does a dispute's conversation cross server processes, and survive a Redis outage?

Two real server processes (``python wsgi.py``) share one database and a Redis of this test's
own, which it stops and restarts. The buyer (Distribuidora Andina) talks on one server, the
supplier (Ferretería El Tornillo) on the other; a third company (Papelería Central) must hear
nothing. Messages are stored before they are broadcast, so a Redis outage loses broadcasts
between processes but no message: clients backfill from their cursor when they re-join.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from tests.realtime.servers import (
    ChatClient,
    RedisServer,
    close_all,
    connect_socket,
    cookie_header,
    csrf_token,
    open_dispute,
    prepare_database,
    redis_binary,
    server_env,
    shared_database,
    sign_in,
    sql,
    start_servers,
)

LIVE = 15  # seconds to wait for a broadcast: generous, never asserted as a speed


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Redis of our own, one shared database, and two servers A and B over both."""
    binary = redis_binary()
    directory = tmp_path_factory.mktemp("cluster")
    redis = RedisServer(binary, directory)
    redis.start()
    servers = []
    try:
        with shared_database(directory) as database_url:
            env = server_env(directory, database_url, redis.url)
            documents = prepare_database(env, documents=4)
            servers = start_servers(env, directory, 2)
            cookies = {
                email: cookie_header(sign_in(servers[0].base, email))
                for email in ("buyer@demo.test", "supplier@demo.test", "supplier2@demo.test")
            }
            yield {
                "redis": redis,
                "a": servers[0],
                "b": servers[1],
                "db": database_url,
                "documents": documents,
                "cookies": cookies,
            }
            for server in servers:
                server.stop()
    finally:
        for server in servers:
            server.stop()
        redis.stop()


@pytest.fixture
def chat(cluster):
    """A dispute the buyer opened on a new invoice, and the test's clients (closed after)."""
    document_id = cluster["documents"].pop()
    http = sign_in(cluster["a"].base, "buyer@demo.test")
    open_dispute(cluster["a"].base, http, document_id, "Llegaron 8 de 10 cajas")
    (dispute_id,) = sql(
        cluster["db"], "SELECT id FROM disputes WHERE document_id = ?", (document_id,)
    )[0]
    opened: list[ChatClient] = []

    def client(server: str, email: str) -> ChatClient:
        made = ChatClient(cluster[server].base, cluster["cookies"][email]).connect()
        opened.append(made)
        return made

    yield {"id": dispute_id, "client": client}
    close_all(opened)


def _stored(cluster, dispute_id: int) -> list[int]:
    rows = sql(
        cluster["db"],
        "SELECT id FROM dispute_messages WHERE dispute_id = ? ORDER BY id",
        (dispute_id,),
    )
    return [row[0] for row in rows]


def _until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _heard(client: ChatClient, message_id: int) -> bool:
    return client.wait_live(lambda live: any(m["id"] == message_id for m in live), timeout=LIVE)


def test_does_a_message_sent_on_one_server_reach_the_other_party_on_the_other(cluster, chat):
    dispute = chat["id"]
    buyer = chat["client"]("a", "buyer@demo.test")
    supplier = chat["client"]("b", "supplier@demo.test")
    strangers = [chat["client"](s, "supplier2@demo.test") for s in ("a", "b")]

    opening = buyer.join(dispute)
    assert opening["ok"] and opening["dispute_id"] == dispute
    assert [m["body"] for m in opening["messages"]][-1] == "Llegaron 8 de 10 cajas"
    assert supplier.join(dispute)["ok"]
    for stranger in strangers:
        refused = stranger.join(dispute)
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"

    sent_a = buyer.send(dispute, "¿Cuándo llegan las 2 cajas?")
    assert sent_a["ok"] and isinstance(sent_a["id"], int) and sent_a["duplicate"] is False
    assert _heard(supplier, sent_a["id"]), "B's client never heard the message sent on A"
    sent_b = supplier.send(dispute, "Salen mañana")
    assert sent_b["ok"] and sent_b["id"] > sent_a["id"]
    assert _heard(buyer, sent_b["id"]), "A's client never heard the message sent on B"

    on_b = {m["id"]: m for m in supplier.live}[sent_a["id"]]
    assert (on_b["dispute_id"], on_b["body"], on_b["author"]) == (
        dispute,
        "¿Cuándo llegan las 2 cajas?",
        "Ana Compras",
    )
    on_a = {m["id"]: m for m in buyer.live}[sent_b["id"]]
    assert (on_a["body"], on_a["author"]) == ("Salen mañana", "Tomás Ventas")
    assert on_a["company_id"] != on_b["company_id"]
    # Each side also hears its own message (locally), and in order.
    assert buyer.heard_ids() == supplier.heard_ids() == [sent_a["id"], sent_b["id"]]
    assert _stored(cluster, dispute)[-2:] == [sent_a["id"], sent_b["id"]]
    # The strangers were refused the room: they heard nothing on either server.
    for stranger in strangers:
        assert stranger.live == []
        refused = stranger.send(dispute, "hola")
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"


def test_is_a_resent_message_stored_once_when_it_reaches_the_other_server(cluster, chat):
    dispute = chat["id"]
    on_b = chat["client"]("b", "supplier@demo.test")
    on_a = chat["client"]("a", "supplier@demo.test")  # the same user, after a reconnection
    buyer = chat["client"]("a", "buyer@demo.test")
    for client in (on_a, on_b, buyer):
        assert client.join(dispute)["ok"]
    client_id = uuid.uuid4().hex
    first = on_b.send(dispute, "Adjunto la guía de envío", client_id)
    again = on_a.send(dispute, "Adjunto la guía de envío", client_id)
    assert first["ok"] and first["duplicate"] is False
    assert again == {"ok": True, "id": first["id"], "duplicate": True}
    stored = sql(
        cluster["db"],
        "SELECT id FROM dispute_messages WHERE dispute_id = ? AND client_id = ?",
        (dispute, client_id),
    )
    assert stored == [(first["id"],)]
    assert _heard(buyer, first["id"])
    # The repeat is not broadcast again: the next message is the next thing heard.
    after = on_a.send(dispute, "¿La recibieron?")
    assert _heard(buyer, after["id"])
    assert buyer.heard_ids() == [first["id"], after["id"]]


def test_does_the_conversation_survive_a_redis_outage(cluster, chat):
    dispute, redis = chat["id"], cluster["redis"]
    buyer = chat["client"]("a", "buyer@demo.test")
    supplier = chat["client"]("b", "supplier@demo.test")
    assert buyer.join(dispute)["ok"] and supplier.join(dispute)["ok"]
    before = buyer.send(dispute, "Antes del corte")
    assert _heard(supplier, before["id"])

    redis.stop()
    try:
        during = []
        for i in range(2):  # interleaved, so each side's ids fall between the other's
            for client, who in ((buyer, "comprador"), (supplier, "proveedor")):
                ack = client.send(dispute, f"Durante el corte {i + 1} ({who})")
                assert ack["ok"] and isinstance(ack["id"], int), ack
                during.append((client, ack["id"]))
        # Every one is stored, whatever happened to the broadcast.
        ids_during = [message_id for _, message_id in during]
        assert _stored(cluster, dispute)[-4:] == ids_during
        # Each side heard its own messages (emitted locally) but not the other's: lost with Redis.
        assert buyer.heard_ids()[-2:] == [m for c, m in during if c is buyer]
        assert not set(buyer.heard_ids()) & {m for c, m in during if c is supplier}
    finally:
        redis.start()

    # Both servers subscribe again (python-socketio retries its listener with a backoff).
    assert _until(lambda: redis.subscribers() >= 2, timeout=40), (
        f"the servers did not subscribe again to the restarted Redis ({redis.subscribers()})"
    )
    after_a = buyer.send(dispute, "Después del corte, desde A")
    assert _heard(supplier, after_a["id"]), "A → B did not cross live after the restart"
    after_b = supplier.send(dispute, "Después del corte, desde B")
    assert _heard(buyer, after_b["id"]), "B → A did not cross live after the restart"

    # The browser re-joins after a reconnection and fetches everything after its cursor.
    for client in (buyer, supplier):
        client.connect()
        assert client.join(dispute)["ok"]
    stored = _stored(cluster, dispute)
    assert buyer.ids() == supplier.ids() == stored
    assert set(ids_during) <= set(buyer.ids())
    assert len(stored) == len(set(stored))
    assert [buyer.transcript[i]["body"] for i in stored] == [
        supplier.transcript[i]["body"] for i in stored
    ]


def test_does_signing_out_on_one_server_close_the_users_socket_on_the_other(cluster, chat):
    """The buyer signs out through A: their socket on B is closed and hears nothing more."""
    dispute = chat["id"]
    a, b = cluster["a"].base, cluster["b"].base
    session = sign_in(a, "buyer@demo.test")
    heard: dict[str, list] = {"buyer": [], "supplier": []}
    closed = threading.Event()
    changed = threading.Condition()

    def listener(who: str, event: str):
        def on(payload=None):
            with changed:
                heard[who].append((event, payload))
                changed.notify_all()

        return on

    events = ("message:new", "dispute:activity", "dispute:read")
    buyer_handlers = {e: listener("buyer", e) for e in events}
    buyer_handlers["disconnect"] = lambda *_reason: closed.set()
    buyer = connect_socket(b, cookie_header(session), buyer_handlers)
    supplier_b = connect_socket(
        b, cluster["cookies"]["supplier@demo.test"], {e: listener("supplier", e) for e in events}
    )
    supplier_a = ChatClient(a, cluster["cookies"]["supplier@demo.test"]).connect()
    try:
        for socket in (buyer, supplier_b):
            assert socket.call("dispute:join", {"dispute_id": dispute}, timeout=15)["ok"]
        assert supplier_a.join(dispute)["ok"]

        def heard_all(who: str, message_id: int) -> bool:
            def done() -> bool:
                names = {e for e, _ in heard[who]}
                ids = {p["id"] for e, p in heard[who] if e == "message:new"}
                return message_id in ids and {"dispute:activity", "dispute:read"} <= names

            with changed:
                return changed.wait_for(done, timeout=LIVE)

        # Before: the buyer's socket on B hears what is said and read on A (the test can fail).
        before = supplier_a.send(dispute, "Antes de salir")
        supplier_a.call("dispute:read", {"dispute_id": dispute, "message_id": before["id"]})
        assert heard_all("buyer", before["id"]) and heard_all("supplier", before["id"])
        # The activity of the message above may trail by a second, and reach B later still
        # under load: wait until the sockets have been quiet for half a second.
        time.sleep(1.1)
        with changed:
            while changed.wait(timeout=0.5):
                pass
            heard["buyer"].clear()
            heard["supplier"].clear()

        token = csrf_token(session.get(a + "/", timeout=10).text)
        response = session.post(
            a + "/auth/logout", data={"csrf_token": token}, timeout=10, allow_redirects=False
        )
        assert response.status_code == 303
        # At once, from A: the end of access travels on the same channel before this message.
        after = supplier_a.send(dispute, "Después de salir")
        supplier_a.call("dispute:read", {"dispute_id": dispute, "message_id": after["id"]})

        assert closed.wait(LIVE), "the buyer's socket on B was not closed"
        assert heard_all("supplier", after["id"])  # a valid session on B still hears it all
        assert heard["buyer"] == [], f"the ended socket heard {heard['buyer']}"
        assert not buyer.connected
    finally:
        for socket in (buyer, supplier_b):
            if socket.connected:
                socket.disconnect()
        supplier_a.close()
        # Signing out ended every session of the buyer's, the cluster's shared cookie too.
        cluster["cookies"]["buyer@demo.test"] = cookie_header(sign_in(a, "buyer@demo.test"))
