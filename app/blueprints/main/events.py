"""Socket.IO connection: authenticated by the session cookie; the server picks the rooms."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from app import realtime
from app.extensions import db, socketio
from app.services import accounts

log = logging.getLogger(__name__)

# Open sockets per client address in this process (SOCKET_MAX_CONNECTIONS_PER_IP).
_per_ip: Counter[str] = Counter()
_per_ip_lock = threading.Lock()


@socketio.on("connect")
def connect(auth: Any = None) -> None:
    started = time.monotonic()  # before the user is read: see realtime.track_socket
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        log.info("socket refused: origin %s is not %s", origin, request.host_url)
        raise ConnectionRefusedError("origin")
    if not current_user.is_authenticated:
        log.info("socket refused: not signed in")
        raise ConnectionRefusedError("unauthenticated")
    address = request.remote_addr or ""
    with _per_ip_lock:
        if _per_ip[address] >= current_app.config["SOCKET_MAX_CONNECTIONS_PER_IP"]:
            log.info("socket refused: %s has too many connections", address)
            raise ConnectionRefusedError("too_many_connections")
        _per_ip[address] += 1
    membership = accounts.active_membership(current_user, session.get("company_id"))
    # The socket speaks for this session as read now: when its access ends, it hears nothing
    # more and is closed (in every process), and a connect racing that end is refused.
    tracked = realtime.track_socket(
        request.sid,
        user_id=current_user.id,
        company_id=membership.company_id if membership is not None else None,
        session_version=current_user.session_version,
        since=started,
        namespace=request.namespace,
        role=membership.role if membership is not None else None,
    )
    _start_recheck()
    if tracked:
        join_room(realtime.user_room(current_user.id))
        if membership is not None:
            join_room(realtime.company_room(membership.company_id))
    if not tracked or realtime.socket_ended(request.sid):
        # A refused connect gets no disconnect event: undo what it counted here.
        realtime.forget_socket(request.sid)
        _release(address)
        log.info("socket refused: the session's access ended while it connected")
        raise ConnectionRefusedError("unauthenticated")


@socketio.on("disconnect")
def disconnect(*_reason: Any) -> None:
    realtime.forget_socket(request.sid)
    _release(request.remote_addr or "")


def _release(address: str) -> None:
    with _per_ip_lock:
        if _per_ip[address] > 0:
            _per_ip[address] -= 1
        if _per_ip[address] <= 0:
            _per_ip.pop(address, None)


# ------------------------------------------------------------------------ the re-check
# The end of access is signalled after commit (realtime.end_access); a signal lost to a message
# queue outage, or a change made outside the services, is caught by each process re-checking its
# open sockets every SOCKET_ACCESS_RECHECK seconds (app/config.py): one query per pass.

_recheck_started = False
_recheck_lock = threading.Lock()


def _start_recheck() -> None:
    global _recheck_started
    if _recheck_started or current_app.config["SOCKET_ACCESS_RECHECK"] <= 0:
        return
    with _recheck_lock:
        if _recheck_started:
            return
        _recheck_started = True
    socketio.start_background_task(_recheck_forever, current_app._get_current_object())


def _recheck_forever(app: Any) -> None:
    global _recheck_started
    try:
        while (interval := app.config["SOCKET_ACCESS_RECHECK"]) > 0:
            socketio.sleep(interval)
            with app.app_context():
                recheck_sockets()
    finally:
        # Turned off (or a pass failed): the next connect starts it again.
        with _recheck_lock:
            _recheck_started = False


def recheck_sockets() -> list[str]:
    """End this process's sockets whose access ended; return them."""
    try:
        ended = accounts.ended_sockets(realtime.tracked_sockets())
    except Exception:  # noqa: BLE001 (database unreachable: try again next pass)
        log.warning("could not re-check the open sockets' access", exc_info=True)
        return []
    finally:
        db.session.rollback()  # a read: end its transaction
    if ended:
        log.info("closing %d socket(s) whose access ended", len(ended))
        realtime.end_sockets(ended)
    return ended
