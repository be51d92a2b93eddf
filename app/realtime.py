"""Room names and the only functions that emit Socket.IO events."""

from __future__ import annotations

from typing import Any

from app.extensions import socketio


def company_room(company_id: int) -> str:
    """Return the room every connected member of a company joins."""
    return f"company:{company_id}"


def user_room(user_id: int) -> str:
    """Return the room every connection of one user joins."""
    return f"user:{user_id}"


def notify_company(company_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell a company's open pages that something changed (payloads carry ids only)."""
    socketio.emit(event, payload, to=company_room(company_id))


def notify_user(user_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell one user's open pages that something changed."""
    socketio.emit(event, payload, to=user_room(user_id))


def dispute_room(dispute_id: int) -> str:
    """Return the room of one dispute's conversation (joined after a tenant-checked lookup)."""
    return f"dispute:{dispute_id}"


def notify_dispute(dispute_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell every socket in a dispute's conversation about a message, a read or a change."""
    socketio.emit(event, payload, to=dispute_room(dispute_id))
