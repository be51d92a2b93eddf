from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class CompanyForm(FlaskForm):
    trade_name = StringField(_l("Trade name"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Company contact e-mail"),
                               validators=[DataRequired(), Length(max=254)])
    locale = SelectField(_l("Default language of the company"),
                         choices=[("es", "Español"), ("en", "English")])


class CertificateForm(FlaskForm):
    file = FileField(
        _l("Certificate file (.p12 or .pfx)"),
        validators=[FileRequired()],
        description=_l("The digital signature certificate your invoices are signed with."),
    )
    password = PasswordField(_l("Certificate password"), validators=[DataRequired()])
