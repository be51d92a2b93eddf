"""OFX: 1.x SGML and 2.x XML, bank and credit-card statements, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.statements import StatementError, detect_format, read_statement
from app.statements.ofx import read_ofx

SGML = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>
<DTSERVER>20240305120000<LANGUAGE>SPA</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>COP<BANKACCTFROM><BANKID>007<ACCTID>1234567890<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20240301<DTEND>20240305
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240302100000[-5:COT]<DTUSER>20240301<TRNAMT>1500000.50
<FITID>F-1<REFNUM>FV-001<NAME>Andina SAS<MEMO>Pago factura FV-001</STMTTRN>
<STMTTRN><TRNTYPE>CHECK<DTPOSTED>20240303<TRNAMT>-250000<FITID>F-2<CHECKNUM>0042
<PAYEE><NAME>Papeleria Sur<ADDR1>Calle 1<CITY>Cali<STATE>VAC<POSTALCODE>1<PHONE>1</PAYEE>
</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>3250000.50<DTASOF>20240305</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID>
<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<CCSTMTRS><CURDEF>USD</CURDEF><CCACCTFROM><ACCTID>4111222233334444</ACCTID></CCACCTFROM>
<BANKTRANLIST><DTSTART>20240201</DTSTART><DTEND>20240229</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240229</DTPOSTED><TRNAMT>-19.99</TRNAMT>
<FITID>CC-1</FITID><NAME>Cloud Hosting Inc</NAME><MEMO>Monthly plan</MEMO></STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>-19.99</BALAMT><DTASOF>20240229</DTASOF></LEDGERBAL>
</CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
"""


def test_ofx1_sgml_bank_statement():
    assert detect_format(SGML) == "ofx"
    [statement] = read_ofx(SGML)
    first, second = statement.entries
    assert statement.account == "1234567890" and statement.currency == "COP"
    assert statement.closing_balance == Decimal("3250000.50")
    assert statement.opening_balance is None  # OFX has no opening balance: none is invented
    assert statement.balance_gap() is None
    assert (statement.start_date, statement.end_date) == (dt.date(2024, 3, 1),
                                                          dt.date(2024, 3, 5))
    assert first.amount == Decimal("1500000.50")
    assert first.booking_date == dt.date(2024, 3, 2)  # the date as written, not moved to UTC
    assert first.value_date == dt.date(2024, 3, 1)
    assert first.bank_reference == "F-1" and first.reference == "FV-001"
    assert first.counterparty.name == "Andina SAS"
    assert first.description == "Pago factura FV-001"
    assert second.amount == Decimal("-250000")
    assert second.reference == "0042"
    assert second.counterparty.name == "Papeleria Sur"


def test_ofx2_xml_credit_card_statement():
    fmt, [statement] = read_statement(XML)
    assert fmt == "ofx"
    assert statement.account == "4111222233334444"
    assert statement.entries[0].amount == Decimal("-19.99")
    assert statement.entries[0].currency == "USD"
    assert statement.closing_balance == Decimal("-19.99")


@pytest.mark.parametrize("declaration", [
    b'<!DOCTYPE OFX [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!ENTITY x "y">',
    b"<!doctype ofx>",
])
def test_doctype_and_entities_are_refused(declaration):
    data = XML.replace(b"<OFX>\n", declaration + b"\n<OFX>\n")
    with pytest.raises(StatementError, match="DOCTYPE or entities"):
        read_statement(data)


def test_a_bad_amount_and_a_bad_date_name_the_transaction():
    with pytest.raises(StatementError, match=r"CCSTMTRS 1, STMTTRN 1: TRNAMT '12\.3\.4'"):
        read_ofx(XML.replace(b"-19.99</TRNAMT>", b"12.3.4</TRNAMT>"))
    with pytest.raises(StatementError, match="DTPOSTED '20241332' is not a date"):
        read_ofx(XML.replace(b"<DTPOSTED>20240229", b"<DTPOSTED>20241332"))


def test_a_truncated_or_mangled_file_is_a_clear_error():
    for cut in (SGML[: SGML.index(b"<TRNAMT>-250000")], XML[:200], XML[:-8]):
        with pytest.raises(StatementError, match="does not end with </OFX>"):
            read_statement(cut)
    with pytest.raises(StatementError, match="STMTRS 1, STMTTRN 2: TRNAMT is missing"):
        read_statement(SGML.replace(b"<TRNAMT>-250000", b""))
    with pytest.raises(StatementError, match="OFX file could not be read: Tail text 'stray'"):
        read_statement(XML.replace(b"</STMTTRN>", b"</STMTTRN>stray"))
    with pytest.raises(StatementError, match="OFX"):
        read_statement(b"OFXHEADER:100\nnothing else")


def test_what_real_exports_do_to_the_layout_is_read():
    """Blank lines before the header, an empty balance (no balance, not a broken file), and a
    BANKTRANLIST never closed (its balance nested inside it) are read as the bank meant."""
    [statement] = read_ofx(b"\r\n" * 12 + SGML)
    assert len(statement.entries) == 2 and statement.closing_balance == Decimal("3250000.50")
    [statement] = read_ofx(SGML.replace(b"<BALAMT>3250000.50", b"<BALAMT></BALAMT>"))
    assert statement.closing_balance is None and len(statement.entries) == 2
    unclosed = SGML.replace(b"</BANKTRANLIST>\n", b"")
    [statement] = read_ofx(unclosed)
    assert statement.closing_balance == Decimal("3250000.50") and len(statement.entries) == 2


def test_a_banks_error_answer_is_refused_with_its_message():
    """An OFX the bank sent instead of a statement (a STATUS with an error code, no STMTRS)
    says what the bank answered; an empty one reads as no statement (the shared sample)."""
    refused = SGML.replace(SGML[SGML.index(b"<STMTRS>"):SGML.index(b"</STMTTRNRS>")], b"").replace(
        b"<TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>",
        b"<TRNUID>1<STATUS><CODE>2000<SEVERITY>ERROR<MESSAGE>General Server Error</STATUS>")
    with pytest.raises(StatementError, match="answered with an error: General Server Error"):
        read_statement(refused)
    with pytest.raises(StatementError) as caught:
        read_statement(b"\n\n<OFX><STMTRS></STMTRS></OFX>")
    assert "object at 0x" not in caught.value.message and "header" in caught.value.message
