from flask import current_app, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.main import bp
from app.blueprints.main.forms import LocaleForm, SwitchCompanyForm
from app.extensions import db
from app.services import accounts, home, network, onboarding
from app.services.errors import DomainError
from app.web.auth import company, membership, require_permission
from app.web.htmx import render
from app.web.redirects import safe_referrer_url


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render("main/landing.html")
    if membership() is None:
        return redirect(url_for("main.no_company"))
    return dashboard()


@require_permission("company.view")
def dashboard():
    acting = company()
    waiting = db.session.scalars(network.pending_requests(acting.id)).unique().all()
    return render(
        "main/dashboard.html",
        company=acting,
        waiting=waiting,
        checklist=onboarding.checklist(acting.id),
        figures=home.home_figures(acting.id, role=membership().role),
    )


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: the same icon (an SVG)."""
    return current_app.send_static_file("favicon.svg")


@bp.route("/healthz")
def healthz():
    """A trivial endpoint: the process answers (load balancers, and the throughput baseline)."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/no-company")
@login_required
def no_company():
    return render("main/no_company.html")


@bp.route("/switch-company", methods=["POST"])
@login_required
def switch_company():
    form = SwitchCompanyForm()
    if form.validate_on_submit():
        try:
            m = accounts.switch_company(current_user, form.company_id.data)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            db.session.commit()
            session["company_id"] = m.company_id
            flash(_("You are now working as %(company)s.", company=m.company.display_name),
                  "info")
    return redirect(url_for("main.index"), code=303)


@bp.route("/locale", methods=["POST"])
def set_locale():
    form = LocaleForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.locale.data)
            db.session.commit()
    return redirect(safe_referrer_url(url_for("main.index")), code=303)
