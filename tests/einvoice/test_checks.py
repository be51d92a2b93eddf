"""Do our own checks catch a changed total, a wrong check digit or a dropped line?"""

from __future__ import annotations

import pytest
from lxml import etree

from app.einvoice.checks import check_duplicate, iso_currencies, run_checks
from app.einvoice.detect import NS, detect_bytes
from app.einvoice.model import Format
from app.einvoice.reader import read_document
from tests.conftest import shared_data

DIAN = "dian/caja-herramientas-v1.9/ejemplificaciones"
PEPPOL = "ubl/peppol-bis-billing-3/examples"
pytestmark = pytest.mark.shared_data


def load(relative: str):
    detection = detect_bytes((shared_data() / relative).read_bytes())
    assert detection.readable
    return detection.tree


def check(tree):
    document, findings = read_document(tree)
    return findings + run_checks(document)


def codes(findings, severity="error"):
    return sorted(f.code for f in findings if f.severity == severity)


def set_text(tree, path: str, value: str, index: int = 0) -> None:
    tree.getroot().xpath(path, namespaces=NS)[index].text = value


def test_are_the_en16931_and_peppol_examples_clean():
    root = shared_data()
    paths = sorted((root / PEPPOL).glob("*.xml")) + sorted(
        (root / "ubl/en16931/ubl-examples").glob("*.*"))
    checked = 0
    for path in paths:
        detection = detect_bytes(path.read_bytes())
        if detection.format not in (Format.PEPPOL_BIS3, Format.EN16931_UBL):
            continue
        findings = check(detection.tree)
        assert findings == [], (path.name, findings)
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize(("name", "expected"), [
    ("CreditNote.xml", []),
    ("DebitNote.xml", []),
    ("Exportacion.xml", []),
    ("Servicios.xml", []),
    # DIAN's own samples carry real mistakes, which DIAN's XSL reports the same way:
    ("Generica.xml", ["FAR08"]),  # PayableAmount ignores the 1000.00 prepayment
    ("Excluido de IVA.xml", []),
])
def test_do_the_dian_examples_get_the_expected_errors(name, expected):
    assert codes(check(load(f"{DIAN}/{name}"))) == expected


def test_does_a_legal_entity_check_digit_that_disagrees_only_warn():
    findings = check(load(f"{DIAN}/Excluido de IVA.xml"))
    assert codes(findings, "warning") == ["DATE-DUE-BEFORE-ISSUE", "TAXID-CHECK-DIGIT"]


@pytest.mark.parametrize(("path", "value", "code"), [
    ("/*/cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "1301", "BR-CO-10"),
    ("/*/cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "1326", "BR-CO-13"),
    ("/*/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "1656.26", "BR-CO-15"),
    ("/*/cac:LegalMonetaryTotal/cbc:PayableAmount", "1656.35", "BR-CO-16"),
    ("/*/cac:LegalMonetaryTotal/cbc:ChargeTotalAmount", "26", "BR-CO-12"),
    ("/*/cac:TaxTotal/cbc:TaxAmount", "331.26", "BR-CO-14"),
    ("/*/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "300.00", "BR-CO-17"),
    ("/*/cbc:DocumentCurrencyCode", "EUX", "BR-CL-04"),
])
def test_does_changing_one_peppol_value_trigger_its_rule(path, value, code):
    tree = load(f"{PEPPOL}/base-example.xml")
    set_text(tree, path, value)
    assert code in codes(check(tree))


@pytest.mark.parametrize(("path", "value", "code"), [
    ("/*/cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "12700.06", "FAU02"),
    ("/*/cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "12000.00", "FAU03"),
    ("/*/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "14100.00", "FAU04"),
    ("/*/cac:LegalMonetaryTotal/cbc:PayableAmount", "14030.00", "FAR08"),
    ("/*/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "2000.00", "TAX-SUBTOTAL-RATE"),
    ("/*/cbc:LineCountNumeric", "3", "LINE-COUNT"),
    ("/*/cbc:DocumentCurrencyCode", "PESOS", "CURRENCY-CODE"),
])
def test_does_changing_one_dian_total_trigger_dians_rule(path, value, code):
    tree = load(f"{DIAN}/Servicios.xml")
    set_text(tree, path, value)
    assert code in codes(check(tree))


def test_do_debit_note_totals_use_the_debit_note_rule_ids():
    tree = load(f"{DIAN}/DebitNote.xml")
    set_text(tree, "/*/cac:RequestedMonetaryTotal/cbc:PayableAmount", "15994.07")
    findings = check(tree)
    assert codes(findings) == ["DAR08"]
    assert findings[0].path.endswith("cac:RequestedMonetaryTotal/cbc:PayableAmount")


def test_does_dropping_a_line_break_the_line_sum_and_the_line_count():
    tree = load(f"{DIAN}/Servicios.xml")
    line = tree.getroot().find("cac:InvoiceLine", NS)
    line.getparent().remove(line)
    assert {"FAU02", "LINE-COUNT"} <= set(codes(check(tree)))


def test_does_dropping_a_peppol_line_break_br_co_10():
    tree = load(f"{PEPPOL}/base-example.xml")
    line = tree.getroot().find("cac:InvoiceLine", NS)
    line.getparent().remove(line)
    assert codes(check(tree)) == ["BR-CO-10"]


@pytest.mark.parametrize("party", ["AccountingSupplierParty", "AccountingCustomerParty"])
def test_is_a_wrong_nit_check_digit_an_error(party):
    tree = load(f"{DIAN}/CreditNote.xml")
    company = tree.getroot().find(f"cac:{party}/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", NS)
    company.set("schemeID", str((int(company.get("schemeID")) + 1) % 10))
    findings = [f for f in check(tree) if f.severity == "error"]
    assert [f.code for f in findings] == ["TAXID-CHECK-DIGIT"]
    assert party in findings[0].path and "NIT" in findings[0].message_es


def test_is_a_nit_with_letters_a_format_error():
    tree = load(f"{DIAN}/CreditNote.xml")
    set_text(tree, "/*/cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
             "90010828A")
    assert "TAXID-FORMAT" in codes(check(tree))


def test_is_a_due_date_before_the_issue_date_a_warning():
    tree = load(f"{PEPPOL}/base-example.xml")
    set_text(tree, "/*/cbc:DueDate", "2017-01-01")
    findings = check(tree)
    assert codes(findings) == [] and codes(findings, "warning") == ["DATE-DUE-BEFORE-ISSUE"]


def test_does_plain_ubl_get_arithmetic_as_warnings_only():
    tree = load("ubl/oasis-ubl-2.1/examples/UBL-Invoice-2.1-Example.xml")
    findings = check(tree)
    assert codes(findings) == []
    assert "BR-CO-15" in codes(findings, "warning")


def test_do_the_radian_events_get_their_check_digits_checked():
    # The official 030 sample uses made-up NITs whose check digits do not compute.
    findings = check(load(f"{DIAN}/eventos-radian/030 - Acuse_ReciboFEV.xml"))
    assert codes(findings) == ["TAXID-CHECK-DIGIT"] * 3


def test_is_a_duplicate_found_by_supplier_type_and_number():
    document, _ = read_document(load(f"{DIAN}/CreditNote.xml"))
    assert check_duplicate(document, set()) == []
    [finding] = check_duplicate(document, {("800197268", "CreditNote", "NC3")})
    assert finding.code == "DUPLICATE" and finding.severity == "error"
    assert check_duplicate(document, {("800197268", "Invoice", "NC3")}) == []


def test_does_the_currency_list_know_the_portals_currencies():
    assert {"COP", "USD", "EUR", "MXN", "CLP"} <= iso_currencies()
    assert "XYZ" not in iso_currencies()


def test_is_a_document_without_totals_reported_not_crashed():
    tree = load(f"{PEPPOL}/base-example.xml")
    totals = tree.getroot().find("cac:LegalMonetaryTotal", NS)
    totals.getparent().remove(totals)
    findings = check(tree)
    assert "READ-MISSING" in codes(findings)
    assert {"BR-12", "BR-13", "BR-14", "BR-15"} <= set(codes(findings))
    assert etree.QName(tree.getroot()).localname == "Invoice"
