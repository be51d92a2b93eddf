"""detect_format, read_statement and inspect_file on files that are no statement at all."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest

from app.statements import MAX_BYTES, StatementError, detect_format, inspect_file, read_statement
from tests.statements.test_camt import doc, ntry, stmt
from tests.statements.test_ofx import SGML, XML

MT940 = b":20:X\n:25:1\n:60F:C240101EUR0,00\n:61:240101C1,00NTRFNONREF\n:62F:C240101EUR1,00\n"


def _zip(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "fmt"), [
    (doc(stmt(ntry("1.00", "CRDT"))), "camt053"),
    (b"\xef\xbb\xbf" + doc(stmt(ntry("1.00", "CRDT"))), "camt053"),
    (MT940, "mt940"),
    (MT940.replace(b"\n", b"\r\n"), "mt940"),
    (SGML, "ofx"),
    (XML, "ofx"),
    (b"Date;Amount\n2024-01-01;1,00\n", "csv"),
    (b"", None),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", None),
    (b"<Invoice><ID>1</ID></Invoice>", None),
    (_zip("word/document.xml"), None),
    (bytes(range(256)) * 4, None),
    (b"Just a sentence without any table in it.\n", None),
])
def test_detect_format(data, fmt):
    assert detect_format(data) == fmt


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"  \n\t\n", "The file is empty."),
    (b"%PDF-1.4\n1 0 obj\n", "The file is a PDF"),
    (bytes(range(256)) * 4, "not a bank statement this app reads"),
    (_zip("word/document.xml"), "zip archive but not an XLSX"),
    (b"PK\x03\x04garbage", "zip archive but not an XLSX"),
    (b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>",
     "is not a camt.053 bank statement: its root is"),
    (b"<Document><BkToCstmrStmt><Stmt><Ntry>", "not well-formed XML"),
    (b"Just a sentence.\n", "not a bank statement this app reads"),
])
def test_what_is_not_a_statement_gets_a_clear_message(data, message):
    with pytest.raises(StatementError) as caught:
        read_statement(data)
    assert message in caught.value.message
    assert "internal error" not in caught.value.message


def test_spanish_messages_exist_for_the_common_refusals():
    with pytest.raises(StatementError) as caught:
        read_statement(b"%PDF-1.4\n")
    assert caught.value.message_es.startswith("El archivo es un PDF")


def test_the_size_cap():
    with pytest.raises(StatementError, match="the limit is 20 MB"):
        read_statement(b"x" * (MAX_BYTES + 1))


def test_inspect_file_never_raises(tmp_path):
    missing = inspect_file(tmp_path / "nope.sta")
    assert missing.error and missing.error.startswith("The file cannot be read")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    result = inspect_file(junk)
    assert (result.format, result.statements) == (None, ())
    assert result.to_json()["error"]
    broken = tmp_path / "broken.sta"
    broken.write_bytes(MT940.replace(b":61:240101C", b":61:2401X1C"))
    result = inspect_file(broken)
    assert result.format == "mt940" and "line 4" in (result.error or "")
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    assert "20 MB" in (inspect_file(big).error or "")


def test_a_mapping_makes_an_unrecognised_text_tabular():
    from app.statements import ColumnMapping

    mapping = ColumnMapping(date_column="D", amount_column="A")
    fmt, [statement] = read_statement(b"D\tA\n2024-01-01\t5\n", mapping=mapping)
    assert fmt == "csv" and str(statement.entries[0].amount) == "5"


def test_not_bytes():
    with pytest.raises(StatementError, match="not bytes"):
        read_statement("text")  # type: ignore[arg-type]


def test_an_amount_or_balance_the_app_cannot_keep_is_refused_whatever_the_format():
    """Bank lines keep 15 digits before the decimal point: a larger amount or balance is
    refused, naming the entry or the balance, before anything is stored."""
    huge = "1234567890123456.78"
    data = doc(stmt(ntry("1.00", "CRDT")), stmt(ntry("2.00", "CRDT") + ntry(huge, "DBIT"),
                                                 sid="S2"))
    with pytest.raises(StatementError) as caught:
        read_statement(data)
    assert caught.value.message == (
        "Entry 2 of statement 2 (2024-03-01): the amount -1234567890123456.78 is too large (at "
        "most 15 digits before the decimal point).")
    assert caught.value.message_es == (
        "Movimiento 2 del extracto 2 (2024-03-01): el importe -1234567890123456.78 es demasiado "
        "grande (como máximo 15 cifras antes de los decimales).")
    fmt, [statement] = read_statement(doc(stmt(ntry("999999999999999.99", "CRDT"))))
    assert statement.entries[0].amount == Decimal("999999999999999.99")
    closing = MT940.replace(b":62F:C240101EUR1,00", b":62F:C240101EUR1234567890123456,00")
    with pytest.raises(StatementError) as caught:
        read_statement(closing)
    assert caught.value.message == ("The closing balance, 1234567890123456, is too large (at "
                                    "most 15 digits before the decimal point).")
    assert caught.value.message_es.startswith("El saldo final, 1234567890123456, es demasiado")
    # Balances each within the limit whose gap to the entries is not (the gap is kept too).
    gap = MT940.replace(b":60F:C240101EUR0,00", b":60F:C240101EUR900000000000000,00").replace(
        b":62F:C240101EUR1,00", b":62F:D240101EUR900000000000000,00")
    with pytest.raises(StatementError, match=r"^The closing balance differs from the opening "
                       r"balance plus the entries by -1800000000000001\.00, too large"):
        read_statement(gap)
