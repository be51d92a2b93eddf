from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from app.services.sandbox_gateway import METHODS, OUTCOMES

#: The buttons of the hosted page, in the order it shows them.
OUTCOME_LABELS = (
    ("approve", _l("Approve")),
    ("decline", _l("Decline")),
    ("pending", _l("Pending (approved later)")),
    ("pending_decline", _l("Pending (declined later)")),
    ("challenge", _l("3-D Secure challenge")),
    ("cancel", _l("Cancel and go back")),
)
METHOD_LABELS = (("card", _l("Card")), ("pse", _l("PSE (bank account)")))


class DecisionForm(FlaskForm):
    """The payer's choice: one of the submit buttons (``outcome``) and a method."""

    outcome = StringField(
        validators=[
            InputRequired(message=_l("Choose one of the outcomes offered.")),
            AnyOf(OUTCOMES, message=_l("Choose one of the outcomes offered.")),
        ]
    )
    method = StringField(
        _l("Pay with"),
        validators=[
            Optional(),
            AnyOf(METHODS, message=_l("Choose one of the payment methods offered.")),
        ],
    )


class ChallengeForm(FlaskForm):
    code = StringField(
        _l("Verification code"),
        validators=[
            InputRequired(message=_l("Type the code.")),
            Length(max=20, message=_l("The code is at most 20 characters.")),
        ],
        description=_l("In the sandbox, 123456 passes; any other code fails the payment."),
    )
