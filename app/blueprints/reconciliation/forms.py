"""Reconciliation's forms: a bank account, a statement upload, a CSV/XLSX column mapping, the
lines' filters (a GET form), a rule, and manual matching's fee."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.blueprints.reconciliation.labels import ACTIONS, DIRECTIONS, LINE_STATUSES
from app.gateways import currencies
from app.statements.model import ColumnMapping

#: The file names a statement upload accepts (the browser's file picker is told).
ACCEPT = ".xml,.sta,.mt940,.940,.txt,.ofx,.qfx,.csv,.xlsx"
#: Common date formats of bank exports, offered by an example (31 December 2026) rather than
#: by their strptime code.
DATE_FORMATS = (
    ("%d/%m/%Y", "31/12/2026"),
    ("%d-%m-%Y", "31-12-2026"),
    ("%d.%m.%Y", "31.12.2026"),
    ("%Y-%m-%d", "2026-12-31"),
    ("%Y/%m/%d", "2026/12/31"),
    ("%m/%d/%Y", "12/31/2026"),
    ("%d/%m/%y", "31/12/26"),
    ("%Y%m%d", "20261231"),
    ("%d %b %Y", "31 Dec 2026"),
)
DELIMITERS = (
    ("", _l("Find it out")),
    (",", _l("Comma ( , )")),
    (";", _l("Semicolon ( ; )")),
    ("\t", _l("Tab")),
    ("|", _l("Vertical bar ( | )")),
)
_COLUMN = [Optional(), Length(max=100)]


class BankAccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=100)],
                       description=_l("How you call it, like “Bancolombia savings”."))
    bank_name = StringField(_l("Bank"), validators=[Length(max=100)])
    currency = SelectField(_l("Currency"), choices=[], validate_choice=False)
    number = StringField(_l("Account number or IBAN"), validators=[Length(max=60)],
                         render_kw={"autocomplete": "off", "spellcheck": "false"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = [(code, code) for code in sorted(currencies.ISO_DECIMALS)]
        if not self.currency.data:
            self.currency.data = "COP"


class ImportForm(FlaskForm):
    file = FileField(_l("Statement file"), render_kw={"accept": ACCEPT},
                     description=_l("camt.053 (XML), MT940, OFX/QFX, or a CSV or Excel export "
                                    "read with the column mapping below."))


class MappingForm(FlaskForm):
    """A bank's CSV/XLSX export: which column holds what (app.statements.model.ColumnMapping)."""

    date_column = StringField(_l("Date column"), validators=[Length(max=100)],
                              description=_l("The header's name, like “Fecha”, or the column's "
                                             "number counting from 1."))
    date_format = SelectField(_l("Dates are written like"),
                              choices=[(code, example) for code, example in DATE_FORMATS])
    amount_column = StringField(_l("Amount column (signed)"), validators=_COLUMN,
                                description=_l("One column with money in positive and money out "
                                               "negative. Or leave it empty and give the debit "
                                               "and credit columns."))
    debit_column = StringField(_l("Debit column (money out)"), validators=_COLUMN)
    credit_column = StringField(_l("Credit column (money in)"), validators=_COLUMN)
    decimal_comma = BooleanField(_l("Amounts use a decimal comma (1.234,56)"))
    skip_rows = IntegerField(_l("Lines before the header row"), default=0,
                             validators=[Optional(), NumberRange(min=0, max=50)])
    delimiter = SelectField(_l("Separator"), choices=DELIMITERS, default="")
    description_column = StringField(_l("Description column"), validators=_COLUMN)
    reference_column = StringField(_l("Reference column"), validators=_COLUMN)
    counterparty_name_column = StringField(_l("Counterparty name column"), validators=_COLUMN)
    counterparty_account_column = StringField(_l("Counterparty account column"),
                                              validators=_COLUMN)
    currency_column = StringField(_l("Currency column"), validators=_COLUMN)

    def validate_date_column(self, field: StringField) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Give the column that holds the date."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        amount = (self.amount_column.data or "").strip()
        debit = (self.debit_column.data or "").strip()
        credit = (self.credit_column.data or "").strip()
        problem = None
        if amount and (debit or credit):
            problem = _l("Give one amount column, or debit and credit columns, not both.")
        elif not amount and not (debit and credit):
            problem = _l("Give the amount column, or both the debit and the credit columns.")
        if problem is not None:
            self.amount_column.errors = [*self.amount_column.errors, problem]
            return False
        return valid

    def to_mapping(self) -> ColumnMapping:
        def text(name: str) -> str | None:
            return (self[name].data or "").strip() or None

        return ColumnMapping(
            date_column=(self.date_column.data or "").strip(),
            amount_column=text("amount_column"),
            debit_column=text("debit_column"),
            credit_column=text("credit_column"),
            date_format=self.date_format.data or "%Y-%m-%d",
            decimal_comma=bool(self.decimal_comma.data),
            skip_rows=self.skip_rows.data or 0,
            delimiter=self.delimiter.data or None,
            description_column=text("description_column"),
            reference_column=text("reference_column"),
            counterparty_name_column=text("counterparty_name_column"),
            counterparty_account_column=text("counterparty_account_column"),
            currency_column=text("currency_column"),
        )

    def fill(self, mapping: ColumnMapping) -> None:
        """Show a saved mapping."""
        for name in self._fields:
            if name != "csrf_token" and hasattr(mapping, name):
                value = getattr(mapping, name)
                self[name].data = "" if value is None else value


class LineFilterForm(FlaskForm):
    """The statement lines' filters, read from the query string (no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="", validate_choice=False,
                         choices=[("", _l("Any status"))] + list(LINE_STATUSES.items()))
    direction = SelectField(_l("Direction"), default="", validate_choice=False,
                            choices=[("", _l("Money in and out")), ("credit", _l("Money in")),
                                     ("debit", _l("Money out"))])
    q = StringField(_l("Search"), validators=[Length(max=100)],
                    description=_l("Reference, description or counterparty."))
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_status(self, field: SelectField) -> None:
        if field.data and field.data not in LINE_STATUSES:
            raise ValidationError(_l("Choose one of the statuses offered."))

    def validate_direction(self, field: SelectField) -> None:
        if field.data and field.data not in ("credit", "debit"):
            raise ValidationError(_l("Choose money in or money out."))

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period is before its start."))


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=100)],
                       description=_l("Shown as the evidence of the matches it makes."))
    action = SelectField(_l("What it does"), choices=list(ACTIONS.items()),
                         validate_choice=False)
    direction = SelectField(_l("Lines"), choices=list(DIRECTIONS.items()), default="",
                            validate_choice=False)
    text_contains = StringField(_l("The line's text contains"), validators=[Length(max=100)],
                                description=_l("Looked for in the reference, the description "
                                               "and the counterparty's name; capitals do not "
                                               "matter."))
    counterparty = StringField(_l("Counterparty (tax id or name)"),
                               validators=[Length(max=200)])
    amount_min = StringField(_l("Smallest amount"), validators=[Length(max=30)],
                             description=_l("Without sign, like 1500 or 12.50. Empty: any."))
    amount_max = StringField(_l("Largest amount"), validators=[Length(max=30)])
    bank_account_id = SelectField(_l("Bank account"), choices=[], validate_choice=False,
                                  default="")
    partner = StringField(_l("Partner's tax id"), validators=[Length(max=20)],
                          description=_l("For “Pay this partner's invoices, oldest first”: "
                                         "whose invoices the line pays."))
    fee_max = StringField(_l("Largest bank fee (N)"), validators=[Length(max=30)],
                          description=_l("For “A shortfall up to N is a bank fee”: a line this "
                                         "much below the invoices still pays them, the rest "
                                         "recorded as a fee."))
    enabled = BooleanField(_l("Enabled"), default=True)
    auto_confirm = BooleanField(_l("Confirm its matches without review"),
                                description=_l("Only when the evidence is strong."))

    def values(self) -> dict[str, Any]:
        """What rules.save_rule takes."""
        return {name: self[name].data for name in self._fields if name != "csrf_token"}


class ManualMatchForm(FlaskForm):
    """The fee of a manual match; the items chosen are read from the checkboxes
    (``item`` = "kind:id", ``amount-kind-id``)."""

    fee = StringField(_l("Bank fee (optional)"), validators=[Length(max=30)],
                      description=_l("When the line is the items less a fee the bank kept."))
