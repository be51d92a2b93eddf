"""Socket.IO events of a dispute's conversation.

The server alone decides which rooms a socket joins: ``dispute:<id>`` only after a lookup under
the tenancy rule for the company the session acts for. Every event re-reads the user (a
deactivated user or a changed password ends the session) and the membership, so a user who lost
access is refused at once. A message is written and committed before it is broadcast, and the
sender's acknowledgement carries its id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room
from limits import parse
from sqlalchemy.exc import SQLAlchemyError

from app import realtime, tenancy
from app.extensions import db, limiter, socketio
from app.services import accounts
from app.services.disputes import disputes
from app.services.errors import DomainError

log = logging.getLogger(__name__)


def _failure(message: Any, code: str = "refused") -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": str(message)}}


def _as_member(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run a handler for a signed-in active member, with the acting company bound."""

    @wraps(handler)
    def wrapped(data: Any = None) -> Any:
        if not current_user.is_authenticated:
            return _failure(_("Sign in again."), "unauthenticated")
        membership = accounts.active_membership(current_user, session.get("company_id"))
        if membership is None:
            return _failure(_("You no longer belong to this company."), "forbidden")
        payload = data if isinstance(data, dict) else {}
        try:
            dispute_id = int(payload.get("dispute_id"))
        except (TypeError, ValueError):
            return _failure(_("That dispute does not exist."), "not_found")
        with tenancy.acting_as(
            membership.company_id,
            current_user.id,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        ):
            try:
                result = handler(membership, dispute_id, payload)
                db.session.commit()
                return result
            except DomainError as error:
                db.session.rollback()
                code = {404: "not_found", 403: "forbidden", 409: "conflict"}.get(
                    error.status, "invalid"
                )
                return _failure(error.message, code)
            except SQLAlchemyError:
                # Busy or unreachable database: nothing was stored; the client may resend with
                # the same client id (a message is never stored twice).
                db.session.rollback()
                log.exception("socket event failed on the database")
                return _failure(
                    _("The portal is busy; your message was not sent. Try again."), "unavailable"
                )
            finally:
                db.session.remove()

    return wrapped


def _after(payload: dict[str, Any]) -> int:
    try:
        return max(int(payload.get("after") or 0), 0)
    except (TypeError, ValueError):
        return 0


@socketio.on("dispute:join")
@_as_member
def join(membership: Any, dispute_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Join a dispute's room and receive every message after the one the client last saw."""
    dispute = disputes.get_dispute(membership.company_id, dispute_id)
    join_room(realtime.dispute_room(dispute.id))
    log.debug("socket %s of user %s joined dispute %s", request.sid, current_user.id, dispute.id)
    missed = disputes.messages(membership.company_id, dispute.id, after=_after(payload))
    return {
        "ok": True,
        "dispute_id": dispute.id,
        "status": dispute.status,
        "messages": [disputes.message_payload(m) for m in missed],
    }


@socketio.on("dispute:leave")
@_as_member
def leave(membership: Any, dispute_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Stop hearing a dispute's conversation."""
    leave_room(realtime.dispute_room(dispute_id))
    return {"ok": True}


@socketio.on("message:send")
@_as_member
def send(membership: Any, dispute_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Write a message, then broadcast it; the acknowledgement carries its id."""
    if not _within_rate(current_user.id):
        return _failure(_("You are sending messages too fast; wait a moment."), "rate_limited")
    message, created = disputes.post_message(
        membership.company_id,
        dispute_id=dispute_id,
        actor=current_user._get_current_object(),
        body=str(payload.get("body") or ""),
        client_id=payload.get("client_id"),
        lines=payload.get("lines"),
    )
    return {"ok": True, "id": message.id, "duplicate": not created}


def _within_rate(user_id: int) -> bool:
    """Count a message against the user's chat rate (allowed when the counter store is down)."""
    item = parse(current_app.config["CHAT_RATE_LIMIT"])
    try:
        return bool(limiter.limiter.hit(item, "chat-socket", str(user_id)))
    except Exception:  # noqa: BLE001 (Redis unreachable: the limit fails open, like Flask-Limiter's)
        log.warning("chat rate limit not counted: storage unreachable", exc_info=True)
        return True


@socketio.on("dispute:typing")
@_as_member
def typing(membership: Any, dispute_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Tell the others in the room that this user is typing (never stored)."""
    dispute = disputes.get_dispute(membership.company_id, dispute_id)
    emit(
        "dispute:typing",
        {
            "dispute_id": dispute.id,
            "user_id": current_user.id,
            "name": current_user.name or current_user.email,
        },
        to=realtime.dispute_room(dispute.id),
        include_self=False,
    )
    return {"ok": True}


@socketio.on("dispute:read")
@_as_member
def read(membership: Any, dispute_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Record how far the user has read (the others see the read receipt)."""
    try:
        message_id = int(payload.get("message_id") or 0)
    except (TypeError, ValueError):
        message_id = 0
    disputes.mark_read(
        membership.company_id,
        dispute_id=dispute_id,
        user=current_user._get_current_object(),
        message_id=message_id,
    )
    return {"ok": True}
