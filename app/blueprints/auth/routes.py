from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    EmptyForm,
    ForgotForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetForm,
)
from app.extensions import db, limiter
from app.services import accounts, team
from app.services.errors import DomainError
from app.web.htmx import form_errors, render
from app.web.redirects import safe_next_url


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        data = accounts.Registration(
            legal_name=form.legal_name.data, trade_name=form.trade_name.data or "",
            country=form.country.data, tax_id=form.tax_id.data,
            contact_email=form.contact_email.data, user_name=form.user_name.data,
            user_email=form.user_email.data, password=form.password.data,
            locale=session.get("locale") or "es",
        )
        try:
            user = accounts.register_company(data)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            login_user(user)
            session["company_id"] = user.last_company_id
            flash(_("Welcome! We sent a confirmation link to %(email)s.", email=user.email),
                  "success")
            return redirect(url_for("main.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render("auth/register.html", "auth/_register_form.html", form=form, status=status)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is not None:
            login_user(user, remember=form.remember.data)
            session["company_id"] = user.last_company_id
            target = safe_next_url(request.args.get("next"), url_for("main.index"))
            return redirect(target, code=303)
        # One answer for unknown e-mails and wrong passwords alike.
        form.form_errors.append(_("E-mail or password is incorrect."))
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", "auth/_login_form.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())  # a User, not the proxy
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You signed out."), "info")
    response = redirect(url_for("auth.login"), code=303)
    # The Inbox's trays may be kept by the browser (private, revalidated: app.web.conditional);
    # on a shared computer nothing of them stays behind the one who signed out.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/confirm/<token>")
def confirm(token):
    try:
        accounts.confirm_email(token)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("main.index"))
    db.session.commit()
    flash(_("Thank you: your e-mail address is confirmed."), "success")
    return redirect(url_for("main.index"))


@bp.route("/confirm/resend", methods=["POST"])
@login_required
def resend_confirmation():
    if not current_user.email_confirmed:
        accounts.send_confirmation(current_user)
        db.session.commit()
    flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("main.index"), code=303)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If that address has an account, we sent it a link to choose a new password."),
              "info")
        return redirect(url_for("auth.login"), code=303)
    return render("auth/forgot.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    try:
        accounts.user_for_reset_token(token)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("auth.forgot"))
    form = ResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password was changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"), code=303)
    return render("auth/reset.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user._get_current_object(),
                                     current_password=form.current_password.data,
                                     new_password=form.password.data)
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            login_user(current_user._get_current_object(), remember=False)  # new session version
            flash(_("Your password was changed. Your other sessions were closed."), "success")
            return redirect(url_for("main.index"), code=303)
    return render("auth/password.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    me = current_user._get_current_object()
    form = ProfileForm(obj=me if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            accounts.update_profile(me, accounts.ProfileInput(
                name=form.name.data,
                id_document_type=form.id_document_type.data or "",
                id_document_number=form.id_document_number.data or "",
                job_title=form.job_title.data or "",
                department=form.department.data or "",
                timezone=form.timezone.data or "",
            ))
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            flash(_("Your profile was saved."), "success")
            return redirect(url_for("auth.profile"), code=303)
    return render("auth/profile.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token):
    try:
        invite = team.invitation_for_token(token)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(url_for("main.index"))
    has_account = accounts.find_user_by_email(invite.email) is not None
    form = EmptyForm() if current_user.is_authenticated else AcceptInvitationForm()
    if request.method == "POST" and (has_account and not current_user.is_authenticated):
        return redirect(url_for("auth.login", next=request.path), code=303)
    if form.validate_on_submit():
        try:
            user = team.accept_invitation(
                token,
                # The user itself, not the proxy: login_user() below stores what it gets,
                # and a stored proxy to current_user would resolve to itself forever.
                user=current_user._get_current_object() if current_user.is_authenticated
                else None,
                name=getattr(form, "name", None) and form.name.data or "",
                password=getattr(form, "password", None) and form.password.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            form_errors(form, error)
        else:
            db.session.commit()
            login_user(user)
            session["company_id"] = invite.company_id
            flash(_("You joined %(company)s.", company=invite.company.display_name), "success")
            return redirect(url_for("main.index"), code=303)
    return render("auth/invitation.html", form=form, invitation=invite, has_account=has_account,
                  status=422 if form.is_submitted() else 200)
