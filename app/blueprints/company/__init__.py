from flask import Blueprint

bp = Blueprint("company", __name__, url_prefix="/company")

from app.blueprints.company import routes, webhooks  # noqa: E402,F401
