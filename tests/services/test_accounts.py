"""The accounts service: registering, signing in, reset links, company switching, memberships."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import security, tenancy
from app.extensions import db
from app.models import AuditEvent, Company, Membership, User
from app.services import accounts
from app.services.errors import DomainError, FieldErrors
from app.tenancy import unscoped
from tests.conftest import PASSWORD, add_member, link_in, make_company, make_user, unique_nit

NEW_PASSWORD = "Violet-Tractor-Sunrise-42"


def registration(**overrides) -> accounts.Registration:
    values = {
        "legal_name": "Ferretería Los Andes S.A.S.",
        "trade_name": "Ferrandes",
        "country": "CO",
        "tax_id": unique_nit(),
        "contact_email": "contacto@ferrandes.com.co",
        "user_name": "Martín Rojas",
        "user_email": "martin@ferrandes.com.co",
        "password": PASSWORD,
    }
    values.update(overrides)
    return accounts.Registration(**values)


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Company)),
        db.session.scalar(select(func.count()).select_from(User)),
    )


def token_from_last_mail(outbox, marker: str) -> str:
    return link_in(outbox()[-1]["body"], marker).rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# register_company


def test_does_registration_report_every_wrong_field_at_once(app):
    """With a bad tax id, bad e-mails and a weak password, am I told about all of them at once?"""
    before = counts()
    bad_nit = unique_nit()
    bad_nit = bad_nit[:-1] + str((int(bad_nit[-1]) + 1) % 10)
    with app.test_request_context(), pytest.raises(FieldErrors) as caught:
        accounts.register_company(
            registration(
                tax_id=bad_nit, contact_email="no-es-correo", user_email="martin@", password="abc"
            )
        )

    assert set(caught.value.errors) == {"tax_id", "contact_email", "user_email", "password"}
    assert all(messages for messages in caught.value.errors.values())
    db.session.rollback()
    assert counts() == before


def test_are_a_taken_tax_id_and_a_taken_email_reported_together(app):
    """If both my company and my e-mail are already registered, are both named?"""
    existing = make_company("Ya Está", tax_id=unique_nit())
    make_user(existing, email="martin@ferrandes.com.co")
    with app.test_request_context(), pytest.raises(FieldErrors) as caught:
        accounts.register_company(
            registration(tax_id=existing.tax_id, user_email="MARTIN@ferrandes.com.co")
        )
    assert set(caught.value.errors) == {"tax_id", "user_email"}


def test_is_a_country_the_portal_does_not_serve_refused(app):
    """Can a company register from a country whose tax ids the portal cannot check?"""
    with app.test_request_context(), pytest.raises(FieldErrors) as caught:
        accounts.register_company(registration(country="PE", tax_id="20100047218"))
    assert "country" in caught.value.errors


def test_does_registration_make_me_owner_and_email_me_only_once_saved(app, outbox):
    """Does registering make me owner of the new company, and is the e-mail sent after commit?"""
    typed_nit = unique_nit()
    with app.test_request_context():
        user = accounts.register_company(
            registration(
                tax_id=f"{typed_nit[:-1]}-{typed_nit[-1]}", user_email=" Martin@Ferrandes.com.co "
            )
        )
        assert outbox() == []  # nothing leaves before the data is safe
        db.session.commit()

    company = db.session.get(Company, user.last_company_id)
    assert company.tax_id == typed_nit
    assert user.email == "martin@ferrandes.com.co"
    membership = db.session.scalars(
        unscoped(select(Membership).where(Membership.user_id == user.id))
    ).one()
    assert (membership.company_id, membership.role, membership.active) == (
        company.id,
        "owner",
        True,
    )
    assert [m["to"] for m in outbox()] == ["martin@ferrandes.com.co"]
    token = token_from_last_mail(outbox, "/auth/confirm/")
    assert accounts.confirm_email(token).email_confirmed_at is not None


def test_is_no_email_sent_when_the_registration_is_rolled_back(app, outbox):
    """If saving the registration fails, am I spared a confirmation e-mail for nothing?"""
    with app.test_request_context():
        accounts.register_company(registration())
        db.session.rollback()
        db.session.commit()
    assert outbox() == []
    assert counts() == (0, 0)


def test_is_a_confirmation_link_refused_once_the_address_changed(app, outbox):
    """Does a confirmation link sent to my old address stop working after it changed?"""
    with app.test_request_context():
        user = accounts.register_company(registration())
        db.session.commit()
    token = token_from_last_mail(outbox, "/auth/confirm/")
    user.email = "otro@ferrandes.com.co"
    db.session.commit()

    with pytest.raises(DomainError):
        accounts.confirm_email(token)
    assert user.email_confirmed_at is None


# ---------------------------------------------------------------------------------------------
# authenticate


def test_does_authenticate_accept_the_right_password_however_the_email_is_typed(company):
    """Does signing in work with capitals and spaces around my e-mail?"""
    user = make_user(company, email="olga@andina.com.co")
    assert accounts.authenticate("  OLGA@Andina.com.co ", PASSWORD) == user


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("olga@andina.com.co", "Not-The-Password-1"),
        ("nadie@andina.com.co", PASSWORD),
        ("no-es-un-correo", PASSWORD),
    ],
    ids=["wrong-password", "unknown-email", "not-an-email"],
)
def test_does_authenticate_refuse_wrong_credentials(company, email, password):
    """Are a wrong password, an unknown e-mail and garbage all refused?"""
    make_user(company, email="olga@andina.com.co")
    assert accounts.authenticate(email, password) is None


def test_does_authenticate_refuse_a_deactivated_account(company):
    """Is a deactivated account kept out even with the right password?"""
    user = make_user(company, email="olga@andina.com.co")
    user.active = False
    db.session.commit()
    assert accounts.authenticate("olga@andina.com.co", PASSWORD) is None


def test_is_a_failed_sign_in_recorded_for_the_company_audit(company):
    """Can the company see that someone tried to sign in as one of its users?"""
    user = make_user(company, email="olga@andina.com.co")
    accounts.authenticate("olga@andina.com.co", "Not-The-Password-1")
    db.session.commit()
    with tenancy.acting_as(company.id):
        events = db.session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.actor_user_id is None or e.actor_user_id == user.id) for e in events] == [
        ("auth.sign_in_failed", True)
    ]


# ---------------------------------------------------------------------------------------------
# Password reset and change


def test_does_a_reset_token_work_only_once(app, company, outbox):
    """Can a reset link be used a second time (e.g. by someone who found the e-mail later)?"""
    user = make_user(company, email="olga@andina.com.co")
    with app.test_request_context():
        accounts.request_password_reset("olga@andina.com.co")
        db.session.commit()
    token = token_from_last_mail(outbox, "/auth/reset/")

    accounts.reset_password(token, NEW_PASSWORD)
    db.session.commit()

    with pytest.raises(DomainError):
        accounts.user_for_reset_token(token)
    with pytest.raises(DomainError):
        accounts.reset_password(token, "Granite-Pelican-Orbit-77")
    db.session.rollback()
    assert security.verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)


def test_does_a_reset_token_stop_working_once_the_password_was_changed(app, company, outbox):
    """If I change my password after asking for a reset link, does the old link die?"""
    user = make_user(company, email="olga@andina.com.co")
    with app.test_request_context():
        accounts.request_password_reset("olga@andina.com.co")
        db.session.commit()
    token = token_from_last_mail(outbox, "/auth/reset/")

    accounts.change_password(user, current_password=PASSWORD, new_password=NEW_PASSWORD)
    db.session.commit()

    with pytest.raises(DomainError):
        accounts.user_for_reset_token(token)


def test_does_a_reset_confirm_my_address_and_end_my_sessions(app, company, outbox):
    """Does setting a password from the e-mailed link also prove my address and sign me out?"""
    user = make_user(company, email="olga@andina.com.co", confirmed=False)
    version = user.session_version
    with app.test_request_context():
        accounts.request_password_reset("olga@andina.com.co")
        db.session.commit()
    accounts.reset_password(token_from_last_mail(outbox, "/auth/reset/"), NEW_PASSWORD)
    db.session.commit()
    assert user.email_confirmed_at is not None
    assert user.session_version > version


def test_is_no_reset_email_sent_for_an_unknown_or_deactivated_address(app, company, outbox):
    """Does a reset request for an unknown or deactivated account send nothing?"""
    user = make_user(company, email="olga@andina.com.co")
    user.active = False
    db.session.commit()
    with app.test_request_context():
        accounts.request_password_reset("olga@andina.com.co")
        accounts.request_password_reset("nadie@andina.com.co")
        db.session.commit()
    assert outbox() == []


def test_does_changing_the_password_check_the_current_one(company):
    """Is a password change with the wrong current password refused on that field?"""
    user = make_user(company, email="olga@andina.com.co")
    hash_before, version = user.password_hash, user.session_version
    with pytest.raises(DomainError) as caught:
        accounts.change_password(
            user, current_password="Not-The-Password-1", new_password=NEW_PASSWORD
        )
    assert caught.value.field == "current_password"
    assert (user.password_hash, user.session_version) == (hash_before, version)


def test_is_a_password_containing_my_name_refused(company):
    """Can I choose a password made of my own name?"""
    user = make_user(company, email="olga@andina.com.co", name="Olga Dueñas")
    with pytest.raises(DomainError) as caught:
        accounts.change_password(user, current_password=PASSWORD, new_password="OlgaDueñas")
    assert caught.value.field == "password"


def test_does_changing_the_password_end_other_sessions(company):
    """After a password change, does the session version move on (ending other sessions)?"""
    user = make_user(company, email="olga@andina.com.co")
    old_id = user.get_id()
    accounts.change_password(user, current_password=PASSWORD, new_password=NEW_PASSWORD)
    db.session.commit()
    assert user.get_id() != old_id
    assert security.verify_password(user.password_hash, NEW_PASSWORD)


# ---------------------------------------------------------------------------------------------
# Companies of a user


def test_can_i_switch_to_a_company_i_do_not_belong_to(company, other_company):
    """Is switching to another company's workspace refused (and nothing changes)?"""
    user = make_user(company)
    with pytest.raises(DomainError) as caught:
        accounts.switch_company(user, other_company.id)
    assert caught.value.field == "company_id"
    assert user.last_company_id == company.id


def test_can_i_switch_to_a_company_that_deactivated_me(company, other_company):
    """After a company deactivated me, can I still switch into it?"""
    user = make_user(company)
    membership = add_member(user, other_company, "viewer")
    membership.active = False
    db.session.commit()
    with pytest.raises(DomainError):
        accounts.switch_company(user, other_company.id)
    assert user.last_company_id == company.id


def test_can_i_switch_between_my_own_companies(company, other_company):
    """Can I switch to another company where I am an active member?"""
    user = make_user(company)
    add_member(user, other_company, "viewer")
    membership = accounts.switch_company(user, other_company.id)
    assert (membership.company_id, membership.role) == (other_company.id, "viewer")
    assert user.last_company_id == other_company.id


def test_does_memberships_of_list_only_active_memberships(company, other_company):
    """Does my company list leave out companies where I was deactivated?"""
    third = make_company("Tercera")
    user = make_user(company)
    add_member(user, third, "sales")
    inactive = add_member(user, other_company, "viewer")
    inactive.active = False
    db.session.commit()

    listed = accounts.memberships_of(user.id)

    assert sorted(m.company_id for m in listed) == sorted([company.id, third.id])
    assert [m.company.legal_name for m in listed] == sorted(m.company.legal_name for m in listed)
