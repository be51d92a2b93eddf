"""The payer's forms: the review of the chosen invoices, the bank transfer with its receipt and
the pay link's page. Each invoice's amount is a field named ``amount-<document id>``: the
invoices come from the query string, so the rows are read here rather than declared."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, HiddenField, RadioField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.services import inputs
from app.services.errors import DomainError

AMOUNT_PREFIX = "amount-"


class _Chosen(FlaskForm):
    """The chosen invoices (``document`` repeated), their amounts and the attempt's key."""

    document = SelectMultipleField(coerce=int, validate_choice=False)
    idempotency_key = HiddenField()

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Keep the typed amounts (``amount-<id>``) beside the declared fields."""
        wrapped = self.meta.wrap_formdata(self, formdata)
        self.amounts: dict[int, str] = {}
        if wrapped is not None:
            for key in wrapped:
                ident = key.removeprefix(AMOUNT_PREFIX)
                value = wrapped.get(key)
                if key.startswith(AMOUNT_PREFIX) and ident.isdigit() and isinstance(value, str):
                    self.amounts[int(ident)] = value.strip()[:40]
        super().process(formdata, obj, data, extra_filters, **kwargs)
        if not self.idempotency_key.data:
            # A new attempt: the key is fixed when the page is drawn, so a double submit of
            # this page is one payment.
            self.idempotency_key.data = uuid.uuid4().hex

    def document_ids(self) -> list[int]:
        return [int(i) for i in self.document.data or []]

    def typed(self, document_id: int, default: Any) -> str:
        """The amount typed for the invoice, or the default (its open balance) to prefill."""
        return self.amounts.get(document_id) or str(default)


class PayForm(_Chosen):
    method = RadioField(_l("Pay with"), choices=[], validate_choice=False)


class TransferForm(_Chosen):
    transfer_date = DateField(_l("Day of the transfer"), validators=[InputRequired()])
    reference = StringField(
        _l("Bank reference"),
        validators=[InputRequired(), Length(max=100)],
        description=_l("The number your bank gave the transfer."),
    )
    proof = FileField(
        _l("Receipt"),
        description=_l("A photo or a PDF of the bank's receipt; up to 8 MB."),
    )


class PayLinkForm(FlaskForm):
    payer_email = EmailField(
        _l("Your e-mail, for the receipt"),
        validators=[Optional(), Length(max=254)],
    )
    payer_name = StringField(_l("Your name or your company's"), validators=[Length(max=200)])
    method = RadioField(_l("Pay with"), choices=[], validate_choice=False)
    idempotency_key = HiddenField()

    def validate_payer_email(self, field: EmailField) -> None:
        if field.data:
            try:
                field.data = inputs.normalize_email(field.data, field="payer_email")
            except DomainError as error:
                raise ValidationError(str(error.message)) from None

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex
