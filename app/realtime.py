"""Room names and the only functions that emit Socket.IO events."""

from __future__ import annotations

import logging
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
