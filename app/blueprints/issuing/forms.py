import re
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length, Optional, ValidationError

from app import humanize
from app.einvoice.writer import CREDIT_NOTE_CONCEPTS, DEBIT_NOTE_CONCEPTS
from app.services.fiscal import DEFAULT_RESPONSIBILITIES, DEFAULT_TAX_SCHEME
from app.services.issuing import PAYMENT_MEANS, TAXES, WITHHOLDINGS, CustomerInput, LineInput

#: A document's lines: a form starts with one and holds at most MAX_LINES. Rows are posted as
#: lines-<index>-<field>, index 0-9999 (removing a row in the browser leaves a gap; the form
#: renumbers them in order); anything else is refused as unreadable, never guessed.
MAX_LINES = 200
LINE_FIELDS = (
    "description", "quantity", "unit_price", "tax", "discount", "item_code", "unit_code",
)
REQUIRED_LINE_FIELDS = LINE_FIELDS[:4]  # an older page or a hand-made post may omit the discount
LINE_KEY = re.compile(r"lines-(0|[1-9][0-9]{0,3})-([a-z_]+)\Z")
SEARCH_MAX = 100  # characters of a customer search that are used


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
    # From an order: the supplier's item code and the unit, carried along unseen.
    item_code = HiddenField()
    unit_code = HiddenField()

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
            (self.item_code.data or "")[:100],
            (self.unit_code.data or "94")[:10],
        )


class LinesMixin:
    """The lines of an invoice or a note, which the person adds and removes as needed.

    "Add line" and "Remove" are submit buttons (add_line, remove_line=<index>): without
    JavaScript the form is drawn again with one line more or less and every typed value kept.
    """

    max_lines = MAX_LINES
    lines = FieldList(FormField(LineForm), min_entries=1)
    add_line = StringField()
    remove_line = StringField()

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Read the posted lines, leaving out (and naming) any that cannot be read."""
        formdata = self.meta.wrap_formdata(self, formdata)
        self.line_problems: list[Any] = []
        self.posted_indices: list[int] = []
        if formdata is not None:
            formdata = self._readable_lines(formdata)
        super().process(formdata, obj, data, extra_filters, **kwargs)

    def _readable_lines(self, formdata: Any) -> MultiDict:
        kept, fields, unreadable = MultiDict(), {}, False
        for key in formdata:
            values = formdata.getlist(key)
            if not key.startswith("lines-"):
                kept.setlist(key, values)
                continue
            match = LINE_KEY.match(key)
            if (
                match is None
                or match[2] not in LINE_FIELDS
                or len(values) != 1
                or not isinstance(values[0], str)  # a JSON body's number, list or object
            ):
                unreadable = True
                continue
            fields.setdefault(int(match[1]), set()).add(match[2])
            kept.setlist(key, values)
        if unreadable:
            self.line_problems.append(
                _l("Some of the lines sent could not be read; check the lines and send again.")
            )
        indices = sorted(fields)
        if len(indices) > MAX_LINES:
            self.line_problems.append(_l("A document holds at most %(max)s lines.", max=MAX_LINES))
            for index in indices[MAX_LINES:]:
                for name in LINE_FIELDS:
                    kept.poplist(f"lines-{index}-{name}")
            indices = indices[:MAX_LINES]
        for number, index in enumerate(indices, start=1):
            if not fields[index].issuperset(REQUIRED_LINE_FIELDS):
                self.line_problems.append(
                    _l(
                        "Line %(number)s arrived incomplete; check it and send again.",
                        number=number,
                    )
                )
        self.posted_indices = indices
        return kept

    def validate(self, extra_validators=None) -> bool:
        """Check the form, and that every posted line could be read."""
        valid = super().validate(extra_validators)
        return valid and not self.line_problems

    def set_lines(self, lines: list[Any]) -> None:
        """Show these lines (LineInputs) instead of what the form holds."""
        self.lines.entries, self.lines.last_index = [], -1
        for line in lines:
            self.lines.append_entry(vars(line))

    def next_index(self) -> int | None:
        """Return the index of a line added after the posted ones (None at the limit)."""
        if len(self.posted_indices) >= MAX_LINES:
            self.line_problems.append(_l("A document holds at most %(max)s lines.", max=MAX_LINES))
            return None
        return (self.posted_indices[-1] + 1) if self.posted_indices else 0

    def edit_lines(self) -> int | None:
        """Apply "Add line" or "Remove" if one was pressed; return the row to focus, else None."""
        if self.add_line.data:
            if self.next_index() is None:
                return len(self.lines.entries) - 1
            self.lines.append_entry()
            return len(self.lines.entries) - 1
        if self.remove_line.data is None or self.remove_line.data == "":
            return None
        raw = self.remove_line.data
        position = (
            self.posted_indices.index(int(raw))
            if raw.isascii() and raw.isdigit() and int(raw) in self.posted_indices
            else None
        )
        if position is None:
            self.line_problems.append(_l("That line is no longer on the form."))
            return 0
        kept = [row.form.to_input() for i, row in enumerate(self.lines) if i != position]
        self.set_lines(kept or [LineInput("", "", "")])
        return min(position, len(kept) - 1) if kept else 0

    def line_inputs(self) -> tuple[list[int], list[LineInput]]:
        """Return the filled rows' positions and their typed lines."""
        rows = [i for i, row in enumerate(self.lines) if not row.form.is_blank()]
        return rows, [self.lines[i].form.to_input() for i in rows]


class LinesForm(LinesMixin, FlaskForm):
    """Just the lines: what "Add line" posts to fetch one more row."""


class InvoiceForm(LinesMixin, FlaskForm):
    # The buyer's order this invoice answers (cac:OrderReference), when made from one.
    order_reference = HiddenField(validators=[Length(max=100)])
    # The picker: a search among the company's customers on the network, whose results are
    # radio buttons named customer_id ("" = a customer not on the network, typed below).
    customer_q = StringField(_l("Search your customers"))
    find_customer = StringField()
    customer_id = SelectField(_l("Customer"), choices=[], default="", validate_choice=False)
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
        _l("Withholdings"),
        choices=[],  # withholding_choices(), in the request's language
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    due_date = DateField(_l("Due date"), validators=[Optional()])
    payment_means = SelectField(
        _l("Payment means"), choices=[], default="10"  # payment_means_choices()
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])

    def validate_customer_id(self, field: Any) -> None:
        """Take only one of the company's own customers (or none: a customer typed below)."""
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError(
                _l("Choose one of your customers, or “Customer not on the network”.")
            )

    def search_query(self) -> str:
        """Return the customer search as typed, cut to a sensible length."""
        return (self.customer_q.data or "").strip()[:SEARCH_MAX]

    def customer_input(self) -> CustomerInput:
        """Return the customer as the service takes it (a partner's id, or what was typed).

        A chosen partner is the customer: the block typed for a customer not on the network
        is ignored (its fiscal data stays, for a partner that has not filled in its own).
        """
        raw = self.customer_id.data or ""
        partner = int(raw) if raw.isascii() and raw.isdigit() else None
        typed = partner is None
        return CustomerInput(
            company_id=partner,
            country=self.customer_country.data,
            tax_id=self.customer_tax_id.data if typed else "",
            name=self.customer_name.data if typed else "",
            email=self.customer_email.data if typed else "",
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


def tax_choices() -> list[tuple[str, str]]:
    """The taxes a line may carry, named in the request's language: 'IVA 19 %'."""
    locale = get_locale()
    return [
        (code, f"{humanize.tax_scheme(scheme, locale=locale)} "
               f"{humanize.percent(Decimal(rate), locale=locale)}")
        for code, (scheme, rate, _label) in TAXES.items()
    ]


def withholding_choices() -> list[tuple[str, str]]:
    """The withholdings on a whole invoice, named in the request's language: 'ReteIVA 15 %'."""
    locale = get_locale()
    return [
        (code, f"{humanize.tax_scheme(scheme, locale=locale)} "
               f"{humanize.percent(Decimal(rate), locale=locale)}")
        for code, (scheme, rate, _label, _base) in WITHHOLDINGS.items()
    ]


def payment_means_choices() -> list[tuple[str, str]]:
    """DIAN's payment means the form offers, by name in the request's language."""
    locale = get_locale()
    return [(code, humanize.payment_means(code, locale=locale)) for code in PAYMENT_MEANS]
