from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.taxids import COUNTRIES


def relation_choices():
    return [("supplier", _l("My supplier")), ("customer", _l("My customer"))]


class ConnectForm(FlaskForm):
    company_id = IntegerField(validators=[DataRequired()])
    relation = SelectField(_l("Relation"), choices=relation_choices)


class InvitePartnerForm(FlaskForm):
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country"), choices=list(COUNTRIES.items()), default="CO")
    tax_id = StringField(_l("Tax id"), validators=[DataRequired(), Length(max=30)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    relation = SelectField(_l("Relation"), choices=relation_choices)


class PartnerCsvForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired()],
        description=_l("Columns: name, tax_id, email, relation (supplier or customer)."),
    )
