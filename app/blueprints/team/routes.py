from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.blueprints.auth.forms import EmptyForm
from app.blueprints.team import bp
from app.blueprints.team.forms import InviteMemberForm, RoleForm
from app.extensions import db
from app.models import Membership, TeamInvitation
from app.services import team
from app.services.errors import DomainError
from app.tenancy import get_or_404
from app.web.auth import company, require_permission, user
from app.web.confirm import ask_first
from app.web.htmx import form_errors, render


def _page(form=None, status=200):
    acting = company()
    return render(
        "team/index.html",
        "team/_members.html",
        status=status,
        company=acting,
        members=db.session.scalars(team.members(acting.id)).unique().all(),
        invitations=db.session.scalars(team.pending_invitations(acting.id)).unique().all(),
        form=form or InviteMemberForm(),
        role_form=RoleForm(),
        button_form=EmptyForm(),
    )


@bp.route("/")
@require_permission("team.view")
def index():
    return _page()


@bp.route("/invitations", methods=["POST"])
@require_permission("team.manage", confirmed=True)
def invite():
    form = InviteMemberForm()
    if form.validate_on_submit():
        try:
            invitation = team.invite_member(
                company().id, email=form.email.data, role=form.role.data, actor=user()
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("team.index"), code=303)
    return _page(form, status=422)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@require_permission("team.manage")
def revoke(invitation_id):
    invitation = get_or_404(TeamInvitation, invitation_id)
    team.revoke_invitation(company().id, invitation_id=invitation.id, actor=user())
    db.session.commit()
    flash(_("Invitation withdrawn."), "info")
    return redirect(url_for("team.index"), code=303)


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@require_permission("team.manage")
def change_role(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the roles offered."), "error")
        return redirect(url_for("team.index"), code=303)
    team.change_role(company().id, membership_id=membership.id, role=form.role.data, actor=user())
    db.session.commit()
    flash(_("%(name)s's role was changed.", name=membership.user.name), "success")
    return redirect(url_for("team.index"), code=303)


@bp.route("/members/<int:membership_id>/deactivate", methods=["POST"])
@require_permission("team.manage")
def deactivate(membership_id):
    return _set_active(membership_id, False)


@bp.route("/members/<int:membership_id>/reactivate", methods=["POST"])
@require_permission("team.manage")
def reactivate(membership_id):
    return _set_active(membership_id, True)


def _set_active(membership_id, active):
    membership = get_or_404(Membership, membership_id)
    name = membership.user.name
    question = ask_first(
        _("%(name)s loses access at once.", name=name),
        title=_("Deactivate %(name)s?", name=name),
        button=_("Deactivate"),
        back=url_for("team.index"),
        details=[_("Every session of theirs ends now; an administrator can reactivate them.")],
        # Reactivating gives access back: nothing to confirm. The service refuses the owner and
        # oneself, without asking first.
        needed=not active
        and membership.active
        and membership.role != "owner"
        and membership.user_id != user().id,
    )
    if question is not None:
        return question
    team.set_member_active(company().id, membership_id=membership.id, active=active, actor=user())
    db.session.commit()
    flash(
        _("%(name)s was reactivated.", name=membership.user.name)
        if active
        else _("%(name)s was deactivated and signed out.", name=membership.user.name),
        "info",
    )
    return redirect(url_for("team.index"), code=303)
