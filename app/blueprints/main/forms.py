from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, DataRequired


class SwitchCompanyForm(FlaskForm):
    company_id = IntegerField(validators=[DataRequired()])


class LocaleForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired(), AnyOf(["es", "en"])])
