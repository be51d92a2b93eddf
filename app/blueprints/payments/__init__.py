from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")
# The gateways' webhooks: signed by the gateway, not by a session, so exempt from CSRF.
webhooks_bp = Blueprint("gateway_webhooks", __name__, url_prefix="/payments/webhooks")

from app.blueprints.payments import (  # noqa: E402,F401
    lists,
    manage,
    paying,
    routes,
    webhooks,
)
