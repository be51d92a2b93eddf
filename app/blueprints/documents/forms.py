from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.services.lifecycle.transitions import CLAIM_REASONS


class UploadForm(FlaskForm):
    files = MultipleFileField(
        _l("Signed XML files, or a ZIP of them"),
        description=_l("Up to 500 documents; each file up to 5 MB."),
        render_kw={"accept": ".xml,.zip,application/xml,text/xml,application/zip"},
    )


class EventForm(FlaskForm):
    code = HiddenField(validators=[DataRequired()])


class ClaimForm(FlaskForm):
    code = HiddenField(default="031")
    claim_reason = SelectField(
        _l("Reason"), choices=lambda: [("", "—"), *CLAIM_REASONS.items()], default=""
    )
    note = TextAreaField(_l("Explanation"), validators=[Length(max=2000)])


def visibility_choices():
    return [
        ("both", _l("Both parties")),
        ("uploader", _l("Only my company")),
    ]


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired()],
        description=_l("PDF, PNG, JPEG, XML or text; up to 10 MB."),
    )
    visibility = SelectField(_l("Visible to"), choices=visibility_choices, default="both")


class PdfUploadForm(FlaskForm):
    file = FileField(
        _l("Invoice PDF"),
        validators=[FileRequired()],
        description=_l("A PDF invoice, up to 10 MB."),
        render_kw={"accept": ".pdf,application/pdf"},
    )


class PdfLineForm(Form):
    """One line of a PDF invoice; the service checks the cells (with a message for each)."""

    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    tax_percent = StringField(
        _l("Tax %"), render_kw={"inputmode": "decimal", "list": "pdf-tax-rates"}
    )
    #: The cells read with low confidence, kept highlighted while the row lives.
    low = HiddenField()


class PdfReviewForm(FlaskForm):
    """The fields read from a PDF, as the sender corrects them before sending."""

    token = HiddenField(validators=[DataRequired()])
    #: The fields read with low confidence, kept highlighted if the form comes back with errors.
    low = HiddenField()
    number = StringField(_l("Invoice number"), validators=[DataRequired(), Length(max=60)])
    issue_date = DateField(_l("Issue date"), validators=[DataRequired()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(min=3, max=3)])
    customer_name = StringField(_l("Customer"), validators=[Length(max=200)])
    customer_tax_id = StringField(
        _l("Customer tax id"), validators=[DataRequired(), Length(max=20)]
    )
    subtotal = DecimalField(_l("Subtotal"), places=2, validators=[Optional()])
    tax = DecimalField(_l("Tax"), places=2, validators=[Optional()])
    total = DecimalField(_l("Total"), places=2, validators=[DataRequired()])
    lines = FieldList(FormField(PdfLineForm), max_entries=500)
    #: Set by the "add line" and "remove" buttons: the form comes back edited, not sent.
    line_action = StringField()

    def edit_lines(self) -> bool:
        """Add a blank row or remove one as the pressed button asks; tell whether it did."""
        action = self.line_action.data or ""
        if action == "add":
            if len(self.lines.entries) < (self.lines.max_entries or 500):
                self.lines.append_entry()
        elif action.startswith("remove:"):
            name = action.removeprefix("remove:")
            self.lines.entries = [e for e in self.lines.entries if e.name != name]
        else:
            return False
        return True

    def line_rows(self) -> list[dict]:
        """Return the rows as the service takes them, each with the index its cells are named by."""
        return [{**entry.data, "index": entry.name.rsplit("-", 1)[1]} for entry in self.lines]
