"""The versioned JSON API for ERPs (/api/v1): bearer tokens, JSON in and out, JSON errors.

One module per resource (``partners``, ``documents``, ``payments``, ``reconciliation``,
``orders``, ``catalog``; ``openapi`` serves the description of
them all); ``auth`` holds ``require_token``, ``errors`` the one JSON error shape.
"""

from flask import Blueprint, current_app

from app.blueprints.api.auth import rate_limit_cost, rate_limit_key
from app.extensions import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Every API call counts against the token that makes it (or the address, without a token);
# a batch of documents counts once per file.
limiter.limit(
    lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key, cost=rate_limit_cost
)(bp)

from app.blueprints.api import (  # noqa: E402,F401
    catalog,
    documents,
    openapi,
    orders,
    partners,
    payments,
    reconciliation,
)
