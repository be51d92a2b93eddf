"""MT940: encodings, decimal commas, wrapped and structured :86:, several statements, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.statements import StatementError, detect_format, read_statement
from app.statements.mt940 import read_mt940, sepa_fields

ONE = """:20:STMT1
:25:NL91ABNA0417164300
:28C:00042/1
:60F:C240301EUR1234,56
:61:2403010302C1000,50NTRFINV-17//BANKREF1
:86:/EREF/E2E-17/NAME/Café Müller/IBAN/NL02RABO0123456789/REMI/Factura FV-17 pagad
a/
:61:240302D34,06NMSCNONREF
:86:Kosten rekening
maart 2024 periode
:62F:C240302EUR2201,00
"""


def test_iso_8859_1_bytes_decimal_commas_and_structured_86():
    text = ONE
    [statement] = read_mt940(text.encode("iso-8859-1"))
    credit, debit = statement.entries
    assert statement.account == "NL91ABNA0417164300"
    assert statement.opening_balance == Decimal("1234.56")
    assert statement.closing_balance == Decimal("2201.00")
    assert statement.balance_gap() == 0
    assert statement.statement_id == "00042/1"
    assert credit.amount == Decimal("1000.50") and debit.amount == Decimal("-34.06")
    assert credit.value_date == dt.date(2024, 3, 1) and credit.booking_date == dt.date(2024, 3, 2)
    assert credit.counterparty.name == "Café Müller"
    assert credit.counterparty.account == "NL02RABO0123456789"
    assert credit.reference == "Factura FV-17 pagada"  # glued across the wrapped line
    assert credit.end_to_end_id == "E2E-17"
    assert credit.bank_reference == "BANKREF1"
    assert debit.description == "Kosten rekening maart 2024 periode"  # wrapped lines joined
    assert debit.reference is None  # NONREF is no reference
    assert statement.currency == "EUR" and credit.currency == "EUR"


def test_utf8_is_read_as_utf8():
    text = ONE
    [statement] = read_mt940(text.encode("utf-8"))
    assert statement.entries[0].counterparty.name == "Café Müller"


def test_two_statements_and_header_lines_before_them():
    second = (":20:STMT2\n:25:NL91ABNA0417164300\n:28C:00043/1\n:60F:C240302EUR10,00\n"
              ":61:240303C5,NTRFNONREF\n:86:Two\n:62F:C240303EUR15,\n-XXX\n")
    text = "0000 01INGBNL2AXXXX00001\n940 00\n" + ONE + "-\n" + second
    data = text.encode()
    assert detect_format(data) == "mt940"
    fmt, statements = read_statement(data)
    assert fmt == "mt940"
    assert [len(s.entries) for s in statements] == [2, 1]
    assert statements[1].entries[0].amount == Decimal("5")
    assert statements[1].entries[0].description == "Two"  # not "-XXX" glued to it
    assert statements[1].closing_balance == Decimal("15")


def test_a_statement_level_86_after_the_closing_balance_is_not_an_entry_detail():
    text = (":20:X\n:25:1\n:60F:C240101EUR0,00\n:61:240101C1,00NTRFNONREF\n:86:Paid\n"
            ":62F:C240101EUR1,00\n:86:D000000C000001\n-XXX\n")
    [statement] = read_mt940(text.encode())
    assert statement.entries[0].description == "Paid"


def test_a_balance_without_currency_is_read_again():
    text = (":20:X\n:25:1\n:60F:C020315DEM0,00\n:61:020322CM20000,00S051\n"
            ":62M:C020315105000,00\n")
    [statement] = read_mt940(text.encode())
    assert statement.closing_balance == Decimal("105000.00")  # not 0.00 in currency "105"
    assert statement.currency == "DEM"


def test_a_broken_61_line_is_named_with_its_line_number():
    text = ":20:X\n:25:1\n:60F:C240101EUR0,00\n:61:24010XC1,00NTRF\n:62F:C240101EUR1,00\n"
    with pytest.raises(StatementError) as caught:
        read_statement(text.encode())
    assert "line 4" in caught.value.message
    assert ":61:" in caught.value.message
    assert "24010XC1,00NTRF" in caught.value.message


@pytest.mark.parametrize(("old", "new", "line"), [
    ("C240301EUR1234,56", "C240301EUR1.234,56", 4),
    ("C1000,50NTRF", "C1.000,50NTRF", 5),
    ("C1000,50NTRF", "C1,000,50NTRF", 5),
    ("D34,06NMSC", "D34.06NMSC", 8),
    ("C240302EUR2201,00", "C240302EUR", 11),
])
def test_amounts_the_library_would_misread_are_refused_by_line(old, new, line):
    with pytest.raises(StatementError) as caught:
        read_mt940(ONE.replace(old, new).encode())
    assert caught.value.message.startswith(f"line {line}, tag :")
    assert new in caught.value.message


def test_no_20_tag_is_no_statement():
    with pytest.raises(StatementError, match=":20:"):
        read_mt940(b":25:1\n:60F:C240101EUR0,00\n")


def test_sepa_fields_split_on_known_keys_only():
    fields = sepa_fields("/TRTP/SEPA OVERBOEKING/IBAN/NL02RABO0123456789/BIC/RABONL2U/NAME/"
                         "A/B TRADING/REMI/INV 1/EREF/NOTPROVIDED")
    assert fields["NAME"] == "A/B TRADING"
    assert fields["IBAN"] == "NL02RABO0123456789"
    assert fields["REMI"] == "INV 1"
    assert sepa_fields("Plain text / with slashes") == {}


def test_a_notprovided_end_to_end_id_is_none():
    text = (":20:X\n:25:1\n:60F:C240101EUR0,00\n:61:240101C1,00NTRFNONREF\n"
            ":86:/EREF/NOTPROVIDED/NAME/X\n:62F:C240101EUR1,00\n")
    [statement] = read_mt940(text.encode())
    assert statement.entries[0].end_to_end_id is None
    assert statement.entries[0].counterparty.name == "X"


KNAB = """:20:C140730-1
:25:NL59KNAB0123456789
:28C:1
:60F:C140729EUR3058,98
:61:1407290729D7260,NTRFNONREF//B4G29PGCVO7Q06US
:86:FACTUUR 201403110, 201403113
REK: NL65INGB0123456789/NAAM: PICQER
:61:1407290729C500NTRF29-07-2014 10:05//B4G29PGDCK1QFV3E
:86:12160475 0050001631430920 ORDERID: 264267 MEDIA MARKT ONLINE NE
REK: NL84INGB0234561789/NAAM: MMS ONLINE NEDERLAND B.V.
:62F:D140730EUR3701,02
"""

ASN = """:20:0000000000
:25:NL81ASNB9999999999
:28C:1/1
:60F:C200101EUR444,29
:61:2001010101D65,00NOVBNL47INGB9999999999
hr gjlm paulissen
:86:NL47INGB9999999999 hr gjlm paulissen
Betaling sieraden
:62F:C200101EUR379,29
"""


def test_banks_own_layouts_whole_amounts_and_free_text_parties():
    """Knab writes whole amounts without a decimal comma and the other party as "REK: …/NAAM:
    …"; ASN puts the other account's IBAN where the reference goes (the library's ASN layout)
    and opens the :86: with it. Both read, the balances add up, the party is named."""
    [knab] = read_mt940(KNAB.encode())
    paid, got = knab.entries
    assert (paid.amount, got.amount) == (Decimal("-7260"), Decimal("500"))
    assert knab.opening_balance + paid.amount + got.amount == knab.closing_balance
    assert (paid.counterparty.account, paid.counterparty.name) == ("NL65INGB0123456789", "PICQER")
    assert got.counterparty.name == "MMS ONLINE NEDERLAND B.V."
    [asn] = read_mt940(ASN.encode())
    [entry] = asn.entries
    assert entry.amount == Decimal("-65.00") and asn.closing_balance == Decimal("379.29")
    assert (entry.counterparty.account, entry.counterparty.name) == (
        "NL47INGB9999999999", "hr gjlm paulissen")
    assert entry.reference is None  # the IBAN is the party's, not a reference


def test_a_whole_amount_is_still_digits_only():
    with pytest.raises(StatementError, match="line 8, tag :61:"):
        read_mt940(KNAB.replace("C500NTRF", "C5.00NTRF").encode())


def test_an_intraday_mt942_is_named_not_read_as_a_statement():
    mt942 = ("{1:F01BREXPLPWAXXX0000000000}{2:O942BREXPLPWXXXXN}{4:\n:20:MT942\n:25:/PL1\n"
             ":28C:1\n:34F:PLN0,\n:13D:1402200915+0100\n:61:1402200220D5,00NTRFNONREF\n"
             ":86:020~00X\n:90D:1PLN5,00\n-}")
    with pytest.raises(StatementError, match="MT942 interim"):
        read_statement(mt942.encode())


def test_an_account_with_its_currency_glued_and_a_bank_reference_in_the_details():
    """Old Rabobank files write the account as "1291.99.348EUR"; PostFinance writes its own
    32-digit reference on the :61:'s second line, which is no one's account."""
    old = ONE.replace(":25:NL91ABNA0417164300", ":25:1291.99.348EUR").replace(
        ":61:240302D34,06NMSCNONREF",
        ":61:240302D34,06NMSCNONREF\n20131209007602198765432000000012")
    [statement] = read_mt940(old.encode())
    assert statement.account == "1291.99.348" and statement.currency == "EUR"
    assert statement.entries[1].counterparty.account is None
