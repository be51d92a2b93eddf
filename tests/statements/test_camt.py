"""camt.053: every version alike, batched entries split, signs, dates, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.statements import StatementError, read_statement
from app.statements.camt import read_camt053

V8 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def party(role: str, name: str, iban: str) -> str:
    return (f"<{role}><Pty><Nm>{name}</Nm></Pty></{role}>"
            f"<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct>")


def tx(amount: str, e2e: str, ref: str, *, ind: str = "", ccy: str = "EUR",
       parties: str = "") -> str:
    own = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    return (f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>"
            f"<Amt Ccy=\"{ccy}\">{amount}</Amt>{own}<RltdPties>{parties}</RltdPties>"
            f"<RmtInf><Ustrd>{ref}</Ustrd></RmtInf></TxDtls>")


def ntry(amount: str, ind: str, *, txs: str = "", booked: str = "<Dt>2024-03-01</Dt>",
         extra: str = "", ccy: str = "EUR") -> str:
    return (f"<Ntry><Amt Ccy=\"{ccy}\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>"
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt>{booked}</BookgDt>"
            f"<ValDt><Dt>2024-03-02</Dt></ValDt><AcctSvcrRef>BANK-{amount}</AcctSvcrRef>"
            f"{extra}<NtryDtls>{txs}</NtryDtls></Ntry>")


def bal(code: str, amount: str, ind: str = "CRDT", ccy: str = "EUR") -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy=\"{ccy}\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>"
            f"<Dt><Dt>2024-03-01</Dt></Dt></Bal>")


def stmt(body: str, *, iban: str = "ES9121000418450200051332", ccy: str = "<Ccy>EUR</Ccy>",
         sid: str = "S1") -> str:
    return (f"<Stmt><Id>{sid}</Id><Acct><Id><IBAN>{iban}</IBAN></Id>{ccy}</Acct>"
            f"{body}</Stmt>")


def doc(*stmts: str, ns: str = V8) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><BkToCstmrStmt>'
            f"<GrpHdr><MsgId>M1</MsgId></GrpHdr>{''.join(stmts)}</BkToCstmrStmt></Document>"
            ).encode()


BATCH = ntry("600.00", "CRDT", txs=(
    tx("100.00", "E2E-1", "Invoice FV-1", parties=party("Dbtr", "Alpha SA", "ES11"))
    + tx("200.00", "E2E-2", "Invoice FV-2", parties=party("Dbtr", "Beta SL", "ES22"))
    + tx("300.00", "NOTPROVIDED", "Invoice FV-3", parties=party("Dbtr", "Gamma", "ES33"))))


def test_a_batched_entry_of_three_transactions_becomes_three_entries_with_their_own_parties():
    [statement] = read_camt053(doc(stmt(bal("OPBD", "1000.00") + bal("CLBD", "1600.00") + BATCH)))
    assert [e.amount for e in statement.entries] == [Decimal("100.00"), Decimal("200.00"),
                                                     Decimal("300.00")]
    assert [e.counterparty.name for e in statement.entries] == ["Alpha SA", "Beta SL", "Gamma"]
    assert [e.counterparty.account for e in statement.entries] == ["ES11", "ES22", "ES33"]
    assert [e.reference for e in statement.entries] == ["Invoice FV-1", "Invoice FV-2",
                                                        "Invoice FV-3"]
    assert [e.end_to_end_id for e in statement.entries] == ["E2E-1", "E2E-2", None]
    assert all(e.bank_reference == "BANK-600.00" for e in statement.entries)
    assert statement.balance_gap() == 0
    assert statement.account == "ES9121000418450200051332"


def test_a_batch_whose_parts_do_not_add_up_stays_one_entry():
    entry = ntry("600.00", "CRDT", txs=tx("100.00", "A", "x") + tx("200.00", "B", "y"))
    [statement] = read_camt053(doc(stmt(entry)))
    assert [e.amount for e in statement.entries] == [Decimal("600.00")]


def test_a_batch_with_a_reversed_part_signs_it_from_its_own_indicator():
    entry = ntry("50.00", "DBIT", txs=tx("80.00", "A", "x", ind="DBIT")
                 + tx("30.00", "B", "y", ind="CRDT"))
    [statement] = read_camt053(doc(stmt(entry)))
    assert [e.amount for e in statement.entries] == [Decimal("-80.00"), Decimal("30.00")]


def test_debits_are_negative_and_take_the_creditor_as_counterparty():
    entry = ntry("45.10", "DBIT", txs=tx(
        "45.10", "E2E-9", "Rent March",
        parties=party("Dbtr", "Us", "ES00") + party("Cdtr", "Landlord SL", "ES99")))
    [statement] = read_camt053(doc(stmt(bal("OPBD", "10.00", "DBIT") + bal("CLBD", "55.10",
                                                                            "DBIT") + entry)))
    [e] = statement.entries
    assert e.amount == Decimal("-45.10")
    assert e.counterparty.name == "Landlord SL" and e.counterparty.account == "ES99"
    assert statement.opening_balance == Decimal("-10.00")
    assert statement.closing_balance == Decimal("-55.10")
    assert statement.balance_gap() == 0


def test_two_statements_in_one_file():
    data = doc(stmt(bal("OPBD", "1.00") + ntry("2.00", "CRDT"), sid="A"),
               stmt(bal("PRCD", "3.00") + ntry("4.00", "DBIT"), iban="NL91ABNA0417164300",
                    sid="B"))
    first, second = read_camt053(data)
    assert (first.statement_id, second.statement_id) == ("A", "B")
    assert second.account == "NL91ABNA0417164300"
    assert second.opening_balance == Decimal("3.00")  # PRCD when there is no OPBD
    assert second.entries[0].amount == Decimal("-4.00")


def test_five_decimals_are_kept_as_written():
    [statement] = read_camt053(doc(stmt(ntry("1234.56789", "CRDT", ccy="BHD"), ccy="")))
    assert str(statement.entries[0].amount) == "1234.56789"
    assert statement.entries[0].currency == "BHD"
    assert statement.currency == "BHD"  # no Acct/Ccy: taken from the entries


def test_datetime_dates_give_their_date_part_and_other_account_ids_are_read():
    entry = ntry("1.00", "CRDT", booked="<DtTm>2024-02-29T23:59:59+01:00</DtTm>")
    data = doc(stmt(entry).replace("<IBAN>ES9121000418450200051332</IBAN>",
                                   "<Othr><Id>0012345678</Id></Othr>"))
    [statement] = read_camt053(data)
    assert statement.entries[0].booking_date == dt.date(2024, 2, 29)
    assert statement.entries[0].value_date == dt.date(2024, 3, 2)
    assert statement.account == "0012345678"


def test_the_namespace_version_does_not_matter():
    for version in ("02", "04", "13"):
        ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
        [statement] = read_camt053(doc(stmt(ntry("9.99", "CRDT")), ns=ns))
        assert statement.entries[0].amount == Decimal("9.99")


def test_pending_entries_are_not_booked_entries():
    pending = ntry("5.00", "CRDT").replace("<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>")
    [statement] = read_camt053(doc(stmt(pending + ntry("6.00", "CRDT"))))
    assert [e.amount for e in statement.entries] == [Decimal("6.00")]
    assert statement.pending == 1  # counted, so that the import can say so


@pytest.mark.parametrize(("replace", "message"), [
    ("<Amt Ccy=\"EUR\">7.00</Amt>", "Stmt 2, Ntry 1: Amt 'abc' is not an amount"),
    ("<CdtDbtInd>CRDT</CdtDbtInd><Sts>", "Stmt 2, Ntry 1: CdtDbtInd 'CREDIT' is neither CRDT"),
    ("<Dt>2024-03-01</Dt></BookgDt>", "Stmt 2, Ntry 1: BookgDt '2024-02-30' is not a date"),
])
def test_errors_name_the_statement_entry_and_element(replace, message):
    broken = {
        "<Amt Ccy=\"EUR\">7.00</Amt>": "<Amt Ccy=\"EUR\">abc</Amt>",
        "<CdtDbtInd>CRDT</CdtDbtInd><Sts>": "<CdtDbtInd>CREDIT</CdtDbtInd><Sts>",
        "<Dt>2024-03-01</Dt></BookgDt>": "<Dt>2024-02-30</Dt></BookgDt>",
    }[replace]
    second = stmt(ntry("7.00", "CRDT")).replace(replace, broken)
    with pytest.raises(StatementError) as caught:
        read_camt053(doc(stmt(ntry("1.00", "CRDT")), second))
    assert message in caught.value.message


@pytest.mark.parametrize("kind", ["camt.052.001.08", "camt.054.001.08", "pain.001.001.09"])
def test_other_iso_messages_are_refused_by_name(kind):
    data = doc(stmt(ntry("1.00", "CRDT")), ns=f"urn:iso:std:iso:20022:tech:xsd:{kind}")
    with pytest.raises(StatementError) as caught:
        read_camt053(data)
    assert f"ISO 20022 {kind}" in caught.value.message
    assert "not a camt.053" in caught.value.message
    fmt_error = pytest.raises(StatementError, read_statement, data)
    assert kind in fmt_error.value.message


def test_an_invoice_xml_is_refused_naming_its_root():
    data = (b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
            b"<ID>1</ID></Invoice>")
    with pytest.raises(StatementError, match=r"its root is \{urn:oasis.*\}Invoice"):
        read_statement(data)


def test_doctype_and_entities_are_refused():
    data = doc(stmt(ntry("1.00", "CRDT"))).replace(
        b"<Document", b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document')
    with pytest.raises(StatementError, match="DOCTYPE or entities"):
        read_camt053(data)


def test_malformed_and_truncated_xml_say_so():
    data = doc(stmt(ntry("1.00", "CRDT")))
    with pytest.raises(StatementError, match="not well-formed XML"):
        read_camt053(data[: len(data) // 2])
    fmt, _ = read_statement(data)
    assert fmt == "camt053"
    with pytest.raises(StatementError, match="not well-formed XML"):
        read_statement(data[: len(data) // 2])


def test_a_missing_amount_is_named():
    data = doc(stmt(ntry("1.00", "CRDT").replace('<Amt Ccy="EUR">1.00</Amt>', "")))
    with pytest.raises(StatementError, match="Stmt 1, Ntry 1: Amt is missing"):
        read_camt053(data)
