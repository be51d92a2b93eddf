"""Writing RADIAN events (ApplicationResponse 030–034) and the AttachedDocument container.

Each event is written from the canonical model, signed with the buyer's (or, for 034, the
issuer's) self-signed test certificate, checked against DIAN's XSD and compiled XSL, verified and
read back. Rules of DIAN's compiled XSL (caja de herramientas 1.9) that events do not satisfy:
  AAD03 (warning)     ProfileID 'DIAN 2.1: ApplicationResponse de la Factura Electrónica de
                      Venta', as DIAN's own 030 and 032 examples write it (wording drift).
  DIAN-XSL (warning)  the invoice rule on CustomizationID (01–12) fires on events too, which DIAN's
                      examples write as '1'; the rule has no id for ApplicationResponse.
  AAH03 (error, 034 only)  the XSL's list of event codes (…030, 031, 032, 033, 040, 041) predates
                      RADIAN's tacit acceptance 034, which DIAN's later annex defines.
The AttachedDocument is not a document type of DIAN's XSL: it is checked against DIAN's XSD.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from datetime import UTC, datetime

import pytest
from lxml import etree

from app.einvoice import cufe, rules
from app.einvoice.detect import detect_bytes
from app.einvoice.events import (
    CLAIM_REASONS,
    EVENTS,
    Person,
    event_cude_inputs,
    make_event,
    write_attached_document,
    write_event,
)
from app.einvoice.model import DocumentReference, DocumentType, Format
from app.einvoice.reader import read_document
from app.einvoice.signature import (
    load_pkcs12,
    make_test_certificate,
    sign_document,
    verify_document,
)
from app.einvoice.writer import WriterError, write_invoice
from tests.conftest import shared_data
from tests.einvoice import dian_samples as samples
from tests.einvoice.ubl_factory import NS, parse

PERSON = Person(
    id="1020304050",
    first_name="Ana",
    family_name="Gómez",
    job_title="Jefe de compras",
    department="Compras",
)
RECEIPT = DocumentReference(id="EV0321", uuid="ab" * 48, uuid_scheme="CUDE-SHA384")
EVENT_DATE, EVENT_TIME = dt.date(2024, 3, 16), "10:00:00-05:00"


@pytest.fixture(autouse=True)
def _clean():
    """The engine needs neither the app nor the database: skip conftest's table cleaning."""
    yield


def _credentials(name: str, nit: str):
    data, password = make_test_certificate(
        name, nit, not_before=datetime(2019, 1, 1, tzinfo=UTC), days=365 * 20
    )
    return load_pkcs12(data, password)


@pytest.fixture(scope="module")
def supplier_keys():
    return _credentials("Proveedor Andino S.A.S.", samples.SUPPLIER_NIT)


@pytest.fixture(scope="module")
def buyer_keys():
    return _credentials("Cliente Caribe S.A.S.", samples.CUSTOMER_NIT)


@pytest.fixture(scope="module")
def invoice(supplier_keys):
    """The supplier's signed invoice, as bytes and as the model read back from them."""
    key, cert, _ = supplier_keys
    raw = write_invoice(samples.invoice(), numbering=samples.NUMBERING, software=samples.SOFTWARE)
    signed = sign_document(raw, key=key, certificate=cert)
    doc, _ = read_document(parse(signed))
    return signed, doc


def _event(code: str, invoice_doc, **kwargs):
    defaults = {
        "claim_reason": "02" if code == "031" else None,
        "person": PERSON if code in ("030", "032") else None,
        "receipt": RECEIPT if code == "034" else None,
    }
    return make_event(
        code,
        number=f"EV{code}1",
        invoice=invoice_doc,
        issue_date=EVENT_DATE,
        issue_time=EVENT_TIME,
        **{**defaults, **kwargs},
    )


@pytest.fixture(scope="module")
def events(invoice, supplier_keys, buyer_keys) -> dict:
    """Every event about the invoice: model and signed bytes (034 signed by the issuer)."""
    written = {}
    for code in EVENTS:
        key, cert, _ = supplier_keys if code == "034" else buyer_keys
        doc = _event(code, invoice[1])
        written[code] = (
            doc,
            sign_document(write_event(doc, software=samples.SOFTWARE), key=key, certificate=cert),
        )
    return written


# --- Without ../shared/data ---------------------------------------------------------------------


@pytest.mark.parametrize("code", list(EVENTS))
def test_event_verifies_and_reads_back_with_its_code(events, invoice, code):
    """Does each event verify as its sender's, and read back with its code and invoice?"""
    doc, signed = events[code]
    sender = samples.SUPPLIER_NIT if code == "034" else samples.CUSTOMER_NIT
    result = verify_document(parse(signed), supplier_tax_id=sender)
    assert result.valid and not result.findings, result.findings
    back, findings = read_document(parse(signed))
    assert findings == []
    assert back.document_type is DocumentType.APPLICATION_RESPONSE
    assert (back.profile_id, back.customization_id) == (
        "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta",
        "1",
    )
    assert back.supplier.tax_id == sender
    [response] = back.responses
    assert response == doc.responses[0]
    assert (response.response_code, response.description) == (code, EVENTS[code])
    assert (response.reference_id, response.reference_uuid, response.reference_type_code) == (
        invoice[1].number,
        invoice[1].uuid,
        "01",
    )
    assert back.dian.authorization == ""  # no InvoiceControl on events


@pytest.mark.parametrize("code", list(EVENTS))
def test_event_cude_recomputes_with_the_software_pin(events, invoice, code):
    """Does the event's CUDE follow DIAN's formula over the strings written?"""
    _, signed = events[code]
    root = parse(signed)
    sender, receiver = (
        (samples.SUPPLIER_NIT, samples.CUSTOMER_NIT)
        if code == "034"
        else (samples.CUSTOMER_NIT, samples.SUPPLIER_NIT)
    )
    expected = cufe.sha384_hex(
        f"EV{code}12024-03-1610:00:00-05:00{sender}{receiver}{code}"
        f"SETP99000010101{samples.SOFTWARE.pin}"
    )
    assert root.findtext("cbc:UUID", namespaces=NS) == expected
    assert event_cude_inputs(root).compute(samples.SOFTWARE.pin) == expected
    assert root.find("cbc:UUID", NS).get("schemeName") == "CUDE-SHA384"


def test_claim_carries_its_reason(events):
    """Does a 031 claim carry its 'Concepto de Reclamo' code and name on the ResponseCode?"""
    back, _ = read_document(parse(events["031"][1]))
    assert (back.responses[0].response_code_list, back.responses[0].response_code_name) == (
        "02",
        CLAIM_REASONS["02"],
    )


@pytest.mark.parametrize("code", ["030", "032"])
def test_receipt_events_name_the_person_who_received(events, code):
    """Do 030 and 032 name the person who received (id, names, job, department)?"""
    response = read_document(parse(events[code][1]))[0].responses[0]
    assert (
        response.issuer_person_id,
        response.issuer_person_id_scheme,
        response.issuer_person_name,
        response.issuer_person_job_title,
        response.issuer_person_department,
    ) == ("1020304050", "13", "Ana Gómez", "Jefe de compras", "Compras")


def test_tacit_acceptance_is_the_issuers_sworn_statement(events, invoice):
    """Is 034 sent by the issuer to the buyer, with a note citing the 032 event and its CUDE?"""
    back, _ = read_document(parse(events["034"][1]))
    assert (back.supplier.tax_id, back.customer.tax_id) == (
        samples.SUPPLIER_NIT,
        samples.CUSTOMER_NIT,
    )
    [note] = back.notes
    assert "gravedad de juramento" in note and RECEIPT.id in note and RECEIPT.uuid in note


@pytest.mark.parametrize(
    ("code", "change", "message"),
    [
        ("031", {"claim_reason": None}, "reason"),
        ("031", {"claim_reason": "07"}, "reason"),
        ("030", {"person": None}, "person"),
        ("032", {"person": None}, "person"),
        ("034", {"receipt": None}, "sworn statement"),
    ],
)
def test_event_missing_what_dian_requires_is_refused(invoice, code, change, message):
    """Is an event refused when it lacks the claim reason, the person or the statement?"""
    with pytest.raises(WriterError, match=message):
        write_event(_event(code, invoice[1], **change), software=samples.SOFTWARE)


def test_unknown_event_code_is_refused(invoice):
    """Is an event code outside 030–034 refused?"""
    with pytest.raises(WriterError, match="Unknown event"):
        _event("099", invoice[1])


# --- AttachedDocument ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dian_response(invoice, events):
    """A stand-in for DIAN's signed validation response (code 02) about the invoice."""
    root = parse(write_event(events["033"][0], software=samples.SOFTWARE))
    root.find("cac:DocumentResponse/cac:Response/cbc:ResponseCode", NS).text = "02"
    root.find(
        "cac:DocumentResponse/cac:Response/cbc:Description", NS
    ).text = "Documento validado por la DIAN"
    key, cert, _ = _credentials("DIAN", "800197268")
    return sign_document(root, key=key, certificate=cert)


@pytest.fixture(scope="module")
def attached(invoice, dian_response, supplier_keys) -> bytes:
    key, cert, _ = supplier_keys
    return write_attached_document(invoice[0], dian_response, key=key, certificate=cert)


def test_attached_document_is_signed_and_keeps_payloads_as_cdata(attached):
    """Is the container signed by the issuer (one extension) with both payloads in CDATA?"""
    result = verify_document(parse(attached), supplier_tax_id=samples.SUPPLIER_NIT)
    assert result.valid and not result.findings, result.findings
    assert attached.count(b"<![CDATA[") == 2
    root = parse(attached)
    assert len(root.findall("ext:UBLExtensions/ext:UBLExtension", NS)) == 1
    assert (
        root.findtext("cbc:CustomizationID", namespaces=NS),
        root.findtext("cbc:DocumentType", namespaces=NS),
        root.findtext("cbc:ParentDocumentID", namespaces=NS),
    ) == ("Documentos adjuntos", "Contenedor de Factura Electrónica", "SETP990000101")
    assert (
        root.findtext(
            "cac:ParentDocumentLineReference/cac:DocumentReference/"
            "cac:ResultOfVerification/cbc:ValidationResultCode",
            namespaces=NS,
        )
        == "02"
    )


def test_attached_document_is_detected_and_both_payloads_unwrapped(
    attached, invoice, dian_response
):
    """Does detect.py unwrap the invoice and DIAN's response, each still verifying?"""
    detection = detect_bytes(attached)
    assert detection.format is Format.DIAN_ATTACHED and detection.findings == []
    assert detection.document_type is DocumentType.INVOICE
    unwrapped, _ = read_document(detection.tree)
    assert (unwrapped.number, unwrapped.uuid) == (invoice[1].number, invoice[1].uuid)
    assert verify_document(detection.tree).valid
    response, _ = read_document(detection.response)
    assert response.responses[0].response_code == "02"
    assert verify_document(detection.response).valid


def test_unsigned_attached_document_and_wrong_payloads():
    """Is an unsigned container returned as is, and a non-response payload refused?"""
    raw = write_invoice(samples.invoice(), numbering=samples.NUMBERING, software=samples.SOFTWARE)
    with pytest.raises(WriterError, match="ApplicationResponse"):
        write_attached_document(raw, raw)
    with pytest.raises(WriterError, match="not readable"):
        write_attached_document(raw, b"<no")


# --- With DIAN's schemas and compiled XSL (../shared/data) ----------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("code", list(EVENTS))
def test_event_passes_dian_xsd_and_rules(events, code):
    """Does each signed event pass DIAN's XSD and XSL, but for the documented exceptions?"""
    rules_dir = shared_data()
    findings = rules.validate_official(parse(events[code][1]), "dian", rules_dir)
    expected = {("warning", "AAD03"): 1, ("warning", "DIAN-XSL"): 1}
    if code == "034":
        expected[("error", "AAH03")] = 1  # see the module docstring
    assert Counter((f.severity, f.code) for f in findings) == Counter(expected), [
        f.message_en for f in findings
    ]


@pytest.mark.shared_data
def test_attached_document_passes_dian_xsd(attached):
    """Does the signed AttachedDocument pass DIAN's AttachedDocument schema?"""
    rules_dir = shared_data()
    assert rules.schema_findings(parse(attached), "dian", rules_dir) == []


@pytest.mark.shared_data
@pytest.mark.parametrize("code", ["030", "032"])
def test_event_has_the_shape_of_dian_example(events, code):
    """Do our 030 and 032 have the element structure of DIAN's own examples (notes aside)?"""
    name = {"030": "030 - Acuse_ReciboFEV.xml", "032": "032 - Recibo_B&S.xml"}[code]
    path = shared_data() / "dian/caja-herramientas-v1.9/ejemplificaciones/eventos-radian" / name
    example = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))

    def shape(root):
        dian = root.find(".//{dian:gov:co:facturaelectronica:Structures-2-1}DianExtensions")
        body = [
            n
            for child in root
            if etree.QName(child).localname != "UBLExtensions"
            for n in child.iter(etree.Element)
        ]
        return [
            etree.QName(n).localname
            for n in [*dian.iter(etree.Element), *body]
            if etree.QName(n).localname != "Note"
        ]

    # DIAN's examples are unsigned: compare the DIAN extension and the body.
    assert shape(parse(events[code][1])) == shape(example.getroot())


@pytest.mark.parametrize("code", ["030", "033"])
def test_ingest_checks_an_event_cude_when_the_pin_is_known(events, code):
    """Does ingesting an event with the software PIN accept its CUDE, and report AAD06 (not a
    crash) when the declared CUDE is someone else's?"""
    from app.einvoice import engine

    _, signed = events[code]
    result = engine.ingest(signed, software_pin=samples.SOFTWARE.pin)
    assert result.cufe.valid is True
    assert "AAD06" not in {f.code for f in result.findings}
    root = parse(signed)  # the signature breaks too; the CUDE is still read and checked
    root.find("cbc:UUID", NS).text = cufe.sha384_hex("another event")
    result = engine.ingest(etree.tostring(root), software_pin=samples.SOFTWARE.pin)
    assert result.cufe.valid is False
    assert "AAD06" in {f.code for f in result.findings}
