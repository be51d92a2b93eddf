"""The supplier's payment forms: a gateway's keys, the payment settings, a refund, a decision
on a transfer, and the payments list's filters (a GET form)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from app import gateways
from app.models.payment import METHODS, PAYMENT_STATUSES

# The gateways' credential labels (app/gateways/*.py keep them in English), translated here.
CREDENTIAL_LABELS = {
    ("stripe", "secret_key"): _l("Secret key (sk_live_…, sk_test_… or a restricted key rk_…)"),
    ("stripe", "webhook_secret"): _l("Webhook signing secret (whsec_…)"),
    ("wompi", "public_key"): _l("Public key"),
    ("wompi", "private_key"): _l("Private key"),
    ("wompi", "events_secret"): _l("Events secret"),
    ("wompi", "integrity_secret"): _l("Integrity secret"),
}
#: The gateways a supplier connects with its own keys (the sandbox is one click).
KEYED_GATEWAYS = ("stripe", "wompi")


class GatewayKeysForm(FlaskForm):
    """A gateway's keys: built per gateway from its CREDENTIAL_FIELDS (see ``keys_form``)."""

    label = StringField(_l("Name shown to you (optional)"), validators=[Length(max=100)])

    def credentials(self) -> dict[str, str]:
        """Return the keys as typed."""
        return {
            key: self[key].data or ""
            for key, _label, _secret in gateways.module(self.gateway).CREDENTIAL_FIELDS
        }


def keys_form(gateway: str, **kwargs) -> GatewayKeysForm:
    """The connect form of one gateway: secret keys are password inputs, never filled back."""
    fields = {"gateway": gateway}
    for key, english, secret in gateways.module(gateway).CREDENTIAL_FIELDS:
        label = CREDENTIAL_LABELS.get((gateway, key), english)
        kind = PasswordField if secret else StringField
        fields[key] = kind(label, validators=[Length(max=300)], render_kw={"autocomplete": "off"})
    form_class = type(f"{gateway.title()}KeysForm", (GatewayKeysForm,), fields)
    return form_class(prefix=gateway, **kwargs)


class SettingsForm(FlaskForm):
    allow_partial = BooleanField(_l("Let customers pay part of an invoice"))
    partial_minimum = StringField(
        _l("Smallest partial payment"),
        validators=[Length(max=20)],
        description=_l("In the invoice's currency, like 50000. Zero: any amount."),
    )
    accept_transfers = BooleanField(_l("Accept bank transfers (you confirm each one)"))
    bank_name = StringField(_l("Bank"), validators=[Length(max=100)])
    account_type = SelectField(
        _l("Account type"),
        choices=[("", _l("Not given")), ("savings", _l("Savings")), ("checking", _l("Checking"))],
        default="",
    )
    account_number = StringField(_l("Account number"), validators=[Length(max=40)])
    account_holder = StringField(_l("Account holder"), validators=[Length(max=200)])
    instructions = TextAreaField(
        _l("Instructions for the payer"),
        validators=[Length(max=2000)],
        description=_l("For example: write the invoice number as the transfer's reference."),
    )

    def values(self) -> dict[str, object]:
        """Return what the service stores."""
        return {name: self[name].data for name in self._fields if name != "csrf_token"}


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"), validators=[Length(max=30)])
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class DecisionForm(FlaskForm):
    reason = StringField(_l("Reason (told to the payer)"), validators=[Length(max=200)])


#: How a payment's number is written: the portal's reference (PAY-000123) or its bare id.
PAYMENT_NUMBER = re.compile(r"\s*(?:PAY\s*-?\s*)?#?0*([0-9]{1,10})\s*", re.IGNORECASE)
MAX_ID = 2**31 - 1
#: A payment's reconciliation status as people read it (app.services.reconciliation.queries).
RECONCILIATION_NAMES = {
    "matched": _l("Matched"),
    "suggested": _l("Suggested match"),
    "unmatched": _l("Not matched"),
}
#: The documents a payment pays (credit notes lower an invoice, they are not paid).
PAID_DOCUMENT_TYPES = ("Invoice", "DebitNote")


class PaymentFilterForm(FlaskForm):
    """The payments lists' filters, read from the query string (no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validate_choice=False, default="")
    counterparty = SelectField(_l("Company"), choices=[], validate_choice=False, default="")
    tax_id = StringField(
        _l("Tax id"),
        validators=[Length(max=40)],
        description=_l("The other company's tax id, or its first digits."),
    )
    number = StringField(
        _l("Payment number"), validators=[Length(max=20)], description=_l("Like PAY-000123.")
    )
    document_type = SelectField(
        _l("Invoices paid"), choices=[], validate_choice=False, default=""
    )
    method = SelectField(_l("Method"), choices=[], validate_choice=False, default="")
    reconciliation = SelectField(
        _l("Reconciliation"), choices=[], validate_choice=False, default=""
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_status(self, field: SelectField) -> None:
        if field.data and field.data not in PAYMENT_STATUSES:
            raise ValidationError(_l("Choose one of the statuses offered."))

    def validate_counterparty(self, field: SelectField) -> None:
        if field.data and not (field.data.isdigit() and 0 < int(field.data) <= MAX_ID):
            raise ValidationError(_l("Choose one of the companies offered."))

    def validate_number(self, field: StringField) -> None:
        if field.data and field.data.strip() and self.payment_id() is None:
            raise ValidationError(_l("Write the payment's number, like PAY-000123, or its id."))

    def validate_document_type(self, field: SelectField) -> None:
        if field.data and field.data not in PAID_DOCUMENT_TYPES:
            raise ValidationError(_l("Choose one of the document types offered."))

    def validate_method(self, field: SelectField) -> None:
        if field.data and field.data not in METHODS:
            raise ValidationError(_l("Choose one of the methods offered."))

    def validate_reconciliation(self, field: SelectField) -> None:
        if field.data and field.data not in RECONCILIATION_NAMES:
            raise ValidationError(_l("Choose one of the reconciliation statuses offered."))

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period is before its start."))

    def payment_id(self) -> int | None:
        """The payment id the number field names, or None (empty or not a number)."""
        found = PAYMENT_NUMBER.fullmatch(self.number.data or "")
        if found is None or not 0 < int(found.group(1)) <= MAX_ID:
            return None
        return int(found.group(1))

    def counterparty_id(self) -> int | None:
        other = self.counterparty.data or ""
        return int(other) if other.isdigit() else None
