"""A catalog in and out of spreadsheets: export as CSV or XLSX, import with a report per row.

An imported row creates an item or changes the one with the same code (written exactly so, else
the one item whose code differs only in capitals); a change touches only the columns the file
has, and a blank cell where an item always has a value (unit, currency, quantities,
availability, who sees it) keeps the item's. A row that cannot be taken says why and changes
nothing. Columns are found by their titles (English or Spanish, as the export writes them, or
close to it: "Precio unitario (COP)") in any order, on the first row that names them (title
lines above it are passed over); a file without a title row is read in the export's order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update

from app.db import begin_nested
from app.extensions import db
from app.models import User
from app.models.catalog import CHOSEN, CatalogAudience, CatalogItem
from app.numbers import decimal_mark_of, parse_number
from app.services import audit
from app.services.catalogs import items
from app.services.errors import DomainError, FieldErrors
from app.spreadsheets import TableError, read_table, table_bytes

MAX_IMPORT_ROWS = 50_000
MAX_IMPORT_BYTES = 20 * 1024 * 1024
WRITE_BATCH = 2_000
# The rows looked at for the title row (a file may have a title or a date above it).
HEADER_SEARCH = 10
# The columns an item always has a value in: a blank cell changes nothing (no currency is not
# COP, and a blank visibility never shows an item to more customers).
KEPT_WHEN_BLANK = ("unit_code", "currency", "min_quantity", "pack_size", "availability",
                   "visibility")

# Column → the titles a header may give it, compared as ``_title`` reads them: without case,
# accents, units in parentheses ("Precio (COP)"), signs ("IVA %") or little words ("del").
COLUMNS: dict[str, tuple[str, ...]] = {
    "seller_item_id": ("code", "item code", "item id", "seller item id", "sku", "codigo",
                       "referencia", "codigo del item", "codigo item", "codigo producto",
                       "codigo articulo", "codigo interno", "product code", "item number"),
    "standard_item_id": ("gtin", "ean", "barcode", "standard id", "codigo de barras"),
    "name": ("name", "item", "nombre", "producto", "articulo", "nombre del producto",
             "nombre del articulo", "nombre del item", "product name", "item name"),
    "description": ("description", "descripcion", "descripcion del producto",
                    "product description", "item description"),
    "unit_code": ("unit", "unit code", "unidad", "codigo unidad", "unidad de medida",
                  "unit of measure"),
    "price": ("price", "unit price", "precio", "precio unitario", "valor", "valor unitario",
              "precio de venta", "precio de lista", "list price", "sales price"),
    "currency": ("currency", "moneda", "divisa"),
    "tax_percent": ("tax", "tax %", "tax percent", "tax rate", "vat", "vat rate", "iva",
                    "iva %", "impuesto", "impuesto %", "porcentaje de iva", "tarifa de iva"),
    "min_quantity": ("minimum quantity", "min quantity", "cantidad minima",
                     "pedido minimo", "minimum order"),
    "pack_size": ("pack size", "pack", "empaque", "unidades por empaque"),
    "availability": ("availability", "disponibilidad"),
    "lead_time_days": ("lead time", "lead time days", "lead time (days)",
                       "tiempo de entrega", "tiempo de entrega (dias)", "dias de entrega",
                       "plazo de entrega"),
    "categories": ("categories", "category", "categorias", "categoria"),
    "visibility": ("visibility", "visible to", "visibilidad", "visible para"),
}
EXPORT_HEADER = (
    "code", "gtin", "name", "description", "unit", "price", "currency", "tax %",
    "minimum quantity", "pack size", "availability", "lead time (days)", "categories",
    "visibility",
)
AVAILABILITY_WORDS = {
    "in stock": "in_stock", "en existencia": "in_stock", "disponible": "in_stock",
    "on request": "on_request", "bajo pedido": "on_request", "a pedido": "on_request",
    "out of stock": "out_of_stock", "agotado": "out_of_stock",
}
VISIBILITY_WORDS = {
    "network": "network", "whole network": "network", "toda la red": "network", "red": "network",
    "connected": "connected", "connected customers": "connected", "clientes": "connected",
    "clientes conectados": "connected",
    "chosen": "chosen", "chosen customers": "chosen", "clientes elegidos": "chosen",
}


@dataclass
class ImportRow:
    line: int
    code: str
    name: str
    accepted: bool = False
    created: bool = False
    message: Any = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    skipped: list[tuple[int, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.rows if row.accepted)

    @property
    def refused(self) -> int:
        return len(self.rows) - self.accepted


def export_items(company_id: int, fmt: str) -> bytes:
    """The supplier's catalog as a CSV or XLSX file the import reads back."""
    rows = (
        (
            item.seller_item_id, item.standard_item_id, item.name, item.description,
            item.unit_code, item.price.normalize(), item.currency,
            item.tax_percent.normalize() if item.tax_percent is not None else "",
            item.min_quantity.normalize(), item.pack_size.normalize(), item.availability,
            item.lead_time_days if item.lead_time_days is not None else "", item.categories,
            item.visibility,
        )
        for item in db.session.scalars(items.own_items(company_id))
    )
    return table_bytes(fmt, rows, header=EXPORT_HEADER, title="Catalog")


# The columns that hold numbers; the file's decimal separator is read from all of them.
NUMBER_COLUMNS = ("price", "tax_percent", "min_quantity", "pack_size")


def import_items(
    company_id: int, *, content: bytes, actor: User, decimal_comma: bool = False
) -> ImportReport:
    """Create or change an item per row of a CSV or XLSX file; report every row.

    Numbers are read with the decimal separator the file's number columns show (``1,5`` or
    ``1.234,50``: a comma); when none shows it, ``1.000`` is one thousand for a reader who
    writes a decimal comma (``decimal_comma``) and one for the others
    (``app.numbers.parse_number``).
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise DomainError(_l("The file is larger than 20 MB."), field="file")
    try:
        table = read_table(content, max_rows=MAX_IMPORT_ROWS + 1)
    except TableError as error:
        raise DomainError(
            {
                "empty": _l("The file is empty."),
                "too_many_rows": _l("The file has more than %(n)s rows; send at most %(n)s "
                                    "at a time.", n=f"{MAX_IMPORT_ROWS:,}"),
                "broken_workbook": _l("The workbook cannot be read: save it again as XLSX or "
                                      "CSV UTF-8."),
                "too_large": _l("The workbook unpacks to too much data; split it into smaller "
                                "files."),
            }.get(error.reason, _l("The file is not a CSV or XLSX table.")),
            field="file",
        ) from None
    report = ImportReport()
    found = _find_header(table)
    if found is not None:
        at, columns = found
        report.skipped += [(line, _l("above the header row")) for line, _ in table[:at]]
        report.skipped.append((table[at][0], _l("the header row")))
        table = table[at + 1:]
    elif _reads_as_export(table[0][1]):
        columns = {name: i for i, name in enumerate(COLUMNS)}
    else:
        raise DomainError(
            _l("No header row was found: one of the first rows must name the columns, at least "
               "code, name and price (código, nombre, precio)."),
            field="file",
        )
    if "seller_item_id" not in columns or "name" not in columns or "price" not in columns:
        raise DomainError(
            _l("The file needs at least the columns code, name and price (código, nombre, "
               "precio)."),
            field="file",
        )
    if len(table) > MAX_IMPORT_ROWS:
        raise DomainError(
            _l("The file has more than %(n)s rows; send at most %(n)s at a time.",
               n=f"{MAX_IMPORT_ROWS:,}"),
            field="file",
        )
    # The codes already in the catalog, read once; the rows are written together at the end
    # (an import of 50,000 rows through the ORM spent most of its time on the objects).
    codes = _Codes.of(company_id)
    # A change writes only the columns the file has: the others keep the item's values.
    written = {name for name in items.SAVED if name in columns} | {"updated_at"}
    decimal_mark = decimal_mark_of(
        (cells[columns[name]] for _, cells in table for name in NUMBER_COLUMNS
         if name in columns and columns[name] < len(cells)),
        decimal_comma=decimal_comma,
    )
    seen: set[int | str] = set()  # the items changed and the codes added, by this file
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for line, cells in table:
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        values["availability"] = _word(values.get("availability", ""), AVAILABILITY_WORDS)
        values["visibility"] = _word(values.get("visibility", ""), VISIBILITY_WORDS)
        row = ImportRow(line, values.get("seller_item_id", ""), values.get("name", ""))
        report.rows.append(row)
        code = row.code.strip()
        item_id = codes.index.find(code)
        if item_id == items.AMBIGUOUS:
            row.message = _l("Several items of your catalog have this code in other capitals; "
                             "write it exactly as one of them.")
            continue
        target = item_id if item_id is not None else code.upper()
        if code and target in seen:
            row.message = _l("This code appears earlier in the file.")
            continue
        if item_id is not None:
            for name in KEPT_WHEN_BLANK:
                if name in columns and not str(values[name]).strip():
                    values[name] = codes.current[item_id][name]
        try:
            checked = items.check_item(values, company_id=company_id,
                                       decimal_mark=decimal_mark,
                                       customers_kept=item_id in codes.chosen)
        except FieldErrors as error:
            row.message = _field_errors(error.errors)
            continue
        seen.add(target)
        if item_id is None:
            added.append({**items.item_columns(checked), "company_id": company_id})
            row.created = True
        else:
            changed.append({
                **{k: v for k, v in items.item_columns(checked).items() if k in written},
                "item_id": item_id,
            })
        row.accepted = True
        row.message = _l("Added.") if row.created else _l("Updated.")
    # An item no longer shown to chosen customers forgets them, as the item form does.
    unchosen = [row["item_id"] for row in changed
                if "visibility" in row and row["visibility"] != CHOSEN
                and row["item_id"] in codes.audiences]
    savepoint = begin_nested(db.session())
    _write(company_id, added, changed, unchosen)
    savepoint.commit()
    created = len(added)
    audit.record_event(actor, company_id, "catalog.imported", None,
                       {"created": created, "changed": len(changed),
                        "refused": report.refused})
    return report


def _write(company_id: int, added: list[dict[str, Any]], changed: list[dict[str, Any]],
           unchosen: list[int]) -> None:
    """Insert the new items and update the changed ones, many rows a statement (the search
    index follows by its triggers); forget the chosen customers of the ``unchosen`` items."""
    table = CatalogItem.__table__
    # The company is named in the update too: an id read from another catalog changes nothing.
    update_ = (
        sa_update(table)
        .where(table.c.id == bindparam("item_id"), table.c.company_id == company_id)
    )
    for rows, statement in ((added, sa_insert(table)), (changed, update_)):
        for start in range(0, len(rows), WRITE_BATCH):
            db.session.execute(statement, rows[start:start + WRITE_BATCH])
    for start in range(0, len(unchosen), WRITE_BATCH):
        db.session.execute(delete(CatalogAudience).where(
            CatalogAudience.company_id == company_id,
            CatalogAudience.item_id.in_(unchosen[start:start + WRITE_BATCH]),
        ))
    db.session.expire_all()  # items the session holds are read again


@dataclass
class _Codes:
    """The catalog's item codes, read once for an import."""

    index: items.CodeIndex
    audiences: set[int]  # items with chosen customers
    chosen: set[int]  # items shown to their chosen customers: an import keeps those
    current: dict[int, dict[str, Any]]  # each item's KEPT_WHEN_BLANK values

    @classmethod
    def of(cls, company_id: int) -> _Codes:
        """Read the supplier's codes, who sees each item and the values a blank cell keeps."""
        codes = cls(items.CodeIndex(), set(db.session.scalars(
            select(CatalogAudience.item_id).where(CatalogAudience.company_id == company_id)
        )), set(), {})
        kept = [getattr(CatalogItem, name) for name in KEPT_WHEN_BLANK]
        for item_id, code, *values in db.session.execute(
            select(CatalogItem.id, CatalogItem.seller_item_id, *kept)
            .where(CatalogItem.company_id == company_id)
        ):
            codes.index.add(code, item_id)
            codes.current[item_id] = dict(zip(KEPT_WHEN_BLANK, values, strict=True))
            if codes.current[item_id]["visibility"] == CHOSEN and item_id in codes.audiences:
                codes.chosen.add(item_id)
        return codes

_FIELD_NAMES: dict[str, Any] = {
    "seller_item_id": _l("code"), "standard_item_id": _l("GTIN"), "name": _l("name"),
    "description": _l("description"), "unit_code": _l("unit"), "price": _l("price"),
    "currency": _l("currency"), "tax_percent": _l("tax %"),
    "min_quantity": _l("minimum quantity"), "pack_size": _l("pack size"),
    "availability": _l("availability"), "lead_time_days": _l("lead time"),
    "categories": _l("categories"), "visibility": _l("visibility"), "customers": _l("customers"),
}


def _field_errors(errors: dict[str, list[Any]]) -> LazyString:
    """Each wrong field and why, in the reader's language when shown."""
    return LazyString(lambda: "; ".join(
        f"{_FIELD_NAMES.get(name, name)}: {messages[0]}" for name, messages in errors.items()
    ))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff").lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _word(text: str, words: dict[str, str]) -> str:
    folded = _fold(text)
    return words.get(folded, folded.replace(" ", "_"))


_UNITS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LITTLE_WORDS = frozenset(("de", "del", "la", "el", "los", "las", "por", "en", "of", "the"))


def _title(text: str) -> str:
    """A column title as compared: no case, accents, units in parentheses, signs or little
    words ("Precio unitario (COP)" is "precio unitario", "IVA %" is "iva")."""
    words = re.sub(r"[^a-z0-9]+", " ", _UNITS.sub(" ", _fold(text))).split()
    return " ".join(word for word in words if word not in _LITTLE_WORDS)


# A title as ``_title`` reads it → its column.
TITLES = {_title(t): name for name, titles in COLUMNS.items() for t in (name, *titles)}


def _header(cells: list[str]) -> dict[str, int] | None:
    """Where each column is, when the row is a title row (it names two columns or more);
    None when it is not."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = TITLES.get(_title(cell))
        if name is not None and name not in found:
            found[name] = index
    return found if len(found) >= 2 else None


def _find_header(table: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]] | None:
    """The first of the first rows that is a title row (its place in the table, its columns)."""
    for at, (_line, cells) in enumerate(table[:HEADER_SEARCH]):
        columns = _header(cells)
        if columns is not None:
            return at, columns
    return None


def _reads_as_export(cells: list[str]) -> bool:
    """Whether a row without titles is an item in the export's column order: a code, and a
    number where the price goes."""
    price = list(COLUMNS).index("price")
    if not cells or not cells[0].strip() or len(cells) <= price:
        return False
    try:
        return parse_number(cells[price], decimal_mark=None) is not None
    except ValueError:
        return False
