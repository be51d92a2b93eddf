"""Write DIAN RADIAN events (ApplicationResponse 030–034) and the AttachedDocument container.

An event answers an invoice: 030 acuse de recibo, 031 reclamo (with a reason from DIAN's
'Concepto de Reclamo' list), 032 recibo del bien o servicio, 033 aceptación expresa (all sent by
the buyer) and 034 aceptación tácita (sent by the issuer, with a sworn statement). Its CUDE is
SHA-384 of number + date + time + sender NIT + receiver NIT + event code + invoice number +
invoice type code + software PIN, computed from the strings written.

The AttachedDocument is what the issuer sends the buyer: the signed invoice and DIAN's signed
validation response, each as CDATA text inside one container signed by the issuer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from app.einvoice import cufe
from app.einvoice.model import Document, DocumentReference, DocumentResponse, DocumentType, Party
from app.einvoice.reader import read_document
from app.einvoice.signature import sign_document
from app.einvoice.writer import (
    CAC,
    CBC,
    Software,
    WriterError,
    dian_extensions,
    el,
    new_root,
    party_tax_scheme,
)
from app.einvoice.xmlsafe import parse_xml

EVENT_PROFILE = "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta"
#: RADIAN event codes (annex table 13.1.3) and the description DIAN's examples write.
EVENTS = {
    "030": "Acuse de recibo de Factura Electrónica de Venta",
    "031": "Reclamo de la Factura Electrónica de Venta",
    "032": "Recibo del bien y/o prestación del servicio",
    "033": "Aceptación expresa",
    "034": "Aceptación Tácita",
}
#: Events DIAN wants signed by a named person (cac:IssuerParty/cac:Person).
EVENTS_WITH_PERSON = frozenset({"030", "032"})
#: DIAN's identity document types of a person (TipoIdFiscal, caja de herramientas 1.9, without
#: the two NIT codes 31 and 50), for the person who records a 030 or 032.
PERSON_ID_TYPES = {
    "11": "Registro civil",
    "12": "Tarjeta de identidad",
    "13": "Cédula de ciudadanía",
    "21": "Tarjeta de extranjería",
    "22": "Cédula de extranjería",
    "41": "Pasaporte",
    "42": "Documento de identificación extranjero",
    "91": "NUIP",
}
#: DIAN's 'Concepto de Reclamo' list (caja de herramientas 1.9), for event 031.
CLAIM_REASONS = {
    "01": "Documento con inconsistencias",
    "02": "Mercancía no entregada totalmente",
    "03": "Mercancía no entregada parcialmente",
    "04": "Servicio no prestado",
}
INVOICE_TYPE_CODE = "01"

ATTACHED_CUSTOMIZATION = "Documentos adjuntos"
ATTACHED_PROFILE = "Factura Electrónica de Venta"
ATTACHED_TYPE = "Contenedor de Factura Electrónica"
DIAN_VALIDATOR = "Unidad Especial Dirección de Impuestos y Aduanas Nacionales"
_NS = {"cac": CAC, "cbc": CBC}
_PAYLOADS = (
    "cac:Attachment/cac:ExternalReference/cbc:Description",
    "cac:ParentDocumentLineReference/cac:DocumentReference/cac:Attachment/"
    "cac:ExternalReference/cbc:Description",
)


@dataclass(frozen=True)
class Person:
    """The person who records an event for the sender (DIAN asks for one on 030 and 032)."""

    id: str
    first_name: str
    family_name: str
    job_title: str = ""
    department: str = ""
    id_scheme: str = "13"
    """DIAN's id type: 13 cédula de ciudadanía, 22 cédula de extranjería, 41 pasaporte…"""


@dataclass
class EventCudeInputs:
    """The fields of an event's CUDE as written (``compute`` hashes them in the annex's form)."""

    number: str
    issue_date: str
    issue_time: str
    sender_id: str
    receiver_id: str
    response_code: str
    referenced_id: str
    referenced_type_code: str
    declared: str = ""

    def compute(self, software_pin: str) -> str:
        """Return the CUDE these fields give with the software PIN."""
        return cufe.compute_event_cude(
            number=self.number,
            issue_date=self.issue_date,
            issue_time=self.issue_time,
            sender_id=self.sender_id,
            receiver_id=self.receiver_id,
            response_code=self.response_code,
            referenced_id=self.referenced_id,
            referenced_type_code=self.referenced_type_code,
            software_pin=software_pin,
        )


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path, "", _NS) or "").strip()


def event_cude_inputs(tree: etree._ElementTree | etree._Element) -> EventCudeInputs:
    """Extract an ApplicationResponse's CUDE fields, as written (hashed in canonical form)."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    company = "cac:PartyTaxScheme/cbc:CompanyID"
    response = "cac:DocumentResponse/"
    return EventCudeInputs(
        number=_text(root, "cbc:ID"),
        issue_date=_text(root, "cbc:IssueDate"),
        issue_time=_text(root, "cbc:IssueTime"),
        sender_id=_text(root, f"cac:SenderParty/{company}"),
        receiver_id=_text(root, f"cac:ReceiverParty/{company}"),
        response_code=_text(root, response + "cac:Response/cbc:ResponseCode"),
        referenced_id=_text(root, response + "cac:DocumentReference/cbc:ID"),
        referenced_type_code=_text(root, response + "cac:DocumentReference/cbc:DocumentTypeCode"),
        declared=_text(root, "cbc:UUID"),
    )


# --- events ------------------------------------------------------------------------------------


def tacit_acceptance_statement(invoice: Document, receipt: DocumentReference) -> str:
    """Return the sworn statement a 034 event carries, citing the 032 event and its CUDE."""
    buyer = invoice.customer
    return (
        "Manifiesto bajo la gravedad de juramento que transcurridos 3 días hábiles contados "
        f"desde la creación del Recibo de bienes y servicios {receipt.id} con CUDE "
        f"{receipt.uuid}, el adquirente {buyer.display_name} identificado con NIT "
        f"{buyer.tax_id} no manifestó expresamente la aceptación o rechazo de la referida "
        "factura, ni reclamó en contra de su contenido."
    )


def make_event(
    code: str,
    *,
    number: str,
    invoice: Document,
    issue_date: dt.date,
    issue_time: str,
    sender: Party | None = None,
    receiver: Party | None = None,
    claim_reason: str | None = None,
    person: Person | None = None,
    receipt: DocumentReference | None = None,
    notes: list[str] | None = None,
) -> Document:
    """Build the canonical ApplicationResponse for event code about invoice.

    The buyer sends 030–033 to the issuer; the issuer sends 034 (tacit acceptance), whose note
    cites the 032 event (receipt) unless notes are given.
    """
    if code not in EVENTS:
        raise WriterError(f"Unknown event code {code!r}: expected one of {', '.join(EVENTS)}.")
    by_issuer = code == "034"
    if sender is None:
        sender = invoice.supplier if by_issuer else invoice.customer
    if receiver is None:
        receiver = invoice.customer if by_issuer else invoice.supplier
    if notes is None:
        notes = [tacit_acceptance_statement(invoice, receipt)] if by_issuer and receipt else []
    response = DocumentResponse(
        response_code=code,
        description=EVENTS[code],
        reference_id=invoice.number,
        reference_uuid=invoice.uuid,
        reference_uuid_scheme=invoice.uuid_scheme or "CUFE-SHA384",
        reference_type_code=invoice.type_code or INVOICE_TYPE_CODE,
    )
    if claim_reason is not None:
        response.response_code_list = claim_reason
        response.response_code_name = CLAIM_REASONS.get(claim_reason, "")
    if person is not None:
        response.issuer_person_id = person.id
        response.issuer_person_id_scheme = person.id_scheme
        response.issuer_person_first_name = person.first_name
        response.issuer_person_family_name = person.family_name
        response.issuer_person_name = f"{person.first_name} {person.family_name}".strip()
        response.issuer_person_job_title = person.job_title
        response.issuer_person_department = person.department
    return Document(
        document_type=DocumentType.APPLICATION_RESPONSE,
        number=number,
        issue_date=issue_date,
        issue_time=issue_time,
        supplier=sender,
        customer=receiver,
        notes=notes,
        responses=[response],
    )


def _check_event(doc: Document) -> DocumentResponse:
    if doc.document_type is not DocumentType.APPLICATION_RESPONSE or len(doc.responses) != 1:
        raise WriterError("An event is an ApplicationResponse with exactly one response.")
    response = doc.responses[0]
    code = response.response_code
    missing = [
        label
        for label, value in (
            ("number", doc.number),
            ("issue_date", doc.issue_date),
            ("issue_time", doc.issue_time),
            ("sender tax id", doc.supplier.tax_id),
            ("receiver tax id", doc.customer.tax_id),
            ("referenced invoice number", response.reference_id),
            ("referenced invoice CUFE", response.reference_uuid),
        )
        if not value
    ]
    if missing:
        raise WriterError(f"The event lacks {', '.join(missing)}.")
    if code not in EVENTS:
        raise WriterError(f"Unknown event code {code!r}: expected one of {', '.join(EVENTS)}.")
    if code == "031" and response.response_code_list not in CLAIM_REASONS:
        raise WriterError(
            "A claim (031) needs its reason: one of "
            f"{', '.join(CLAIM_REASONS)} ('Concepto de Reclamo')."
        )
    if code in EVENTS_WITH_PERSON and not (
        response.issuer_person_id
        and response.issuer_person_first_name
        and response.issuer_person_family_name
    ):
        raise WriterError(f"Event {code} needs the person who records it (id and names).")
    if code == "034" and not doc.notes:
        raise WriterError("A tacit acceptance (034) needs its sworn statement as a note.")
    return response


def write_event(
    doc: Document, *, software: Software, software_pin: str | None = None, environment: str = "2"
) -> bytes:
    """Write a RADIAN event (unsigned ApplicationResponse) with its CUDE and DianExtensions."""
    response = _check_event(doc)
    pin = software_pin or software.pin
    if not pin:
        raise WriterError("The event's CUDE needs the software PIN.")
    root = new_root("ApplicationResponse")
    qr = dian_extensions(root, software=software, software_pin=pin, number=doc.number)
    el(root, "cbc:UBLVersionID", "UBL 2.1")
    el(root, "cbc:CustomizationID", doc.customization_id or "1")
    el(root, "cbc:ProfileID", doc.profile_id or EVENT_PROFILE)
    el(root, "cbc:ProfileExecutionID", environment)
    el(root, "cbc:ID", doc.number)
    uuid = el(root, "cbc:UUID", schemeID=environment, schemeName="CUDE-SHA384")
    el(root, "cbc:IssueDate", doc.issue_date.isoformat())
    el(root, "cbc:IssueTime", cufe.canonical_time(doc.issue_time))
    for note in doc.notes:
        el(root, "cbc:Note", note)
    # As in DIAN's event examples: name, id and tax scheme, no responsibilities or address.
    party_tax_scheme(el(root, "cac:SenderParty"), doc.supplier, address=False, levels=False)
    party_tax_scheme(el(root, "cac:ReceiverParty"), doc.customer, address=False, levels=False)
    node = el(root, "cac:DocumentResponse")
    answer = el(node, "cac:Response")
    el(
        answer,
        "cbc:ResponseCode",
        response.response_code,
        listID=response.response_code_list or None,
        name=response.response_code_name or None,
    )
    el(answer, "cbc:Description", response.description or EVENTS[response.response_code])
    reference = el(node, "cac:DocumentReference")
    el(reference, "cbc:ID", response.reference_id)
    el(
        reference,
        "cbc:UUID",
        response.reference_uuid,
        schemeName=response.reference_uuid_scheme or "CUFE-SHA384",
    )
    el(reference, "cbc:DocumentTypeCode", response.reference_type_code or INVOICE_TYPE_CODE)
    if response.issuer_person_id:
        person = el(el(node, "cac:IssuerParty"), "cac:Person")
        el(
            person,
            "cbc:ID",
            response.issuer_person_id,
            schemeName=response.issuer_person_id_scheme or None,
        )
        el(person, "cbc:FirstName", response.issuer_person_first_name)
        el(person, "cbc:FamilyName", response.issuer_person_family_name)
        if response.issuer_person_job_title:
            el(person, "cbc:JobTitle", response.issuer_person_job_title)
        if response.issuer_person_department:
            el(person, "cbc:OrganizationDepartment", response.issuer_person_department)
    uuid.text = event_cude_inputs(root).compute(pin)
    # As in DIAN's own 030 example, the QR points at the invoice the event is about.
    qr.text = cufe.qr_url(response.reference_uuid, environment)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- AttachedDocument --------------------------------------------------------------------------


def _read(data: bytes, what: str) -> Document:
    tree, findings = parse_xml(data)
    if tree is None:
        reasons = "; ".join(f.message_en for f in findings)
        raise WriterError(f"The {what} is not readable XML: {reasons}")
    doc, _ = read_document(tree)
    if doc is None:
        raise WriterError(f"The {what} is not a UBL 2.1 document.")
    return doc


def _payload(parent: etree._Element, data: bytes) -> None:
    external = el(el(parent, "cac:Attachment"), "cac:ExternalReference")
    el(external, "cbc:MimeCode", "text/xml")
    el(external, "cbc:EncodingCode", "UTF-8")
    text = data.decode("utf-8")
    description = el(external, "cbc:Description")
    description.text = etree.CDATA(text) if "]]>" not in text else text


def write_attached_document(
    invoice_bytes: bytes,
    response_bytes: bytes,
    *,
    number: str | None = None,
    issue_date: dt.date | None = None,
    issue_time: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
    certificate: x509.Certificate | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """Wrap a signed invoice (or note) and DIAN's signed response in an AttachedDocument.

    Both payloads are kept byte for byte as CDATA text. The container's number, date and time
    default to the invoice's number and the response's date and time. With key and certificate
    the container is signed (XAdES-EPES, in its only extension) and its payloads stay CDATA:
    canonical XML reads CDATA and escaped text alike, so the signature is unaffected.
    """
    invoice = _read(invoice_bytes, "invoice")
    response = _read(response_bytes, "response")
    if invoice.document_type not in (
        DocumentType.INVOICE,
        DocumentType.CREDIT_NOTE,
        DocumentType.DEBIT_NOTE,
    ):
        raise WriterError("The first payload must be an invoice, a credit note or a debit note.")
    if response.document_type is not DocumentType.APPLICATION_RESPONSE:
        raise WriterError("The second payload must be DIAN's ApplicationResponse.")
    result_code = response.responses[0].response_code if response.responses else ""
    root = new_root("AttachedDocument")
    el(el(el(root, "ext:UBLExtensions"), "ext:UBLExtension"), "ext:ExtensionContent")
    el(root, "cbc:UBLVersionID", "UBL 2.1")
    el(root, "cbc:CustomizationID", ATTACHED_CUSTOMIZATION)
    el(root, "cbc:ProfileID", ATTACHED_PROFILE)
    el(root, "cbc:ProfileExecutionID", invoice.profile_execution_id or "2")
    el(root, "cbc:ID", number or invoice.number)
    el(root, "cbc:IssueDate", (issue_date or response.issue_date or invoice.issue_date).isoformat())
    el(root, "cbc:IssueTime", issue_time or response.issue_time or invoice.issue_time)
    el(root, "cbc:DocumentType", ATTACHED_TYPE)
    el(root, "cbc:ParentDocumentID", invoice.number)
    party_tax_scheme(el(root, "cac:SenderParty"), invoice.supplier, address=False)
    party_tax_scheme(el(root, "cac:ReceiverParty"), invoice.customer, address=False)
    _payload(root, invoice_bytes)
    line = el(root, "cac:ParentDocumentLineReference")
    el(line, "cbc:LineID", "1")
    reference = el(line, "cac:DocumentReference")
    el(reference, "cbc:ID", invoice.number)
    el(reference, "cbc:UUID", invoice.uuid, schemeName=invoice.uuid_scheme or "CUFE-SHA384")
    if invoice.issue_date:
        el(reference, "cbc:IssueDate", invoice.issue_date.isoformat())
    el(reference, "cbc:DocumentType", "ApplicationResponse")
    _payload(reference, response_bytes)
    verification = el(reference, "cac:ResultOfVerification")
    el(verification, "cbc:ValidatorID", DIAN_VALIDATOR)
    el(verification, "cbc:ValidationResultCode", result_code or "02")
    if response.issue_date:
        el(verification, "cbc:ValidationDate", response.issue_date.isoformat())
    if response.issue_time:
        el(verification, "cbc:ValidationTime", response.issue_time)
    unsigned = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if key is None or certificate is None:
        return unsigned
    signed = sign_document(unsigned, key=key, certificate=certificate, signing_time=signing_time)
    return restore_cdata(signed)


def restore_cdata(container: bytes) -> bytes:
    """Write an AttachedDocument's two payloads back as CDATA (signing turns them into text)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, strip_cdata=False, huge_tree=True
    )
    root = etree.fromstring(container, parser)
    for path in _PAYLOADS:
        node = root.find(path, _NS)
        if node is not None and node.text and "]]>" not in node.text:
            node.text = etree.CDATA(node.text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
