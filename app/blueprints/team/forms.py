from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Length

from app.permissions import ASSIGNABLE_ROLES, ROLE_LABELS


def _role_choices():
    return [(role, ROLE_LABELS[role]) for role in ASSIGNABLE_ROLES]


class InviteMemberForm(FlaskForm):
    email = EmailField(_l("Colleague's e-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=_role_choices, default="viewer")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices)
