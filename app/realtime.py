"""Room names and the only functions that emit Socket.IO events."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

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
