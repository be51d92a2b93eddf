from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class CompanyForm(FlaskForm):
    trade_name = StringField(_l("Trade name"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Company contact e-mail"),
                               validators=[DataRequired(), Length(max=254)])
    locale = SelectField(_l("Default language of the company"),
                         choices=[("es", "Español"), ("en", "English")])
