"""Record who did what: the audit_events trail."""

from __future__ import annotations

from typing import Any

from app import tenancy
from app.extensions import db
from app.models import AuditEvent, Company, User


def record_event(
    actor: User | str | None,
    company: Company | int | None,
    action: str,
    target: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event in the current transaction; origin comes from the acting context."""
    acting = tenancy.current()
    if isinstance(actor, User):
        actor_user_id, actor_label = actor.id, actor.email
    else:
        actor_user_id, actor_label = acting.user_id, actor or "system"
    company_id = company.id if isinstance(company, Company) else company
    target_type = target_id = None
    if isinstance(target, tuple):
        target_type, target_id = target[0], str(target[1])
    elif target is not None:
        target_type, target_id = type(target).__tablename__, str(target.id)
    event = AuditEvent(
        company_id=company_id,
        actor_user_id=actor_user_id,
        actor=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
        ip=acting.ip,
        user_agent=(acting.user_agent or "")[:300] or None,
    )
    db.session.add(event)
    return event
