"""Idempotency keys of the API: the first answer to a keyed POST is replayed for 24 hours.

An ERP that lost the answer to a POST sends it again with the same ``Idempotency-Key``; the
portal answers what it answered the first time, without doing the work twice. The same key with
another request is a client error, never a silent replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app.extensions import db
from app.models import ApiIdempotencyKey, utcnow
from app.services.errors import DomainError

KEY_LIFETIME = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255


def request_hash(*parts: bytes | str) -> str:
    """Return the fingerprint of a request from its meaningful parts."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """Return the key, or raise DomainError when it cannot be one."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            _l("An Idempotency-Key is 1 to 255 printable characters."), field="Idempotency-Key"
        )
    return key


def find_replay(
    company_id: int, *, key: str, fingerprint: str, now: dt.datetime | None = None
) -> ApiIdempotencyKey | None:
    """Return the stored answer for the key, None if the key is new; refuse another request."""
    now = now or utcnow()
    stored = db.session.scalars(
        select(ApiIdempotencyKey).where(
            ApiIdempotencyKey.company_id == company_id, ApiIdempotencyKey.key == key
        )
    ).first()
    if stored is None:
        return None
    if stored.created_at <= now - KEY_LIFETIME:
        # Expired: the key may be used afresh.
        db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id == stored.id))
        db.session.flush()
        return None
    if stored.request_hash != fingerprint:
        raise DomainError(
            _l(
                "This Idempotency-Key was already used with another request: use a new key "
                "for a new request."
            ),
            field="Idempotency-Key",
        )
    return stored


def remember_response(
    company_id: int, *, key: str, fingerprint: str, status: int, body: dict[str, Any]
) -> ApiIdempotencyKey:
    """Keep the answer given to a keyed request (committed with the work it answers)."""
    stored = ApiIdempotencyKey(
        company_id=company_id,
        key=key,
        request_hash=fingerprint,
        status_code=status,
        response=body,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def purge_expired_keys(now: dt.datetime | None = None) -> int:
    """Delete the keys older than 24 hours, across companies (a job); return how many."""
    cutoff = (now or utcnow()) - KEY_LIFETIME
    result = db.session.execute(
        delete(ApiIdempotencyKey)
        .where(ApiIdempotencyKey.created_at <= cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
