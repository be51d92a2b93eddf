"""Does the reader get the right number, dates, parties and totals out of real documents?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.einvoice.detect import detect_bytes
from app.einvoice.model import DocumentType, Format
from app.einvoice.reader import read_document
from tests.conftest import shared_data

DIAN = "dian/caja-herramientas-v1.9/ejemplificaciones"
pytestmark = pytest.mark.shared_data


def read(relative: str):
    detection = detect_bytes((shared_data() / relative).read_bytes())
    assert detection.readable, detection.findings
    document, findings = read_document(detection.tree)
    assert findings == []
    return document


def test_is_the_dian_excluded_invoice_read_exactly():
    doc = read(f"{DIAN}/Excluido de IVA.xml")
    assert doc.document_type is DocumentType.INVOICE and doc.is_dian and doc.is_signed
    assert doc.number == "SETP990000001"
    assert doc.uuid.startswith("86e67873712270b6") and doc.uuid_scheme == "CUFE-SHA384"
    assert doc.uuid_environment == "2" and doc.profile_execution_id == "2"
    assert doc.customization_id == "05" and doc.type_code == "01"
    assert doc.issue_date == dt.date(2024, 3, 15) and doc.issue_time == "09:15:23-05:00"
    assert doc.due_date == dt.date(2019, 6, 30)
    assert doc.currency == "COP" and doc.line_count == 1
    assert (doc.supplier.tax_id, doc.supplier.check_digit, doc.supplier.id_scheme) == (
        "800197268", "4", "31")
    assert doc.supplier.legal_check_digit == "9"  # DIAN's sample disagrees with itself here
    assert doc.supplier.registration_name == "DIAN" and doc.supplier.name == "Nombre Tienda"
    assert doc.supplier.email == "eric.valencia@ket.co"
    assert doc.supplier.address.city == "Bogotá" and doc.supplier.address.country == "CO"
    assert doc.supplier.tax_level_codes == ["R-99-PN"] and doc.supplier.account_type == "1"
    assert (doc.customer.tax_id, doc.customer.check_digit) == ("900108281", "3")
    assert doc.customer.display_name == "OPTICAS GMO COLOMBIA S A S"
    assert doc.totals.line_extension == Decimal("50000.00")
    assert doc.totals.tax_exclusive == Decimal("0.00")
    assert doc.totals.payable == Decimal("50000.00")
    assert doc.totals.raw["PayableAmount"] == "50000.00"
    assert doc.tax_totals == []
    [line] = doc.lines
    assert (line.id, line.quantity, line.unit_code) == ("1", Decimal("1.00"), "EA")
    assert line.description == "GALON DE ACEITE 5 LTS" and line.seller_item_id == "AOHV84-225"
    assert line.additional_item_ids == ["6543542313534"] and line.price == Decimal("50000.00")
    [means] = doc.payment_means
    assert (means.id, means.code, means.payment_id) == ("2", "41", "1234")
    dian = doc.dian
    assert dian.software_id == "56f2ae4e-9812-4fad-9255-08fcfcd5ccb0"
    assert (dian.prefix, dian.range_from, dian.range_to) == ("SETP", "990000000", "995000000")
    assert dian.authorization == "18760000001"
    assert dian.authorization_end == dt.date(2030, 1, 19)
    assert (dian.software_provider_id, dian.software_provider_check_digit) == ("800197268", "4")
    assert dian.security_code.startswith("a8d18e4e") and "CUFE=" in dian.qr_code
    assert doc.duplicate_key() == ("800197268", "Invoice", "SETP990000001")


def test_is_a_dian_debit_note_read_with_its_reference_and_requested_totals():
    doc = read(f"{DIAN}/DebitNote.xml")
    assert doc.document_type is DocumentType.DEBIT_NOTE
    assert doc.number == "ND1" and doc.uuid_scheme == "CUDE-SHA384" and doc.currency == "USD"
    assert doc.totals.payable == Decimal("14994.07")
    assert doc.totals.raw["LineExtensionAmount"] == "12600.06"
    [ref] = doc.billing_references
    assert ref.id == "SETP990000015" and ref.uuid_scheme == "CUFE-SHA384"
    assert ref.issue_date == dt.date(2019, 6, 21)
    [disc] = doc.discrepancies
    assert (disc.reference_id, disc.code) == ("SETP990000015", "1")
    assert doc.order_reference.id == "13.09.2018--GMO"
    [line] = doc.lines
    assert line.quantity == Decimal("1.000000") and line.line_extension == Decimal("12600.06")
    assert line.tax_totals[0].tax_amount == Decimal("2394.01")


def test_is_a_dian_credit_note_read_with_tax_totals_per_scheme():
    doc = read(f"{DIAN}/CreditNote.xml")
    assert doc.document_type is DocumentType.CREDIT_NOTE and doc.number == "NC3"
    assert doc.type_code == "91"
    assert doc.tax_amount("01") == Decimal("2394.01")
    assert [t.tax_amount_raw for t in doc.tax_totals] == ["2394.01", "0.00", "0.00"]
    assert {t.scheme_id for t in doc.tax_totals} == {"01", "04", "03"}
    assert doc.supplier.email == "marciaz@sistemas.net"


def test_is_a_radian_event_read_as_an_application_response():
    doc = read(f"{DIAN}/eventos-radian/030 - Acuse_ReciboFEV.xml")
    assert doc.document_type is DocumentType.APPLICATION_RESPONSE
    assert doc.number == "ACR0021" and doc.uuid_scheme == "CUDE-SHA384"
    assert doc.issue_time == "18:30:37-05:00"
    assert (doc.supplier.tax_id, doc.supplier.check_digit) == ("900373979", "9")
    assert doc.customer.tax_id == "900373972"
    [response] = doc.responses
    assert response.response_code == "030"
    assert response.reference_id == "SETG980000358"
    assert response.reference_uuid_scheme == "CUFE-SHA384"
    assert response.reference_type_code == "01"
    assert response.issuer_person_id == "2589846132"
    assert response.issuer_person_name == "solo Pruebas"
    assert doc.dian.software_id == "fa326ca7-c1f8-40d3-a6fc-24d7c1040607"


def test_is_the_peppol_base_example_read():
    doc = read("ubl/peppol-bis-billing-3/examples/base-example.xml")
    assert not doc.is_dian and doc.number == "Snippet1" and doc.currency == "EUR"
    assert doc.issue_date == dt.date(2017, 11, 13) and doc.due_date == dt.date(2017, 12, 1)
    assert doc.supplier.display_name == "SupplierOfficialName Ltd"
    assert doc.supplier.tax_id == "GB1232434" and doc.supplier.id_scheme == "VAT"
    assert doc.supplier.endpoint_id == "9482348239847239874"
    assert doc.customer.display_name == "Buyer Official Name"
    assert doc.customer.tax_id == "SE4598375937"
    t = doc.totals
    assert (t.line_extension, t.tax_exclusive, t.tax_inclusive, t.charge, t.payable) == (
        Decimal("1300"), Decimal("1325"), Decimal("1656.25"), Decimal("25"), Decimal("1656.25"))
    assert len(doc.lines) == 2 and doc.lines[0].quantity == Decimal("7")
    assert doc.lines[0].price == Decimal("400") and doc.lines[0].name == "item name"
    assert doc.tax_totals[0].tax_amount == Decimal("331.25")
    assert doc.payment_means[0].account_id == "IBAN32423940"


def test_is_an_allowance_and_attachment_example_read():
    doc = read("ubl/peppol-bis-billing-3/examples/Allowance-example.xml")
    t = doc.totals
    assert (t.allowance, t.charge, t.prepaid, t.payable) == (
        Decimal("200"), Decimal("200"), Decimal("1000"), Decimal("6125.00"))
    assert sorted(a.charge for a in doc.allowance_charges) == [False, True]
    assert [a.id for a in doc.attachments] == ["DR35141", "ts12345"]
    assert doc.attachments[1].uri == "www.techspec.no"


def test_is_an_en16931_example_read():
    doc = read("ubl/en16931/ubl-examples/ubl-tc434-example1.xml")
    assert doc.number == "12115118" and doc.supplier.display_name == "De Koksmaat"
    assert doc.totals.payable == Decimal("250.33") and len(doc.lines) == 20


def test_is_a_peppol_credit_note_read_with_its_billing_reference():
    doc = read("ubl/peppol-bis-billing-3/examples/base-creditnote-correction.xml")
    assert doc.document_type is DocumentType.CREDIT_NOTE
    assert [r.id for r in doc.billing_references] == ["Snippet1"]


def test_is_every_readable_shared_example_read_without_an_exception():
    root = shared_data()
    count = 0
    for path in sorted(root.rglob("*.xml")) + sorted(root.rglob("*.XML")):
        if "unit-" in str(path):
            continue
        detection = detect_bytes(path.read_bytes())
        if not detection.readable:
            continue
        document, findings = read_document(detection.tree)
        count += 1
        assert document is not None, path
        assert document.number, path
        if detection.format in (Format.DIAN_UBL21, Format.PEPPOL_BIS3, Format.EN16931_UBL):
            assert findings == [], (path, findings)
            if document.document_type is not DocumentType.APPLICATION_RESPONSE:
                assert document.totals.payable is not None, path
                assert document.lines, path
                assert document.supplier.display_name, path
    assert count >= 60


def test_are_unreadable_amounts_and_dates_findings_not_crashes():
    xml = b"""<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
      xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
      xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <cbc:ID>X1</cbc:ID><cbc:IssueDate>2024-13-45</cbc:IssueDate>
      <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1O0.00</cbc:PayableAmount>
      </cac:LegalMonetaryTotal></Invoice>"""
    document, findings = read_document(detect_bytes(xml).tree)
    assert document.number == "X1" and document.issue_date is None
    assert document.totals.payable is None and document.totals.raw["PayableAmount"] == "1O0.00"
    assert sorted(f.code for f in findings) == ["READ-DATE", "READ-NUMBER"]


def test_does_each_field_mean_what_find_meant_first_match_in_document_order():
    # The reader groups each element's children by tag in one pass; a field must still be what
    # find("cac:A/cbc:B") gave: the first match over every A, skipping comments, other
    # namespaces and an A without B; a list field gathers every match, in order.
    xml = b"""<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
      xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
      xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
      xmlns:x="urn:example:other">
      <x:ID>not this</x:ID><!-- a comment --><cbc:ID> INV-1 </cbc:ID><cbc:ID>INV-2</cbc:ID>
      <cbc:IssueDate>2024-03-15</cbc:IssueDate>
      <cac:LegalMonetaryTotal><cbc:PayableAmount>10.00</cbc:PayableAmount></cac:LegalMonetaryTotal>
      <cac:InvoiceLine><cbc:ID>1</cbc:ID>
        <cac:Item><cbc:Description>a</cbc:Description><cbc:Name>first item</cbc:Name></cac:Item>
        <cac:Item><cbc:Description>b</cbc:Description><cbc:Name>second item</cbc:Name>
          <cac:AdditionalItemIdentification><cbc:ID>X</cbc:ID></cac:AdditionalItemIdentification>
        </cac:Item>
        <cac:Price><cbc:BaseQuantity>2</cbc:BaseQuantity></cac:Price>
        <cac:Price><cbc:PriceAmount>5.00</cbc:PriceAmount><cbc:BaseQuantity>3</cbc:BaseQuantity>
        </cac:Price>
      </cac:InvoiceLine></Invoice>"""
    document, findings = read_document(detect_bytes(xml).tree)
    assert findings == []
    assert document.number == "INV-1"
    [line] = document.lines
    assert line.name == "first item"  # from the first Item only, as before
    assert line.description == "a b" and line.additional_item_ids == ["X"]  # every Item
    assert line.price == Decimal("5.00")  # the first Price has none: the second one's
    assert line.base_quantity == Decimal("2")
