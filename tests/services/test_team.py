"""Team rules checked at the service level, where no form stands in front of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import Membership, TeamInvitation, User, utcnow
from app.services import team
from app.services.errors import DomainError, Forbidden
from app.tenancy import acting_as, unscoped
from tests.conftest import link_in, make_company, make_user

STRONG = "Velvet-Orchard-Lantern-47"


def english(message) -> str:
    """Return a (lazy) user-facing message as an English reader sees it."""
    with force_locale("en"):
        return str(message)


def membership(user: User, company) -> Membership:
    stmt = select(Membership).where(
        Membership.user_id == user.id, Membership.company_id == company.id
    )
    return db.session.scalars(unscoped(stmt.execution_options(populate_existing=True))).one()


def invite(company, actor, email, role="viewer"):
    """Invite as actor for company, and commit (the e-mail goes out)."""
    with acting_as(company.id, actor.id):
        team.invite_member(company.id, email=email, role=role, actor=actor)
        db.session.commit()


def token_sent_to(outbox, email: str) -> str:
    """Return the token of the last invitation link e-mailed to this address."""
    body = [m for m in outbox() if m["to"] == email][-1]["body"]
    return link_in(body, "/auth/invitations/").rsplit("/", 1)[-1]


@pytest.mark.parametrize("role", ["owner", "superuser", ""])
def test_can_ownership_or_an_unknown_role_be_given_by_invitation(company, owner, role):
    """The service refuses, naming the role field, whatever form is in front of it."""
    with acting_as(company.id, owner.id), pytest.raises(DomainError) as refused:
        team.invite_member(company.id, email="x@example.com", role=role, actor=owner)
    assert refused.value.field == "role"
    assert english(refused.value.message) == "Choose one of the roles offered."


def test_can_two_companies_invite_the_same_person(company, owner, other_company, outsider, outbox):
    """An invitation waiting in one company does not block another company's."""
    invite(company, owner, "compartida@example.com")
    invite(other_company, outsider, "compartida@example.com")

    invitations = db.session.scalars(unscoped(select(TeamInvitation))).all()
    assert {i.company_id for i in invitations} == {company.id, other_company.id}
    assert [m["to"] for m in outbox()] == ["compartida@example.com"] * 2


def test_can_a_withdrawn_invitation_be_sent_again(company, owner):
    invite(company, owner, "otra.vez@example.com")
    (first,) = db.session.scalars(unscoped(select(TeamInvitation))).all()
    with acting_as(company.id, owner.id):
        team.revoke_invitation(company.id, invitation_id=first.id, actor=owner)
        db.session.commit()

    invite(company, owner, "otra.vez@example.com", role="sales")

    assert len(db.session.scalars(unscoped(select(TeamInvitation))).all()) == 2


def test_can_another_company_withdraw_my_invitation(company, owner, other_company, outsider):
    invite(company, owner, "mia@example.com")
    (invitation,) = db.session.scalars(unscoped(select(TeamInvitation))).all()

    with acting_as(other_company.id, outsider.id), pytest.raises(DomainError) as refused:
        team.revoke_invitation(other_company.id, invitation_id=invitation.id, actor=outsider)

    assert refused.value.status == 404
    assert invitation.revoked_at is None


def test_does_an_expired_invitation_say_it_expired(company, owner, outbox):
    invite(company, owner, "tarde@example.com")
    token = token_sent_to(outbox, "tarde@example.com")
    invitation = db.session.scalars(unscoped(select(TeamInvitation))).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    with pytest.raises(DomainError) as refused:
        team.accept_invitation(token, user=None, name="Tarde", password=STRONG)

    assert "expired" in english(refused.value.message)


def test_does_accepting_confirm_the_address_of_an_unconfirmed_user(
    company, owner, other_company, outbox
):
    """Following the link proves the address, so an unconfirmed account becomes confirmed."""
    user = make_user(
        other_company, role="owner", email="sin.confirmar@example.com", confirmed=False
    )
    invite(company, owner, user.email, role="payables")
    token = token_sent_to(outbox, user.email)

    team.accept_invitation(token, user=user)
    db.session.commit()

    assert user.email_confirmed
    assert membership(user, company).role == "payables"
    assert user.last_company_id == company.id


def test_can_a_newcomer_take_an_address_that_already_has_an_account(
    company, owner, other_company, outbox
):
    """Without signing in, nobody can create a second account for an existing address."""
    existing = make_user(other_company, role="owner", email="existe@example.com")
    invite(company, owner, existing.email)
    token = token_sent_to(outbox, existing.email)

    with pytest.raises(DomainError) as refused:
        team.accept_invitation(token, user=None, name="Impostor", password=STRONG)

    assert "Sign in as existe@example.com" in english(refused.value.message)


def test_can_a_deactivated_colleague_be_invited_back(company, owner, outbox):
    """The no-company page tells a deactivated user to ask for a new invitation: it works."""
    colleague = make_user(company, role="sales", email="vuelve@example.com")
    with acting_as(company.id, owner.id):
        team.set_member_active(
            company.id, membership_id=membership(colleague, company).id, active=False, actor=owner
        )
        db.session.commit()

    invite(company, owner, colleague.email, role="viewer")
    token = token_sent_to(outbox, colleague.email)
    team.accept_invitation(token, user=colleague)
    db.session.commit()

    assert membership(colleague, company).active
    assert membership(colleague, company).role == "viewer"


def test_is_an_active_colleague_still_refused_a_second_invitation(company, owner):
    colleague = make_user(company, role="sales", email="activa@example.com")
    with acting_as(company.id, owner.id), pytest.raises(DomainError) as refused:
        team.invite_member(company.id, email=colleague.email, role="viewer", actor=owner)
    assert "already on the team" in english(refused.value.message)


def test_does_deactivation_end_every_session_of_the_colleague(company, owner):
    colleague = make_user(company, role="viewer")
    before = colleague.session_version

    with acting_as(company.id, owner.id):
        team.set_member_active(
            company.id, membership_id=membership(colleague, company).id, active=False, actor=owner
        )
        db.session.commit()

    assert colleague.session_version == before + 1
    assert not membership(colleague, company).active


def test_can_an_admin_of_one_company_change_a_role_in_another(company, owner, other_company):
    """Naming another company's member answers "not found", and nothing changes."""
    theirs = make_user(other_company, role="viewer")
    with acting_as(company.id, owner.id), pytest.raises(DomainError) as refused:
        team.change_role(
            company.id,
            membership_id=membership(theirs, other_company).id,
            role="admin",
            actor=owner,
        )
    assert refused.value.status == 404
    assert membership(theirs, other_company).role == "viewer"


def test_can_anyone_change_their_own_role(company):
    admin = make_user(company, role="admin")
    with acting_as(company.id, admin.id), pytest.raises(Forbidden):
        team.change_role(
            company.id, membership_id=membership(admin, company).id, role="viewer", actor=admin
        )


def test_does_the_team_list_put_active_members_first(company, owner):
    """Deactivated colleagues sink to the bottom of the list."""
    gone = make_user(company, role="viewer", name="Aaron Ido")
    membership(gone, company).active = False
    db.session.commit()
    make_company("Ajena")

    with acting_as(company.id, owner.id):
        listed = db.session.scalars(team.members(company.id)).unique().all()

    assert [m.user.name for m in listed] == [owner.name, "Aaron Ido"]
