"""The one place where "which company is acting" is decided and enforced.

The acting company is bound in exactly three places: the HTTP request (``init_app``), the
Socket.IO handler and the job/CLI wrapper (both through ``acting_as``). A session hook then adds
the company filter to every ORM SELECT: rows of ``TenantScoped`` models must carry the acting
company's id, and ``SharedAccess`` models (a partnership, later an invoice) apply their own
named rule. With no company bound, such queries return nothing.

A few system look-ups must cross companies (a user's memberships to build the company switcher,
the public directory, a registration's uniqueness checks). They call ``unscoped(stmt)`` so the
crossing is explicit and greppable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Select, event, select
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from app.db import PortalSession
from app.models.base import Base, SharedAccess, TenantScoped

NO_COMPANY = -1  # matches no row: ids start at 1


@dataclass(frozen=True)
class Acting:
    """Who is acting: the company, the user and where the request came from."""

    company_id: int | None = None
    user_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    token_id: int | None = None  # the API token a request authenticated with


_acting: ContextVar[Acting] = ContextVar("acting", default=Acting())  # noqa: B039 (frozen)


def current() -> Acting:
    """Return who is acting now."""
    return _acting.get()


def current_company_id() -> int | None:
    """Return the acting company's id, or None."""
    return _acting.get().company_id


@contextmanager
def acting_as(
    company_id: int | None, user_id: int | None = None, **origin: Any
) -> Iterator[Acting]:
    """Bind the acting company (and user) for a socket handler, a job or a CLI command."""
    token = _acting.set(Acting(company_id=company_id, user_id=user_id, **origin))
    try:
        yield _acting.get()
    finally:
        _acting.reset(token)


def bind(acting: Acting) -> Any:
    """Bind for the rest of this context (the request); return a token for ``unbind``."""
    return _acting.set(acting)


def rebind(**changes: Any) -> None:
    """Change part of what is bound now (the request switched company or signed in)."""
    _acting.set(replace(_acting.get(), **changes))


def unbind(token: Any) -> None:
    """Undo ``bind``."""
    _acting.reset(token)


S = TypeVar("S", bound=Select[Any])


def unscoped(stmt: S) -> S:
    """Mark a statement as a deliberate cross-company system look-up."""
    return stmt.execution_options(tenancy_unscoped=True)


def _shared_models() -> list[type[Any]]:
    return [
        m.class_
        for m in Base.registry.mappers
        if issubclass(m.class_, SharedAccess) and not issubclass(m.class_, TenantScoped)
    ]


@event.listens_for(PortalSession, "do_orm_execute")
def _filter_by_company(state: ORMExecuteState) -> None:
    if (
        not state.is_select
        or state.is_column_load
        or state.is_relationship_load
        or state.execution_options.get("tenancy_unscoped", False)
    ):
        return
    company_id = _acting.get().company_id or NO_COMPANY
    state.statement = state.statement.options(
        *_company_criteria(company_id, len(Base.registry.mappers))
    )


@lru_cache(maxsize=4096)
def _company_criteria(company_id: int, _models: int) -> tuple[Any, ...]:
    """Build the loader criteria of one company once, not on every SELECT.

    Keyed by the number of mapped models too, so a model mapped later gets its rule.
    """
    options = [
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.company_id == company_id,
            include_aliases=True,
        )
    ]
    options += [
        with_loader_criteria(model, model.tenant_criteria(company_id), include_aliases=True)
        for model in _shared_models()
    ]
    return tuple(options)


M = TypeVar("M")


def get_or_404(model: type[M], ident: Any) -> M:
    """Load one row the acting company may see, or answer 404 (never 403)."""
    from flask import abort

    from app.extensions import db

    row = db.session.scalars(
        select(model).where(model.id == ident).execution_options(populate_existing=True)  # type: ignore[attr-defined]
    ).first()
    if row is None:
        abort(404)
    return row
