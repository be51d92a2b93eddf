"""CUFE, CUDE, SoftwareSecurityCode and QR content: DIAN's worked vectors and real documents."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

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
from tests.conftest import shared_data
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


def test_amounts_are_hashed_exactly_as_written():
    """Is '100.0' hashed as written rather than reformatted to '100.00'?"""
    assert compute_cufe(replace(OWN, payable="1190000.0"), TEST_TECHNICAL_KEY) != (
        compute_cufe(OWN, TEST_TECHNICAL_KEY)
    )
    root = make_invoice(1)
    root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = " 1190.0 "
    assert cufe_inputs_from_tree(root).payable == "1190.0"


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
