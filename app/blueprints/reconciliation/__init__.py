from flask import Blueprint

bp = Blueprint("reconciliation", __name__, url_prefix="/reconciliation")

from app.blueprints.reconciliation import (  # noqa: E402,F401
    accounts,
    labels,
    lines,
    rules,
)
