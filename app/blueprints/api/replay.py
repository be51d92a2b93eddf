"""Answer a POST once per ``Idempotency-Key``: the first answer is kept and replayed for 24 h.

Used by ``POST /documents`` and ``POST /orders``; the keys and their answers are kept by
``app.services.idempotency``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response as FlaskResponse
from flask import jsonify, request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import idempotency


def answer_once(
    company_id: int, parts: tuple[bytes | str, ...], work: Callable[[], tuple[int, BaseModel]]
) -> FlaskResponse:
    """Do the work and commit; with an Idempotency-Key, keep the answer and replay it."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        status, answer = work()
        db.session.commit()
        return json_response(status, answer.model_dump(mode="json"))
    key = idempotency.check_key(key)
    fingerprint = idempotency.request_hash(*parts)
    stored = idempotency.find_replay(company_id, key=key, fingerprint=fingerprint)
    if stored is None:
        status, answer = work()
        body = answer.model_dump(mode="json")
        idempotency.remember_response(
            company_id, key=key, fingerprint=fingerprint, status=status, body=body
        )
        try:
            db.session.commit()
            return json_response(status, body)
        except IntegrityError:  # the same key, sent twice at once: the first one won
            db.session.rollback()
            stored = idempotency.find_replay(company_id, key=key, fingerprint=fingerprint)
            if stored is None:
                raise
    response = json_response(stored.status_code, stored.response)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def json_response(status: int, body: dict[str, Any]) -> FlaskResponse:
    """Return a JSON body with its status."""
    response = jsonify(body)
    response.status_code = status
    return response
