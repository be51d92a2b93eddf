"""The team: inviting colleagues, accepting an invitation, roles, deactivation, permissions.

Each test signs in through the test client and looks at what a user would see: the page, the
status code, the e-mail written to the outbox and the rows left in the database.
"""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Company, Membership, Partnership, TeamInvitation, User, utcnow
from app.permissions import ASSIGNABLE_ROLES, ROLE_PERMISSIONS
from app.tenancy import unscoped
from tests.conftest import PASSWORD, add_member, link_in, login, make_company, make_user

NEW_PASSWORD = "Velvet-Orchard-Lantern-47"


# ---------------------------------------------------------------- helpers and local fixtures


def new_client(app):
    """Return a browser of its own, in English (the UI strings asserted below are English)."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "en"
    return browser


@pytest.fixture
def client(app):
    return new_client(app)


def text(response) -> str:
    """Return the page as a user reads it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def fetch(model, *where):
    """Read rows straight from the database, across companies, with fresh values."""
    stmt = select(model).where(*where).execution_options(populate_existing=True)
    return db.session.scalars(unscoped(stmt)).unique().all()


def membership_of(user: User, company: Company) -> Membership | None:
    found = fetch(Membership, Membership.user_id == user.id, Membership.company_id == company.id)
    return found[0] if found else None


def audit_actions(company: Company | None = None) -> list[str]:
    where = [AuditEvent.company_id == company.id] if company else []
    return [event.action for event in fetch(AuditEvent, *where)]


def invite(browser, email: str, role: str):
    return browser.post("/team/invitations", data={"email": email, "role": role})


def invitation_path(outbox, email: str) -> str:
    """Return the link of the last team invitation e-mailed to this address."""
    mails = [m for m in outbox() if m["to"] == email]
    assert mails, f"no e-mail to {email}: {[m['to'] for m in outbox()]}"
    return link_in(mails[-1]["body"], "/auth/invitations/")


def signed_in_as(browser, app) -> str:
    """Return the name shown in the header's account menu, or '' when signed out."""
    page = text(browser.get("/", follow_redirects=True))
    found = re.search(r'<summary data-testid="user-menu">([^<]*)</summary>', page)
    return found.group(1).strip() if found else ""


def member(company: Company, role: str, **kwargs) -> User:
    return make_user(company, role=role, name=kwargs.pop("name", f"Colega {role}"), **kwargs)


# ---------------------------------------------------------------- inviting and joining


@pytest.mark.parametrize("inviter_role", ["owner", "admin"])
@pytest.mark.parametrize("role", ASSIGNABLE_ROLES)
def test_can_an_administrator_invite_a_newcomer_who_then_joins_with_that_role(
    app, client, company, outbox, inviter_role, role
):
    """An owner or admin invites someone with no account; the link makes them a member."""
    inviter = member(company, inviter_role, name="Ines Invita")
    login(client, inviter, company)
    address = f"nueva.{role}@example.com"

    response = invite(client, address, role)

    assert response.status_code == 303
    team_page = text(client.get("/team/"))
    assert f'data-invitation="{address}"' in team_page
    mails = [m for m in outbox() if m["to"] == address]
    assert len(mails) == 1
    assert company.display_name in mails[0]["subject"]
    path = invitation_path(outbox, address)

    newcomer = new_client(app)
    landing = newcomer.get(path)
    assert landing.status_code == 200
    assert address in text(landing)
    joined = newcomer.post(path, data={"name": "Nora Nueva", "password": NEW_PASSWORD})

    assert joined.status_code == 303
    user = fetch(User, User.email == address)[0]
    assert membership_of(user, company).role == role
    assert user.email_confirmed  # the link proved the address
    assert signed_in_as(newcomer, app) == "Nora Nueva"
    dashboard = text(newcomer.get("/"))
    assert company.display_name in dashboard
    team_page = text(client.get("/team/"))
    assert f'data-member="{address}"' in team_page
    assert f'data-invitation="{address}"' not in team_page


def test_can_a_member_of_another_company_join_and_switch_between_both(
    app, client, company, owner, other_company, outbox
):
    """A user of another company accepts while signed in and then works for either company."""
    outsider = make_user(other_company, role="owner", email="xavier@example.com")
    login(client, owner, company)
    assert invite(client, outsider.email, "sales").status_code == 303
    path = invitation_path(outbox, outsider.email)

    theirs = new_client(app)
    login(theirs, outsider, other_company)
    assert "Join the team" in text(theirs.get(path))
    assert theirs.post(path).status_code == 303

    assert membership_of(outsider, company).role == "sales"
    assert membership_of(outsider, other_company).role == "owner"
    header = text(theirs.get("/"))
    assert 'id="company-switch"' in header
    assert f'value="{company.id}" selected' in header  # now acting for the inviting company
    assert f'value="{other_company.id}"' in header

    switched = theirs.post("/switch-company", data={"company_id": other_company.id})
    assert switched.status_code == 303
    assert f"Team of {other_company.display_name}" in text(theirs.get("/team/"))
    theirs.post("/switch-company", data={"company_id": company.id})
    assert f"Team of {company.display_name}" in text(theirs.get("/team/"))


def test_is_switching_to_a_company_i_do_not_belong_to_refused(app, client, company, other_company):
    """Posting another company's id to the switcher changes nothing."""
    user = member(company, "admin")
    third = make_company("Tercera")
    add_member(user, third, "viewer")
    login(client, user, company)

    response = client.post(
        "/switch-company", data={"company_id": other_company.id}, follow_redirects=True
    )

    assert "You are not a member of that company." in text(response)
    assert f"Team of {company.display_name}" in text(client.get("/team/"))
    assert fetch(User, User.id == user.id)[0].last_company_id == company.id


def test_does_a_user_of_one_company_see_no_switcher(client, company, owner):
    """With a single company the header names it instead of offering a switch."""
    login(client, owner, company)
    page = text(client.get("/"))
    assert 'id="company-switch"' not in page
    assert 'data-testid="active-company"' in page


def test_must_an_invitee_with_an_account_sign_in_before_joining(
    app, client, company, owner, other_company, outbox
):
    """Someone who already has an account is sent to sign in, not offered a new account."""
    outsider = make_user(other_company, role="owner", email="xavier@example.com")
    login(client, owner, company)
    invite(client, outsider.email, "viewer")
    path = invitation_path(outbox, outsider.email)
    anonymous = new_client(app)

    assert "Sign in to accept" in text(anonymous.get(path))
    response = anonymous.post(path, data={"name": "Impostor", "password": NEW_PASSWORD})

    assert response.status_code == 303
    assert "/auth/login" in response.headers["Location"]
    assert membership_of(outsider, company) is None


# ---------------------------------------------------------------- bad invitations


def test_is_an_invalid_email_refused_next_to_the_field(client, company, owner, outbox):
    """An address that is not one gets a 422 and a message beside the e-mail field."""
    login(client, owner, company)

    response = invite(client, "not-an-address", "viewer")

    assert response.status_code == 422
    page = text(response)
    assert 'data-field-error="email"' in page
    assert "Enter a valid e-mail address." in page
    assert fetch(TeamInvitation) == []
    assert outbox() == []


@pytest.mark.parametrize("role", ["owner", "superuser"])
def test_can_an_admin_hand_out_a_role_that_is_not_offered(client, company, owner, outbox, role):
    """Ownership (and made-up roles) cannot be given by invitation."""
    login(client, owner, company)

    response = invite(client, "alguien@example.com", role)

    assert response.status_code == 422
    assert 'data-field-error="role"' in text(response)
    assert fetch(TeamInvitation) == []
    assert outbox() == []


def test_can_a_colleague_already_on_the_team_be_invited_again(client, company, owner, outbox):
    """Inviting a current member (whatever the letter case) is refused with a message."""
    colleague = member(company, "viewer", email="ana.colega@example.com")
    login(client, owner, company)

    response = invite(client, "Ana.Colega@Example.com", "sales")

    assert response.status_code == 422
    assert "ana.colega@example.com is already on the team." in text(response)
    assert membership_of(colleague, company).role == "viewer"
    assert outbox() == []


def test_can_the_same_address_be_invited_twice(client, company, owner, outbox):
    """A second invitation while the first is waiting is refused with a message."""
    login(client, owner, company)
    assert invite(client, "dos.veces@example.com", "viewer").status_code == 303

    response = invite(client, "dos.veces@example.com", "admin")

    assert response.status_code == 422
    assert "dos.veces@example.com was already invited." in text(response)
    assert len(fetch(TeamInvitation)) == 1
    assert len(outbox()) == 1


def _invited(client, owner, company, outbox, email="invitada@example.com", role="viewer"):
    login(client, owner, company)
    assert invite(client, email, role).status_code == 303
    return invitation_path(outbox, email), fetch(TeamInvitation, TeamInvitation.email == email)[0]


def test_does_a_withdrawn_invitation_link_stop_working(app, client, company, owner, outbox):
    """After the admin withdraws it, the link is refused with a message and joins nobody."""
    path, invitation = _invited(client, owner, company, outbox)
    assert client.post(f"/team/invitations/{invitation.id}/revoke").status_code == 303
    invitee = new_client(app)

    opened = invitee.get(path, follow_redirects=True)
    posted = invitee.post(path, data={"name": "Tarde", "password": NEW_PASSWORD})

    assert "This invitation is not valid any more." in text(opened)
    assert posted.status_code in (302, 303)
    assert fetch(User, User.email == "invitada@example.com") == []


def test_can_an_invitation_link_be_used_twice(app, client, company, owner, outbox):
    """Once accepted, the same link is refused."""
    path, _ = _invited(client, owner, company, outbox)
    first = new_client(app)
    assert first.post(path, data={"name": "Primera", "password": NEW_PASSWORD}).status_code == 303

    second = new_client(app)
    opened = second.get(path, follow_redirects=True)

    assert "This invitation is not valid any more." in text(opened)
    assert len(fetch(User, User.email == "invitada@example.com")) == 1


def test_does_an_expired_invitation_link_stop_working(app, client, company, owner, outbox):
    """A link older than its validity is refused with a message that says it expired."""
    path, invitation = _invited(client, owner, company, outbox)
    db.session.execute(
        update(TeamInvitation)
        .where(TeamInvitation.id == invitation.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    invitee = new_client(app)

    opened = invitee.get(path, follow_redirects=True)
    invitee.post(path, data={"name": "Tarde", "password": NEW_PASSWORD})

    assert "This invitation has expired." in text(opened)
    assert fetch(User, User.email == "invitada@example.com") == []


def test_is_a_made_up_invitation_link_refused(client):
    """A token that was never issued leads nowhere."""
    response = client.get("/auth/invitations/not-a-real-token", follow_redirects=True)
    assert "This invitation is not valid any more." in text(response)


def test_can_someone_signed_in_with_another_address_accept(
    app, client, company, owner, other_company, outsider, outbox
):
    """The invitation belongs to the address it was sent to, not to whoever opens it."""
    path, invitation = _invited(client, owner, company, outbox, email="destinataria@example.com")
    theirs = new_client(app)
    login(theirs, outsider, other_company)

    opened = theirs.get(path)
    posted = theirs.post(path)

    message = "This invitation was sent to destinataria@example.com. Sign in with that address."
    assert message in text(opened)
    assert posted.status_code in (403, 422)
    assert message in text(posted)
    assert membership_of(outsider, company) is None
    assert fetch(TeamInvitation, TeamInvitation.id == invitation.id)[0].status == "pending"


def test_is_a_weak_password_refused_when_joining(app, client, company, owner, outbox):
    """The newcomer's password must be strong; nothing is created otherwise."""
    path, _ = _invited(client, owner, company, outbox)
    invitee = new_client(app)

    response = invitee.post(path, data={"name": "Debil", "password": "12345678"})

    assert response.status_code == 422
    assert 'data-field-error="password"' in text(response)
    assert fetch(User, User.email == "invitada@example.com") == []


# ---------------------------------------------------------------- roles and deactivation


def change_role(browser, membership: Membership, role: str, **kwargs):
    return browser.post(f"/team/members/{membership.id}/role", data={"role": role}, **kwargs)


def test_can_an_admin_change_a_colleagues_role(client, company, owner):
    """The new role shows on the team page and is kept in the database."""
    admin = member(company, "admin", name="Ada Admin")
    colleague = member(company, "payables", name="Pablo Pagos")
    login(client, admin, company)

    response = change_role(client, membership_of(colleague, company), "receivables")

    assert response.status_code == 303
    assert membership_of(colleague, company).role == "receivables"
    page = text(client.get("/team/"))
    pattern = rf'<tr data-member="{re.escape(colleague.email)}">.*?</tr>'
    row = re.search(pattern, page, re.S)
    assert re.search(r'<option value="receivables"\s+selected', row.group(0))


def test_can_the_owners_role_be_changed(client, company, owner):
    """Nobody, not even an admin, can change the owner's role."""
    admin = member(company, "admin")
    login(client, admin, company)

    response = change_role(client, membership_of(owner, company), "viewer", follow_redirects=True)

    assert "The owner's role cannot be changed." in text(response)
    assert membership_of(owner, company).role == "owner"
    assert f'aria-label="Role of {owner.name}"' not in text(client.get("/team/"))


def test_can_an_admin_change_their_own_role(client, company, owner):
    """An admin cannot demote (or promote) themselves."""
    admin = member(company, "admin", name="Ada Admin")
    login(client, admin, company)

    response = change_role(client, membership_of(admin, company), "viewer", follow_redirects=True)

    assert "You cannot change your own role." in text(response)
    assert membership_of(admin, company).role == "admin"
    assert 'aria-label="Role of Ada Admin"' not in text(client.get("/team/"))


@pytest.mark.parametrize("role", ["owner", "superuser"])
def test_can_an_admin_give_a_role_that_is_not_offered(client, company, owner, role):
    """Changing a role to owner (or to a made-up one) is refused."""
    colleague = member(company, "viewer")
    login(client, owner, company)

    response = change_role(client, membership_of(colleague, company), role, follow_redirects=True)

    assert "Choose one of the roles offered." in text(response)
    assert membership_of(colleague, company).role == "viewer"


def test_can_the_owner_or_oneself_be_deactivated(client, company, owner):
    """Deactivating the owner, or yourself, is refused."""
    admin = member(company, "admin")
    login(client, admin, company)

    of_owner = client.post(
        f"/team/members/{membership_of(owner, company).id}/deactivate", follow_redirects=True
    )
    of_self = client.post(
        f"/team/members/{membership_of(admin, company).id}/deactivate", follow_redirects=True
    )

    assert "The owner cannot be deactivated." in text(of_owner)
    assert "You cannot deactivate yourself." in text(of_self)
    assert membership_of(owner, company).active
    assert membership_of(admin, company).active


def test_can_the_owner_change_their_own_role(client, company, owner):
    """The owner cannot give up ownership by changing their own role."""
    login(client, owner, company)
    change_role(client, membership_of(owner, company), "admin")
    assert membership_of(owner, company).role == "owner"


def test_can_a_deactivated_colleague_still_act_for_the_company(
    app, client, company, owner, other_company
):
    """Deactivation ends their session; signed in again they no longer reach the company."""
    colleague = member(company, "sales", name="Saul Ventas")
    login(client, owner, company)
    theirs = new_client(app)
    login(theirs, colleague, company)
    assert theirs.get("/team/").status_code == 200

    response = client.post(
        f"/team/members/{membership_of(colleague, company).id}/deactivate", data={"confirm": "1"}
    )

    assert response.status_code == 303
    assert not membership_of(colleague, company).active
    ended = theirs.get("/team/")
    assert ended.status_code == 302 and "/auth/login" in ended.headers["Location"]
    again = new_client(app)
    login(again, fetch(User, User.id == colleague.id)[0], company)
    team_page = again.get("/team/")
    assert team_page.status_code == 302 and "/no-company" in team_page.headers["Location"]
    connect = again.post(
        "/network/connect", data={"company_id": other_company.id, "relation": "supplier"}
    )
    assert connect.status_code == 302 and "/no-company" in connect.headers["Location"]
    assert fetch(Partnership) == []
    assert "Deactivated" in text(client.get("/team/"))


def test_does_a_colleague_deactivated_in_one_company_keep_the_other(app, client, company, owner):
    """A user of two companies, deactivated in one, acts only for the other and cannot switch."""
    second = make_company("Segunda")
    colleague = member(company, "admin")
    add_member(colleague, second, "viewer")
    login(client, owner, company)
    client.post(
        f"/team/members/{membership_of(colleague, company).id}/deactivate", data={"confirm": "1"}
    )

    theirs = new_client(app)
    login(theirs, fetch(User, User.id == colleague.id)[0], company)  # asks for the old company
    page = text(theirs.get("/team/"))
    switched = theirs.post(
        "/switch-company", data={"company_id": company.id}, follow_redirects=True
    )

    assert f"Team of {second.display_name}" in page
    assert 'id="invite-form"' not in page  # a viewer in the second company
    assert "You are not a member of that company." in text(switched)
    assert f"Team of {second.display_name}" in text(theirs.get("/team/"))


def test_does_reactivating_a_colleague_let_them_back_in(app, client, company, owner):
    """After reactivation the colleague can sign in and act again."""
    colleague = member(company, "viewer")
    login(client, owner, company)
    client.post(
        f"/team/members/{membership_of(colleague, company).id}/deactivate", data={"confirm": "1"}
    )
    client.post(f"/team/members/{membership_of(colleague, company).id}/reactivate")

    theirs = new_client(app)
    login(theirs, fetch(User, User.id == colleague.id)[0], company)

    assert membership_of(colleague, company).active
    assert theirs.get("/team/").status_code == 200


def test_can_an_admin_change_a_member_of_another_company(
    client, company, owner, other_company, outsider
):
    """Another company's member answers 404 and keeps their role and access."""
    theirs = make_user(other_company, role="viewer")
    login(client, owner, company)
    target = membership_of(theirs, other_company)

    assert change_role(client, target, "admin").status_code == 404
    assert client.post(f"/team/members/{target.id}/deactivate").status_code == 404
    assert membership_of(theirs, other_company).role == "viewer"
    assert membership_of(theirs, other_company).active


# ---------------------------------------------------------------- permissions, role by role


def _team_setup(company):
    """A colleague and a waiting invitation for the team actions to act on."""
    colleague = make_user(company, role="viewer", name="Vera Vista")
    invitation = TeamInvitation(
        company_id=company.id,
        email="espera@example.com",
        role="viewer",
        token_hash="x" * 64,
        expires_at=utcnow() + timedelta(days=1),
    )
    db.session.add(invitation)
    db.session.commit()
    return {"member": membership_of(colleague, company).id, "invitation": invitation.id}


def _network_setup(company):
    """A company to connect with and a request waiting for the acting company's answer."""
    partner = make_company("Socia")
    asker = make_company("Pregunta")
    request = Partnership(
        supplier_id=asker.id, customer_id=company.id, requested_by_id=asker.id, status="pending"
    )
    db.session.add(request)
    db.session.commit()
    return {"partner": partner.id, "request": request.id}


# (permission, label, request): request(browser, ids) -> response. Every label is one thing a
# user might try; the permission is what the server must check for it.
ACTIONS = [
    ("company.view", "GET /", lambda b, ids: b.get("/")),
    ("team.view", "GET /team/", lambda b, ids: b.get("/team/")),
    (
        "team.manage",
        "POST /team/invitations",
        lambda b, ids: b.post(
            "/team/invitations", data={"email": "x@example.com", "role": "viewer"}
        ),
    ),
    (
        "team.manage",
        "POST /team/members/<id>/role",
        lambda b, ids: b.post(f"/team/members/{ids['member']}/role", data={"role": "sales"}),
    ),
    (
        "team.manage",
        "POST /team/members/<id>/deactivate",
        lambda b, ids: b.post(f"/team/members/{ids['member']}/deactivate"),
    ),
    (
        "team.manage",
        "POST /team/members/<id>/reactivate",
        lambda b, ids: b.post(f"/team/members/{ids['member']}/reactivate"),
    ),
    (
        "team.manage",
        "POST /team/invitations/<id>/revoke",
        lambda b, ids: b.post(f"/team/invitations/{ids['invitation']}/revoke"),
    ),
    ("network.view", "GET /network/", lambda b, ids: b.get("/network/")),
    ("network.view", "GET /network/directory", lambda b, ids: b.get("/network/directory?q=a")),
    (
        "network.manage",
        "POST /network/connect",
        lambda b, ids: b.post(
            "/network/connect", data={"company_id": ids["partner"], "relation": "supplier"}
        ),
    ),
    (
        "network.manage",
        "POST /network/requests/<id>/accept",
        lambda b, ids: b.post(f"/network/requests/{ids['request']}/accept"),
    ),
    (
        "network.manage",
        "POST /network/requests/<id>/decline",
        lambda b, ids: b.post(f"/network/requests/{ids['request']}/decline"),
    ),
    ("network.manage", "GET /network/invite", lambda b, ids: b.get("/network/invite")),
    (
        "network.manage",
        "POST /network/invite",
        lambda b, ids: b.post(
            "/network/invite",
            data={
                "name": "Nueva",
                "country": "CO",
                "tax_id": "900123456-8",
                "email": "n@example.com",
                "relation": "supplier",
            },
        ),
    ),
    (
        "network.manage",
        "POST /network/invite/csv",
        lambda b, ids: b.post(
            "/network/invite/csv",
            data={"file": (io.BytesIO(b"a,9001234568,a@b.co,cliente"), "p.csv")},
            content_type="multipart/form-data",
        ),
    ),
]


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
@pytest.mark.parametrize(("permission", "label", "act"), ACTIONS, ids=[a[1] for a in ACTIONS])
def test_does_the_server_refuse_what_a_role_may_not_do(
    client, company, role, permission, label, act
):
    """Every role is refused (403) exactly the actions its permissions leave out."""
    acting = make_user(company, role=role, name=f"Rol {role}")
    ids = {**_team_setup(company), **_network_setup(company)}
    login(client, acting, company)

    response = act(client, ids)

    if permission in ROLE_PERMISSIONS[role]:
        assert response.status_code != 403, f"{role} should be allowed to {label}"
        assert response.status_code < 400 or response.status_code == 422
    else:
        assert response.status_code == 403, f"{role} should not be allowed to {label}"
        assert "Your role does not allow this." in text(response)


def test_does_every_permission_a_route_checks_appear_in_the_role_table():
    """The role table is the single source: no route checks a permission it does not list."""
    listed = set().union(*ROLE_PERMISSIONS.values())
    assert {permission for permission, _, _ in ACTIONS} <= listed


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_does_the_page_hide_what_a_role_may_not_do(client, company, role):
    """The invite form, the connect form and the answer buttons show only to roles that can."""
    acting = make_user(company, role=role)
    ids = _network_setup(company)
    login(client, acting, company)

    team_page = text(client.get("/team/"))
    directory = text(client.get("/network/directory"))
    partners = text(client.get("/network/"))

    may_manage_team = "team.manage" in ROLE_PERMISSIONS[role]
    may_manage_network = "network.manage" in ROLE_PERMISSIONS[role]
    assert ('id="invite-form"' in team_page) is may_manage_team
    assert ('action="/network/connect"' in directory) is may_manage_network
    assert (f'action="/network/requests/{ids["request"]}/accept"' in partners) is (
        may_manage_network
    )
    assert ('href="/network/invite"' in partners) is may_manage_network


def test_can_someone_with_an_unconfirmed_email_invite_a_colleague(client, company, outbox):
    """Inviting needs a confirmed address; the refusal says what to do."""
    unconfirmed = make_user(company, role="owner", confirmed=False)
    login(client, unconfirmed, company)

    response = invite(client, "colega@example.com", "viewer")

    assert response.status_code == 403
    assert "Confirm your e-mail address first" in text(response)
    assert fetch(TeamInvitation) == []
    assert outbox() == []


def test_is_a_signed_out_visitor_sent_to_sign_in(client):
    """The team page asks a visitor to sign in first."""
    response = client.get("/team/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


# ---------------------------------------------------------------- audit trail


def events(company: Company, action: str) -> list[AuditEvent]:
    return fetch(AuditEvent, AuditEvent.company_id == company.id, AuditEvent.action == action)


def test_are_invitations_and_their_acceptance_written_to_the_audit_trail(
    app, client, company, owner, outbox
):
    """Who invited whom with which role, and who joined, is kept."""
    path, invitation = _invited(client, owner, company, outbox, role="payables")
    new_client(app).post(path, data={"name": "Paula", "password": NEW_PASSWORD})

    (invited,) = events(company, "team.member_invited")
    assert invited.actor_user_id == owner.id
    assert invited.details == {"email": "invitada@example.com", "role": "payables"}
    assert invited.target_id == str(invitation.id)
    (accepted,) = events(company, "team.invitation_accepted")
    assert accepted.actor == "invitada@example.com"
    assert accepted.details == {"role": "payables"}


def test_is_a_withdrawn_invitation_written_to_the_audit_trail(client, company, owner, outbox):
    path, invitation = _invited(client, owner, company, outbox)
    client.post(f"/team/invitations/{invitation.id}/revoke")
    (revoked,) = events(company, "team.invitation_revoked")
    assert revoked.actor_user_id == owner.id


def test_are_role_changes_and_deactivations_written_to_the_audit_trail(client, company, owner):
    """The trail keeps the role before and after, and who deactivated whom."""
    colleague = member(company, "viewer")
    login(client, owner, company)
    change_role(client, membership_of(colleague, company), "sales")
    client.post(
        f"/team/members/{membership_of(colleague, company).id}/deactivate", data={"confirm": "1"}
    )

    (changed,) = events(company, "team.role_changed")
    assert changed.actor_user_id == owner.id
    assert changed.details == {"user_id": colleague.id, "from": "viewer", "to": "sales"}
    (deactivated,) = events(company, "team.member_deactivated")
    assert deactivated.details == {"user_id": colleague.id}


def test_is_a_refused_role_change_left_out_of_the_audit_trail(client, company, owner):
    admin = member(company, "admin")
    login(client, admin, company)
    change_role(client, membership_of(owner, company), "viewer")
    assert events(company, "team.role_changed") == []


def test_are_sign_ins_and_failed_sign_ins_written_to_the_audit_trail(client, company, owner):
    """A good sign-in, a wrong password and an unknown address each leave a row."""
    wrong = client.post("/auth/login", data={"email": owner.email, "password": "wrong-password"})
    unknown = client.post("/auth/login", data={"email": "nadie@example.com", "password": PASSWORD})
    good = client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})

    assert wrong.status_code == 422
    assert "E-mail or password is incorrect." in text(wrong)
    assert unknown.status_code == 422
    assert good.status_code == 303
    (signed_in,) = events(company, "auth.signed_in")
    assert signed_in.actor_user_id == owner.id
    assert signed_in.ip == "127.0.0.1"
    failed = fetch(AuditEvent, AuditEvent.action == "auth.sign_in_failed")
    assert sorted(e.details["email"] for e in failed) == sorted([owner.email, "nadie@example.com"])
    assert {e.company_id for e in failed} == {company.id, None}
    assert "wrong-password" not in str([e.details for e in failed])
