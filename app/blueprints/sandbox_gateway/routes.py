"""The hosted checkout: show a charge, let the payer decide it, answer a 3-D Secure challenge.

After a decision the payer goes back to the merchant's success URL (paid or pending) or cancel
URL (declined or canceled) with nothing appended: the portal learns the outcome from the signed
webhook, never from the address. A charge already decided shows its result and is never
decided twice.
"""

from flask import abort, redirect, url_for

from app.blueprints.sandbox_gateway import bp
from app.blueprints.sandbox_gateway.forms import (
    METHOD_LABELS,
    OUTCOME_LABELS,
    ChallengeForm,
    DecisionForm,
)
from app.extensions import db
from app.services import sandbox_gateway
from app.services.errors import Conflict, NotFound
from app.web.htmx import render


def _page(charge_id: str) -> sandbox_gateway.CheckoutPage:
    try:
        return sandbox_gateway.checkout(charge_id)
    except NotFound:
        abort(404)


def _show(view, *, form=None, challenge=None, status=200):
    return render(
        "sandbox_gateway/checkout.html",
        status=status,
        checkout=view,
        charge=view.charge,
        form=form or DecisionForm(formdata=None),
        challenge=challenge or ChallengeForm(formdata=None),
        outcomes=OUTCOME_LABELS,
        methods=METHOD_LABELS,
    )


def _back(charge_id: str, charge=None):
    target = sandbox_gateway.return_url(charge) if charge is not None else None
    return redirect(target or url_for(".checkout", charge_id=charge_id), code=303)


@bp.get("/checkout/<charge_id>")
def checkout(charge_id: str):
    return _show(_page(charge_id))


@bp.post("/checkout/<charge_id>")
def decide(charge_id: str):
    page = _page(charge_id)
    form = DecisionForm()
    if not form.validate():
        return _show(page, form=form, status=400)
    try:
        charge = sandbox_gateway.decide(
            charge_id, form.outcome.data, method=form.method.data or "card"
        )
    except Conflict:
        return _back(charge_id)  # decided already: its page shows how
    db.session.commit()
    return _back(charge_id, charge)


@bp.post("/checkout/<charge_id>/challenge")
def challenge(charge_id: str):
    page = _page(charge_id)
    form = ChallengeForm()
    if not form.validate():
        return _show(page, challenge=form, status=400)
    try:
        charge = sandbox_gateway.answer_challenge(charge_id, form.code.data)
    except Conflict:
        return _back(charge_id)
    db.session.commit()
    return _back(charge_id, charge)
