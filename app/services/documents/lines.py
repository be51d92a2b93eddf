"""A document's lines as rows (``DocumentLine``), for catalogs, orders and three-way match.

A document's lines are written right after it, in its transaction: ``xml_line_values`` from
the engine's reading of an XML document (``storing``), ``pdf_lines_values`` from the lines the
sender of a PDF invoice reviewed (``pdf_documents``), inserted by ``add_lines``. Documents
stored before lines were kept get theirs from ``backfill``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert

from app.einvoice import model as ubl
from app.extensions import db
from app.models import Document, DocumentLine

#: DIAN's tax scheme of IVA: the line's main tax when it has several (IVA and INC, IBUA…).
IVA = "01"


def _text(value: str | None, size: int | None = None) -> str:
    text = (value or "").strip()
    return text[:size] if size is not None else text


def _number(value: Decimal | None, precision: int, scale: int) -> Decimal | None:
    """Return value when its column can hold it (None for what cannot be stored honestly)."""
    if value is None or not value.is_finite():
        return None
    if abs(value) >= Decimal(10) ** (precision - scale):
        return None
    return value


def main_tax(line: ubl.Line) -> tuple[Decimal | None, str]:
    """Return the line's main tax: its rate and category (a DIAN line: IVA's rate and scheme).

    EN 16931 names it in the item's ClassifiedTaxCategory; DIAN writes the taxes in the line's
    TaxTotal blocks instead (no category id), so IVA is taken first, else the first tax with a
    rate, and its scheme id ("01", "04"…) stands for the category.
    """
    if line.tax_percent is not None or line.tax_category:
        return line.tax_percent, line.tax_category
    subtotals = [sub for total in line.tax_totals for sub in total.subtotals]
    rated = [sub for sub in subtotals if sub.percent is not None]
    for sub in sorted(rated, key=lambda sub: sub.scheme_id != IVA):
        return sub.percent, sub.category or sub.scheme_id
    return None, ""


def line_values(line: ubl.Line, position: int) -> dict[str, Any]:
    """Return the column values of one engine line, strings cut to their columns' sizes."""
    percent, category = main_tax(line)
    return {
        "position": position,
        "line_id": _text(line.id, 60) or str(position),
        "seller_item_id": _text(line.seller_item_id, 100),
        "buyer_item_id": _text(line.buyer_item_id, 100),
        "standard_item_id": _text(line.standard_item_id, 100),
        "standard_item_scheme": _text(line.standard_item_scheme, 10),
        "name": _text(line.name, 300),
        "description": _text(line.description),
        "quantity": _number(line.quantity, 20, 6),
        "unit_code": _text(line.unit_code, 10),
        "price": _number(line.price, 20, 6),
        "base_quantity": _number(line.base_quantity, 20, 6),
        "line_extension": _number(line.line_extension, 20, 4),
        "tax_percent": _number(percent, 7, 4),
        "tax_category": _text(category, 10),
    }


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def pdf_line_values(line: Mapping[str, Any], position: int) -> dict[str, Any]:
    """Return the column values of one reviewed PDF line (``Document.pdf_lines``)."""
    return {
        "position": position,
        "line_id": str(position),
        "seller_item_id": "",
        "buyer_item_id": "",
        "standard_item_id": "",
        "standard_item_scheme": "",
        "name": "",
        "description": _text(str(line.get("description") or "")),
        "quantity": _number(_decimal(line.get("quantity")), 20, 6),
        "unit_code": "",
        "price": _number(_decimal(line.get("unit_price")), 20, 6),
        "base_quantity": None,
        "line_extension": _number(_decimal(line.get("line_total")), 20, 4),
        "tax_percent": _number(_decimal(line.get("tax_percent")), 7, 4),
        "tax_category": "",
    }


def order_reference(doc: ubl.Document) -> str | None:
    """Return the purchase order the document names (cac:OrderReference/cbc:ID), if any."""
    if doc.order_reference is None:
        return None
    return _text(doc.order_reference.id, 100) or None


def xml_line_values(doc: ubl.Document) -> list[dict[str, Any]]:
    """Return the column values of every line of a document read by the engine, in order."""
    return [line_values(line, n) for n, line in enumerate(doc.lines, start=1)]


def pdf_lines_values(lines: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    """Return the column values of a PDF invoice's reviewed lines, in order."""
    return [pdf_line_values(line, n) for n, line in enumerate(lines or [], start=1)]


def add_lines(documents: Iterable[tuple[Document, list[dict[str, Any]]]]) -> int:
    """Insert the lines of documents already flushed, all in one statement; return how many.

    Each row gets its document's id and two companies. An executemany without RETURNING: the
    rows are not loaded into the session, so a batch of documents costs one INSERT, not one
    per line.
    """
    rows = [
        {
            **values,
            "document_id": document.id,
            "sender_company_id": document.sender_company_id,
            "receiver_company_id": document.receiver_company_id,
        }
        for document, lines in documents
        for values in lines
    ]
    if rows:
        db.session.execute(insert(DocumentLine.__table__), rows)
    return len(rows)
