from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app import humanize
from app.taxids import COUNTRIES


class RegisterForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    trade_name = StringField(_l("Trade name"), validators=[Length(max=200)])
    country = SelectField(_l("Country"), choices=list(COUNTRIES.items()), default="CO")
    tax_id = StringField(
        _l("Tax id (NIT, RUT or RFC)"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("With its check digit, e.g. 900123456-8"),
    )
    contact_email = EmailField(_l("Company contact e-mail"),
                               validators=[DataRequired(), Length(max=254)])
    user_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    user_email = EmailField(_l("Your e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least 10 characters, hard to guess."),
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me for 14 days"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(ResetForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


#: The identity documents a person records DIAN events with (app.einvoice.events.PERSON_ID_TYPES).
ID_DOCUMENT_TYPES = [
    ("", _l("None on file")),
    ("13", _l("Cédula de ciudadanía")),
    ("22", _l("Cédula de extranjería")),
    ("41", _l("Passport")),
    ("42", _l("Foreign identity document")),
    ("21", _l("Tarjeta de extranjería")),
    ("12", _l("Tarjeta de identidad")),
    ("11", _l("Registro civil")),
    ("91", _l("NUIP")),
]


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    id_document_type = SelectField(
        _l("Identity document"),
        choices=ID_DOCUMENT_TYPES,
        description=_l("DIAN's acknowledgement (030) and receipt (032) events name who "
                       "recorded them by this document."),
    )
    id_document_number = StringField(_l("Document number"), validators=[Length(max=40)])
    job_title = StringField(_l("Job title"), validators=[Length(max=120)])
    department = StringField(_l("Department"), validators=[Length(max=120)])
    timezone = SelectField(
        _l("Time zone"),
        choices=humanize.timezone_choices,  # offsets of today (DST moves some)
        description=_l("Dates and times are shown in this time zone."),
        validate_choice=False,  # the service checks it: a name this system knows, or unchanged
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""
