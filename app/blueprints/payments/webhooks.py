"""POST /payments/webhooks/<gateway>/<connection public id>: verify, store once, answer 200.

The event is processed by a job after the answer (``app.jobs.relay``), so the gateway hears
back in milliseconds and never retries because the portal was slow.
"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.blueprints.payments import webhooks_bp
from app.extensions import db
from app.services.errors import NotFound
from app.services.payments import webhooks


@webhooks_bp.post("/<gateway>/<public_id>")
def receive(gateway: str, public_id: str) -> ResponseReturnValue:
    try:
        stored = webhooks.receive_webhook(
            gateway, public_id, request.get_data(cache=False), dict(request.headers)
        )
    except NotFound:
        return jsonify(error="unknown connection"), 404
    except webhooks.WebhookRejected as error:
        db.session.rollback()
        return jsonify(error=str(error.message)), 400
    db.session.commit()
    return jsonify(received=True, stored=len(stored)), 200
