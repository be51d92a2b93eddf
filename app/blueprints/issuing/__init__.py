from flask import Blueprint

bp = Blueprint("issuing", __name__, url_prefix="/issue")

from app.blueprints.issuing import routes  # noqa: E402,F401
