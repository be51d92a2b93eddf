"""Socket.IO connection: authenticated by the session cookie; the server picks the rooms."""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from app import realtime
from app.extensions import socketio
from app.services import accounts

log = logging.getLogger(__name__)


@socketio.on("connect")
def connect(auth: Any = None) -> None:
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        log.info("socket refused: origin %s is not %s", origin, request.host_url)
        raise ConnectionRefusedError("origin")
    if not current_user.is_authenticated:
        log.info("socket refused: not signed in")
        raise ConnectionRefusedError("unauthenticated")
    membership = accounts.active_membership(current_user, session.get("company_id"))
    join_room(realtime.user_room(current_user.id))
    if membership is not None:
        join_room(realtime.company_room(membership.company_id))
