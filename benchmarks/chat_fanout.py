"""The dispute chat's fan-out: send → receipt latency with many sockets in one dispute's room.

C python-socketio clients (default 200, half signed in as the buyer, half as the supplier) join
ONE dispute's room; two of them send messages at R per second in total (default 10) for S seconds
(default 20), each body carrying its send time (``time.perf_counter`` of this process, where every
client lives). Every client records when each ``message:new`` reaches it: per delivery, latency =
receipt − send. Two setups, each on real ``python wsgi.py`` processes (threading mode, werkzeug +
simple-websocket) and a database of their own:
  (redis)  two server processes sharing a redis-server started for the benchmark on a free port,
           the clients split between them (the senders one on each);
  (single) one server process, no Redis.
Printed: messages sent and acknowledged, deliveries expected and received, lost, duplicated,
median / p99 / max latency, deliveries per second, the sender's acknowledgement median. Target
from issue #5: p99 under 100 ms at 10 messages/s in a room. All processes share this machine's
cores: the figures include the clients' own CPU time.
Run: ``.venv/bin/python -m benchmarks.chat_fanout`` (``--quick`` for a smoke run; also part of
``make bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.realtime.servers import (  # noqa: E402
    RedisServer,
    cookie_header,
    open_dispute,
    prepare_database,
    redis_binary,
    server_env,
    shared_database,
    sign_in,
    sql,
    start_servers,
)

TARGET_P99_MS = 100.0
USERS = ("buyer@demo.test", "supplier@demo.test")
BENCH_LIMITS = {
    "SOCKET_MAX_CONNECTIONS_PER_IP": "100000",
    "CHAT_RATE_LIMIT": "100000 per minute",
}


@dataclass
class Result:
    """What one setup measured."""

    name: str
    clients: int
    connected: int = 0
    sent: int = 0
    acked: int = 0
    failed_acks: list = field(default_factory=list)
    expected: int = 0
    delivered: int = 0
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    window: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""


class Receiver:
    """One socket in the room: it notes the arrival time of every bench message."""

    def __init__(self, index: int, base: str, cookie: str) -> None:
        import socketio

        self.index = index
        self.base = base
        self.cookie = cookie
        self.arrivals: list[tuple[float, str]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("message:new", self._on_message)

    def _on_message(self, payload: dict) -> None:
        self.arrivals.append((time.perf_counter(), payload.get("body", "")))

    def connect(self, dispute_id: int) -> None:
        """Connect and join the room (raises when either is refused)."""
        self.client.connect(
            self.base, headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=30
        )
        ack = self.client.call("dispute:join", {"dispute_id": dispute_id, "after": 0}, timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")

    def close(self) -> None:
        """Disconnect (best effort)."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run_setup(
    name: str,
    directory: Path,
    servers_count: int,
    redis: RedisServer | None,
    args: argparse.Namespace,
) -> Result:
    """Start the servers of one setup, fill one room, send for a while and measure."""
    result = Result(name, args.clients)
    with shared_database(directory) as database_url:
        env = server_env(directory, database_url, redis.url if redis else "", **BENCH_LIMITS)
        (document_id,) = prepare_database(env, documents=1)
        servers = start_servers(env, directory, servers_count)
        try:
            sessions = {email: sign_in(servers[0].base, email) for email in USERS}
            cookies = {email: cookie_header(http) for email, http in sessions.items()}
            open_dispute(servers[0].base, sessions[USERS[0]], document_id, "Benchmark")
            (dispute_id,) = sql(
                database_url, "SELECT id FROM disputes WHERE document_id = ?", (document_id,)
            )[0]
            # Client i: server i mod n, buyer when i is even; the senders are clients 0 and 1.
            places = [
                (servers[i % servers_count].base, cookies[USERS[i % 2]])
                for i in range(args.clients)
            ]
            pids = {f"server {i + 1}": s.process.pid for i, s in enumerate(servers)}
            if redis is not None and redis.process is not None:
                pids["redis"] = redis.process.pid
            measure = _measure_threads if args.client == "socketio" else _measure_light
            measure(places, dispute_id, pids, args, result)
        finally:
            for server in servers:  # stop the servers first: the sockets then close at once
                server.stop()
    return result


class _Cpu:
    """CPU seconds each process (and this one) spends between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def start(self) -> None:
        self.before = {name: _cpu(pid) for name, pid in self.pids.items()}
        self.own = _own_cpu()

    def stop(self, result: Result) -> None:
        result.cpu = {name: _cpu(pid) - self.before[name] for name, pid in self.pids.items()}
        result.cpu["clients (this process)"] = _own_cpu() - self.own


def _measure_threads(
    places: list, dispute_id: int, pids: dict[str, int], args: argparse.Namespace, result: Result
) -> None:
    """Measure with python-socketio clients (a thread or three each)."""
    receivers = [Receiver(i, base, cookie) for i, (base, cookie) in enumerate(places)]
    try:
        errors: dict[int, str] = {}

        def connect(receiver: Receiver) -> None:
            try:
                receiver.connect(dispute_id)
            except Exception as error:  # noqa: BLE001 (counted and shown)
                errors[receiver.index] = f"{type(error).__name__}: {error}"

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(connect, receivers))
        in_room = [r for r in receivers if r.client.connected and r.index not in errors]
        result.connected = len(in_room)
        if errors:
            index, error = next(iter(errors.items()))
            result.note = f"{len(errors)} clients failed to connect/join, e.g. #{index}: {error}"
        senders = [r for r in in_room if r.index in (0, 1)]
        if len(senders) < 2:
            result.note = result.note or "the senders could not connect"
            return
        time.sleep(1.0)  # let the room settle
        cpu = _Cpu(pids)
        cpu.start()
        _send(senders, dispute_id, args, result)
        result.expected = result.sent * len(in_room)
        deadline = time.perf_counter() + args.drain
        while time.perf_counter() < deadline:
            if sum(_bench_arrivals(r.arrivals) for r in in_room) >= result.expected:
                break
            time.sleep(0.1)
        cpu.stop(result)
        _tally([r.arrivals for r in in_room], result)
    finally:
        with ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(lambda r: r.close(), receivers))


class LightClient:
    """A minimal Socket.IO client on asyncio + wsproto: one coroutine per socket, no threads.

    It speaks just enough Engine.IO 4 / Socket.IO 5 over a websocket (open, connect, ping/pong,
    events with acknowledgements) for the benchmark; the receipt time is taken as the frame is
    read, and the body parsed only afterwards.
    """

    def __init__(self, index: int, base: str, cookie: str) -> None:
        self.index = index
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.cookie = cookie
        self.arrivals: list[tuple[float, str]] = []
        self.acks: dict[int, asyncio.Future] = {}
        self.next_ack = 0
        self.connected = False
        self.task: asyncio.Task | None = None

    async def connect(self, dispute_id: int) -> None:
        """Open the websocket, connect the default namespace and join the room."""
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self._write(
            Request(
                host=f"{self.host}:{self.port}",
                target="/socket.io/?EIO=4&transport=websocket",
                extra_headers=[(b"cookie", self.cookie.encode())],
            )
        )
        self.task = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(self.opened, 30)
        self.connected = True
        ack = await self.call("dispute:join", {"dispute_id": dispute_id, "after": 0})
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")

    def _write(self, event) -> None:
        self.writer.write(self.ws.send(event))

    def _text(self, text: str) -> None:
        from wsproto.events import TextMessage

        self._write(TextMessage(data=text))

    async def _read_loop(self) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            TextMessage,
        )

        parts: list[str] = []
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                now = time.perf_counter()
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, TextMessage):
                        parts.append(event.data)
                        if event.message_finished:
                            self._packet(now, "".join(parts))
                            parts = []
                    elif isinstance(event, Ping):
                        self._write(event.response())
                    elif isinstance(event, RejectConnection | CloseConnection):
                        raise ConnectionError(f"websocket refused or closed: {event!r}")
                    elif isinstance(event, AcceptConnection):
                        pass
        except Exception as error:  # noqa: BLE001 (reported through the futures)
            if not self.opened.done():
                self.opened.set_exception(error)
        finally:
            self.connected = False
            if not self.opened.done():
                self.opened.set_exception(ConnectionError("connection closed"))

    def _packet(self, now: float, packet: str) -> None:
        if packet == "2":  # Engine.IO ping
            self._text("3")
        elif packet.startswith("42"):
            if packet.startswith('42["message:new"'):
                self.arrivals.append((now, packet))
        elif packet.startswith("43"):
            digits = len(packet) - len(packet[2:].lstrip("0123456789"))
            future = self.acks.pop(int(packet[2:digits]), None)
            if future is not None and not future.done():
                future.set_result(json.loads(packet[digits:])[0])
        elif packet.startswith("40"):
            self.opened.set_result(True)
        elif packet.startswith("44"):
            self.opened.set_exception(ConnectionRefusedError(packet[2:]))
        elif packet.startswith("0"):  # Engine.IO open: connect the default namespace
            self._text("40")

    def emit(self, event: str, data: dict) -> asyncio.Future:
        """Send an event; the future holds its acknowledgement."""
        ack = self.next_ack
        self.next_ack += 1
        future = asyncio.get_running_loop().create_future()
        self.acks[ack] = future
        self._text(f"42{ack}" + json.dumps([event, data]))
        return future

    async def call(self, event: str, data: dict, timeout: float = 30) -> dict:
        """Send an event and wait for its acknowledgement."""
        return await asyncio.wait_for(self.emit(event, data), timeout)

    def bodies(self) -> list[tuple[float, str]]:
        """Return (arrival, body) of every message heard."""
        return [(at, json.loads(packet[2:])[1]["body"]) for at, packet in self.arrivals]

    def close(self) -> None:
        """Drop the connection (the server sees it go)."""
        if self.task is not None:
            self.task.cancel()
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001
            pass


def _measure_light(
    places: list, dispute_id: int, pids: dict[str, int], args: argparse.Namespace, result: Result
) -> None:
    """Measure with the asyncio clients (all in one event loop of this process)."""
    asyncio.run(_measure_light_async(places, dispute_id, pids, args, result))


async def _measure_light_async(
    places: list, dispute_id: int, pids: dict[str, int], args: argparse.Namespace, result: Result
) -> None:
    clients = [LightClient(i, base, cookie) for i, (base, cookie) in enumerate(places)]
    limit = asyncio.Semaphore(20)
    errors: dict[int, str] = {}

    async def connect(client: LightClient) -> None:
        async with limit:
            try:
                await client.connect(dispute_id)
            except Exception as error:  # noqa: BLE001 (counted and shown)
                errors[client.index] = f"{type(error).__name__}: {error}"

    try:
        await asyncio.gather(*(connect(c) for c in clients))
        in_room = [c for c in clients if c.connected and c.index not in errors]
        result.connected = len(in_room)
        if errors:
            index, error = next(iter(errors.items()))
            result.note = f"{len(errors)} clients failed to connect/join, e.g. #{index}: {error}"
        senders = [c for c in in_room if c.index in (0, 1)]
        if len(senders) < 2:
            result.note = result.note or "the senders could not connect"
            return
        await asyncio.sleep(1.0)  # let the room settle
        cpu = _Cpu(pids)
        cpu.start()
        count = int(args.rate * args.seconds)
        start = time.perf_counter() + 0.2
        waiting = []
        for k in range(count):
            delay = start + k / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at = time.perf_counter()
            future = senders[k % 2].emit(
                "message:send",
                {
                    "dispute_id": dispute_id,
                    "body": f"bench {k} {sent_at:.9f}",
                    "client_id": f"bench-{k}",
                },
            )
            future.add_done_callback(lambda f, sent_at=sent_at, k=k: _acked(result, k, sent_at, f))
            waiting.append(future)
            result.sent += 1
        result.expected = result.sent * len(in_room)
        deadline = time.perf_counter() + args.drain
        while time.perf_counter() < deadline:
            if sum(len(c.arrivals) for c in in_room) >= result.expected and all(
                f.done() for f in waiting
            ):
                break
            await asyncio.sleep(0.1)
        cpu.stop(result)
        _tally([c.bodies() for c in in_room], result)
    finally:
        for client in clients:
            client.close()


def _acked(result: Result, k: int, sent_at: float, future: asyncio.Future) -> None:
    ack = future.result() if not future.cancelled() and future.exception() is None else None
    if isinstance(ack, dict) and ack.get("ok"):
        result.acked += 1
        result.ack_latencies.append(time.perf_counter() - sent_at)
    else:
        result.failed_acks.append((k, ack))


def _cpu(pid: int) -> float:
    """Return the CPU seconds (user + system, all threads) a process has used so far."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    times = __import__("os").times()
    return times.user + times.system


def _bench_arrivals(arrivals: list[tuple[float, str]]) -> int:
    return sum(1 for _, body in list(arrivals) if body.startswith("bench "))


def _send(senders: list, dispute_id: int, args: argparse.Namespace, result: Result) -> None:
    """Send R messages per second in total, alternating senders, on a fixed schedule."""
    count = int(args.rate * args.seconds)
    pending = threading.Semaphore(0)
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    for k in range(count):
        due = start + k / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sender = senders[k % len(senders)]
        sent_at = time.perf_counter()

        def acked(ack: dict, sent_at: float = sent_at, k: int = k) -> None:
            with lock:
                if isinstance(ack, dict) and ack.get("ok"):
                    result.acked += 1
                    result.ack_latencies.append(time.perf_counter() - sent_at)
                else:
                    result.failed_acks.append((k, ack))
            pending.release()

        sender.client.emit(
            "message:send",
            {
                "dispute_id": dispute_id,
                "body": f"bench {k} {sent_at:.9f}",
                "client_id": f"bench-{k}",
            },
            callback=acked,
        )
        result.sent += 1
    for _ in range(count):
        if not pending.acquire(timeout=args.drain + 10):
            break
    result.window = time.perf_counter() - start


def _tally(per_client: list[list[tuple[float, str]]], result: Result) -> None:
    first = last = None
    for arrivals in per_client:
        seen: set[str] = set()
        for arrived, body in list(arrivals):
            if not body.startswith("bench "):
                continue
            _, k, sent_at = body.split()
            if k in seen:
                result.duplicates += 1
                continue
            seen.add(k)
            result.delivered += 1
            result.latencies.append(arrived - float(sent_at))
            first = min(first or float(sent_at), float(sent_at))
            last = max(last or arrived, arrived)
    if first is not None and last is not None and last > first:
        result.window = last - first


def _print(results: list[Result], args: argparse.Namespace) -> None:
    print(
        f"\n{'setup':<26}{'clients':>9}{'sent':>6}{'acked':>7}{'expected':>10}"
        f"{'delivered':>11}{'lost':>6}{'dup':>5}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'deliv/s':>9}{'ack p50':>9}"
    )
    for r in results:
        if r.latencies:
            ms = [v * 1000 for v in r.latencies]
            p50, p99, top = statistics.median(ms), _percentile(ms, 0.99), max(ms)
            rate = r.delivered / r.window if r.window else 0.0
            ack = statistics.median(r.ack_latencies) * 1000 if r.ack_latencies else float("nan")
            figures = f"{p50:8.1f}{p99:8.1f}{top:8.1f}{rate:9.0f}{ack:9.1f}"
        else:
            figures = f"{'-':>8}{'-':>8}{'-':>8}{'-':>9}{'-':>9}"
        lost = r.expected - r.delivered
        print(
            f"{r.name:<26}{f'{r.connected}/{r.clients}':>9}{r.sent:>6}{r.acked:>7}"
            f"{r.expected:>10}{r.delivered:>11}{lost:>6}{r.duplicates:>5}{figures}"
        )
    for r in results:
        if r.cpu:
            spent = ", ".join(f"{name} {seconds:.1f}" for name, seconds in r.cpu.items())
            print(f"  {r.name}: CPU seconds while sending and draining ({r.window:.1f} s): {spent}")
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
        if r.failed_acks:
            print(f"  {r.name}: {len(r.failed_acks)} sends refused, e.g. {r.failed_acks[0]}")
    for r in results:
        if r.latencies:
            p99 = _percentile([v * 1000 for v in r.latencies], 0.99)
            verdict = "met" if p99 < TARGET_P99_MS and r.expected == r.delivered else "NOT met"
            print(
                f"  target p99 < {TARGET_P99_MS:.0f} ms at {args.rate:g} msg/s, no loss "
                f"— {r.name}: {verdict}"
            )


def main(argv: list[str] | None = None) -> int:
    """Measure both setups and print the table (figures only: 0 unless it crashes)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second in all")
    parser.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="seconds to wait for late deliveries after the last send",
    )
    parser.add_argument("--quick", action="store_true", help="20 clients for 5 s (smoke run)")
    parser.add_argument(
        "--client",
        choices=("light", "socketio"),
        default="light",
        help="light: asyncio + wsproto sockets in one event loop (default); "
        "socketio: python-socketio clients, threads each (CPU-bound beyond "
        "~500 deliveries/s in one process)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs and databases")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds = min(args.clients, 20), min(args.seconds, 5.0)
    print(
        f"Dispute chat fan-out: {args.clients} sockets ({args.client} clients) in one room, "
        f"{args.rate:g} messages/s for {args.seconds:g} s"
    )
    results = []
    binary = redis_binary()
    kept = tempfile.mkdtemp(prefix="chat-bench-") if args.keep else None
    if kept:
        print(f"server logs and databases kept in {kept}")
    with (
        contextlib.nullcontext(kept)
        if kept
        else tempfile.TemporaryDirectory(prefix="chat-bench-") as folder
    ):
        if binary is None:
            print("two processes + Redis: skipped (redis-server is not installed)")
        else:
            directory = Path(folder) / "redis"
            directory.mkdir()
            redis = RedisServer(binary, directory)
            redis.start()
            try:
                results.append(run_setup("2 processes + Redis", directory, 2, redis, args))
            finally:
                redis.stop()
        directory = Path(folder) / "single"
        directory.mkdir()
        results.append(run_setup("1 process, no Redis", directory, 1, None, args))
    _print(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
