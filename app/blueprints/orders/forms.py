from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.web.formatting import NUMBER_INPUT


class PlaceOrderForm(FlaskForm):
    supplier = HiddenField()
    delivery_date = DateField(_l("Deliver on"), validators=[Optional()])
    delivery_address = TextAreaField(_l("Delivery address"),
                                     validators=[Optional(), Length(max=1000)])
    buyer_reference = StringField(_l("Your reference"), validators=[Optional(), Length(max=100)],
                                  description=_l("Your purchase order or cost centre, "
                                                 "printed on the invoice."))
    note = TextAreaField(_l("Note for the supplier"), validators=[Optional(), Length(max=2000)])


class CartFileForm(FlaskForm):
    supplier = HiddenField()
    file = FileField(_l("CSV or XLSX of item codes and quantities"), validators=[FileRequired()],
                     description=_l("Two columns: code, quantity."))


class ToleranceForm(FlaskForm):
    supplier = HiddenField()
    quantity_percent = StringField(_l("Quantity (percent)"), default="0", render_kw=NUMBER_INPUT)
    price_percent = StringField(_l("Price (percent)"), default="0", render_kw=NUMBER_INPUT)
    price_amount = StringField(_l("Price (amount)"), default="0", render_kw=NUMBER_INPUT)
