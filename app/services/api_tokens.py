"""Company API tokens: created and revoked by admins, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hmac

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import ApiToken, Company, User, utcnow
from app.models.api import (
    CATALOG_READ,
    CATALOG_WRITE,
    DOCUMENTS_READ,
    DOCUMENTS_WRITE,
    EVENTS_WRITE,
    ORDERS_READ,
    ORDERS_WRITE,
    PAYMENTS_READ,
    PAYMENTS_WRITE,
    PREFIX_LENGTH,
    RECONCILIATION_READ,
    RECONCILIATION_WRITE,
    SCOPES,
)
from app.security import hash_secret_token, new_secret_token
from app.services import audit
from app.services.errors import FieldErrors, NotFound
from app.tenancy import unscoped

SCOPE_LABELS = {
    DOCUMENTS_READ: _l("Read documents and partners"),
    DOCUMENTS_WRITE: _l("Send documents"),
    EVENTS_WRITE: _l("Record events (acknowledge, accept, claim)"),
    PAYMENTS_READ: _l("Read payments and remittances"),
    PAYMENTS_WRITE: _l("Pay invoices, record transfers and refund"),
    RECONCILIATION_READ: _l("Read bank accounts, statement lines and suggested matches"),
    RECONCILIATION_WRITE: _l("Add bank accounts, upload statements, confirm and undo matches"),
    ORDERS_READ: _l("Read orders placed and received, and their documents"),
    ORDERS_WRITE: _l("Place orders, answer them, confirm or cancel them"),
    CATALOG_READ: _l("Read the catalog and search suppliers' catalogs"),
    CATALOG_WRITE: _l("Add, change, delete and import catalog items"),
}
NAME_MAX = 100
# A bearer token longer than this is not one of ours: refuse it before hashing.
PLAINTEXT_MAX = 200


def tokens(company_id: int) -> Select[tuple[ApiToken]]:
    """Return the company's tokens, active ones first, newest first."""
    return (
        select(ApiToken)
        .where(ApiToken.company_id == company_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def create_token(
    company_id: int, *, name: str, scopes: list[str], actor: User
) -> tuple[ApiToken, str]:
    """Create a token with a name and scopes; return it and its plaintext, shown only once."""
    name = (name or "").strip()
    errors: dict[str, list[object]] = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = [_l("Give the token a name of at most %(max)d characters.", max=NAME_MAX)]
    chosen = [s for s in SCOPES if s in set(scopes or [])]
    if not chosen or len(chosen) != len(set(scopes)):
        errors["scopes"] = [_l("Choose at least one of the permissions offered.")]
    if errors:
        raise FieldErrors(errors)
    plaintext, token_hash = new_secret_token()
    token = ApiToken(
        company_id=company_id,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        token_hash=token_hash,
        scopes=chosen,
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "api.token_created",
        token,
        {"name": name, "prefix": token.prefix, "scopes": chosen},
    )
    return token, plaintext


def revoke_token(company_id: int, *, token_id: int, actor: User) -> ApiToken:
    """Revoke a token of the acting company; it is refused from the next request on."""
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.company_id == company_id, ApiToken.id == token_id)
    ).first()
    if token is None:
        raise NotFound(_l("That token does not exist."))
    if token.revoked_at is None:  # revoking twice changes nothing
        token.revoked_at = utcnow()
        audit.record_event(
            actor,
            company_id,
            "api.token_revoked",
            token,
            {"name": token.name, "prefix": token.prefix},
        )
    return token


# Built once: it runs for every API call. The company comes in the same query and stays
# referenced by the token, so the views' ``db.session.get(Company, ...)`` needs no SQL.
_TOKEN_BY_HASH = unscoped(
    select(ApiToken)
    .join(Company, Company.id == ApiToken.company_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .options(contains_eager(ApiToken.company))
)


def authenticate(plaintext: str | None) -> ApiToken | None:
    """Return the active token whose hash matches, and mark it used; None for anything else.

    The look-up is by SHA-256 hash, so its timing tells nothing about the token's characters.
    """
    if not plaintext or len(plaintext) > PLAINTEXT_MAX:
        return None
    token_hash = hash_secret_token(plaintext)
    # No company is bound yet: the token is what decides which company is acting.
    token = db.session.scalars(_TOKEN_BY_HASH, {"token_hash": token_hash}).first()
    if token is None:
        return None
    if not hmac.compare_digest(token.token_hash, token_hash):
        return None
    if token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    return token
