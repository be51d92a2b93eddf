"""The payments pages. The payer comes back from the gateway to ``/payments/return/<token>``
(no account needed: the token is the payment's random access token), which says
"processing" until the gateway confirms and then "paid" — refreshed by htmx every 2 s."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.blueprints.payments import bp
from app.services.payments import queries
from app.web.htmx import render


@bp.get("/return/<token>")
def payment_return(token: str) -> ResponseReturnValue:
    payment = queries.by_access_token(token)
    rows = queries.allocations(payment.id)
    return render(
        "payments/return.html", "payments/_status.html", payment=payment, rows=rows, token=token
    )
