"""/api/v1/catalog: a supplier's ERP keeps its catalog (items one by one, or a CSV/XLSX import
with a report per row); a buyer's ERP searches the catalogs it may order from, at its prices.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from spectree import Response
from werkzeug.exceptions import UnsupportedMediaType

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.responses import (
    CatalogHit,
    CatalogHits,
    CatalogImported,
    CatalogItem,
    CatalogItemList,
    Error,
)
from app.blueprints.api.schemas import (
    MAX_ID,
    CatalogItemQuery,
    CatalogSearchQuery,
    CatalogUpload,
    NewCatalogItem,
)
from app.blueprints.api.spec import NOT_FOUND, UNPROCESSABLE, api
from app.extensions import db
from app.models.api import CATALOG_READ, CATALOG_WRITE
from app.services.catalogs import items, search, transfer
from app.services.errors import DomainError
from app.web.formatting import decimal_comma

ID = f"int(min=1, max={MAX_ID})"
ITEM_ID = {"item_id": "The catalog item's id"}
TAGS = ["catalog"]
BAD_JSON = (Error, "The body is not JSON that can be read")
NOT_JSON = (Error, "The body is not sent as application/json")
ITEM_REFUSED = (
    Error,
    "Refused; `details.fields` names each field and why (a code used by another item, a "
    "GTIN whose check digit is wrong, an unknown unit or currency, …)",
)


def _company_id() -> int:
    return current_token().company_id


def own_item(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 for an item that is not the company's own before reading any input."""

    @wraps(view)
    def wrapped(*args: Any, item_id: int, **kwargs: Any) -> Any:
        items.own_item(_company_id(), item_id)
        return view(*args, item_id=item_id, **kwargs)

    return wrapped


def _answer(item: Any) -> CatalogItem:
    return CatalogItem.of(item, items.audience_of(item))


# ------------------------------------------------------------------------------ the supplier


@bp.get("/catalog/items")
@require_token(CATALOG_READ)
@api.validate(
    resp=Response(HTTP_200=(CatalogItemList, "One page of items, by name"), HTTP_422=UNPROCESSABLE),
    tags=TAGS,
    operation_id="listCatalogItems",
)
def list_catalog_items(query: CatalogItemQuery) -> Any:
    """The company's own catalog items

    `q` looks in the code, GTIN, name and description. Paged: pass a page's `next_offset` as
    `offset` (null on the last page). Needs the `catalog:read` scope.
    """
    stmt = items.own_items(
        _company_id(), query=query.q, category=query.category, published=query.published
    )
    rows = list(db.session.scalars(stmt.offset(query.offset).limit(query.limit + 1)))
    more = len(rows) > query.limit
    return CatalogItemList(
        data=[_answer(item) for item in rows[: query.limit]],
        next_offset=query.offset + query.limit if more else None,
    )


@bp.post("/catalog/items")
@require_token(CATALOG_WRITE)
@api.validate(
    resp=Response(
        HTTP_201=(CatalogItem, "The item, added"),
        HTTP_400=BAD_JSON,
        HTTP_415=NOT_JSON,
        HTTP_422=ITEM_REFUSED,
    ),
    tags=TAGS,
    operation_id="createCatalogItem",
)
def create_catalog_item(json: NewCatalogItem) -> Any:
    """Add an item to the company's catalog

    Prices and quantities are decimal text. Who sees it: `network` (every company),
    `connected` (your customers on the network) or `chosen` (the `customers` named); only
    `published` items are shown. Needs the `catalog:write` scope.
    """
    company_id = _company_id()
    checked = items.check_item(json.values(), company_id=company_id)
    item = items.save_item(company_id, checked, actor=acting_user())
    db.session.commit()
    location = url_for("api.get_catalog_item", item_id=item.id)
    return _answer(item), 201, {"Location": location}


@bp.get(f"/catalog/items/<{ID}:item_id>")
@require_token(CATALOG_READ)
@api.validate(
    resp=Response(HTTP_200=(CatalogItem, "The item"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=TAGS,
    operation_id="getCatalogItem",
    path_parameter_descriptions=ITEM_ID,
)
def get_catalog_item(item_id: int) -> Any:
    """One item of the company's catalog

    Another company's item answers 404 (search for it with GET /catalog/search). Needs the
    `catalog:read` scope.
    """
    return _answer(items.own_item(_company_id(), item_id))


@bp.put(f"/catalog/items/<{ID}:item_id>")
@require_token(CATALOG_WRITE)
@own_item
@api.validate(
    resp=Response(
        HTTP_200=(CatalogItem, "The item, changed"),
        HTTP_400=BAD_JSON,
        HTTP_404=NOT_FOUND,
        HTTP_415=NOT_JSON,
        HTTP_422=ITEM_REFUSED,
    ),
    tags=TAGS,
    operation_id="updateCatalogItem",
    path_parameter_descriptions=ITEM_ID,
)
def update_catalog_item(item_id: int, json: NewCatalogItem) -> Any:
    """Change an item: send all its fields, as for adding it

    Orders placed keep the item as it was ordered. Needs the `catalog:write` scope.
    """
    company_id = _company_id()
    checked = items.check_item(json.values(), company_id=company_id)
    item = items.save_item(company_id, checked, actor=acting_user(), item_id=item_id)
    db.session.commit()
    return _answer(item)


@bp.delete(f"/catalog/items/<{ID}:item_id>")
@require_token(CATALOG_WRITE)
@api.validate(
    resp=Response(HTTP_204=(None, "Deleted"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=TAGS,
    operation_id="deleteCatalogItem",
    path_parameter_descriptions=ITEM_ID,
)
def delete_catalog_item(item_id: int) -> Any:
    """Delete an item of the company's catalog

    Orders placed keep their copy of it. Needs the `catalog:write` scope.
    """
    items.delete_item(_company_id(), item_id, actor=acting_user())
    db.session.commit()
    return "", 204


@bp.post("/catalog/items/import")
@require_token(CATALOG_WRITE)
@api.validate(
    form=CatalogUpload,
    resp=Response(
        HTTP_200=(CatalogImported, "The report: every row, taken or refused (and why)"),
        HTTP_415=(Error, "Not multipart/form-data"),
        HTTP_422=(
            Error,
            "The file cannot be read as a table, lacks the code, name and price columns, or "
            "is too large (`details.fields.file` says why)",
        ),
    ),
    tags=TAGS,
    operation_id="importCatalogItems",
)
def import_catalog_items() -> Any:
    """Add or change many items from a CSV or XLSX file

    One item per row; columns by their titles, in English or Spanish (the portal's export
    reads back), at least code, name and price. A row with a code of the catalog changes that
    item (only the columns the file has), another adds one; a row that cannot be taken changes
    nothing and says why. Needs the `catalog:write` scope.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(_("Send the file as multipart/form-data, in the field “file”."))
    upload = request.files.get("file")
    if upload is None:
        raise DomainError(_l("Send the file in the multipart field “file”."), field="file")
    content = upload.read(transfer.MAX_IMPORT_BYTES + 1)
    report = transfer.import_items(_company_id(), content=content, actor=acting_user(),
                                   decimal_comma=decimal_comma())
    db.session.commit()
    return CatalogImported.of(report)


# ---------------------------------------------------------------------------------- the buyer


@bp.get("/catalog/search")
@require_token(CATALOG_READ)
@api.validate(
    resp=Response(HTTP_200=(CatalogHits, "Items, best match first"), HTTP_422=UNPROCESSABLE),
    tags=TAGS,
    operation_id="searchCatalogs",
)
def search_catalogs(query: CatalogSearchQuery) -> Any:
    """Search the catalogs the company may order from, at the prices it pays today

    The published items shown to the company (and its own, marked `own`), found by words
    (accents aside, each word may be the start of one), a supplier, a category and the price
    it pays. Order them with POST /orders by `item_code`. Needs the `catalog:read` scope.
    """
    found = search.search_items(
        _company_id(),
        query.q,
        supplier_id=query.supplier_id,
        category=query.category,
        price_min=query.price_min,
        price_max=query.price_max,
        limit=query.limit,
        offset=query.offset,
    )
    return CatalogHits(
        data=[CatalogHit.of(hit) for hit in found.hits],
        next_offset=query.offset + query.limit if found.more else None,
    )
