"""The network: the directory of companies and the supplier–customer partnerships."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, or_, select

from app.db import begin_nested
from app.extensions import db
from app.mail import send_mail
from app.models import Company, Partnership, User, utcnow
from app.models.network import ACTIVE, DECLINED, PENDING
from app.services import audit, notifications
from app.services.errors import Conflict, DomainError, NotFound
from app.services.inputs import normalize_email, validate_tax_id
from app.taxids import COUNTRIES, search_digits
from app.tenancy import unscoped

SUPPLIER, CUSTOMER = "supplier", "customer"
RELATIONS = (SUPPLIER, CUSTOMER)
RELATION_WORDS = {
    "supplier": SUPPLIER,
    "proveedor": SUPPLIER,
    "customer": CUSTOMER,
    "cliente": CUSTOMER,
}


def directory(query: str, *, company_id: int) -> Select[tuple[Company]]:
    """Return registered companies matching a name or tax id, the acting one left out."""
    stmt = select(Company).where(Company.id != company_id).order_by(Company.legal_name)
    text = query.strip()
    if text:
        digits = search_digits(text)
        conditions = [
            func.lower(Company.legal_name).contains(text.lower(), autoescape=True),
            func.lower(Company.trade_name).contains(text.lower(), autoescape=True),
        ]
        if digits and any(ch.isdigit() for ch in digits):
            conditions.append(Company.tax_id.startswith(digits, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    return unscoped(stmt)  # the directory is public to every member of the network


def partnerships(company_id: int, *, relation: str | None = None) -> Select[tuple[Partnership]]:
    """Return the acting company's partnerships, optionally only its suppliers or customers."""
    stmt = select(Partnership).where(Partnership.status != DECLINED)
    if relation == SUPPLIER:
        stmt = stmt.where(Partnership.customer_id == company_id)
    elif relation == CUSTOMER:
        stmt = stmt.where(Partnership.supplier_id == company_id)
    return stmt.order_by(Partnership.status.desc(), Partnership.created_at.desc())


def partner_choices(company_id: int, *, relation: str) -> list[tuple[int, str]]:
    """Return (id, name) of the acting company's suppliers or customers on the network, by name."""
    rows = db.session.execute(_partners_query(relation), {"company_id": company_id}).all()
    return sorted(
        ((ident, trade_name or legal_name) for ident, trade_name, legal_name in rows),
        key=lambda choice: choice[1].casefold(),
    )


def find_customers(
    company_id: int, query: str = "", *, limit: int = 8, customer_id: int | None = None
) -> list[Company]:
    """Return up to limit + 1 of the company's active customers on the network, by name,
    whose name or tax id matches the query (any, for an empty query), or the one customer_id."""
    stmt = (
        select(Company)
        .join(Partnership, Company.id == Partnership.customer_id)
        .where(Partnership.supplier_id == company_id, Partnership.status == ACTIVE)
        .order_by(func.lower(Company.legal_name), Company.id)
        .limit(limit + 1)
    )
    # Typed text only: a NUL or another control character matches no name, and PostgreSQL
    # refuses a NUL in a query's parameters.
    text = "".join(ch for ch in query if ch.isprintable()).strip().lower()
    if customer_id is not None:
        stmt = stmt.where(Company.id == customer_id)
    elif text:
        conditions = [
            func.lower(Company.legal_name).contains(text, autoescape=True),
            func.lower(Company.trade_name).contains(text, autoescape=True),
        ]
        digits = search_digits(text)
        if digits and any(ch.isdigit() for ch in digits):
            conditions.append(Company.tax_id.startswith(digits, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    return list(db.session.scalars(stmt))


@functools.cache
def _partners_query(relation: str) -> Select[tuple[int, str | None, str]]:
    """The statement partner_choices runs, built once per relation: the tray's counterparty
    filter asks for it on every page view (two columns per partner, no joined companies)."""
    own, other = (
        (Partnership.customer_id, Partnership.supplier_id)
        if relation == SUPPLIER
        else (Partnership.supplier_id, Partnership.customer_id)
    )
    return (
        select(Company.id, Company.trade_name, Company.legal_name)
        .join(Partnership, Company.id == other)
        .where(own == bindparam("company_id"), Partnership.status != DECLINED)
        .order_by(Partnership.status.desc(), Partnership.created_at.desc())
    )


def pending_requests(company_id: int) -> Select[tuple[Partnership]]:
    """Return connection requests waiting for the acting company's answer."""
    return (
        select(Partnership)
        .where(
            Partnership.status == PENDING,
            Partnership.requested_by_id != company_id,
            or_(Partnership.supplier_id == company_id, Partnership.customer_id == company_id),
        )
        .order_by(Partnership.created_at.desc())
    )


def partnership_between(company_id: int, other_id: int) -> Partnership | None:
    """Return the partnership between two companies in either direction, if any."""
    return db.session.scalars(
        unscoped(
            select(Partnership).where(
                or_(
                    (Partnership.supplier_id == company_id) & (Partnership.customer_id == other_id),
                    (Partnership.supplier_id == other_id) & (Partnership.customer_id == company_id),
                )
            )
        )
    ).first()


def _sides(company_id: int, other_id: int | None, relation: str) -> dict[str, int | None]:
    """Map "other is my <relation>" to supplier and customer ids."""
    if relation not in RELATIONS:
        raise DomainError(_l("Choose supplier or customer."), field="relation")
    if relation == SUPPLIER:
        return {"supplier_id": other_id, "customer_id": company_id}
    return {"supplier_id": company_id, "customer_id": other_id}


def request_connection(
    company_id: int, *, other_company_id: int, relation: str, actor: User
) -> Partnership:
    """Ask another company on the network to connect as my supplier or my customer."""
    if other_company_id == company_id:
        raise DomainError(_l("A company cannot connect with itself."))
    other = db.session.get(Company, other_company_id)
    if other is None:
        raise NotFound(_l("That company is not on the network."))
    sides = _sides(company_id, other.id, relation)
    existing = db.session.scalars(
        unscoped(
            select(Partnership).where(
                Partnership.supplier_id == sides["supplier_id"],
                Partnership.customer_id == sides["customer_id"],
            )
        )
    ).first()
    if existing is not None and existing.status != DECLINED:
        if existing.status == PENDING and existing.requested_by_id != company_id:
            raise Conflict(_l("%(name)s already asked you to connect: accept their request.",
                              name=other.display_name))
        raise Conflict(_l("You are already connected with %(name)s, or a request is waiting.",
                          name=other.display_name))
    if existing is None:
        existing = Partnership(**sides)
        db.session.add(existing)
    existing.status = PENDING
    existing.requested_by_id = company_id
    existing.created_by_user_id = actor.id
    existing.created_at = utcnow()
    existing.responded_at = None
    db.session.flush()
    audit.record_event(actor, company_id, "network.connection_requested", existing,
                       {"other_company_id": other.id, "relation": relation})
    notifications.email_admins(
        other.id,
        "connection_request",
        partnership=existing,
        requester=db.session.get(Company, company_id),
    )
    return existing


def respond_to_request(
    company_id: int, *, partnership_id: int, accept: bool, actor: User
) -> Partnership:
    """Accept or decline a connection request addressed to the acting company."""
    partnership = db.session.scalars(
        select(Partnership).where(Partnership.id == partnership_id)
    ).first()
    if partnership is None:
        raise NotFound(_l("That request does not exist."))
    if not partnership.awaits_answer_from(company_id):
        raise Conflict(_l("This request is not waiting for your answer."))
    partnership.status = ACTIVE if accept else DECLINED
    partnership.responded_at = utcnow()
    audit.record_event(actor, company_id,
                       "network.connection_accepted" if accept else "network.connection_declined",
                       partnership)
    return partnership


@dataclass
class InviteResult:
    partnership: Partnership
    on_network: bool


def invite_partner(
    company_id: int,
    *,
    name: str,
    tax_id: str,
    email: str,
    relation: str,
    actor: User,
    country: str | None = None,
) -> InviteResult:
    """Invite a partner by tax id and e-mail; a company already registered gets a request."""
    inviter = db.session.get(Company, company_id)
    assert inviter is not None
    country = (country or inviter.country).upper()
    if country not in COUNTRIES:
        raise DomainError(_l("Choose Colombia, Chile or Mexico."), field="country")
    if relation not in RELATIONS:
        raise DomainError(_l("Choose supplier or customer."), field="relation")
    compact = validate_tax_id(country, tax_id)
    address = normalize_email(email)
    if not name.strip():
        raise DomainError(_l("Enter the company's name."), field="name")

    registered = db.session.scalars(
        unscoped(select(Company).where(Company.country == country, Company.tax_id == compact))
    ).first()
    if registered is not None:
        if registered.id == company_id:
            raise DomainError(_l("That is your own company's tax id."), field="tax_id")
        partnership = request_connection(
            company_id, other_company_id=registered.id, relation=relation, actor=actor
        )
        return InviteResult(partnership, on_network=True)

    duplicate = db.session.scalars(
        unscoped(
            select(Partnership).where(
                Partnership.requested_by_id == company_id,
                Partnership.invited_country == country,
                Partnership.invited_tax_id == compact,
                Partnership.status == PENDING,
            )
        )
    ).first()
    if duplicate is not None:
        raise Conflict(_l("You already invited this company."), field="tax_id")
    partnership = Partnership(
        **_sides(company_id, None, relation),
        requested_by_id=company_id,
        status=PENDING,
        invited_name=name.strip()[:200],
        invited_country=country,
        invited_tax_id=compact,
        invited_email=address,
        created_by_user_id=actor.id,
    )
    db.session.add(partnership)
    db.session.flush()
    audit.record_event(actor, company_id, "network.partner_invited", partnership,
                       {"tax_id": compact, "email": address, "relation": relation})
    send_mail(address, "partner_invitation", locale=inviter.locale,
              inviter=inviter, partnership=partnership, relation=relation)
    return InviteResult(partnership, on_network=False)


@dataclass
class CsvRow:
    line: int
    name: str
    tax_id: str
    email: str
    relation: str
    accepted: bool
    message: Any


@dataclass
class CsvReport:
    rows: list[CsvRow] = field(default_factory=list)
    # Lines read but not taken as partners: the header row, blank lines (line, why).
    skipped: list[tuple[int, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.rows if row.accepted)

    @property
    def refused(self) -> int:
        return len(self.rows) - self.accepted


CSV_COLUMNS = ("name", "tax_id", "email", "relation")
# The titles a header row may give each column, in English and Spanish, lower case.
HEADER_WORDS = {
    "name": {"name", "company", "nombre", "empresa", "razón social", "razon social"},
    "tax_id": {"tax_id", "tax id", "taxid", "nit", "rut", "rfc", "identificación",
               "identificacion"},
    "email": {"email", "e-mail", "mail", "correo", "correo electrónico", "correo electronico"},
    "relation": {"relation", "relationship", "relación", "relacion", "tipo"},
}
DELIMITERS = (",", ";", "\t")
NOT_CSV = _l("The file is not a text CSV file.")
WORKBOOK = _l(
    "The file is not a text CSV file. It is a workbook: in Excel, use File › Save as › "
    "CSV UTF-8, and send that file."
)
MISSING_ONE = {
    "name": _l("The company name is missing."),
    "tax_id": _l("The tax id is missing."),
    "email": _l("The e-mail is missing."),
    "relation": _l("The relation is missing: write supplier or customer (proveedor or cliente)."),
}
COLUMN_NAMES = {
    "name": _l("company name"),
    "tax_id": _l("tax id"),
    "email": _l("e-mail"),
    "relation": _l("relation"),
}


def import_partners_csv(
    company_id: int, *, content: bytes, actor: User, max_rows: int = 1000
) -> CsvReport:
    """Invite every partner of a CSV (name, tax_id, email, relation); report each row."""
    text = _decode(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    # newline="" lets the csv module read \r, \n and \r\n line ends alike; each row keeps its
    # line in the file (the first line it starts on), so a refused row can be found.
    report = CsvReport()
    numbered: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for row in reader:
            if any(cell.strip() for cell in row):
                numbered.append((start, row))
            else:
                report.skipped.append((start, _l("a blank line")))
            start = reader.line_num + 1
    except csv.Error:
        raise DomainError(NOT_CSV, field="file") from None
    if not numbered:
        raise DomainError(_l("The file is empty."), field="file")
    columns = _header_columns(numbered[0][1])
    width = 4
    if columns is not None:
        width = max(4, len(_trim([cell.strip() for cell in numbered[0][1]])))
        report.skipped.append((numbered[0][0], _l("the header row")))
        numbered = numbered[1:]
    if len(numbered) > max_rows:
        raise DomainError(
            _l("The file has %(n)d rows; send at most %(max)d at a time.", n=len(numbered),
               max=max_rows),
            field="file",
        )
    report.skipped.sort(key=lambda skipped: skipped[0])
    seen: set[str] = set()
    for line, raw in numbered:
        cells = _trim([cell.strip() for cell in raw])
        values = (
            {key: cells[i] if i < len(cells) else "" for key, i in columns.items()}
            if columns is not None
            else dict(zip(CSV_COLUMNS, cells + [""] * 4, strict=False))
        )
        name, tax_id, email, relation_word = (values[key] for key in CSV_COLUMNS)
        row = CsvRow(line, name, tax_id, email, relation_word, False, "")
        report.rows.append(row)
        problem = _row_problem(raw, cells, values, width=width, by_header=columns is not None)
        if problem is not None:
            row.message = problem
            continue
        relation = RELATION_WORDS[relation_word.lower()]
        key = search_digits(tax_id)
        if key in seen:
            row.message = _l("This tax id appears earlier in the file.")
            continue
        seen.add(key)
        savepoint = begin_nested(db.session())
        try:
            result = invite_partner(company_id, name=name, tax_id=tax_id, email=email,
                                    relation=relation, actor=actor)
        except DomainError as error:
            savepoint.rollback()
            row.message = error.message
            if error.field == "email":
                row.message = _l("The e-mail is not a valid address.")
            continue
        savepoint.commit()
        row.accepted = True
        row.message = (
            _l("Already on the network: a connection request was sent.")
            if result.on_network
            else _l("Invitation e-mailed.")
        )
    return report


def _row_problem(
    raw: list[str], cells: list[str], values: dict[str, str], *, width: int, by_header: bool
) -> Any | None:
    """Return what is wrong with a row's shape or cells, in words; None when it can be tried."""
    if any("\n" in cell or "\r" in cell for cell in raw):
        return _l(
            "A quotation mark in this row is not closed, so the row runs into the lines after "
            "it: close the quotes or remove them."
        )
    if len(cells) > width:
        return _l(
            "This row has %(n)d columns, %(expected)d are expected (name, tax id, e-mail, "
            "relation). A name that contains the separator must be in quotes.",
            n=len(cells),
            expected=width,
        )
    missing = [key for key in CSV_COLUMNS if not values[key]]
    if not by_header and len(cells) < 4:
        missing = _guess_missing(cells)
        return _l(
            "This row has %(n)d of the four columns (name, tax id, e-mail, relation): "
            "%(missing)s missing.",
            n=len(cells),
            missing=_column_list(missing),
        )
    if len(missing) == 1:
        return MISSING_ONE[missing[0]]
    if missing:
        return _l("Missing: %(columns)s.", columns=_column_list(missing))
    if values["relation"].lower() not in RELATION_WORDS:
        return _l("Relation must be supplier or customer (proveedor or cliente).")
    return None


def _column_list(keys: list[str]) -> LazyString:
    """Name columns in the reader's language, when the message is shown (not when made)."""
    return LazyString(lambda: ", ".join(str(COLUMN_NAMES[key]) for key in keys))


def _guess_missing(cells: list[str]) -> list[str]:
    """Name the columns a short row lacks, telling its cells apart by what they look like."""
    found: set[str] = set()
    for cell in cells:
        if not cell:
            continue
        if "@" in cell:
            found.add("email")
        elif cell.lower() in RELATION_WORDS:
            found.add("relation")
        elif len(search_digits(cell)) >= 6 and not any(ch.isalpha() for ch in cell[:-1]):
            found.add("tax_id")
        elif "name" not in found:
            found.add("name")
    missing = [key for key in CSV_COLUMNS if key not in found]
    return missing or list(CSV_COLUMNS[len(cells) :])


def _trim(cells: list[str]) -> list[str]:
    """Drop the empty cells a spreadsheet writes after the last column (``a;b;c;d;;``)."""
    end = len(cells)
    while end > 4 and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    """Return where each column is when the row is a header row (titles, no data), else None."""
    titles = [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]
    columns: dict[str, int] = {}
    for index, title in enumerate(titles):
        for key, words in HEADER_WORDS.items():
            if title in words and key not in columns:
                columns[key] = index
    if len(columns) == 4:
        return columns
    if len(columns) >= 2 and not any("@" in title for title in titles):
        return dict(zip(CSV_COLUMNS, range(4), strict=True))  # titles we do not know: in order
    return None


def _delimiter(text: str) -> str:
    """Return the separator that gives the most four-column rows among the first lines.

    Spreadsheets in Spanish write ``;`` (the comma is their decimal sign), others ``,``, and
    "Unicode text" a tab; a name may contain another separator inside quotes.
    """
    sample = "\n".join(line for line in text.splitlines()[:50] if line.strip())
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        score = sum(1 for row in rows if len(_trim([c.strip() for c in row])) == 4)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _decode(content: bytes) -> str:
    if content.startswith(b"PK\x03\x04"):  # a ZIP: an .xlsx or .ods workbook
        raise DomainError(WORKBOOK, field="file")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise DomainError(NOT_CSV, field="file") from None
    if b"\x00" in content:  # an image, a binary: though it might decode as cp1252
        raise DomainError(NOT_CSV, field="file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(NOT_CSV, field="file")


def claim_invitations(company: Company, *, actor: User) -> list[Partnership]:
    """Give a newly registered company the partnerships it was invited to, now active."""
    waiting = db.session.scalars(
        unscoped(
            select(Partnership).where(
                Partnership.invited_country == company.country,
                Partnership.invited_tax_id == company.tax_id,
                Partnership.status == PENDING,
            )
        )
    ).all()
    claimed = []
    for partnership in waiting:
        if partnership.supplier_id is None:
            partnership.supplier_id = company.id
        else:
            partnership.customer_id = company.id
        partnership.status = ACTIVE
        partnership.responded_at = utcnow()
        claimed.append(partnership)
        audit.record_event(actor, company, "network.invitation_claimed", partnership,
                           {"inviter_id": partnership.requested_by_id})
        notifications.email_admins(
            partnership.requested_by_id, "partner_joined", partnership=partnership, joined=company
        )
    db.session.flush()
    return claimed

