"""The sandbox gateway's hosted checkout (/sandbox-gateway/): the page a payer reaches from the
portal to decide a test payment. No sign-in (the payer may have no account), CSRF as anywhere.
"""

from flask import Blueprint

bp = Blueprint("sandbox_gateway", __name__, url_prefix="/sandbox-gateway")

from app.blueprints.sandbox_gateway import routes  # noqa: E402,F401
