"""A company's team: inviting colleagues, roles, deactivation."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from app import permissions, realtime, security
from app.db import after_commit
from app.extensions import db
from app.mail import send_mail
from app.models import Company, Membership, TeamInvitation, User, utcnow
from app.services import audit
from app.services.accounts import WEAK_PASSWORD, end_other_sessions, find_user_by_email
from app.services.errors import Conflict, DomainError, Forbidden, NotFound
from app.services.inputs import normalize_email
from app.tenancy import unscoped


def members(company_id: int) -> Select[tuple[Membership]]:
    """Return the company's memberships, active first, by name."""
    return (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.company_id == company_id)
        .order_by(Membership.active.desc(), User.name)
    )


def pending_invitations(company_id: int) -> Select[tuple[TeamInvitation]]:
    """Return invitations not yet accepted or revoked, newest first."""
    return (
        select(TeamInvitation)
        .where(
            TeamInvitation.company_id == company_id,
            TeamInvitation.accepted_at.is_(None),
            TeamInvitation.revoked_at.is_(None),
        )
        .order_by(TeamInvitation.created_at.desc())
    )


def _check_role(role: str) -> None:
    if role not in permissions.ASSIGNABLE_ROLES:
        raise DomainError(_l("Choose one of the roles offered."), field="role")


def invite_member(company_id: int, *, email: str, role: str, actor: User) -> TeamInvitation:
    """Invite a colleague by e-mail with a role; the e-mail carries a single-use link."""
    _check_role(role)
    address = normalize_email(email)
    existing_user = find_user_by_email(address)
    if existing_user is not None:
        already = db.session.scalars(
            select(Membership).where(
                Membership.company_id == company_id, Membership.user_id == existing_user.id
            )
        ).first()
        # A deactivated colleague may be invited back: accepting reactivates them.
        if already is not None and already.active:
            raise Conflict(_l("%(email)s is already on the team.", email=address), field="email")
    for invitation in db.session.scalars(pending_invitations(company_id)):
        if invitation.email == address and invitation.status == "pending":
            raise Conflict(_l("%(email)s was already invited.", email=address), field="email")
    token, token_hash = security.new_secret_token()
    invitation = TeamInvitation(
        company_id=company_id,
        email=address,
        role=role,
        token_hash=token_hash,
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record_event(actor, company_id, "team.member_invited", invitation,
                       {"email": address, "role": role})
    company = db.session.get(Company, company_id)
    send_mail(
        address,
        "team_invitation",
        locale=existing_user.locale if existing_user else (company.locale if company else None),
        invitation=invitation,
        company=company,
        inviter=actor,
        token=token,
    )
    return invitation


def invitation_for_token(token: str) -> TeamInvitation:
    """Return the pending invitation a link is for, or raise DomainError."""
    invitation = db.session.scalars(
        unscoped(
            select(TeamInvitation).where(
                TeamInvitation.token_hash == security.hash_secret_token(token)
            )
        )
    ).first()
    if invitation is None or invitation.status in ("accepted", "revoked"):
        raise DomainError(_l("This invitation is not valid any more. Ask for a new one."))
    if invitation.status == "expired":
        raise DomainError(_l("This invitation has expired. Ask for a new one."))
    return invitation


def accept_invitation(
    token: str, *, user: User | None, name: str = "", password: str = ""
) -> User:
    """Join the inviting company: as the signed-in user, or as a new account for the e-mail."""
    invitation = invitation_for_token(token)
    if user is None:
        if find_user_by_email(invitation.email) is not None:
            raise DomainError(_l("Sign in as %(email)s to accept.", email=invitation.email))
        if not name.strip():
            raise DomainError(_l("Enter your name."), field="name")
        if security.password_is_weak(password, [name, invitation.email]):
            raise DomainError(WEAK_PASSWORD, field="password")
        user = User(
            name=name.strip(),
            email=invitation.email,
            password_hash=security.hash_password(password),
            email_confirmed_at=utcnow(),  # the link reached this address
            locale=invitation.company.locale,
        )
        db.session.add(user)
        db.session.flush()
    elif user.email != invitation.email:
        raise Forbidden(
            _l("This invitation was sent to %(email)s. Sign in with that address.",
               email=invitation.email)
        )
    membership = db.session.scalars(
        unscoped(
            select(Membership).where(
                Membership.company_id == invitation.company_id, Membership.user_id == user.id
            )
        )
    ).first()
    if membership is None:
        membership = Membership(company_id=invitation.company_id, user_id=user.id)
        db.session.add(membership)
    membership.role = invitation.role
    membership.active = True
    invitation.accepted_at = utcnow()
    user.last_company_id = invitation.company_id
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    db.session.flush()
    audit.record_event(user, invitation.company_id, "team.invitation_accepted", invitation,
                       {"role": invitation.role})
    return user


def revoke_invitation(company_id: int, *, invitation_id: int, actor: User) -> None:
    """Withdraw an invitation that was not accepted yet."""
    invitation = db.session.scalars(
        select(TeamInvitation).where(TeamInvitation.id == invitation_id)
    ).first()
    if invitation is None or invitation.company_id != company_id:
        raise NotFound(_l("That invitation does not exist."))
    if invitation.accepted_at is not None:
        raise Conflict(_l("That invitation was already accepted."))
    invitation.revoked_at = utcnow()
    audit.record_event(actor, company_id, "team.invitation_revoked", invitation)


def _membership(company_id: int, membership_id: int) -> Membership:
    membership = db.session.scalars(
        select(Membership).where(Membership.id == membership_id)
    ).first()
    if membership is None or membership.company_id != company_id:
        raise NotFound(_l("That team member does not exist."))
    return membership


def change_role(company_id: int, *, membership_id: int, role: str, actor: User) -> Membership:
    """Give a colleague another role (the owner's role cannot be changed)."""
    _check_role(role)
    membership = _membership(company_id, membership_id)
    if membership.role == permissions.OWNER:
        raise Forbidden(_l("The owner's role cannot be changed."))
    if membership.user_id == actor.id:
        raise Forbidden(_l("You cannot change your own role."))
    before = membership.role
    membership.role = role
    if before != role:
        # The colleague's sockets for this company chose their rooms under the old role: once
        # committed, they are closed (in every process) and reconnect under the new one.
        user_id = membership.user_id
        after_commit(
            db.session(), lambda: realtime.end_access(user_id, company_id=company_id)
        )
    audit.record_event(actor, company_id, "team.role_changed", membership,
                       {"user_id": membership.user_id, "from": before, "to": role})
    return membership


def set_member_active(
    company_id: int, *, membership_id: int, active: bool, actor: User
) -> Membership:
    """Deactivate (or reactivate) a colleague; deactivation ends their sessions at once."""
    membership = _membership(company_id, membership_id)
    if membership.role == permissions.OWNER:
        raise Forbidden(_l("The owner cannot be deactivated."))
    if membership.user_id == actor.id:
        raise Forbidden(_l("You cannot deactivate yourself."))
    membership.active = active
    if not active:
        end_other_sessions(membership.user)  # their sessions and sockets end
    audit.record_event(actor, company_id,
                       "team.member_reactivated" if active else "team.member_deactivated",
                       membership, {"user_id": membership.user_id})
    return membership
