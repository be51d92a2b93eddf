from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.services.disputes.disputes import REASON_NAMES, RESOLUTION_NAMES


class OpenForm(FlaskForm):
    reason = SelectField(
        _l("Reason"), choices=lambda: [("", "—"), *REASON_NAMES.items()], default=""
    )
    amount = StringField(_l("Amount in dispute"))
    message = TextAreaField(_l("First message"), validators=[Length(max=4096)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), render_kw={"rows": 2, "maxlength": 4096})
    lines = StringField(
        _l("Invoice lines"),
        validators=[Optional(), Length(max=100)],
        render_kw={"placeholder": _l("e.g. 2, 3")},
    )
    file = FileField(
        _l("Image or PDF"),
        render_kw={"accept": "image/png,image/jpeg,application/pdf"},
    )
    client_id = HiddenField()
    after = HiddenField()


class ProposalForm(FlaskForm):
    resolution = SelectField(
        _l("Resolution"), choices=lambda: [("", "—"), *RESOLUTION_NAMES.items()], default=""
    )
    amount = StringField(_l("Amount"))
    lines = StringField(_l("Invoice lines"), validators=[Optional(), Length(max=100)])
    description = TextAreaField(_l("Details"), validators=[Length(max=2000)])


class ActionForm(FlaskForm):
    """A button that changes the dispute (accept, reject, escalate, withdraw): CSRF only."""
