"""SWIFT MT940 statements, read with the ``mt-940`` library (import name ``mt940``).

The library splits the text at each ``:20:`` (one statement per block) and reads the tags. Around
it: text decoded as UTF-8, else ISO-8859-1; whatever follows a block's closing balance other than
``:64:``/``:65:`` is dropped (ING appends a statement-level ``:86:`` and a ``-XXX`` trailer that
the library would glue to the last entry); a balance without its currency code, which the library
misreads, is read again here; SEPA-style ``/NAME/…/IBAN/…/REMI/…/EREF/…`` sub-fields of ``:86:``
(Rabobank, ING, ABN AMRO) and German ``?20``-style ones (the library's processor) give the
counterparty, the remittance and the end-to-end id.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import mt940

from app.statements.model import Counterparty, Entry, Statement, StatementError
from app.statements.util import clean, currency_code, decode_text, plain_date

# The library logs every tag it cannot match at ERROR level (with the regex); our message says it.
logging.getLogger("mt940").setLevel(logging.CRITICAL)

_OPTIONS = mt940.Options.all()
_BLOCK = re.compile(r"(?m)^(?=:20:)")
_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
_RAW_BALANCE = re.compile(r"^:(6[02])([FM])?:([CD])(\d{6})([A-Z]{3})?(\d[\d,]*)")
_SEPA_KEYS = (
    "EREF", "PREF", "MARF", "CSID", "RTRN", "BENM", "ORDP", "NAME", "ADDR", "IBAN", "BIC",
    "REMI", "ISDT", "ULTD", "ULTC", "ULTB", "PURP", "TRCD", "CNTP", "BUSP", "ACCW", "TRTP",
    "SVCL", "EXCH", "OCMT", "CDTRREF", "CDTRREFTP", "ISSR", "CD", "USTD", "STRD", "CUR", "ID",
)
_SEPA_MARK = re.compile(r"/(" + "|".join(sorted(_SEPA_KEYS, key=len, reverse=True)) + r")/")
# The library reads "1.234,56" as 1 without a word: amounts are checked here first (digits, a
# decimal comma where the bank writes one: Knab writes whole amounts without).
_BALANCE_LINE = re.compile(r"^[CD]\d{6}([A-Z]{3})?\d+(,\d*)?(?![\d.,])", re.IGNORECASE)
_ENTRY_LINE = re.compile(r"^\d{6}(\d{4}|\s{4})?R?[CD][A-Z]?\s?\d+(,\d*)?(?![\d.,])",
                         re.IGNORECASE)
# The other party's account in a :61:'s supplementary details: an IBAN, or a domestic number (a
# long run of digits there is the bank's own reference, as PostFinance's).
_ACCOUNT = re.compile(r"^([A-Z]{2}\d{2}[A-Z0-9]{10,30}|[A-Z0-9]{6,18})$")
# An MT942 (interim report): its SWIFT header's message type, or its floor-limit tag.
_MT942 = re.compile(r"\{2:[IO]942|^:34F:", re.MULTILINE)
_KNAB_PARTY = re.compile(r"REK:\s*([A-Z]{2}\d{2}[A-Z0-9]{10,30})\s*/NAAM:\s*([^\n]+)")
_LEADING_IBAN = re.compile(r"^([A-Z]{2}\d{2}[A-Z0-9]{10,30})\s+(\S.*)$")
#: The library's opt-in layouts of an entry line (``:61:``), tried when the standard one fails.
_STATEMENT_VARIANTS = (mt940.tags.StatementASNB, mt940.tags.StatementGLS)
_NONE_REFS = {"NONREF", "NOTPROVIDED", ""}


def read_mt940(data: bytes) -> list[Statement]:
    """Read every statement (``:20:`` block) of an MT940 file."""
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if _MT942.search(text):
        raise StatementError(
            "The file is an MT942 interim (intraday) report, not an MT940 statement: import the "
            "day's MT940 statement, which has the balances.",
            "El archivo es un reporte intradía MT942, no un extracto MT940: importe el extracto "
            "MT940 del día, que trae los saldos.",
        )
    statements = []
    offset_line = 1
    for block in _BLOCK.split(text):
        first_line = offset_line
        offset_line += block.count("\n")
        if not block.startswith(":20:"):
            continue
        statements.append(_statement(_trim(block), first_line))
    if not statements:
        raise StatementError("No MT940 statement found: the file has no ':20:' tag.")
    return statements


def _trim(block: str) -> str:
    """Drop what follows the closing balance, other than ``:64:`` and ``:65:`` tags."""
    lines = block.split("\n")
    closing = max((i for i, line in enumerate(lines) if line.startswith(":62")), default=None)
    if closing is None:
        return block
    kept = lines[: closing + 1]
    keep = False
    for line in lines[closing + 1:]:
        tag = _TAG.match(line)
        if tag:
            keep = tag.group(1) in ("64", "65")
        elif line.startswith("-"):
            keep = False
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _check_amounts(block: str, first_line: int) -> None:
    """Refuse a balance or entry line whose amount is not digits with at most one decimal comma."""
    for number, line in enumerate(block.split("\n"), first_line):
        tag = _TAG.match(line)
        if not tag or tag.group(1)[:2] not in ("60", "61", "62", "64", "65"):
            continue
        value = line[tag.end():]
        pattern = _ENTRY_LINE if tag.group(1) == "61" else _BALANCE_LINE
        if not pattern.match(value):
            raise StatementError(
                f"line {number}, tag :{tag.group(1)}: does not follow the MT940 layout (date, "
                f"C or D, amount with a decimal comma): '{value.strip()}'"
            )


def _transactions(block: str, statement_tag: Any = None) -> Any:
    tags = {statement_tag.id: statement_tag} if statement_tag is not None else None
    transactions = mt940.models.Transactions(tags=tags, options=_OPTIONS)
    transactions.parse(block)
    return transactions


def _parse(block: str, first_line: int) -> Any:
    _check_amounts(block, first_line)
    try:
        try:
            transactions = _transactions(block)
        except RuntimeError as exc:
            if not isinstance(exc.args[1] if len(exc.args) > 1 else None, mt940.tags.Statement):
                raise
            # An entry line of a bank the library reads with its own layout (ASN: the other
            # account's IBAN where the reference goes; GLS: a long reference), else the error.
            for variant in _STATEMENT_VARIANTS:
                try:
                    transactions = _transactions(block, variant())
                    break
                except RuntimeError:
                    continue
            else:
                raise
    except RuntimeError as exc:
        value = exc.args[2] if len(exc.args) > 2 and isinstance(exc.args[2], str) else ""
        tag = getattr(exc.args[1], "id", "?") if len(exc.args) > 1 else "?"
        raise StatementError(
            f"{_where(block, first_line, value)}tag :{tag}: does not follow the MT940 layout: "
            f"'{value.splitlines()[0] if value else ''}'"
        ) from None
    except (ValueError, InvalidOperation, KeyError) as exc:
        raise StatementError(
            f"Statement starting at line {first_line}: a tag could not be read ({exc})"
        ) from None
    return transactions


def _where(block: str, first_line: int, value: str) -> str:
    if value:
        position = block.find(value.splitlines()[0])
        if position >= 0:
            return f"line {first_line + block.count(chr(10), 0, position)}, "
    return f"statement starting at line {first_line}, "


def _balance(data: dict[str, Any], keys: tuple[str, ...], raw: str, tag: str) -> tuple[
        Decimal | None, str | None, dt.date | None]:
    for key in keys:
        balance = data.get(key)
        if balance is None or not hasattr(balance, "amount"):
            continue
        amount = balance.amount
        if currency_code(getattr(amount, "currency", None)):
            return amount.amount, amount.currency, _day(balance.date)
        # No currency code: the library took three digits of the amount for one.
        for line in raw.split("\n"):
            found = _RAW_BALANCE.match(line)
            if found and found.group(1) == tag:
                value = Decimal(found.group(6).replace(",", "."))
                return (-value if found.group(3) == "D" else value), found.group(5), _day(
                    balance.date)
    return None, None, None


def _day(value: Any) -> dt.date | None:
    return plain_date(value) if isinstance(value, dt.date) else None


def _statement(block: str, first_line: int) -> Statement:
    transactions = _parse(block, first_line)
    data = transactions.data
    opening, open_ccy, start = _balance(
        data, ("final_opening_balance", "intermediate_opening_balance", "opening_balance"),
        block, "60")
    closing, close_ccy, end = _balance(
        data, ("final_closing_balance", "intermediate_closing_balance", "closing_balance"),
        block, "62")
    account = clean(data.get("account_identification"))
    currency = open_ccy or close_ccy
    glued = re.match(r"^(\S*\d) ?([A-Z]{3})$", account or "")  # "NL71RABO0123456789 EUR"
    if glued and (currency is None or glued.group(2) == currency):  # (or "1291.99.348EUR")
        account = glued.group(1)
        currency = currency or glued.group(2)
    entries = tuple(_entry(t.data, currency) for t in transactions)
    number = clean(data.get("statement_number"))
    sequence = clean(data.get("sequence_number"))
    return Statement(
        account=account,
        currency=currency or (entries[0].currency if entries else None),
        opening_balance=opening,
        closing_balance=closing,
        entries=entries,
        statement_id=(f"{number}/{sequence}" if number and sequence else number)
        or clean(data.get("transaction_reference")),
        start_date=start,
        end_date=end,
    )


def _joined(details: str | None, glue: bool = False) -> str | None:
    """Wrapped ``:86:`` lines as one text: with spaces, or glued for structured sub-fields (the
    bank cut those at its line width, often inside a word)."""
    if not details:
        return None
    return clean(("" if glue else " ").join(line.rstrip() for line in details.split("\n")))


def sepa_fields(details: str) -> dict[str, str]:
    """The ``/KEY/value`` sub-fields of a SEPA-style ``:86:`` (first occurrence of each key)."""
    text = "".join(line.rstrip() for line in details.split("\n"))
    marks = list(_SEPA_MARK.finditer(text))
    if not marks or marks[0].start() != 0:
        return {}
    fields: dict[str, str] = {}
    for i, mark in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = text[mark.end():stop].strip().strip("/").strip()
        fields.setdefault(mark.group(1), value)
    return fields


def _entry(data: dict[str, Any], statement_ccy: str | None) -> Entry:
    amount = data["amount"]
    value_date = _day(data.get("date"))
    booking_date = _day(data.get("entry_date")) or value_date
    customer_ref = clean(data.get("customer_reference"))
    details = data.get("transaction_details")
    name = account = reference = e2e = None
    description = _joined(details)
    if details:
        fields = sepa_fields(details)
        if fields:
            cntp = fields.get("CNTP", "").split("/")
            account = clean(fields.get("IBAN")) or clean(cntp[0])
            name = clean(fields.get("NAME")) or (clean(cntp[2]) if len(cntp) > 2 else None)
            remi = fields.get("REMI", "")
            remi = re.sub(r"^(USTD|STRD)/+(CUR/+)?", "", remi)
            reference = clean(remi)
            e2e = clean(fields.get("EREF"))
            description = _joined(details, glue=True)
    elif data.get("purpose") or data.get("applicant_name"):  # German ?20 sub-fields
        name = clean(data.get("applicant_name"))
        account = clean(data.get("applicant_iban") or data.get("gvc_applicant_iban"))
        reference = clean(data.get("purpose"))
        e2e = clean(data.get("end_to_end_reference"))
        description = clean(" ".join(filter(None, (data.get("posting_text"), reference))))
    elif data.get("non_swift_text"):
        description = clean(data.get("non_swift_text"))
    if details and account is None and name is None:
        account, name = _free_text_party(details)
    extra = clean(data.get("extra_details"))
    if account is None and extra and _ACCOUNT.match(extra):  # Rabobank: the other account
        account = extra
    if e2e and e2e.upper() in _NONE_REFS:
        e2e = None
    if customer_ref and (customer_ref.upper() in _NONE_REFS or customer_ref in _SEPA_KEYS
                         or customer_ref == account):  # (ASN: the other account goes there)
        customer_ref = None
    return Entry(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount.amount,
        currency=currency_code(amount.currency) or statement_ccy,
        reference=reference or customer_ref,
        end_to_end_id=e2e,
        counterparty=Counterparty(name=name, account=account),
        description=description,
        bank_reference=clean(data.get("bank_reference")),
    )


def _free_text_party(details: str) -> tuple[str | None, str | None]:
    """The other party of a ``:86:`` in free text, where a bank writes one: Knab's
    ``REK: <IBAN>/NAAM: <name>``, or an IBAN and a name opening the text (ASN). (The IBAN's
    shape only: banks' sample files carry made-up ones, and it is a hint, never a payment.)"""
    found = _KNAB_PARTY.search(details) or _LEADING_IBAN.match(details.split("\n", 1)[0].strip())
    if found:
        return found.group(1), clean(found.group(2))
    return None, None
