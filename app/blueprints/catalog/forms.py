from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from app.einvoice.codelists import UNITS
from app.gateways.currencies import ISO_DECIMALS
from app.web.formatting import NUMBER_INPUT


def unit_choices():
    from flask_babel import get_locale

    language = "es" if str(get_locale()).startswith("es") else "en"
    return sorted(((code, f"{names[language][0]} ({code})") for code, names in UNITS.items()),
                  key=lambda c: c[1])


def availability_choices():
    return [("in_stock", _l("In stock")), ("on_request", _l("On request")),
            ("out_of_stock", _l("Out of stock"))]


def visibility_choices():
    return [("connected", _l("My connected customers")), ("network", _l("The whole network")),
            ("chosen", _l("Customers I choose"))]


class ItemForm(FlaskForm):
    seller_item_id = StringField(_l("Item code"), validators=[DataRequired(), Length(max=100)],
                                 description=_l("Your own code for the item (SKU)."))
    standard_item_id = StringField(_l("GTIN (barcode)"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    unit_code = SelectField(_l("Unit"), choices=unit_choices, default="94")
    price = StringField(_l("Price"), validators=[DataRequired(), Length(max=30)],
                        description=_l("Before taxes, per unit."), render_kw=NUMBER_INPUT)
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in sorted(ISO_DECIMALS)],
                           default="COP")
    tax_percent = StringField(_l("Tax %"), validators=[Optional(), Length(max=10)],
                              description=_l("IVA, e.g. 19."), render_kw=NUMBER_INPUT)
    min_quantity = StringField(_l("Minimum quantity"), validators=[Optional(), Length(max=30)],
                               default="1", render_kw=NUMBER_INPUT)
    pack_size = StringField(_l("Pack size"), validators=[Optional(), Length(max=30)],
                            default="1", description=_l("Units sold together."),
                            render_kw=NUMBER_INPUT)
    availability = SelectField(_l("Availability"), choices=availability_choices)
    lead_time_days = StringField(_l("Lead time (days)"), validators=[Optional(), Length(max=5)])
    categories = StringField(_l("Categories"), validators=[Optional(), Length(max=300)],
                             description=_l("Separated by commas."))
    visibility = SelectField(_l("Who sees it"), choices=visibility_choices)
    customers = SelectMultipleField(_l("Customers who see it"), choices=[], coerce=int,
                                    option_widget=widgets.CheckboxInput(),
                                    widget=widgets.ListWidget(prefix_label=False))
    published = BooleanField(_l("Published"), default=True)


class ImageForm(FlaskForm):
    image = FileField(_l("Picture"), validators=[FileRequired()],
                      description=_l("PNG, JPEG or WebP, at most 2 MB."))


class CustomerPriceForm(FlaskForm):
    customer = SelectField(_l("Customer"), choices=[], coerce=int)
    price = StringField(_l("Price"), validators=[DataRequired(), Length(max=30)],
                        render_kw=NUMBER_INPUT)
    valid_from = DateField(_l("From"), validators=[Optional()])
    valid_to = DateField(_l("To"), validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()],
                     description=_l("Columns: code, name, price; optional: GTIN, description, "
                                    "unit, currency, tax %, minimum quantity, pack size, "
                                    "availability, lead time (days), categories, visibility."))
