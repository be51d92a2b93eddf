"""Filling the lines of documents stored before their lines were kept (``DocumentLine``).

``flask --app wsgi documents backfill-lines`` runs ``backfill_lines``: each document without
lines is read again from its stored original, as the document page reads it
(``reading.read_original``: the signed part when the signature holds), or from a PDF
invoice's reviewed lines. The migration that made the table does not read XML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, insert, select, update

from app.einvoice import model as ubl
from app.extensions import db
from app.models import Document, DocumentLine
from app.models.document import ORIGIN_PDF
from app.services.documents.lines import order_reference, pdf_lines_values, xml_line_values
from app.services.documents.reading import read_original
from app.tenancy import unscoped

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class BackfillReport:
    """What one backfill did: documents given lines, lines written, originals not readable."""

    documents: int = 0
    lines: int = 0
    unreadable: int = 0
    examined: int = 0


_WITHOUT_LINES = ~exists().where(DocumentLine.document_id == Document.id)


def backfill_lines(
    *,
    batch_size: int = BATCH,
    after_batch: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Fill the lines (and the order reference) of every document that has no lines yet.

    Across companies (a maintenance task, unscoped). Documents are read in batches by id; each
    batch's lines go in with one INSERT, then after_batch (the CLI commits there). An original
    that cannot be read is counted and skipped; a document with no lines stays without, so a
    second run writes nothing new.
    """
    report = BackfillReport()
    last_id = 0
    while True:
        batch = db.session.execute(
            unscoped(
                select(
                    Document.id,
                    Document.origin,
                    Document.sender_company_id,
                    Document.receiver_company_id,
                    Document.order_reference,
                    Document.original,
                    Document.pdf_lines,
                )
                .where(Document.id > last_id, _WITHOUT_LINES)
                .order_by(Document.id)
                .limit(batch_size)
            )
        ).all()
        if not batch:
            return report
        last_id = batch[-1].id
        new_lines: list[dict[str, Any]] = []
        references: list[dict[str, Any]] = []
        for row in batch:
            report.examined += 1
            if row.origin == ORIGIN_PDF:
                values = pdf_lines_values(row.pdf_lines)
            else:
                doc = _read(row.id, row.original)
                if doc is None:
                    report.unreadable += 1
                    continue
                values = xml_line_values(doc)
                reference = order_reference(doc)
                if reference and not row.order_reference:
                    references.append({"id": row.id, "order_reference": reference})
            if values:
                report.documents += 1
                report.lines += len(values)
            for value in values:
                value.update(
                    document_id=row.id,
                    sender_company_id=row.sender_company_id,
                    receiver_company_id=row.receiver_company_id,
                )
            new_lines += values
        if new_lines:
            db.session.execute(insert(DocumentLine.__table__), new_lines)
        if references:
            db.session.execute(update(Document), references)
        if after_batch is not None:
            after_batch(report)


def _read(document_id: int, original: bytes | None) -> ubl.Document | None:
    """Read a stored original (None, logged, when it cannot be read)."""
    try:
        doc = read_original(original or b"")
    except Exception:  # a stored file the engine now refuses must not stop the backfill
        log.warning("document %s: its original could not be read", document_id, exc_info=True)
        return None
    if doc is None:
        log.info("document %s: its original is not a readable document", document_id)
    return doc
