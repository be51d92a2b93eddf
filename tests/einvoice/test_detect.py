"""Does the portal say what every kind of uploaded file is?"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.einvoice.detect import detect_bytes
from app.einvoice.model import DocumentType, Format
from tests.conftest import shared_data

DIAN = "dian/caja-herramientas-v1.9/ejemplificaciones"


def detect(relative: str):
    return detect_bytes((shared_data() / relative).read_bytes())


def all_files(*suffixes: str) -> list[Path]:
    root = shared_data()
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


@pytest.mark.shared_data
@pytest.mark.parametrize(("relative", "fmt", "kind"), [
    (f"{DIAN}/Excluido de IVA.xml", Format.DIAN_UBL21, DocumentType.INVOICE),
    (f"{DIAN}/CreditNote.xml", Format.DIAN_UBL21, DocumentType.CREDIT_NOTE),
    (f"{DIAN}/DebitNote.xml", Format.DIAN_UBL21, DocumentType.DEBIT_NOTE),
    (f"{DIAN}/eventos-radian/030 - Acuse_ReciboFEV.xml", Format.DIAN_UBL21,
     DocumentType.APPLICATION_RESPONSE),
    ("ubl/peppol-bis-billing-3/examples/base-example.xml", Format.PEPPOL_BIS3,
     DocumentType.INVOICE),
    ("ubl/peppol-bis-billing-3/examples/base-creditnote-correction.xml", Format.PEPPOL_BIS3,
     DocumentType.CREDIT_NOTE),
    ("ubl/en16931/ubl-examples/ubl-tc434-example1.xml", Format.EN16931_UBL, DocumentType.INVOICE),
    ("ubl/en16931/ubl-examples/ubl-tc434-creditnote1.xml", Format.EN16931_UBL,
     DocumentType.CREDIT_NOTE),
    ("ubl/oasis-ubl-2.1/examples/UBL-Invoice-2.1-Example.xml", Format.UBL21, DocumentType.INVOICE),
    ("ubl/oasis-ubl-2.1/examples/UBL-DebitNote-2.1-Example.xml", Format.UBL21,
     DocumentType.DEBIT_NOTE),
    ("pdf/facturx/UBL/EN16931_Einfach.ubl.xml", Format.PEPPOL_BIS3, DocumentType.INVOICE),
])
def test_is_each_readable_format_recognised(relative, fmt, kind):
    detection = detect(relative)
    assert (detection.format, detection.document_type) == (fmt, kind)
    assert detection.readable and detection.findings == []


@pytest.mark.shared_data
@pytest.mark.parametrize(("relative", "fmt", "words"), [
    ("other/cfdi40-valid.xml", Format.CFDI, "CFDI"),
    ("other/cl-dte/F60T33-ejemplo-oficial-SII.xml", Format.SII_DTE, "SII DTE"),
    ("dian/legacy/xmlusigned.xml", Format.DIAN_LEGACY, "fe:Invoice"),
    ("pdf/facturx/CII/EN16931_Einfach.cii.xml", Format.CII, "CII"),
    ("ubl/en16931/cii-examples/CII_example1.xml", Format.CII, "CII"),
    ("pdf/facturx/FX/EN16931_Einfach.pdf", Format.PDF, "PDF"),
    ("ubl/oasis-ubl-2.1/examples/UBL-Reminder-2.1-Example.xml", Format.UBL21, "Reminder"),
])
def test_is_each_foreign_format_named_and_refused(relative, fmt, words):
    detection = detect(relative)
    assert detection.format == fmt
    assert not detection.readable
    [finding] = detection.findings
    assert finding.code == "FORMAT-UNSUPPORTED" and finding.severity == "error"
    assert finding.message_en.startswith("Format not supported yet:")
    assert words in finding.message_en
    assert finding.message_es.startswith("Formato no soportado todavía:")


@pytest.mark.shared_data
def test_does_every_shared_file_get_an_answer_without_an_exception():
    files = all_files(".xml", ".xm", ".pdf")
    assert len(files) > 400
    seen = set()
    for path in files:
        detection = detect_bytes(path.read_bytes())
        seen.add(detection.format)
        assert detection.readable or detection.is_ordering or detection.findings, path
        if "/peppol-bis-ordering-3/examples/" in str(path) and detection.is_ordering:
            assert detection.format is Format.PEPPOL_ORDERING, path
        if "/dian/caja-herramientas-v1.9/ejemplificaciones/" in str(path):
            assert detection.format is Format.DIAN_UBL21, path
        if "/peppol-bis-billing-3/examples/" in str(path):
            assert detection.format is Format.PEPPOL_BIS3, path
    assert {Format.DIAN_UBL21, Format.PEPPOL_BIS3, Format.EN16931_UBL, Format.UBL21, Format.CII,
            Format.CFDI, Format.SII_DTE, Format.DIAN_LEGACY, Format.PDF} <= seen


def attached_document(invoice: bytes, response: bytes | None, *, cdata: bool = True) -> bytes:
    def wrap(payload: bytes) -> str:
        text = payload.decode("utf-8")
        if cdata:
            return f"<![CDATA[{text}]]>"
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    parent = ""
    if response is not None:
        parent = f"""<cac:ParentDocumentLineReference><cbc:LineID>1</cbc:LineID>
  <cac:DocumentReference><cbc:ID>NC3</cbc:ID><cbc:DocumentType>ApplicationResponse</cbc:DocumentType>
   <cac:Attachment><cac:ExternalReference><cbc:MimeCode>text/xml</cbc:MimeCode>
    <cbc:EncodingCode>UTF-8</cbc:EncodingCode><cbc:Description>{wrap(response)}</cbc:Description>
   </cac:ExternalReference></cac:Attachment>
   <cac:ResultOfVerification><cbc:ValidatorID>DIAN</cbc:ValidatorID>
    <cbc:ValidationResultCode>02</cbc:ValidationResultCode></cac:ResultOfVerification>
  </cac:DocumentReference></cac:ParentDocumentLineReference>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<AttachedDocument xmlns="urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>
 <cbc:CustomizationID>Documentos adjuntos</cbc:CustomizationID>
 <cbc:ID>1</cbc:ID><cbc:DocumentType>Contenedor de Factura Electrónica</cbc:DocumentType>
 <cbc:ParentDocumentID>NC3</cbc:ParentDocumentID>
 <cac:Attachment><cac:ExternalReference><cbc:MimeCode>text/xml</cbc:MimeCode>
  <cbc:EncodingCode>UTF-8</cbc:EncodingCode><cbc:Description>{wrap(invoice)}</cbc:Description>
 </cac:ExternalReference></cac:Attachment>
 {parent}
</AttachedDocument>""".encode()


@pytest.mark.shared_data
@pytest.mark.parametrize("cdata", [True, False])
def test_is_an_attached_document_unwrapped_into_invoice_and_dian_response(cdata):
    root = shared_data() / DIAN
    invoice = (root / "CreditNote.xml").read_bytes()
    response = (root / "eventos-radian/030 - Acuse_ReciboFEV.xml").read_bytes()
    detection = detect_bytes(attached_document(invoice, response, cdata=cdata))
    assert detection.format is Format.DIAN_ATTACHED
    assert detection.document_type is DocumentType.CREDIT_NOTE
    assert detection.tree.getroot().tag.endswith("}CreditNote")
    assert detection.response.getroot().tag.endswith("}ApplicationResponse")
    assert detection.container is not None and detection.findings == []


@pytest.mark.shared_data
def test_does_an_attached_document_without_dian_response_get_a_warning():
    invoice = (shared_data() / DIAN / "CreditNote.xml").read_bytes()
    detection = detect_bytes(attached_document(invoice, None))
    assert detection.readable
    assert [f.code for f in detection.findings] == ["ATTACHED-NO-RESPONSE"]
    assert detection.findings[0].severity == "warning"


def test_is_a_hostile_payload_inside_an_attached_document_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PAYLOAD-SECRET-42")
    evil = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode()
    detection = detect_bytes(attached_document(evil, None, cdata=False))
    assert not detection.readable
    assert "XML-DTD" in [f.code for f in detection.findings]
    assert "PAYLOAD-SECRET-42" not in repr(detection.findings)


def test_is_an_empty_attached_document_an_error():
    detection = detect_bytes(attached_document(b"", None, cdata=False))
    assert not detection.readable
    assert [f.code for f in detection.findings] == ["ATTACHED-NO-PAYLOAD"]


def test_is_an_unknown_xml_reported_as_such():
    detection = detect_bytes(b'<note xmlns="urn:x"><to>me</to></note>')
    assert detection.format is Format.UNKNOWN
    assert [f.code for f in detection.findings] == ["FORMAT-UNKNOWN"]


UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:"


@pytest.mark.parametrize(
    ("root", "namespace", "code"),
    [
        ("PurchaseOrder", "Order-2", "FORMAT-ROOT-MISMATCH"),
        ("Order", "Invoice-2", "FORMAT-ROOT-MISMATCH"),
        ("Invoice", "Order-2", "FORMAT-ROOT-MISMATCH"),
        ("Catalogue", "CreditNote-2", "FORMAT-ROOT-MISMATCH"),
        ("Order", "Order-1.0", "FORMAT-UBL-VERSION"),
        ("Order", "Order-2.1", "FORMAT-UBL-VERSION"),
    ],
)
def test_is_a_root_its_namespace_does_not_name_refused(root, namespace, code):
    """A UBL 2 namespace names its one root: an element of another name in it is neither read
    as the namespace's document nor passed as valid; a UBL 1.0 or made-up namespace is named."""
    from app.einvoice.engine import ingest

    data = (f'<{root} xmlns="{UBL_NS}{namespace}" xmlns:cbc="{UBL_NS}CommonBasicComponents-2">'
            f"<cbc:ID>1</cbc:ID></{root}>").encode()
    detection = detect_bytes(data)
    assert not detection.readable and not detection.is_ordering
    assert [f.code for f in detection.findings] == [code]
    assert root in detection.findings[0].message_en and root in detection.findings[0].message_es
    result = ingest(data)
    assert not result.readable and not result.valid
