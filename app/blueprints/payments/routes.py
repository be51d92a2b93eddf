"""The payments pages. The payer comes back from the gateway to ``/payments/return/<token>``
(no account needed: the token is the payment's random access token), which says
"processing" until the gateway confirms and then "paid" — refreshed by htmx every 2 s."""

from __future__ import annotations

import io

from flask import request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user

from app.blueprints.payments import bp
from app.services.payments import queries, receipts
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


@bp.get("/return/<token>/receipt.pdf")
def payment_return_receipt(token: str) -> ResponseReturnValue:
    """The receipt for a payer who paid by link (no account): the access token is the key."""
    payment = queries.by_access_token(token)
    locale = get_locale()
    data = receipts.receipt_pdf(
        payment, reader_company_id=None, locale=locale.language if locale else "es"
    )
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        download_name=receipts.receipt_filename(payment),
        as_attachment=False,
    )
