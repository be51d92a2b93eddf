"""CUFE, CUDE, SoftwareSecurityCode and QR content: DIAN's worked vectors and real documents."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import replace

import pytest
from lxml import etree

from app.einvoice import engine
from app.einvoice.cufe import (
    CufeInputs,
    compute_cude,
    compute_cufe,
    compute_event_cude,
    cufe_inputs_from_tree,
    qr_content,
    qr_url,
    software_security_code,
)
from app.einvoice.writer import write_credit_note, write_invoice
from tests.conftest import shared_data
from tests.einvoice import dian_samples as samples
from tests.einvoice.ubl_factory import NS, TEST_TECHNICAL_KEY, make_invoice, safe_parser

ANNEX = CufeInputs(
    number="323200000129",
    issue_date="2019-01-16",
    issue_time="10:53:10-05:00",
    line_extension="1500000.00",
    tax_01="285000.00",
    tax_04="0.00",
    tax_03="0.00",
    payable="1785000.00",
    supplier_id="700085371",
    customer_id="800199436",
    environment="1",
)
ANNEX_KEY = "693ff6f2a553c3646a063436fd4dd9ded0311471"

OWN = CufeInputs(
    number="SETP990000001",
    issue_date="2024-03-15",
    issue_time="14:30:00-05:00",
    line_extension="1000000.00",
    tax_01="190000.00",
    tax_04="0.00",
    tax_03="0.00",
    payable="1190000.00",
    supplier_id="900373076",
    customer_id="901234567",
    environment="2",
)


def _examples():
    return shared_data() / "dian" / "caja-herramientas-v1.9" / "ejemplificaciones"


def test_annex_cufe_vector():
    """Does the CUFE of DIAN's annex example come out as the annex prints it?"""
    assert ANNEX.concatenation(ANNEX_KEY) == (
        "3232000001292019-01-1610:53:10-05:001500000.0001285000.00040.00030.00"
        "1785000.00700085371800199436693ff6f2a553c3646a063436fd4dd9ded03114711"
    )
    assert compute_cufe(ANNEX, ANNEX_KEY) == (
        "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bc"
        "d4c3c3f156c506ed5908f9276f5bd9b4"
    )


def test_own_cufe_example_with_the_test_key():
    """Does the facts sheet's own example (environment 2, DIAN's test key) recompute?"""
    assert compute_cufe(OWN, TEST_TECHNICAL_KEY) == (
        "bdb89fe7dc07ede675325d0618bfd3bf525995a74d0876a1a9ed6e528ca3eecc"
        "169f0ace06a4c91cf26c78ee03a0425a"
    )


def test_credit_note_cude_uses_the_software_pin():
    """Is a credit note's CUDE the same chain with the software PIN instead of the key?"""
    note = CufeInputs(
        number="8110007871",
        issue_date="2019-01-12",
        issue_time="07:00:00-05:00",
        line_extension="5000.00",
        tax_01="950.00",
        tax_04="0.00",
        tax_03="0.00",
        payable="5950.00",
        supplier_id="900373076",
        customer_id="8355990123",
        environment="1",
    )
    cude = compute_cude(note, "01")
    assert cude.startswith("907e4444") and cude.endswith("c7681168")
    assert len(cude) == 96


def test_event_cude_vector():
    """Does an ApplicationResponse event's CUDE (no environment digit) match the vector?"""
    cude = compute_event_cude(
        number="1",
        issue_date="2019-04-30",
        issue_time="19:48:50-05:00",
        sender_id="99998888",
        receiver_id="800197268",
        response_code="030",
        referenced_id="FE123",
        referenced_type_code="01",
        software_pin="11111",
    )
    assert cude.startswith("0d91ba25") and cude.endswith("c0be41f9")


def test_software_security_code_vector():
    """Is SoftwareSecurityCode SHA-384 of SoftwareID + PIN + number?"""
    code = software_security_code("fa326ca7-c1f8-40d3-a6fc-24d7c1040607", "20191", "ACR0021")
    assert code.startswith("55dfb038") and code.endswith("8eaa4a14")


def test_qr_content_lists_the_fields_and_the_lookup_url():
    """Does the QR text carry number, parties, amounts, CUFE and DIAN's test look-up URL?"""
    cufe = compute_cufe(OWN, TEST_TECHNICAL_KEY)
    text = qr_content(OWN, cufe)
    lines = text.split("\n")
    assert lines[0] == "NumFac: SETP990000001"
    assert "ValIva: 190000.00" in lines and "ValOtroIm: 0.00" in lines
    assert "ValTolFac: 1190000.00" in lines and f"CUFE: {cufe}" in lines
    assert lines[-1] == (
        f"https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={cufe}"
    )
    assert qr_url(cufe, "1").startswith("https://catalogo-vpfe.dian.gov.co/")


def test_generated_invoice_recomputes_from_the_tree():
    """Do the strings read back from an invoice we write give the CUFE it declares?"""
    root = make_invoice(3)
    inputs = cufe_inputs_from_tree(root)
    assert inputs.scheme_name == "CUFE-SHA384"
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) == inputs.declared


def test_changed_total_changes_the_cufe():
    """Does changing the payable amount break the CUFE the document declares?"""
    root = make_invoice(2)
    root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    inputs = cufe_inputs_from_tree(root)
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) != inputs.declared


# --- Item 8: the values the formula takes are hashed in the annex's form, not as written -------
#
# Every expected CUFE/CUDE below is sha384 of a concatenation written out by hand from the annex
# (NumFac FecFac HorFac ValFac 01 ValImp1 04 ValImp2 03 ValImp3 ValTot NitOFE NumAdq secret
# TipoAmbiente): none is obtained from the engine.

NUMBER, DATE, TIME = "SETP990000001", "2024-03-15", "14:30:00-05:00"
SUPPLIER, CUSTOMER = "900373076", "901234567"


def _sha384(text: str) -> str:
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


def _amounts_written(root, *, line_extension, iva, inc, ica, payable):
    """Write the CUFE amounts of an invoice/note tree as given; INC/ICA totals added if set."""
    totals = root.find("cac:LegalMonetaryTotal", NS)
    if totals is None:
        totals = root.find("cac:RequestedMonetaryTotal", NS)
    totals.find("cbc:LineExtensionAmount", NS).text = line_extension
    totals.find("cbc:PayableAmount", NS).text = payable
    for tax_total in root.findall("cac:TaxTotal", NS):
        root.remove(tax_total)
    anchor = totals
    for code, name, amount in (("01", "IVA", iva), ("04", "INC", inc), ("03", "ICA", ica)):
        if amount is None:
            continue
        tax_total = etree.Element(f"{{{NS['cac']}}}TaxTotal")
        etree.SubElement(tax_total, f"{{{NS['cbc']}}}TaxAmount", currencyID="COP").text = amount
        sub = etree.SubElement(tax_total, f"{{{NS['cac']}}}TaxSubtotal")
        etree.SubElement(sub, f"{{{NS['cbc']}}}TaxAmount", currencyID="COP").text = amount
        scheme = etree.SubElement(
            etree.SubElement(sub, f"{{{NS['cac']}}}TaxCategory"), f"{{{NS['cac']}}}TaxScheme"
        )
        etree.SubElement(scheme, f"{{{NS['cbc']}}}ID").text = code
        etree.SubElement(scheme, f"{{{NS['cbc']}}}Name").text = name
        anchor.addprevious(tax_total)
    return root


def _ingest(root, **secret):
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return engine.ingest(data, **secret)


# (written amounts, the annex concatenation written by hand with TEST_TECHNICAL_KEY, env 2)
WRITTEN_AMOUNTS = {
    # DIAN's own example: INC and ICA totals written "0", hashed "0.00"
    "zero": (
        dict(line_extension="342000.00", iva="64980.00", inc="0", ica="0", payable="406980.00"),
        "SETP9900000012024-03-1514:30:00-05:00342000.000164980.00040.00030.00406980.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
    ),
    "zero-one-decimal": (
        dict(line_extension="342000.00", iva="64980.00", inc="0.0", ica="0.0", payable="406980.0"),
        "SETP9900000012024-03-1514:30:00-05:00342000.000164980.00040.00030.00406980.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
    ),
    "integer": (
        dict(line_extension="342000", iva="64980", inc=None, ica=None, payable="406980"),
        "SETP9900000012024-03-1514:30:00-05:00342000.000164980.00040.00030.00406980.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
    ),
    "three-decimals": (
        dict(
            line_extension="342000.000",
            iva="64980.000",
            inc="0.000",
            ica=None,
            payable="406980.000",
        ),
        "SETP9900000012024-03-1514:30:00-05:00342000.000164980.00040.00030.00406980.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
    ),
    "one-decimal": (
        dict(
            line_extension="342000.5", iva="64980.1", inc="3420.0", ica="1368", payable="411768.6"
        ),
        "SETP9900000012024-03-1514:30:00-05:00342000.500164980.10043420.00031368.00411768.60"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
    ),
}


@pytest.mark.parametrize("case", list(WRITTEN_AMOUNTS))
def test_invoice_cufe_takes_amounts_with_two_decimals(case):
    """Does an invoice whose amounts are written 0, 0.0, 342000, 342000.000 or 342000.5 keep a
    CUFE computed (as DIAN does) over the two-decimal amounts, and refuse one over the text?"""
    written, concatenation = WRITTEN_AMOUNTS[case]
    root = _amounts_written(make_invoice(1), **written)
    root.find("cbc:UUID", NS).text = _sha384(concatenation)
    result = _ingest(root, technical_key=TEST_TECHNICAL_KEY)
    assert result.cufe.valid is True
    assert result.cufe.computed == _sha384(concatenation)
    assert "FAD06" not in {f.code for f in result.findings}

    # the same amounts hashed as written (what the engine used to do) is not DIAN's CUFE
    as_written = (
        f"{NUMBER}{DATE}{TIME}{written['line_extension']}01{written['iva']}"
        f"04{written['inc'] or '0.00'}03{written['ica'] or '0.00'}{written['payable']}"
        f"{SUPPLIER}{CUSTOMER}{TEST_TECHNICAL_KEY}2"
    )
    if as_written != concatenation:
        root.find("cbc:UUID", NS).text = _sha384(as_written)
        result = _ingest(root, technical_key=TEST_TECHNICAL_KEY)
        assert result.cufe.valid is False
        assert "FAD06" in {f.code for f in result.findings}


def test_more_than_two_decimals_are_truncated_and_rounding_is_accepted():
    """Is 262.569 hashed as the annex's truncated 262.56, with an issuer's half-up 262.57 also
    accepted, and anything else refused?"""
    root = _amounts_written(
        make_invoice(1),
        line_extension="1381.941",
        iva="262.569",
        inc=None,
        ica=None,
        payable="1644.51",
    )
    truncated = (
        "SETP9900000012024-03-1514:30:00-05:001381.9401262.56040.00030.001644.51"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
    )
    rounded = (
        "SETP9900000012024-03-1514:30:00-05:001381.9401262.57040.00030.001644.51"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
    )
    wrong = (
        "SETP9900000012024-03-1514:30:00-05:001381.9401262.58040.00030.001644.51"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
    )
    for concatenation, valid in ((truncated, True), (rounded, True), (wrong, False)):
        root.find("cbc:UUID", NS).text = _sha384(concatenation)
        result = _ingest(root, technical_key=TEST_TECHNICAL_KEY)
        assert result.cufe.valid is valid, concatenation
        assert result.cufe.computed == _sha384(truncated)


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("cbc:IssueTime", "14:30:00.000-05:00"),  # fraction of a second
        ("cbc:IssueTime", "14:30:00"),  # no offset: Colombian legal time
        ("cbc:IssueDate", "2024-03-15-05:00"),  # xsd:date with a timezone
        ("cbc:ID", " SETP990000001 "),
        ("cbc:ProfileExecutionID", "02"),
        ("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", "900.373.076"),
        ("cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", "901234567-7"),
    ],
)
def test_other_cufe_fields_take_the_annex_form(field, written):
    """Do the date, time (with its offset), number, environment and NITs written in another
    lexical form still give the CUFE of the annex's form?"""
    concatenation = (
        "SETP9900000012024-03-1514:30:00-05:00342000.000164980.00040.00030.00406980.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
    )
    root = _amounts_written(
        make_invoice(1),
        line_extension="342000.00",
        iva="64980.00",
        inc=None,
        ica=None,
        payable="406980.00",
    )
    root.find(field, NS).text = written
    root.find("cbc:UUID", NS).text = _sha384(concatenation)
    result = _ingest(root, technical_key=TEST_TECHNICAL_KEY)
    assert result.cufe.valid is True


def test_a_utc_time_keeps_its_own_offset():
    """Is an IssueTime written in UTC ('Z') hashed as +00:00, not silently moved to -05:00?"""
    inputs = replace(OWN, issue_time="19:30:00Z")
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) == _sha384(
        "SETP9900000012024-03-1519:30:00+00:001000000.0001190000.00040.00030.001190000.00"
        "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
    )


@pytest.mark.parametrize("written", ["1.190.000,00", "1190000,00", "abc", "", "NaN", "1e6"])
def test_an_amount_that_is_not_a_plain_number_never_recomputes(written):
    """Is an amount with thousands separators, a decimal comma, or no number at all kept as
    written (so no CUFE over a guessed value is accepted)?"""
    root = _amounts_written(
        make_invoice(1),
        line_extension="1000000.00",
        iva="190000.00",
        inc=None,
        ica=None,
        payable=written,
    )
    for guess in ("1190000.00", "0.00", "1000000.00"):
        root.find("cbc:UUID", NS).text = _sha384(
            f"SETP9900000012024-03-1514:30:00-05:001000000.0001190000.00040.00030.00{guess}"
            "900373076901234567fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"
        )
        assert _ingest(root, technical_key=TEST_TECHNICAL_KEY).cufe.valid is False


NOTE_CASES = {
    "zero": (
        dict(line_extension="5000", iva="950", inc="0", ica="0.0", payable="5950"),
        "NC1012024-03-2009:00:00-05:005000.0001950.00040.00030.005950.00900373076901234567123452",
    ),
    "three-decimals": (
        dict(line_extension="5000.000", iva="950.000", inc=None, ica="0", payable="5950.000"),
        "NC1012024-03-2009:00:00-05:005000.0001950.00040.00030.005950.00900373076901234567123452",
    ),
    "one-decimal": (
        dict(line_extension="5000.5", iva="950.1", inc=None, ica=None, payable="5950.6"),
        "NC1012024-03-2009:00:00-05:005000.5001950.10040.00030.005950.60900373076901234567123452",
    ),
}


@pytest.mark.parametrize("case", list(NOTE_CASES))
def test_credit_note_cude_takes_amounts_with_two_decimals(case):
    """Does a credit note's CUDE (software PIN as secret) take its amounts with two decimals?"""
    invoice = samples.invoice()
    note = samples.credit_note(invoice, "0" * 96)
    raw = write_credit_note(note, software=samples.SOFTWARE)
    written, concatenation = NOTE_CASES[case]
    root = _amounts_written(etree.fromstring(raw, safe_parser()), **written)
    root.find("cbc:UUID", NS).text = _sha384(concatenation)
    result = _ingest(root, software_pin=samples.SOFTWARE.pin)
    assert result.cufe.valid is True
    assert "CAD06" not in {f.code for f in result.findings}
    root.find("cbc:UUID", NS).text = _sha384(concatenation.replace("950", "951", 1))
    result = _ingest(root, software_pin=samples.SOFTWARE.pin)
    assert result.cufe.valid is False and "CAD06" in {f.code for f in result.findings}


def test_written_documents_carry_the_values_they_hash():
    """Does the writer write IssueTime with its offset and NITs without separators, so the
    strings in the XML are exactly the ones hashed?"""
    invoice = dataclasses.replace(samples.invoice(), issue_time="14:30:00")
    invoice.customer = dataclasses.replace(invoice.customer, tax_id="901.234.567")
    raw = write_invoice(invoice, numbering=samples.NUMBERING, software=samples.SOFTWARE)
    root = etree.fromstring(raw, safe_parser())
    assert root.findtext("cbc:IssueTime", None, NS) == "14:30:00-05:00"
    customer_id = root.findtext(
        "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", None, NS
    )
    assert customer_id == "901234567"
    inputs = cufe_inputs_from_tree(root)
    assert inputs.canonical() == inputs  # every value already in the annex's form
    assert compute_cufe(inputs, samples.TECHNICAL_KEY) == inputs.declared


def test_event_cude_takes_date_time_and_ids_in_the_annex_form():
    """Does an event's CUDE hash its time with an offset and NITs without separators?"""
    expected = _sha384("12019-04-3019:48:50-05:0099998888800197268030FE1230111111")
    assert expected.startswith("0d91ba25")
    for time, sender in (("19:48:50", "99998888"), ("19:48:50.0-05:00", "99.998.888")):
        assert (
            compute_event_cude(
                number="1",
                issue_date="2019-04-30",
                issue_time=time,
                sender_id=sender,
                receiver_id="800197268-4",
                response_code="030",
                referenced_id="FE123",
                referenced_type_code="01",
                software_pin="11111",
            )
            == expected
        )


def test_absent_taxes_default_to_zero_and_withholdings_never_count():
    """Do missing INC/ICA default to 0.00, and does a ReteFuente total stay out?"""
    root = make_invoice(1)
    withholding = etree.SubElement(root, f"{{{NS['cac']}}}WithholdingTaxTotal")
    etree.SubElement(withholding, f"{{{NS['cbc']}}}TaxAmount").text = "55.00"
    inputs = cufe_inputs_from_tree(root)
    assert (inputs.tax_04, inputs.tax_03) == ("0.00", "0.00")
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) == inputs.declared


@pytest.mark.shared_data
def test_excluido_de_iva_recomputes_with_dian_test_key():
    """Does DIAN's 'Excluido de IVA' example's CUFE recompute with DIAN's test key?"""
    tree = etree.parse(str(_examples() / "Excluido de IVA.xml"), safe_parser())
    inputs = cufe_inputs_from_tree(tree)
    assert inputs.number == "SETP990000001"
    assert inputs.issue_time == "09:15:23-05:00"
    assert (inputs.tax_01, inputs.tax_04, inputs.tax_03) == ("0.00", "0.00", "0.00")
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) == inputs.declared


@pytest.mark.shared_data
def test_excluido_de_iva_with_a_changed_total_does_not_recompute():
    """Does editing the payable amount of the DIAN example break its CUFE?"""
    tree = etree.parse(str(_examples() / "Excluido de IVA.xml"), safe_parser())
    tree.getroot().find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "50001.00"
    inputs = cufe_inputs_from_tree(tree)
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) != inputs.declared


@pytest.mark.shared_data
def test_facho_signed_sample_recomputes_with_dian_test_key():
    """Does the DIAN-format invoice from facho's signer (amounts 100.00/19.00/0.00) still
    recompute with DIAN's test key now that values are hashed in the annex's form?"""
    tree = etree.parse(str(shared_data() / "dian" / "legacy" / "xmlusigned.xml"), safe_parser())
    inputs = cufe_inputs_from_tree(tree)
    assert inputs.number == "SETP990000001"
    assert compute_cufe(inputs, TEST_TECHNICAL_KEY) == inputs.declared
