"""Importing a statement file into a bank account: read it (``app.statements``), keep each line
once, record the balance check, then match the new lines.

Idempotent: every line gets a fingerprint (the bank's own entry id when the file gives one, else
its date, amount, texts and its rank among identical lines of the same file), unique per account,
so re-importing a file or a period that overlaps adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models.base import utcnow
from app.models.reconciliation import (
    MATCH_CONFIRMED,
    BankAccount,
    BankLine,
    Match,
    MatchItem,
    StatementImport,
)
from app.models.user import User
from app.services import audit
from app.services.errors import Conflict, FieldErrors, NotFound
from app.services.reconciliation import accounts, matching, payouts, queries
from app.statements import MAX_BYTES, read_statement
from app.statements.model import ColumnMapping, Entry, Statement, StatementError
from app.tenancy import unscoped

_ZERO = Decimal("0")
INLINE_LINES = 300  # more new lines than this are matched by a job


@dataclass
class ImportResult:
    account: BankAccount
    format: str
    imports: list[StatementImport] = field(default_factory=list)
    new_lines: int = 0
    duplicates: int = 0
    findings: list[str] = field(default_factory=list)
    line_ids: list[int] = field(default_factory=list)
    suggested: int = 0
    confirmed: int = 0
    pending: bool = False  # matched by a job: the lines wait a moment for their suggestions


def fingerprint(account_id: int, entry: Entry, rank: int) -> str:
    if entry.bank_reference:
        parts = ["ref", entry.bank_reference, str(entry.amount), str(entry.booking_date)]
    else:
        parts = [
            str(entry.booking_date),
            str(entry.value_date),
            str(entry.amount.normalize()),
            entry.reference or "",
            entry.end_to_end_id or "",
            entry.counterparty.name or "",
            entry.counterparty.account or "",
            entry.description or "",
            str(rank),
        ]
    return hashlib.sha256("\x1f".join([str(account_id), *parts]).encode()).hexdigest()


def _check_account(account: BankAccount, statement: Statement) -> str | None:
    """A message when the statement is plainly of another account or currency."""
    if statement.account:
        number = accounts.compact_number(statement.account)
        if number and number != account.number and not (
            number.endswith(account.number) or account.number.endswith(number)
        ):
            return str(_l("This statement is for account %(other)s, not %(mine)s.",
                          other=statement.account, mine=account.number))
    if statement.currency and statement.currency.upper() != account.currency:
        return str(_l("This statement is in %(other)s; the account is in %(mine)s.",
                      other=statement.currency, mine=account.currency))
    return None


def _message(exc: StatementError) -> str:
    locale = get_locale()
    return exc.message_es if locale is not None and locale.language == "es" else exc.message


def import_statement(
    company_id: int,
    *,
    account_id: int,
    data: bytes,
    filename: str = "",
    actor: User | None = None,
    mapping: ColumnMapping | None = None,
    decimal_comma: bool = False,
) -> ImportResult:
    """Read ``data`` into the account; StatementError's message becomes a FieldErrors on
    ``file``. Lines already here are counted as duplicates, never added twice.

    ``decimal_comma``: the importing person writes a decimal comma (their language); a CSV or
    XLSX read without a mapping whose amounts leave the decimal separator open (``150.000``)
    is read with it."""
    account = accounts.get_bank_account(company_id, account_id)
    if len(data) > MAX_BYTES:
        raise FieldErrors({"file": [_l("The file is too large (20 MB at most).")]})
    try:
        fmt, statements = read_statement(
            data, filename=filename, mapping=mapping or accounts.mapping_of(account),
            decimal_comma=decimal_comma,
        )
    except StatementError as exc:
        raise FieldErrors({"file": [_message(exc)]}) from None
    return store_statements(company_id, account_id=account.id, fmt=fmt, statements=statements,
                            digest=hashlib.sha256(data).hexdigest(), filename=filename,
                            actor=actor)


def store_statements(
    company_id: int,
    *,
    account_id: int,
    fmt: str,
    statements: list[Statement],
    digest: str = "",
    filename: str = "",
    actor: User | None = None,
) -> ImportResult:
    """Keep the statements' new lines in the account (those already there count as
    duplicates) and match them."""
    account = accounts.get_bank_account(company_id, account_id)
    if not statements or not any(s.entries for s in statements):
        raise FieldErrors({"file": [_l("The file holds no statement lines.")]})
    problems = [p for p in (_check_account(account, s) for s in statements) if p]
    if problems and len(problems) == len(statements):
        raise FieldErrors({"file": [problems[0]]})
    result = ImportResult(account=account, format=fmt)
    for statement in statements:
        problem = _check_account(account, statement)
        if problem:
            result.findings.append(problem)
            continue
        _import_one(account, statement, fmt, digest, filename, actor, result)
    audit.record_event(
        actor,
        company_id,
        "reconciliation.statement_imported",
        account,
        {"file": filename[:200], "format": fmt, "new": result.new_lines,
         "duplicates": result.duplicates},
    )
    # A credit may be a gateway's payout, which needs its copy from the gateway first: copied
    # here when no gateway needs the network to answer.
    credits = any(e.amount > 0 for s in statements for e in s.entries)
    if len(result.line_ids) > INLINE_LINES or (
        result.line_ids and credits and not payouts.sync_without_network(company_id)
    ):
        # Matched by a job (app.jobs.relay hands it the pending imports): a long statement's
        # confirmations would hold the request for minutes, and a gateway reached over the
        # network (its payouts, page after page) for as long as it takes to answer.
        for record in result.imports:
            record.matching_state = "pending"
        result.pending = True
    elif result.line_ids:
        report = matching.match_lines(company_id, line_ids=result.line_ids, actor=actor)
        result.suggested, result.confirmed = report.suggested, report.confirmed
    return result


def match_import(import_id: int) -> int:
    """The job's work: match a pending import's lines (after copying the payouts); how many
    were confirmed. An import already matched is left alone."""
    record = db.session.get(StatementImport, import_id)
    if record is None or record.matching_state != "pending":
        return 0
    line_ids = list(db.session.scalars(select(BankLine.id).where(BankLine.import_id == import_id)))
    payouts.sync_payouts(record.company_id)
    report = matching.match_lines(record.company_id, line_ids=line_ids)
    record.matching_state = "done"
    return report.confirmed


def delete_import(company_id: int, import_id: int, *, actor: User | None) -> StatementImport:
    """Take back an import made by mistake (the wrong account, the wrong file): its lines and
    their suggestions go; refused while any of its lines holds a confirmed match (undo those
    first) or while a job is still matching it. Lines another import had brought stay."""
    record = queries.import_of(company_id, import_id)
    if record is None:
        raise NotFound(_l("No such import."))
    if record.matching_state == "pending":
        raise Conflict(_l("Its lines are still being matched: try again in a minute."))
    lines = select(BankLine.id).where(
        BankLine.import_id == record.id, BankLine.company_id == company_id
    )
    confirmed = db.session.scalar(
        select(func.count(func.distinct(Match.bank_line_id))).where(
            Match.bank_line_id.in_(lines), Match.status == MATCH_CONFIRMED
        )
    )
    if confirmed:
        raise Conflict(
            _l("Undo the matches of its lines first (%(count)s matched).", count=confirmed)
        )
    matches = select(Match.id).where(Match.bank_line_id.in_(lines))
    removed = db.session.scalar(select(func.count()).select_from(lines.subquery())) or 0
    for stmt in (
        delete(MatchItem).where(MatchItem.match_id.in_(matches)),
        delete(Match).where(Match.bank_line_id.in_(lines)),
        delete(BankLine).where(BankLine.import_id == record.id,
                               BankLine.company_id == company_id),
    ):
        db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.delete(record)
    db.session.flush()
    audit.record_event(
        actor, company_id, "reconciliation.import_deleted",
        ("bank_account", record.bank_account_id),
        {"import": record.id, "file": record.filename[:200], "lines": removed},
    )
    return record


def pending_imports(older_than: dt.timedelta = dt.timedelta(minutes=10)) -> list[tuple[int, int]]:
    """(company id, import id) of pending imports whose job was lost (the sweep re-enqueues)."""
    cutoff = utcnow() - older_than
    return [(c, i) for c, i in db.session.execute(unscoped(
        select(StatementImport.company_id, StatementImport.id).where(
            StatementImport.matching_state == "pending", StatementImport.created_at < cutoff)
    ))]


def _import_one(
    account: BankAccount,
    statement: Statement,
    fmt: str,
    digest: str,
    filename: str,
    actor: User | None,
    result: ImportResult,
) -> None:
    gap = statement.balance_gap()
    record = StatementImport(
        company_id=account.company_id,
        bank_account_id=account.id,
        filename=(filename or "")[-255:],
        format=fmt,
        sha256=digest,
        statement_id=(statement.statement_id or "")[:120],
        start_date=statement.start_date,
        end_date=statement.end_date,
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        balance_gap=gap if gap else None,
        entries=len(statement.entries),
        created_by_user_id=actor.id if actor else None,
    )
    db.session.add(record)
    db.session.flush()
    if gap:
        result.findings.append(str(_l(
            "Opening balance plus the lines does not give the closing balance: %(gap)s is "
            "missing. The file may lack lines.", gap=str(gap))))
    if statement.pending:
        result.findings.append(str(_l(
            "Entries not booked yet, left out: %(count)s. A later statement brings them booked.",
            count=statement.pending)))
    ranks: dict[tuple[object, ...], int] = {}
    rows = []
    for entry in statement.entries:
        key = (entry.booking_date, entry.amount, entry.reference, entry.description,
               entry.counterparty.name, entry.end_to_end_id)
        ranks[key] = ranks.get(key, 0) + 1
        booked = entry.booking_date or entry.value_date or statement.end_date
        if booked is None:
            raise FieldErrors({"file": [_l("A line of the statement has no date.")]})
        rows.append({
            "company_id": account.company_id,
            "bank_account_id": account.id,
            "import_id": record.id,
            "booking_date": booked,
            "value_date": entry.value_date,
            "amount": entry.amount,
            "currency": (entry.currency or statement.currency or account.currency).upper()[:3],
            "reference": (entry.reference or "")[:500],
            "end_to_end_id": (entry.end_to_end_id or "")[:100],
            "counterparty_name": (entry.counterparty.name or "")[:200],
            "counterparty_account": accounts.compact_number(entry.counterparty.account or "")[:60],
            "description": entry.description or "",
            "bank_reference": (entry.bank_reference or "")[:120],
            "fingerprint": fingerprint(account.id, entry, ranks[key]),
        })
    new = _insert_new(rows)
    record.new_lines = len(new)
    result.imports.append(record)
    result.new_lines += len(new)
    result.duplicates += len(rows) - len(new)
    result.line_ids.extend(new)


def _insert_new(rows: list[dict[str, object]]) -> list[int]:
    """Insert the lines whose fingerprint is not in the account yet; their ids."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    ids: list[int] = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        stmt = (
            insert(BankLine)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["bank_account_id", "fingerprint"])
            .returning(BankLine.id)
        )
        ids.extend(db.session.scalars(stmt).all())
    return ids
