from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.services.lifecycle import CLAIM_REASONS


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
