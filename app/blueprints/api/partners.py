"""GET /api/v1/partners: the company's suppliers and customers on the network."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from app.blueprints.api import bp
from app.blueprints.api.auth import current_token, require_token
from app.extensions import db
from app.models import Partnership
from app.models.api import DOCUMENTS_READ
from app.services import network
from app.services.errors import DomainError


@bp.get("/partners")
@require_token(DOCUMENTS_READ)
def list_partners() -> Any:
    relation = request.args.get("relation") or None
    if relation not in (None, *network.RELATIONS):
        raise DomainError(_l("Choose supplier or customer."), field="relation")
    company_id = current_token().company_id
    rows = db.session.scalars(network.partnerships(company_id, relation=relation)).unique()
    return jsonify({"data": [_partner(p, company_id) for p in rows]})


def _partner(partnership: Partnership, company_id: int) -> dict[str, Any]:
    other = partnership.partner_of(company_id)
    return {
        "id": partnership.id,
        "relation": partnership.relation_for(company_id),
        "status": partnership.status,
        "awaiting_your_answer": partnership.awaits_answer_from(company_id),
        "name": partnership.partner_name_for(company_id),
        "on_network": other is not None,
        "company_id": other.id if other else None,
        "country": other.country if other else partnership.invited_country,
        "tax_id": other.tax_id if other else partnership.invited_tax_id,
        "created_at": partnership.created_at.isoformat(),
    }
