"""/api/v1 reconciliation: bank accounts, statement uploads, bank lines with their status, the
suggested matches of a line, confirming, undoing and matching by hand.

A confirmed match (automatic, confirmed or made by hand) is announced to the company's webhook
endpoints subscribed to ``reconciliation.matched``; its body is described in the document's
``webhooks`` (``responses.ReconciliationMatched``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from spectree import Response
from sqlalchemy import and_, or_
from werkzeug.exceptions import UnsupportedMediaType

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.responses import (
    BankAccount,
    BankAccountList,
    BankLine,
    BankLineList,
    Error,
    Match,
    MatchList,
    StatementImported,
)
from app.blueprints.api.schemas import (
    MAX_ID,
    BankLineQuery,
    NewBankAccount,
    NewManualMatch,
    StatementQuery,
    StatementUpload,
    printable,
)
from app.blueprints.api.spec import NOT_FOUND, UNPROCESSABLE, api
from app.extensions import db
from app.matching import model as m
from app.models.api import RECONCILIATION_READ, RECONCILIATION_WRITE
from app.models.reconciliation import MATCH_SUGGESTED, SUGGESTED
from app.models.reconciliation import BankLine as BankLineRow
from app.services.documents.queries import Cursor
from app.services.errors import DomainError
from app.services.reconciliation import accounts, importing, matching, queries
from app.web.formatting import decimal_comma

ID = f"int(min=1, max={MAX_ID})"
#: The raw bodies a statement may come as (besides multipart): XML, text, anything else.
RAW_TYPES = {"application/xml", "text/xml", "text/plain", "text/csv", "application/octet-stream"}
TAGS = ["reconciliation"]
#: The evidence a match shows, named for people.
EVIDENCE_LABELS = {
    m.AMOUNT_EXACT: _l("Exact amount"),
    m.AMOUNT_CLOSE: _l("Amount within tolerance"),
    m.AMOUNT_SUM: _l("Amounts that add up"),
    m.REFERENCE: _l("Reference found"),
    m.END_TO_END: _l("End-to-end id"),
    m.COUNTERPARTY_TAX_ID: _l("Counterparty tax id"),
    m.COUNTERPARTY_ACCOUNT: _l("Known bank account"),
    m.COUNTERPARTY_NAME: _l("Similar name"),
    m.LABEL_PATTERN: _l("Learnt label"),
    m.DATE_NEAR: _l("Date near"),
    m.RULE: _l("Rule"),
    "manual": _l("Chosen by hand"),
}


class TooLarge(DomainError):
    """A statement file over the size the import reads."""

    status = 413


def _company_id() -> int:
    return current_token().company_id


def visible(loader: Callable[[int, int], Any], name: str) -> Callable[..., Any]:
    """Answer 404 for another company's account, line or match before reading any input."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            loader(_company_id(), kwargs[name])
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _labels() -> dict[str, str]:
    return {code: str(label) for code, label in EVIDENCE_LABELS.items()}


def _match(match: Any) -> Match:
    (view,) = queries.match_views(_company_id(), [match])
    return Match.of(view, _labels())


# ------------------------------------------------------------------------------ bank accounts


@bp.get("/bank-accounts")
@require_token(RECONCILIATION_READ)
@api.validate(
    resp=Response(HTTP_200=(BankAccountList, "The company's bank accounts, by name")),
    tags=TAGS,
    operation_id="listBankAccounts",
)
def list_bank_accounts() -> Any:
    """The company's bank accounts

    Needs the `reconciliation:read` scope.
    """
    found = db.session.scalars(accounts.bank_accounts(_company_id()))
    return BankAccountList(data=[BankAccount.of(a) for a in found])


@bp.post("/bank-accounts")
@require_token(RECONCILIATION_WRITE)
@api.validate(
    json=NewBankAccount,
    resp=Response(
        HTTP_201=(BankAccount, "The account, added"),
        HTTP_400=(Error, "The body is not JSON that can be read"),
        HTTP_415=(Error, "The body is not sent as application/json"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="createBankAccount",
)
def create_bank_account(json: NewBankAccount) -> Any:
    """Add a bank account to import statements into

    An IBAN is checked (its check digits and country format); another number is kept as
    given, without spaces. The same number twice is refused (422 on `number`). Needs the
    `reconciliation:write` scope.
    """
    account = accounts.create_bank_account(
        _company_id(),
        actor=acting_user(),
        name=json.name,
        bank_name=json.bank_name,
        currency=json.currency,
        number=json.number,
    )
    db.session.commit()
    return BankAccount.of(account), 201


@bp.post(f"/bank-accounts/<{ID}:account_id>/statements")
@require_token(RECONCILIATION_WRITE)
@visible(accounts.get_bank_account, "account_id")
@api.validate(
    query=StatementQuery,
    form=StatementUpload,
    resp=Response(
        HTTP_201=(StatementImported, "Imported: the new lines are matched already"),
        HTTP_404=NOT_FOUND,
        HTTP_413=(Error, "The file is larger than a statement may be"),
        HTTP_415=(Error, "Neither multipart nor a raw XML, text or binary body"),
        HTTP_422=(
            Error,
            "The file cannot be read as a statement, or is of another account or currency "
            "(`details.fields.file` says why, naming the line or element)",
        ),
    ),
    tags=TAGS,
    operation_id="importStatement",
    path_parameter_descriptions={"account_id": "The bank account's id"},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
def import_statement(account_id: int, query: StatementQuery) -> Any:
    """Upload a bank statement: camt.053, MT940, OFX, CSV or XLSX

    Send the file in the multipart field `file`, or as the raw body (Content-Type
    application/xml, text/plain or application/octet-stream, its name in `filename`). The
    format is found from the content. Importing is idempotent: lines already in the account
    (the same file again, or an overlapping period) are counted as `duplicates`, never added
    twice. The new lines are matched at once: confident matches are confirmed (and announced
    by the `reconciliation.matched` webhook), the others wait with suggestions. Needs the
    `reconciliation:write` scope.
    """
    filename, data = _statement_file(query.filename)
    if len(data) > importing.MAX_BYTES:
        raise TooLarge(
            _l("The file is too large (%(mb)s MB at most).", mb=importing.MAX_BYTES // 2**20),
            field="file",
        )
    result = importing.import_statement(
        _company_id(), account_id=account_id, data=data, filename=filename, actor=acting_user(),
        decimal_comma=decimal_comma(),
    )
    waiting = 0
    for start in range(0, len(result.line_ids), 500):
        chunk = result.line_ids[start : start + 500]
        stmt = queries.lines(_company_id(), account_id, queries.LineFilters(status=SUGGESTED))
        waiting += len(db.session.scalars(stmt.where(BankLineRow.id.in_(chunk))).all())
    db.session.commit()
    return StatementImported.of(result, waiting=waiting), 201


def _statement_file(filename: str) -> tuple[str, bytes]:
    """Read the statement from the multipart field "file", or from the raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise DomainError(_l("Send the statement in the multipart field “file”."), field="file")
        return printable(upload.filename or "") or filename, upload.read(importing.MAX_BYTES + 1)
    if request.mimetype not in RAW_TYPES:
        raise UnsupportedMediaType(
            _(
                "Send the statement as multipart field “file”, or as the body with Content-Type "
                "application/xml, text/plain or application/octet-stream."
            )
        )
    data = request.get_data(cache=False)
    if not data:
        raise DomainError(_l("The request body is empty: send the statement file."), field="body")
    return filename, data


# --------------------------------------------------------------------------------- bank lines


@bp.get("/bank-lines")
@require_token(RECONCILIATION_READ)
@api.validate(
    resp=Response(
        HTTP_200=(BankLineList, "One page of lines, newest first"),
        HTTP_404=NOT_FOUND,
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="listBankLines",
)
def list_bank_lines(query: BankLineQuery) -> Any:
    """The company's bank statement lines with their status

    Each line is `unmatched`, `suggested` (suggestions wait: GET its suggestions), `matched`
    (`matched_amount` tells how much) or `ignored`. Narrow by account, status and booking day.
    Paged by cursor: pass the `next_cursor` of a page as `cursor` to read the next one (null
    on the last page). Another company's `account_id` answers 404. Needs the
    `reconciliation:read` scope.
    """
    company_id = _company_id()
    if query.account_id is not None:
        accounts.get_bank_account(company_id, query.account_id)
    stmt = queries.lines(
        company_id,
        query.account_id,
        queries.LineFilters(status=query.status, since=query.since, until=query.until),
    )
    if query.cursor:
        after = Cursor.decode(query.cursor)
        stmt = stmt.where(
            or_(
                BankLineRow.booking_date < after.issue_date,
                and_(BankLineRow.booking_date == after.issue_date, BankLineRow.id < after.id),
            )
        )
    rows = list(db.session.scalars(stmt.limit(query.limit + 1)))
    shown = rows[: query.limit]
    following = None
    if len(rows) > query.limit:
        following = Cursor(shown[-1].booking_date, shown[-1].id).encode()
    return BankLineList(data=[BankLine.of(line) for line in shown], next_cursor=following)


@bp.get(f"/bank-lines/<{ID}:line_id>/suggestions")
@require_token(RECONCILIATION_READ)
@api.validate(
    resp=Response(
        HTTP_200=(MatchList, "The suggestions, best first"),
        HTTP_404=NOT_FOUND,
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="listLineSuggestions",
    path_parameter_descriptions={"line_id": "The bank line's id"},
)
def list_line_suggestions(line_id: int) -> Any:
    """The matches suggested for one bank line, with their evidence

    Each suggestion has a score (0 to 100), its evidence (`code`, a `label` for people, the
    `points` it gave and a `detail` such as the reference found), the fee it would record and
    the items it settles. Confirm one with POST /matches/{match_id}/confirm. Needs the
    `reconciliation:read` scope.
    """
    company_id = _company_id()
    matching.get_line(company_id, line_id)
    views = queries.line_matches(company_id, line_id, status=MATCH_SUGGESTED)
    labels = _labels()
    return MatchList(data=[Match.of(v, labels) for v in views])


@bp.post(f"/bank-lines/<{ID}:line_id>/matches")
@require_token(RECONCILIATION_WRITE)
@visible(matching.get_line, "line_id")
@api.validate(
    json=NewManualMatch,
    resp=Response(
        HTTP_201=(Match, "The match, confirmed"),
        HTTP_400=(Error, "The body is not JSON that can be read"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The line is matched already"),
        HTTP_415=(Error, "The body is not sent as application/json"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="createManualMatch",
    path_parameter_descriptions={"line_id": "The bank line's id"},
)
def create_manual_match(line_id: int, json: NewManualMatch) -> Any:
    """Match a bank line by hand to invoices, payments or a payout

    A money-in line settles `receivable` invoices, `payment_in` payments or a `payout`; a
    money-out line `payable` invoices or `payment_out` payments. Each item's `amount` (a
    decimal string) is at most what is open of it; without it, all that is open. `fee` is the
    part the bank kept. The match is confirmed at once: invoices are paid by a payment of
    method `bank`. Needs the `reconciliation:write` scope.
    """
    match = matching.manual_match(
        _company_id(),
        line_id=line_id,
        items=[
            (i.kind, i.id, Decimal(i.amount) if i.amount is not None else None) for i in json.items
        ],
        fee=Decimal(json.fee) if json.fee is not None else Decimal("0"),
        actor=acting_user(),
    )
    db.session.commit()
    return _match(match), 201


# ------------------------------------------------------------------------------------ matches


@bp.post(f"/matches/<{ID}:match_id>/confirm")
@require_token(RECONCILIATION_WRITE)
@api.validate(
    resp=Response(
        HTTP_200=(Match, "The match, confirmed (again: the same answer)"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The suggestion was undone or set aside"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="confirmMatch",
    path_parameter_descriptions={"match_id": "The match's id (from the suggestions)"},
)
def confirm_match(match_id: int) -> Any:
    """Confirm a suggested match

    The invoices it names are paid (a payment of method `bank`), the payments and payouts it
    names are reconciled, and `reconciliation.matched` is announced. Confirming a confirmed
    match again changes nothing and answers the same. Needs the `reconciliation:write` scope.
    """
    match = matching.confirm_match(_company_id(), match_id=match_id, actor=acting_user())
    db.session.commit()
    return _match(match)


@bp.post(f"/matches/<{ID}:match_id>/undo")
@require_token(RECONCILIATION_WRITE)
@api.validate(
    resp=Response(
        HTTP_200=(Match, "The match, undone"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The match is not confirmed (never was, or undone already)"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=TAGS,
    operation_id="undoMatch",
    path_parameter_descriptions={"match_id": "The match's id"},
)
def undo_match(match_id: int) -> Any:
    """Undo a confirmed match

    The payment the match recorded is cancelled and its invoices are open again; the line
    waits to be matched again. Needs the `reconciliation:write` scope.
    """
    match = matching.undo_match(_company_id(), match_id=match_id, actor=acting_user())
    db.session.commit()
    return _match(match)
