"""Bearer-token authentication for the API, and the company it makes act.

An API request never acts through the session cookie (the API is exempt from CSRF): the
request-binding in ``create_app`` leaves the company unbound for the ``api`` blueprint, and
``require_token`` binds the token's company — the request's binding place, for a token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from sqlalchemy import inspect

from app import tenancy
from app.blueprints.api.errors import MESSAGES, error_response
from app.db import after_commit
from app.extensions import db
from app.models import ApiToken, AuditEvent, User, utcnow
from app.security import hash_secret_token
from app.services import api_tokens, audit
from app.web.input_guard import refuse_nul

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, if one was sent."""
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def rate_limit_key() -> str:
    """Count requests per presented token (its hash), or per address without one."""
    token = bearer_token()
    if token:
        return "api-token:" + hash_secret_token(token)[:32]
    return "api-ip:" + (get_remote_address() or "")


def rate_limit_cost() -> int:
    """Count a batch as one call per file it carries: a batch never widens the rate limit."""
    if request.method == "POST" and request.mimetype == "multipart/form-data":
        return max(1, len(request.files.getlist("file")))
    return 1


def current_token() -> ApiToken:
    """Return the token the request was authenticated with (views behind require_token)."""
    return g.api_token  # type: ignore[no-any-return]


def acting_user() -> User:
    """Return who an API call acts as: the token's creator, or a stand-in naming the token.

    Services record the user who acted. A token outlives its creator (or was made by a
    script), so without one an unsaved ``User`` carries the token's label into the audit trail
    ("api-token:<id>") and leaves the user columns empty; it is never added to the session.
    """
    token = current_token()
    creator = db.session.get(User, token.created_by_id) if token.created_by_id else None
    if creator is not None and creator.active:
        return creator
    return User(id=None, name=f"API {token.name}", email=f"api-token:{token.id}")


def _unauthorized(*, invalid: bool) -> Any:
    if invalid:  # RFC 6750: name the error only when a token was presented
        return error_response(
            401,
            _("The API token is invalid or was revoked."),
            code="invalid_token",
            headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
        )
    return error_response(
        401,
        MESSAGES[401](),
        code="missing_token",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def require_token(scope: str | None = None) -> Callable[[F], F]:
    """Let a view run only with a valid, unrevoked token holding the scope; bind its company.

    The call is audited (``api.call``) and the token's last use kept in the view's own
    transaction, one commit per request; when the view fails or rolls back, the call is recorded
    again after the rollback and committed, so every call is on record whatever the view did.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            plaintext = bearer_token()
            token = api_tokens.authenticate(plaintext)
            if token is None:
                return _unauthorized(invalid=plaintext is not None)
            tenancy.rebind(company_id=token.company_id, user_id=None, token_id=token.id)
            g.api_token = token
            allowed = token.allows(scope)
            details = {"method": request.method, "path": request.path}
            if not allowed:
                details["refused_scope"] = scope or ""
            call = _record_call(token, details)
            landed: list[bool] = []  # set once a commit holds the call (never on rollback)
            after_commit(db.session(), lambda: landed.append(True))
            if not allowed:
                db.session.commit()
                return error_response(
                    403,
                    _("This token does not have the %(scope)s permission.", scope=scope),
                    code="insufficient_scope",
                    details={"required_scope": scope},
                )
            try:
                refuse_nul()
                response = view(*args, **kwargs)
            except Exception:
                if not landed:  # undone with the view's work: record the call on its own
                    db.session.remove()  # what the end of a failed request does, now
                    db.session.add(token)
                    _record_call(token, details, touch=True)
                    db.session.commit()
                raise
            if not landed:
                if inspect(call).transient:  # the view rolled its work (and the call) back
                    _record_call(token, details, touch=True)
                db.session.commit()
            return response

        wrapped.token_scope = scope or ""  # type: ignore[attr-defined]  # the document says so
        return wrapped  # type: ignore[return-value]

    return decorator


def _record_call(token: ApiToken, details: dict[str, Any], *, touch: bool = False) -> AuditEvent:
    """Add the api.call audit event (and, after a rollback, the token's last use again)."""
    if touch:
        token.last_used_at = utcnow()
    return audit.record_event(
        f"api-token:{token.id}", token.company_id, "api.call", token, dict(details)
    )
