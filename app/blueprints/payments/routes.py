"""The payments pages. The payer comes back from the gateway to ``/payments/return/<token>``
(no account needed: the token is the payment's random access token), which says
"processing" until the gateway confirms and then "paid" — refreshed by htmx every 2 s."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.blueprints.payments import bp
from app.services.payments import queries
from app.web.auth import membership
from app.web.htmx import render


@bp.get("/return/<token>")
def payment_return(token: str) -> ResponseReturnValue:
    payment = queries.by_access_token(token)
    rows = queries.allocations(payment.id)
    return render(
        "payments/return.html",
        "payments/_status.html",
        payment=payment,
        rows=rows,
        token=token,
        member=_member(payment),
        canceled=request.args.get("canceled") == "1",
    )


def _member(payment) -> str | None:
    """Say whether the signed-in user acts for the payment's payer, its payee, or neither."""
    found = membership() if current_user.is_authenticated else None
    if found is None:
        return None
    if found.company_id == payment.payer_company_id:
        return "payer"
    return "payee" if found.company_id == payment.payee_company_id else None
