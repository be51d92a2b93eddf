"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API.

Nothing is written here by hand: spectree generates the document from the routes and the models
each view declares (``spec.py``). tests/api/test_openapi.py checks that every /api/v1 route is
described, that real answers of each operation fit it, and runs schemathesis against it.
"""

from __future__ import annotations

from typing import Any

from spectree import Response

from app.blueprints.api import bp
from app.blueprints.api.responses import OpenApiDocument
from app.blueprints.api.spec import api


@bp.get("/openapi.json")
@api.validate(
    resp=Response(HTTP_200=(OpenApiDocument, "The OpenAPI 3.1 document")),
    tags=["meta"],
    operation_id="getOpenApi",
    security={},
)
def get_openapi() -> Any:
    """This description of the API"""
    return OpenApiDocument(api.spec)
