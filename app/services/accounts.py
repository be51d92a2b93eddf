"""Accounts: registering a company, signing in, e-mail confirmation, passwords, memberships."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import contains_eager, lazyload

from app import humanize, permissions, realtime, security
from app.db import after_commit
from app.einvoice import events as dian_events
from app.extensions import db
from app.mail import send_mail
from app.models import Company, Membership, TrayVersion, User, utcnow
from app.services import audit, events, network
from app.services.errors import DomainError, FieldErrors
from app.services.events import CompanyRegistered
from app.services.inputs import TAX_ID_MESSAGES, normalize_email, validate_tax_id
from app.taxids import COUNTRIES, KIND
from app.tenancy import unscoped

WEAK_PASSWORD = _l(
    "This password is too easy to guess. Use at least 10 characters that are not a common "
    "word, a date or your name."
)


def find_user_by_email(email: str) -> User | None:
    """Return the user with this e-mail address, if any."""
    return db.session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def find_company_by_tax_id(country: str, tax_id: str) -> Company | None:
    """Return the company registered with this compact tax id."""
    return db.session.scalars(
        select(Company).where(Company.country == country, Company.tax_id == tax_id)
    ).first()


@dataclass
class Registration:
    legal_name: str
    trade_name: str
    country: str
    tax_id: str
    contact_email: str
    user_name: str
    user_email: str
    password: str
    locale: str = "es"


def register_company(data: Registration) -> User:
    """Register a company with its first user as owner, and send the confirmation e-mail."""
    errors: dict[str, list[Any]] = {}
    country = data.country.upper()
    if country not in COUNTRIES:
        errors["country"] = [TAX_ID_MESSAGES["country"]]
        tax_id = ""
    else:
        try:
            tax_id = validate_tax_id(country, data.tax_id)
        except DomainError as error:
            errors["tax_id"] = [error.message]
            tax_id = ""
    if tax_id and find_company_by_tax_id(country, tax_id):
        errors["tax_id"] = [
            _l(
                "A company with this %(kind)s is already on the network. Ask its "
                "administrator to invite you.",
                kind=KIND[country],
            )
        ]
    try:
        contact_email = normalize_email(data.contact_email)
    except DomainError as error:
        errors["contact_email"] = [error.message]
        contact_email = ""
    try:
        user_email = normalize_email(data.user_email)
    except DomainError as error:
        errors["user_email"] = [error.message]
        user_email = ""
    if user_email and find_user_by_email(user_email):
        errors["user_email"] = [
            _l("This e-mail address is already in use. Sign in, or reset your password.")
        ]
    if security.password_is_weak(data.password, [data.user_name, user_email, data.legal_name]):
        errors["password"] = [WEAK_PASSWORD]
    if errors:
        raise FieldErrors(errors)

    company = Company(
        legal_name=data.legal_name.strip(),
        trade_name=(data.trade_name or "").strip() or None,
        country=country,
        tax_id=tax_id,
        contact_email=contact_email,
        locale="es" if country in ("CO", "CL", "MX") else "en",
    )
    user = User(
        name=data.user_name.strip(),
        email=user_email,
        password_hash=security.hash_password(data.password),
        locale=data.locale if data.locale in current_app.config["LANGUAGES"] else None,
        active=True,
    )
    db.session.add_all([company, user])
    db.session.flush()
    db.session.add(Membership(company_id=company.id, user_id=user.id, role=permissions.OWNER))
    user.last_company_id = company.id
    db.session.flush()
    audit.record_event(user, company, "company.registered", company)
    network.claim_invitations(company, actor=user)
    events.publish(CompanyRegistered(company=company, actor=user))  # documents waiting for it
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """E-mail a signed, expiring link that confirms the user's address."""
    token = security.make_token("email-confirm", {"u": user.id, "e": user.email})
    send_mail(user.email, "confirm_email", locale=user.locale, user=user, token=token)


def confirm_email(token: str) -> User:
    """Confirm the address a token was sent to."""
    max_age = current_app.config["EMAIL_TOKEN_MAX_AGE"]
    try:
        payload = security.read_token("email-confirm", token, max_age)
    except security.TokenError as error:
        raise DomainError(
            _l("This confirmation link has expired. Sign in to get a new one.")
            if error.expired
            else _l("This confirmation link is not valid.")
        ) from None
    user = db.session.get(User, payload.get("u"))
    if user is None or user.email != payload.get("e"):
        raise DomainError(_l("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record_event(user, user.last_company_id, "user.email_confirmed", user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the e-mail and password match an active account; record the try."""
    try:
        address = normalize_email(email)
    except DomainError:
        address = email.strip().lower()
    user = find_user_by_email(address)
    ok = security.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        audit.record_event(
            address[:254] or "unknown",
            user.last_company_id if user else None,
            "auth.sign_in_failed",
            user,
            {"email": address[:254]},
        )
        return None
    audit.record_event(user, user.last_company_id, "auth.signed_in", user)
    return user


def end_other_sessions(user: User) -> None:
    """Invalidate every session and remember-cookie of this user (bump the session version).

    Once committed, the sockets those sessions opened are closed in every process and hear
    nothing more (a session at the new version, such as the one that changed the password and
    signs in again, keeps its own).
    """
    user.session_version += 1
    user_id, version = user.id, user.session_version
    after_commit(db.session(), lambda: realtime.end_access(user_id, below_version=version))


def sign_out(user: User) -> None:
    """Sign the user out everywhere."""
    end_other_sessions(user)
    audit.record_event(user, user.last_company_id, "auth.signed_out", user)


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address belongs to a user; say nothing either way."""
    try:
        address = normalize_email(email)
    except DomainError:
        return
    user = find_user_by_email(address)
    if user is None or not user.active:
        return
    token = security.make_token(
        "password-reset", {"u": user.id, "f": security.fingerprint(user.password_hash)}
    )
    send_mail(user.email, "reset_password", locale=user.locale, user=user, token=token)
    audit.record_event(user, user.last_company_id, "auth.password_reset_requested", user)


def user_for_reset_token(token: str) -> User:
    """Return the user a reset token is for, or raise DomainError (used or expired token)."""
    max_age = current_app.config["RESET_TOKEN_MAX_AGE"]
    invalid = _l("This reset link is not valid or was already used. Ask for a new one.")
    try:
        payload = security.read_token("password-reset", token, max_age)
    except security.TokenError as error:
        raise DomainError(
            _l("This reset link has expired. Ask for a new one.") if error.expired else invalid
        ) from None
    user = db.session.get(User, payload.get("u"))
    # The token carries a fingerprint of the password hash: once used, it no longer matches.
    if user is None or payload.get("f") != security.fingerprint(user.password_hash):
        raise DomainError(invalid)
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then stops working."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link proved the address
    audit.record_event(user, user.last_company_id, "auth.password_reset", user)
    return user


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Change a password after checking the current one; other sessions end."""
    if not security.verify_password(user.password_hash, current_password):
        raise DomainError(_l("The current password is not right."), field="current_password")
    _set_password(user, new_password)
    audit.record_event(user, user.last_company_id, "auth.password_changed", user)


def _set_password(user: User, new_password: str) -> None:
    if security.password_is_weak(new_password, [user.name, user.email]):
        raise DomainError(WEAK_PASSWORD, field="password")
    user.password_hash = security.hash_password(new_password)
    end_other_sessions(user)


@dataclass(frozen=True)
class SignedIn:
    """The request's first read: the signed-in user, their active memberships by company name,
    and each of those companies' tray version (app.models.tray_version) as of that read."""

    user: User
    memberships: list[Membership]
    tray_versions: dict[int, int]


@functools.cache
def _signed_in_query() -> Any:
    """The statement signed_in runs, built once: building it cost more than running it."""
    return unscoped(
        select(User, Membership, TrayVersion.version)
        .outerjoin(Membership, (Membership.user_id == User.id) & Membership.active.is_(True))
        .outerjoin(Company, Company.id == Membership.company_id)
        .outerjoin(TrayVersion, TrayVersion.company_id == Membership.company_id)
        .where(User.id == bindparam("user_id"))
        .order_by(Company.legal_name)
        .options(lazyload(Membership.user), contains_eager(Membership.company))
    )


def signed_in(user_id: int, session_version: int) -> SignedIn | None:
    """Load a session's user with their memberships in one query; None if the session ended.

    The session ended when the user is gone or deactivated, or the session's version is not the
    user's (sign-out everywhere, password change). Every page asks this first.
    """
    rows = db.session.execute(_signed_in_query(), {"user_id": user_id}).all()
    if not rows:
        return None
    user = rows[0][0]
    if not user.active or user.session_version != session_version:
        return None
    memberships = [m for _user, m, _version in rows if m is not None]
    versions = {m.company_id: version or 0 for _user, m, version in rows if m is not None}
    return SignedIn(user, memberships, versions)


def ended_sockets(sockets: list[tuple[str, int, int | None, int, str | None]]) -> list[str]:
    """Return the sockets whose access has ended, of (sid, user, company, version, role).

    A socket speaks for the session and the membership it was opened with: it has ended when
    the user is gone or deactivated, the session version moved on, or its company's membership
    is no longer active or has another role. The after-commit signal ends sockets at once; this
    re-check catches a signal a message-queue outage lost, or a change made outside the services.
    """
    if not sockets:
        return []
    user_ids = {user_id for _sid, user_id, _company, _version, _role in sockets}
    # One query: each user with each of their active memberships (or none).
    rows = db.session.execute(
        unscoped(
            select(
                User.id, User.active, User.session_version, Membership.company_id, Membership.role
            )
            .outerjoin(Membership, (Membership.user_id == User.id) & Membership.active.is_(True))
            .where(User.id.in_(user_ids))
        )
    ).all()
    users = {row.id: row for row in rows}
    roles = {(row.id, row.company_id): row.role for row in rows}
    ended = []
    for sid, user_id, company_id, version, role in sockets:
        user = users.get(user_id)
        if user is None or not user.active or user.session_version != version:
            ended.append(sid)
        elif company_id is not None and roles.get((user_id, company_id)) != role:
            ended.append(sid)
    return ended


def memberships_of(user_id: int) -> list[Membership]:
    """Return the user's active memberships in every company, by company name."""
    stmt = (
        select(Membership)
        .join(Company, Company.id == Membership.company_id)
        .where(Membership.user_id == user_id, Membership.active.is_(True))
        .order_by(Company.legal_name)
        # Every request reads this: the user is the one already loaded (m.user comes from the
        # session's identity map), so only the companies are joined.
        .options(lazyload(Membership.user))
    )
    return list(db.session.scalars(unscoped(stmt)).unique())


def active_membership(
    user: User, company_id: int | None, *, memberships: list[Membership] | None = None
) -> Membership | None:
    """Return the membership the user acts through: the one asked for, else the last used."""
    if memberships is None:
        memberships = memberships_of(user.id)
    for wanted in (company_id, user.last_company_id):
        for membership in memberships:
            if membership.company_id == wanted:
                return membership
    return memberships[0] if memberships else None


def switch_company(user: User, company_id: int) -> Membership:
    """Make another of the user's companies the active one."""
    membership = next((m for m in memberships_of(user.id) if m.company_id == company_id), None)
    if membership is None:
        raise DomainError(_l("You are not a member of that company."), field="company_id")
    user.last_company_id = company_id
    return membership


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language."""
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_l("That language is not available."), field="locale")
    user.locale = locale


@dataclass(frozen=True)
class ProfileInput:
    """What a user says of themselves: name, identity document, job title and department."""

    name: str
    id_document_type: str = ""
    id_document_number: str = ""
    job_title: str = ""
    department: str = ""
    timezone: str = ""


#: Id types that are numbers only (a cédula is written with dots: they are dropped).
_NUMERIC_ID_TYPES = frozenset({"11", "12", "13", "21", "22", "91"})


def id_document_number(kind: str, raw: str, *, required: bool = False) -> str:
    """Check an identity document (DIAN id type and number); return the number as stored.

    Both the type and the number, or neither (unless required). A numeric id (cédula, tarjeta,
    registro civil, NUIP) keeps only its digits: 3 to 15 of them; a passport or foreign document
    is 3 to 20 letters and digits, upper-cased. Errors name the fields id_document_type and
    id_document_number.
    """
    kind, raw = (kind or "").strip(), (raw or "").strip()
    if kind and kind not in dian_events.PERSON_ID_TYPES:
        raise FieldErrors({"id_document_type": [_l("Choose a type of identity document.")]})
    if not kind and not raw:
        if required:
            raise FieldErrors({"id_document_type": [_l("Choose a type of identity document.")]})
        return ""
    if not raw:
        raise FieldErrors({"id_document_number": [_l("Enter the document's number.")]})
    if not kind:
        raise FieldErrors({"id_document_type": [_l("Choose the type of this document.")]})
    if kind in _NUMERIC_ID_TYPES:
        number = re.sub(r"[\s.\-]", "", raw)
        if not number.isdigit() or not 3 <= len(number) <= 15:
            raise FieldErrors({"id_document_number": [
                _l("This document's number is 3 to 15 digits (dots and spaces are fine).")
            ]})
        return number
    number = re.sub(r"[\s\-]", "", raw).upper()
    if not number.isalnum() or not number.isascii() or not 3 <= len(number) <= 20:
        raise FieldErrors({"id_document_number": [
            _l("This document's number is 3 to 20 letters and digits.")
        ]})
    return number


def update_profile(user: User, profile: ProfileInput) -> None:
    """Change the user's name and the identity DIAN events name them by; refuse bad input
    (the identity document as id_document_number checks it)."""
    errors: dict[str, list[Any]] = {}
    name = " ".join((profile.name or "").split())
    if not name:
        errors["name"] = [_l("Enter your name.")]
    elif len(name) > 120:
        errors["name"] = [_l("At most %(count)d characters.", count=120)]
    kind = (profile.id_document_type or "").strip()
    try:
        number = id_document_number(kind, profile.id_document_number or "")
    except FieldErrors as error:
        errors.update(error.errors)
        number = ""
    job_title = " ".join((profile.job_title or "").split())
    department = " ".join((profile.department or "").split())
    for field, value in (("job_title", job_title), ("department", department)):
        if len(value) > 120:
            errors[field] = [_l("At most %(count)d characters.", count=120)]
    timezone = (profile.timezone or "").strip() or user.timezone or humanize.DEFAULT_TIMEZONE
    if not humanize.is_timezone(timezone):
        errors["timezone"] = [_l("Choose a time zone from the list.")]
    if errors:
        raise FieldErrors(errors)
    user.name = name
    user.timezone = timezone
    user.id_document_type = kind or None
    user.id_document_number = number or None
    user.job_title = job_title or None
    user.department = department or None
    audit.record_event(
        user, user.last_company_id, "user.profile_changed", user,
        {"id_document_type": kind or None, "id_document_set": bool(number)},
    )


def update_company(
    company_id: int, *, trade_name: str, contact_email: str, locale: str, actor: User
) -> Company:
    """Change the company's trade name, contact e-mail and default language."""
    membership = db.session.scalars(
        select(Membership).where(
            Membership.company_id == company_id, Membership.user_id == actor.id
        )
    ).first()
    if membership is None or not permissions.role_can(membership.role, "company.manage"):
        from app.services.errors import Forbidden

        raise Forbidden(_l("Your role does not allow this."))
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_l("That language is not available."), field="locale")
    company = membership.company
    before = {"trade_name": company.trade_name, "contact_email": company.contact_email,
              "locale": company.locale}
    company.trade_name = trade_name.strip() or None
    company.contact_email = normalize_email(contact_email, field="contact_email")
    company.locale = locale
    audit.record_event(actor, company, "company.updated", company, {"before": before})
    return company
