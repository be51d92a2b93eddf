from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, Length

from app.services.api_tokens import SCOPE_LABELS
from app.services.webhooks import EVENT_LABELS as WEBHOOK_EVENT_LABELS


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


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Which system uses it, e.g. \u201cSAP production\u201d."))
    scopes = SelectMultipleField(
        _l("Permissions"),
        choices=list(SCOPE_LABELS.items()),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired(message=_l("Choose at least one of the permissions offered."))],
    )


class WebhookEndpointForm(FlaskForm):
    url = URLField(
        _l("Address of your ERP"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("The portal POSTs signed JSON here, e.g. https://erp.example.com/hooks"),
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=list(WEBHOOK_EVENT_LABELS.items()),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired(message=_l("Choose at least one of the events offered."))],
    )
