from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length, Optional

from app.einvoice.writer import CREDIT_NOTE_CONCEPTS, DEBIT_NOTE_CONCEPTS
from app.services.fiscal import DEFAULT_RESPONSIBILITIES, DEFAULT_TAX_SCHEME
from app.services.issuing import PAYMENT_MEANS, TAXES, WITHHOLDINGS, CustomerInput, LineInput

LINE_ROWS = 10


class NumberingForm(FlaskForm):
    prefix = StringField(_l("Prefix"), validators=[Length(max=4)])
    range_from = IntegerField(_l("From"), validators=[Optional()])
    range_to = IntegerField(_l("To"), validators=[Optional()])
    resolution = StringField(_l("Resolution number"), validators=[Length(max=40)])
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to"), validators=[Optional()])
    technical_key = StringField(
        _l("Technical key"), validators=[Length(max=200)], render_kw={"autocomplete": "off"}
    )


class LineForm(Form):
    # Strings on purpose: the service checks every value and names what is wrong.
    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    tax = StringField(_l("Tax"), default="IVA19")
    discount = StringField(_l("Discount"), render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        """Tell whether the row was left empty (it is then not a line)."""
        return not any(
            (self.description.data or "", self.quantity.data or "", self.unit_price.data or "")
        )

    def to_input(self) -> LineInput:
        """Return the row as the service's typed line."""
        return LineInput(
            self.description.data or "",
            self.quantity.data,
            self.unit_price.data,
            self.tax.data or "",
            self.discount.data or "0",
        )


class LinesMixin:
    lines = FieldList(FormField(LineForm), min_entries=LINE_ROWS, max_entries=50)

    def line_inputs(self) -> tuple[list[int], list[LineInput]]:
        """Return the filled rows' positions and their typed lines."""
        rows = [i for i, row in enumerate(self.lines) if not row.form.is_blank()]
        return rows, [self.lines[i].form.to_input() for i in rows]


class InvoiceForm(LinesMixin, FlaskForm):
    customer_id = SelectField(_l("Customer"), choices=[], default="")
    customer_country = SelectField(_l("Country"), choices=[("CO", "Colombia")], default="CO")
    customer_tax_id = StringField(_l("Or any customer: tax id"), validators=[Length(max=20)])
    customer_name = StringField(_l("Customer name"), validators=[Length(max=200)])
    customer_email = StringField(_l("Customer e-mail"), validators=[Length(max=254)])
    # The customer's fiscal data: for a customer typed by hand, or a partner whose own fiscal
    # profile is incomplete. Choices are checked by the service, which names a wrong one.
    customer_address_line = StringField(_l("Customer address"), validators=[Length(max=200)])
    customer_municipality = StringField(
        _l("Customer municipality"),
        validators=[Length(max=120)],
        description=_l("DIVIPOLA code, e.g. 11001 for Bogotá."),
        render_kw={"list": "municipalities", "autocomplete": "off"},
    )
    customer_person_type = SelectField(
        _l("Customer person type"), choices=[], default="1", validate_choice=False
    )
    customer_tax_responsibilities = SelectMultipleField(
        _l("Customer fiscal responsibilities"),
        choices=[],
        default=list(DEFAULT_RESPONSIBILITIES),
        validate_choice=False,
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    customer_tax_scheme = SelectField(
        _l("Customer tax scheme"), choices=[], default=DEFAULT_TAX_SCHEME, validate_choice=False
    )
    withholdings = SelectMultipleField(
        _l("Withholdings"), choices=[(k, v[2]) for k, v in WITHHOLDINGS.items()]
    )
    due_date = DateField(_l("Due date"), validators=[Optional()])
    payment_means = SelectField(
        _l("Payment means"), choices=list(PAYMENT_MEANS.items()), default="10"
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])

    def customer_input(self) -> CustomerInput:
        """Return the customer as the service takes it (a partner's id, or what was typed)."""
        return CustomerInput(
            company_id=int(self.customer_id.data or 0) or None,
            country=self.customer_country.data,
            tax_id=self.customer_tax_id.data,
            name=self.customer_name.data,
            email=self.customer_email.data,
            address_line=self.customer_address_line.data or "",
            municipality=self.customer_municipality.data or "",
            person_type=self.customer_person_type.data or "",
            responsibilities=self.customer_tax_responsibilities.data or [],
            tax_scheme=self.customer_tax_scheme.data or "",
        )


class NoteForm(LinesMixin, FlaskForm):
    reason = SelectField(_l("Reason"), choices=[], default="")
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])


def reason_choices(kind: str) -> list[tuple[str, str]]:
    """Return DIAN's reasons for a credit or a debit note."""
    concepts = CREDIT_NOTE_CONCEPTS if kind == "credit" else DEBIT_NOTE_CONCEPTS
    return [("", "—"), *concepts.items()]


TAX_CHOICES = [(code, label) for code, (_scheme, _percent, label) in TAXES.items()]
