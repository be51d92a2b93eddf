"""The acting membership of a request and the one permission check every route uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Company, Membership, User
from app.permissions import role_can
from app.services.documents import trays

F = TypeVar("F", bound=Callable[..., Any])


def membership() -> Membership | None:
    """Return the membership the signed-in user acts through in this request."""
    return g.get("membership")


def company() -> Company:
    """Return the acting company (routes behind require_permission always have one)."""
    m = membership()
    if m is None:
        abort(404)
    return m.company


def tray_version() -> int:
    """Return the acting company's tray version, as read with the signed-in user.

    That read is the request's first, so it comes before anything a page shows.
    """
    m = membership()
    if m is None:
        abort(404)
    versions = g.get("tray_versions") or {}
    if m.company_id in versions:
        return versions[m.company_id]
    return trays.version(m.company_id)


def user() -> User:
    """Return the signed-in user."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def can(permission: str) -> bool:
    """Tell whether the acting membership's role holds the permission (templates use it)."""
    m = membership()
    return m is not None and role_can(m.role, permission)


def require_permission(permission: str, *, confirmed: bool = False) -> Callable[[F], F]:
    """Let a route run only for a signed-in member whose role holds the permission."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if membership() is None:
                return redirect(url_for("main.no_company"))
            if not can(permission):
                abort(403, description=_("Your role does not allow this."))
            if confirmed and not current_user.email_confirmed:
                abort(403, description=_("Confirm your e-mail address first: check your inbox."))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
