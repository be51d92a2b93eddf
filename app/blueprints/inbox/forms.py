import html

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
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets.core import clean_key

from app.models.document import CREDIT_NOTE, DEBIT_NOTE, INVOICE, STATUSES
from app.models.saved_filter import TRAYS
from app.services.documents.queries import NOT_ACCEPTED, DocumentFilters
from app.services.lifecycle.transitions import STATUS_NAMES

DOCUMENT_TYPE_NAMES = {
    INVOICE: _l("Invoice"),
    CREDIT_NOTE: _l("Credit note"),
    DEBIT_NOTE: _l("Debit note"),
}


# The tray's filter form is written on every view of a tray: its widgets write WTForms' HTML
# without a Markup.format per attribute and a Choice object per option.


def _attributes(**kwargs) -> Markup:
    """Write HTML attributes as WTForms' html_params does (sorted, escaped; True bare)."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(clean_key(key))
        elif value is not False:
            params.append(f'{clean_key(key)}="{escape(value)}"')
    return Markup(" ".join(params))  # noqa: S704 (escaped)


class TextInput(widgets.TextInput):
    html_params = staticmethod(_attributes)


class DateInput(widgets.DateInput):
    html_params = staticmethod(_attributes)


class NumberInput(widgets.NumberInput):
    html_params = staticmethod(_attributes)


class CheckboxInput(widgets.CheckboxInput):
    html_params = staticmethod(_attributes)


class Select(widgets.Select):
    """A select of plain (value, label) choices (a company's partners), written in one pass."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        chosen = field.data
        options = "".join(
            f'<option {"selected " if value == chosen else ""}value="{html.escape(value)}">'
            f"{html.escape(str(label) or value)}</option>"  # a lazy label translated once
            for value, label in field.choices
        )
        return Markup(f"<select {_attributes(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


#: Invoices' payment statuses by name (the trays' Payment column and filter).
PAYMENT_NAMES = {
    "unpaid": _l("unpaid"),
    "partially_paid": _l("partly paid"),
    "paid": _l("paid"),
    "refunded": _l("refunded"),
}


class TrayFilterForm(FlaskForm):
    """The tray's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("Issued from"), validators=[Optional()], widget=DateInput())
    date_to = DateField(_l("Issued to"), validators=[Optional()], widget=DateInput())
    counterparty = SelectField(
        _l("Counterparty"), choices=[], validate_choice=False, default="", widget=Select()
    )
    tax_id = StringField(_l("Tax id"), validators=[Optional(), Length(max=30)], widget=TextInput())
    type = SelectField(
        _l("Type"),
        choices=[("", _l("Any type")), *DOCUMENT_TYPE_NAMES.items()],
        default="",
        widget=Select(),
    )
    status = SelectField(
        _l("Status"),
        choices=[("", _l("Any status")), (NOT_ACCEPTED, _l("not accepted yet"))]
        + [(s, STATUS_NAMES[s]) for s in STATUSES],
        default="",
        widget=Select(),
    )
    amount_min = DecimalField(
        _l("Amount from"),
        validators=[Optional(), NumberRange(min=0)],
        widget=NumberInput(step="any"),
    )
    amount_max = DecimalField(
        _l("Amount to"),
        validators=[Optional(), NumberRange(min=0)],
        widget=NumberInput(step="any"),
    )
    payment = SelectField(
        _l("Payment"),
        choices=[("", _l("Any payment status")), *PAYMENT_NAMES.items()],
        default="",
        widget=Select(),
    )
    due_from = DateField(_l("Due from"), validators=[Optional()], widget=DateInput())
    due_to = DateField(_l("Due to"), validators=[Optional()], widget=DateInput())
    overdue = BooleanField(_l("Overdue only"), widget=CheckboxInput())
    q = StringField(
        _l("Number or name"), validators=[Optional(), Length(max=100)], widget=TextInput()
    )
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
            due_from=self.due_from.data,
            due_to=self.due_to.data,
            payment_status=self.payment.data or None,
        )


class SaveFilterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)], widget=TextInput())
    tray = SelectField(choices=[(t, t) for t in TRAYS])
    query = HiddenField(validators=[Length(max=2000)])


class BulkForm(FlaskForm):
    action = SelectField(
        choices=[
            ("acknowledge", _l("Acknowledge")),
            ("receive", _l("Record the receipt")),
            ("accept", _l("Accept")),
            ("download", _l("Download XML and PDF")),
            ("pay", _l("Pay selected")),
        ]
    )
    tray = SelectField(choices=[(t, t) for t in TRAYS], default="received")
    document_ids = SelectMultipleField(coerce=int, validate_choice=False)
