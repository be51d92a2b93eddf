"""GET /api/v1/partners: the company's suppliers and customers on the network."""

from __future__ import annotations

from typing import Any

from spectree import Response

from app.blueprints.api import bp
from app.blueprints.api.auth import current_token, require_token
from app.blueprints.api.responses import Partner, PartnerList
from app.blueprints.api.schemas import PartnerQuery
from app.blueprints.api.spec import UNPROCESSABLE, api
from app.extensions import db
from app.models.api import DOCUMENTS_READ
from app.services import network


@bp.get("/partners")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(PartnerList, "The partners"), HTTP_422=UNPROCESSABLE),
    tags=["partners"],
    operation_id="listPartners",
)
def list_partners(query: PartnerQuery) -> Any:
    """List the company's suppliers and customers

    Partnerships that are active or waiting for an answer, with the partner company (or, when
    it is not on the network yet, the name and tax id it was invited with). Needs the
    `documents:read` scope.
    """
    company_id = current_token().company_id
    rows = db.session.scalars(network.partnerships(company_id, relation=query.relation)).unique()
    return PartnerList(data=[Partner.of(p, company_id) for p in rows])
