from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.blueprints.auth.forms import EmptyForm
from app.blueprints.network import bp
from app.blueprints.network.forms import ConnectForm, InvitePartnerForm, PartnerCsvForm
from app.extensions import db
from app.models import Partnership
from app.services import network
from app.services.errors import DomainError
from app.tenancy import get_or_404
from app.web.auth import company, require_permission, user
from app.web.htmx import form_errors, render

PAGE_SIZE = 25


@bp.route("/")
@require_permission("network.view")
def index():
    acting = company()
    rows = db.session.scalars(network.partnerships(acting.id)).unique().all()
    return render(
        "network/index.html",
        company=acting,
        suppliers=[p for p in rows if p.relation_for(acting.id) == "supplier"],
        customers=[p for p in rows if p.relation_for(acting.id) == "customer"],
        waiting=[p for p in rows if p.awaits_answer_from(acting.id)],
        button_form=EmptyForm(),
    )


@bp.route("/directory")
@require_permission("network.view")
def directory():
    acting = company()
    query = request.args.get("q", "")[:100]
    found = db.session.scalars(network.directory(query, company_id=acting.id).limit(PAGE_SIZE))
    companies = found.all()
    links = {
        c.id: network.partnership_between(acting.id, c.id) for c in companies
    }
    return render("network/directory.html", "network/_directory_results.html",
                  companies=companies, links=links, q=query, company=acting, form=ConnectForm())


@bp.route("/connect", methods=["POST"])
@require_permission("network.manage", confirmed=True)
def connect():
    form = ConnectForm()
    if not form.validate_on_submit():
        flash(_("Choose a company and a relation."), "error")
        return redirect(url_for("network.directory"), code=303)
    partnership = network.request_connection(company().id, other_company_id=form.company_id.data,
                                             relation=form.relation.data, actor=user())
    db.session.commit()
    flash(_("Request sent to %(name)s.", name=partnership.partner_name_for(company().id)),
          "success")
    return redirect(url_for("network.index"), code=303)


@bp.route("/requests/<int:partnership_id>/accept", methods=["POST"])
@require_permission("network.manage")
def accept(partnership_id):
    return _respond(partnership_id, True)


@bp.route("/requests/<int:partnership_id>/decline", methods=["POST"])
@require_permission("network.manage")
def decline(partnership_id):
    return _respond(partnership_id, False)


def _respond(partnership_id, accept):
    partnership = get_or_404(Partnership, partnership_id)
    network.respond_to_request(company().id, partnership_id=partnership.id, accept=accept,
                               actor=user())
    db.session.commit()
    name = partnership.partner_name_for(company().id)
    flash(_("You are now connected with %(name)s.", name=name) if accept
          else _("You declined %(name)s's request.", name=name), "info")
    return redirect(url_for("network.index"), code=303)


@bp.route("/invite", methods=["GET", "POST"])
@require_permission("network.manage", confirmed=True)
def invite():
    form = InvitePartnerForm()
    if form.validate_on_submit():
        try:
            result = network.invite_partner(
                company().id, name=form.name.data, tax_id=form.tax_id.data,
                email=form.email.data, relation=form.relation.data, country=form.country.data,
                actor=user(),
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is already on the network: we sent them a connection request.",
                    name=result.partnership.partner_name_for(company().id)) if result.on_network
                  else _("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("network.index"), code=303)
    return render("network/invite.html", form=form, csv_form=PartnerCsvForm(),
                  status=422 if form.is_submitted() else 200)


@bp.route("/invite/csv", methods=["POST"])
@require_permission("network.manage", confirmed=True)
def invite_csv():
    csv_form = PartnerCsvForm()
    report = None
    if csv_form.validate_on_submit():
        try:
            report = network.import_partners_csv(
                company().id, content=csv_form.file.data.read(), actor=user(),
                max_rows=current_app.config["PARTNER_CSV_MAX_ROWS"],
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(csv_form, error)
        else:
            db.session.commit()
    return render("network/invite.html", "network/_csv_report.html", form=InvitePartnerForm(),
                  csv_form=csv_form, report=report, status=200 if report else 422)
