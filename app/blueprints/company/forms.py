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
from app.services.fiscal import code_lists, municipality_label
from app.services.webhooks import EVENT_LABELS as WEBHOOK_EVENT_LABELS


class CompanyForm(FlaskForm):
    trade_name = StringField(_l("Trade name"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Company contact e-mail"),
                               validators=[DataRequired(), Length(max=254)])
    locale = SelectField(_l("Default language of the company"),
                         choices=[("es", "Español"), ("en", "English")])


def fiscal_choices(form, prefix: str = "") -> None:
    """Offer DIAN's person types, responsibilities and tax schemes in a form's fiscal fields."""
    lists = code_lists()
    form[prefix + "person_type"].choices = [
        (code, f"{code} – {name}") for code, name in lists.person_types.items()
    ]
    form[prefix + "tax_responsibilities"].choices = [
        (code, f"{code} – {name}") for code, name in lists.responsibilities.items()
    ]
    form[prefix + "tax_scheme"].choices = [
        (code, f"{code} – {name}") for code, name in lists.tax_schemes.items()
    ]


class FiscalForm(FlaskForm):
    # Choices come from DIAN's lists (fiscal_choices); the service checks them
    # and names a wrong one, so WTForms does not refuse them with its generic message.
    person_type = SelectField(_l("Person type"), choices=[], validate_choice=False)
    tax_responsibilities = SelectMultipleField(
        _l("Fiscal responsibilities (RUT)"),
        choices=[],
        validate_choice=False,
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    tax_scheme = SelectField(_l("Tax scheme"), choices=[], validate_choice=False)
    address_line = StringField(_l("Address"), validators=[Length(max=200)])
    municipality = StringField(
        _l("Municipality"),
        validators=[Length(max=120)],
        description=_l("DIVIPOLA code, e.g. 11001 for Bogotá; the department is its first two "
                       "digits."),
        render_kw={"list": "municipalities", "autocomplete": "off"},
    )
    postal_code = StringField(_l("Postal code (optional)"), validators=[Length(max=6)],
                              render_kw={"inputmode": "numeric"})

    @classmethod
    def for_company(cls, company, **kwargs) -> "FiscalForm":
        """Return the form filled from the company's stored fiscal data."""
        form = cls(
            data={
                "person_type": company.person_type or "1",
                "tax_responsibilities": [
                    c for c in (company.tax_responsibilities or "").split(";") if c
                ],
                "tax_scheme": company.tax_scheme or "01",
                "address_line": company.address_line or "",
                "municipality": municipality_label(
                    company.municipality_code or "", company.municipality_name or ""
                ),
                "postal_code": company.postal_code or "",
            },
            **kwargs,
        )
        fiscal_choices(form)
        return form


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
