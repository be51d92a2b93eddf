from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.services.audit import EventFilters


class AuditFilterForm(FlaskForm):
    """The audit page's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    user = SelectField(_l("User"), choices=[], validate_choice=False, default="")
    document = StringField(_l("Document (number or id)"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("Action"), choices=[], validate_choice=False, default="")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period is before its start."))

    def filters(self) -> EventFilters:
        """Return what the service filters on."""
        user = self.user.data or ""
        return EventFilters(
            user_id=int(user) if user.isdigit() else None,
            document=(self.document.data or "").strip() or None,
            action=self.action.data or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )
