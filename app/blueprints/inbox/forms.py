from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import Select

from app.models.document import CREDIT_NOTE, DEBIT_NOTE, INVOICE, STATUSES
from app.models.saved_filter import TRAYS
from app.services.documents.queries import DocumentFilters
from app.services.lifecycle.transitions import STATUS_NAMES

DOCUMENT_TYPE_NAMES = {
    INVOICE: _l("Invoice"),
    CREDIT_NOTE: _l("Credit note"),
    DEBIT_NOTE: _l("Debit note"),
}


class LongSelect(Select):
    """A select of many options (a company's partners): WTForms' HTML, written faster."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        """Write one option as WTForms does: selected before value, both escaped."""
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{value}">{label}</option>')  # noqa: S704 (escaped)


class TrayFilterForm(FlaskForm):
    """The tray's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("Issued from"), validators=[Optional()])
    date_to = DateField(_l("Issued to"), validators=[Optional()])
    counterparty = SelectField(
        _l("Counterparty"), choices=[], validate_choice=False, default="", widget=LongSelect()
    )
    tax_id = StringField(_l("Tax id"), validators=[Optional(), Length(max=30)])
    type = SelectField(
        _l("Type"), choices=[("", _l("Any type")), *DOCUMENT_TYPE_NAMES.items()], default=""
    )
    status = SelectField(
        _l("Status"),
        choices=[("", _l("Any status"))] + [(s, STATUS_NAMES[s]) for s in STATUSES],
        default="",
    )
    amount_min = DecimalField(_l("Amount from"), validators=[Optional(), NumberRange(min=0)])
    amount_max = DecimalField(_l("Amount to"), validators=[Optional(), NumberRange(min=0)])
    overdue = BooleanField(_l("Overdue only"))
    q = StringField(_l("Number or name"), validators=[Optional(), Length(max=100)])
    sort = HiddenField()

    def filters(self) -> DocumentFilters:
        """Return what the service filters on."""
        counterparty = self.counterparty.data or ""
        return DocumentFilters(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            counterparty_id=int(counterparty) if counterparty.isdigit() else None,
            tax_id=self.tax_id.data or "",
            document_type=self.type.data or None,
            status=self.status.data or None,
            amount_min=self.amount_min.data,
            amount_max=self.amount_max.data,
            overdue=bool(self.overdue.data),
            search=self.q.data or "",
        )


class SaveFilterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    tray = SelectField(choices=[(t, t) for t in TRAYS])
    query = HiddenField(validators=[Length(max=2000)])


class BulkForm(FlaskForm):
    action = SelectField(
        choices=[
            ("acknowledge", _l("Acknowledge")),
            ("receive", _l("Record the receipt")),
            ("accept", _l("Accept")),
            ("download", _l("Download XML and PDF")),
        ]
    )
    tray = SelectField(choices=[(t, t) for t in TRAYS], default="received")
    document_ids = SelectMultipleField(coerce=int, validate_choice=False)
