from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.blueprints.company import bp
from app.blueprints.company.forms import CertificateForm, CompanyForm
from app.extensions import db
from app.services import accounts, certificates
from app.services.errors import DomainError
from app.web.auth import company, require_permission, user
from app.web.htmx import form_errors, render


@bp.route("/")
@require_permission("company.view")
def edit():
    return render("company/edit.html", form=CompanyForm(obj=company()), company=company())


@bp.route("/", methods=["POST"])
@require_permission("company.manage")
def update():
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            accounts.update_company(company().id, trade_name=form.trade_name.data or "",
                                    contact_email=form.contact_email.data,
                                    locale=form.locale.data, actor=user())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("The company's profile was saved."), "success")
            return redirect(url_for("company.edit"), code=303)
    return render("company/edit.html", form=form, company=company(), status=422)


@bp.route("/certificate")
@require_permission("company.view")
def certificate():
    return _certificate_page(CertificateForm())


@bp.route("/certificate", methods=["POST"])
@require_permission("company.manage")
def upload_certificate():
    form = CertificateForm()
    if form.validate_on_submit():
        try:
            certificates.upload_certificate(company().id, data=form.file.data.read(),
                                            password=form.password.data, actor=user())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("The signing certificate was saved."), "success")
            return redirect(url_for("company.certificate"), code=303)
    return _certificate_page(form, status=422)


def _certificate_page(form, status=200):
    return render("company/certificate.html", form=form, company=company(), status=status,
                  current=certificates.active_certificate(company().id))
