"""Room names and the only functions that emit Socket.IO events."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import socketio as socketio_server

from app.extensions import socketio

log = logging.getLogger(__name__)


def _emit(event: str, payload: dict[str, Any], room: str) -> None:
    # Emits run after commit: the data is safe, and clients backfill what a broken message queue
    # (Redis down) lost, so a failed emit is logged, never raised into the request.
    try:
        socketio.emit(event, payload, to=room)
    except Exception:  # noqa: BLE001 (any transport error of the queue)
        log.warning("could not emit %s to %s", event, room, exc_info=True)


def company_room(company_id: int) -> str:
    """Return the room every connected member of a company joins."""
    return f"company:{company_id}"


def user_room(user_id: int) -> str:
    """Return the room every connection of one user joins."""
    return f"user:{user_id}"


def notify_company(company_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell a company's open pages that something changed (payloads carry ids only)."""
    _emit(event, payload, company_room(company_id))


def notify_user(user_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell one user's open pages that something changed."""
    _emit(event, payload, user_room(user_id))


def dispute_room(dispute_id: int) -> str:
    """Return the room of one dispute's conversation (joined after a tenant-checked lookup)."""
    return f"dispute:{dispute_id}"


def notify_dispute(dispute_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell every socket in a dispute's conversation about a message, a read or a change."""
    _emit(event, payload, dispute_room(dispute_id))


_throttle_lock = threading.Lock()
_last_sent: dict[str, float] = {}
_pending: set[str] = set()


def notify_throttled(
    key: str,
    rooms: tuple[str, ...],
    event: str,
    payload: dict[str, Any],
    *,
    interval: float = 1.0,
) -> None:
    """Tell rooms that something is busy, at most once per interval per key (per process).

    The first happening is sent at once; those within the interval are folded into one more
    emit at its end, so the last state is always told. For chat activity: every member's socket
    would otherwise get a second frame (and fetch the counts) for every message.
    """
    now = time.monotonic()
    with _throttle_lock:
        wait = _last_sent.get(key, 0.0) + interval - now
        if wait <= 0:
            _last_sent[key] = now
        elif key in _pending:
            return
        else:
            _pending.add(key)
    if wait <= 0:
        for room in rooms:
            _emit(event, payload, room)
        return

    def trailing() -> None:
        socketio.sleep(wait)
        with _throttle_lock:
            _pending.discard(key)
            _last_sent[key] = time.monotonic()
        for room in rooms:
            _emit(event, payload, room)

    socketio.start_background_task(trailing)


# ------------------------------------------------------------------------ who may still hear
#
# A socket speaks for the session that opened it. When that access ends (sign-out, password
# change, deactivation, removal, another role), the service queues end_access for after its
# commit; every process marks that user's sockets as ended at once, so no further emit reaches
# them, and disconnects them. With a message queue the signal travels on Socket.IO's own
# channel, so each process handles it in order with the emits published around it.

ACCESS_ENDED = "portal:access_ended"
_ENDINGS_KEPT = 60.0  # seconds a handled signal is remembered, to refuse sockets still connecting


@dataclass
class _Socket:
    user_id: int
    company_id: int | None
    session_version: int
    namespace: str
    role: str | None = None


_sockets: dict[str, _Socket] = {}
_ended: set[str] = set()
# (when handled, monotonic; the signal) for connects that read the user before it arrived
_endings: list[tuple[float, dict[str, Any]]] = []
_sockets_lock = threading.Lock()


def _matches(entry: _Socket, signal: dict[str, Any]) -> bool:
    if entry.user_id != signal.get("user_id"):
        return False
    company_id = signal.get("company_id")
    if company_id is not None and entry.company_id != company_id:
        return False
    below = signal.get("below_version")
    return below is None or entry.session_version < below


def track_socket(
    sid: str,
    *,
    user_id: int,
    company_id: int | None,
    session_version: int,
    since: float,
    namespace: str = "/",
    role: str | None = None,
) -> bool:
    """Remember whose session a connecting socket speaks for.

    ``since`` is when the connect began (``time.monotonic()``, before the user was read): a
    signal handled after that may have been missed by that read, so the socket is refused
    (False) rather than kept with access the user no longer has.
    """
    entry = _Socket(user_id, company_id, session_version, namespace, role)
    with _sockets_lock:
        if any(at >= since and _matches(entry, signal) for at, signal in _endings):
            return False
        _sockets[sid] = entry
        _ended.discard(sid)
    return True


def forget_socket(sid: str) -> None:
    """Drop a socket that disconnected."""
    with _sockets_lock:
        _sockets.pop(sid, None)
        _ended.discard(sid)


def tracked_sockets() -> list[tuple[str, int, int | None, int, str | None]]:
    """Return this process's open sockets still hearing: (sid, user, company, version, role)."""
    with _sockets_lock:
        return [
            (sid, e.user_id, e.company_id, e.session_version, e.role)
            for sid, e in _sockets.items()
            if sid not in _ended
        ]


def end_sockets(sids: list[str]) -> None:
    """End this process's sockets found without access by a re-check (see main.events)."""
    with _sockets_lock:
        ended = [(sid, _sockets[sid].namespace) for sid in sids if sid in _sockets]
        _ended.update(sid for sid, _namespace in ended)
    server = getattr(socketio, "server", None)
    if server is not None:
        _disconnect_later(server, ended)


def socket_ended(sid: str) -> bool:
    """Tell whether a socket's access has ended (it hears nothing more and is being closed)."""
    return sid in _ended


def end_access(
    user_id: int, *, company_id: int | None = None, below_version: int | None = None
) -> None:
    """Close a user's sockets in every process — call it only after the commit that ends access.

    ``company_id`` limits it to the sockets acting for one company (a role change, a removal);
    ``below_version`` spares sockets of sessions at or above that version (the session that
    just changed its password, a sign-in that came after a sign-out).
    """
    signal = {"user_id": user_id, "company_id": company_id, "below_version": below_version}
    if socketio.server is None:  # Socket.IO not bound to an app in this process
        return
    try:
        socketio.server.manager.end_access(signal)  # an AccessAware manager: client_manager()
    except Exception:  # noqa: BLE001 (the queue is down: each process's re-check ends them)
        log.warning("could not signal the end of access of user %s", user_id, exc_info=True)


def _mark_ended(signal: dict[str, Any]) -> list[tuple[str, str]]:
    """Mark this process's sockets the signal ends; return them as (sid, namespace)."""
    now = time.monotonic()
    with _sockets_lock:
        _endings[:] = [(at, s) for at, s in _endings if now - at < _ENDINGS_KEPT]
        _endings.append((now, signal))
        ended = [(sid, e.namespace) for sid, e in _sockets.items() if _matches(e, signal)]
        _ended.update(sid for sid, _namespace in ended)
    return ended


def _disconnect_later(server: Any, sockets: list[tuple[str, str]]) -> None:
    # In a task of its own: the disconnect handler runs in a request context of the socket's,
    # which must not be pushed inside the request (or the queue listener) that ended access.
    if sockets:
        server.start_background_task(_disconnect, server, sockets)


def _disconnect(server: Any, sockets: list[tuple[str, str]]) -> None:
    for _attempt in range(50):
        connecting = []
        for sid, namespace in sockets:
            try:
                if server.manager.is_connected(sid, namespace):
                    server.disconnect(sid, namespace=namespace, ignore_queue=True)
                elif server.manager.is_pre_connected(sid, namespace):
                    connecting.append((sid, namespace))  # its connect handler is still running
            except Exception:  # noqa: BLE001 (gone meanwhile)
                log.debug("socket %s could not be disconnected", sid, exc_info=True)
        if not connecting:
            return
        sockets = connecting
        server.sleep(0.05)


class AccessAware:
    """Mixed into Socket.IO's client managers: ended sockets hear nothing, and the signal that
    ends them is handled by every process."""

    server: Any
    pending_disconnect: dict[str, list[str]]

    def get_participants(self, namespace: str, room: Any) -> Any:
        leaving = self.pending_disconnect.get(namespace, ())
        for sid, eio_sid in super().get_participants(namespace, room):  # type: ignore[misc]
            if sid not in _ended and sid not in leaving:
                yield sid, eio_sid

    def end_access(self, signal: dict[str, Any]) -> None:
        _disconnect_later(self.server, _mark_ended(signal))


class LocalManager(AccessAware, socketio_server.Manager):
    """One process, no message queue."""


class QueueManager(AccessAware, socketio_server.RedisManager):
    """Several processes over Redis: the signal is one more message on Socket.IO's channel."""

    def end_access(self, signal: dict[str, Any]) -> None:
        message = {**signal, "method": ACCESS_ENDED, "host_id": self.host_id}
        super().end_access(message)  # this process at once
        self._publish(message)  # the others, in order with the emits on the channel

    def _listen(self) -> Any:
        for raw in super()._listen():
            try:
                message = self.json.loads(raw) if isinstance(raw, (bytes, str)) else raw
            except ValueError:
                yield raw
                continue
            if isinstance(message, dict) and message.get("method") == ACCESS_ENDED:
                if message.get("host_id") != self.host_id:
                    AccessAware.end_access(self, message)
                continue
            yield message


def client_manager(message_queue: str | None, channel: str = "flask-socketio") -> Any:
    """Return the Socket.IO client manager for this process (Redis when a queue is set)."""
    if not message_queue:
        return LocalManager()
    schemes = ("redis://", "rediss://", "redis+sentinel://", "valkey://", "valkeys://", "unix://")
    if not message_queue.startswith(schemes):
        raise ValueError("SOCKETIO_MESSAGE_QUEUE must be a Redis URL (redis://, rediss://, …)")
    return QueueManager(message_queue, channel=channel)
