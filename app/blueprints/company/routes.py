from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _

from app.blueprints.company import bp
from app.blueprints.company.forms import (
    ApiTokenForm,
    CertificateForm,
    CompanyForm,
    FiscalForm,
    fiscal_choices,
)
from app.einvoice import rules
from app.extensions import db
from app.models import ApiToken
from app.services import accounts, api_tokens, certificates, fiscal
from app.services.errors import DomainError
from app.tenancy import get_or_404
from app.web.auth import company, require_permission, user
from app.web.htmx import form_errors, render


@bp.route("/")
@require_permission("company.view")
def edit():
    return _edit_page(CompanyForm(obj=company()), FiscalForm.for_company(company(), formdata=None))


def _edit_page(form, fiscal_form, status=200):
    return render("company/edit.html", form=form, fiscal_form=fiscal_form, company=company(),
                  municipalities=fiscal.municipality_options(),
                  missing=fiscal.missing_fiscal_data(company()), status=status,
                  rules_status=rules.official_rules_status(
                      current_app.config.get("EINVOICE_RULES_DIR")))


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
    return _edit_page(form, FiscalForm.for_company(company(), formdata=None), status=422)


@bp.route("/fiscal", methods=["POST"])
@require_permission("company.manage")
def update_fiscal():
    form = FiscalForm()
    fiscal_choices(form)
    if form.validate_on_submit():
        try:
            fiscal.update_fiscal_profile(
                company().id, person_type=form.person_type.data,
                responsibilities=form.tax_responsibilities.data or [],
                tax_scheme=form.tax_scheme.data, address_line=form.address_line.data,
                municipality=form.municipality.data, postal_code=form.postal_code.data,
                actor=user())
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("The company's fiscal data were saved."), "success")
            return redirect(url_for("company.edit"), code=303)
    return _edit_page(CompanyForm(obj=company(), formdata=None), form, status=422)


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


@bp.route("/api-tokens")
@require_permission("api.manage")
def api_tokens_index():
    return _api_tokens_page(ApiTokenForm(formdata=None))


@bp.route("/api-tokens", methods=["POST"])
@require_permission("api.manage", confirmed=True)
def create_api_token():
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, plaintext = api_tokens.create_token(
                company().id, name=form.name.data, scopes=form.scopes.data, actor=user()
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            # Shown in this response only: a redirect would have to carry it in the session.
            response = _api_tokens_page(ApiTokenForm(formdata=None), status=201,
                                        new_token=token, plaintext=plaintext)
            response.headers["Cache-Control"] = "no-store"
            return response
    return _api_tokens_page(form, status=422)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@require_permission("api.manage")
def revoke_api_token(token_id):
    token = get_or_404(ApiToken, token_id)
    api_tokens.revoke_token(company().id, token_id=token.id, actor=user())
    db.session.commit()
    flash(_("The token %(name)s was revoked: it no longer works.", name=token.name), "info")
    return redirect(url_for("company.api_tokens_index"), code=303)


def _api_tokens_page(form, status=200, **context):
    return render("company/api_tokens.html", "company/_api_tokens.html", status=status,
                  form=form, company=company(),
                  tokens=db.session.scalars(api_tokens.tokens(company().id)).all(),
                  scope_labels=api_tokens.SCOPE_LABELS, **context)
