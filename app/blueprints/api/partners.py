"""GET /api/v1/partners: the company's suppliers and customers on the network."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.blueprints.api import bp
from app.blueprints.api.auth import current_token, require_token
from app.blueprints.api.schemas import PartnerQuery, takes_query
from app.extensions import db
from app.models import Partnership
from app.models.api import DOCUMENTS_READ
from app.services import network


@bp.get("/partners")
@require_token(DOCUMENTS_READ)
@takes_query(PartnerQuery)
def list_partners(query: PartnerQuery) -> Any:
    company_id = current_token().company_id
    partnerships = network.partnerships(company_id, relation=query.relation)
    rows = db.session.scalars(partnerships).unique()
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
