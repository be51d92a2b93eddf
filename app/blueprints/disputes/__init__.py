from flask import Blueprint

bp = Blueprint("disputes", __name__, url_prefix="/disputes")

from app.blueprints.disputes import events, routes  # noqa: E402,F401
