"""Say what an uploaded file is: DIAN UBL 2.1, Peppol BIS 3, EN 16931, other UBL, a UBL ordering
document (Order, OrderResponse, OrderChange, OrderCancellation, Catalogue, DespatchAdvice; Peppol
BIS Ordering 3 when its CustomizationID says so), or a format we recognise but do not import yet
(CII, CFDI, SII DTE, DIAN v1, PDF).

DIAN's AttachedDocument container is unwrapped: the signed invoice and DIAN's signed response
travel inside it as CDATA text and are parsed again with the same safe parser.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from app.einvoice.findings import Finding, error, warning
from app.einvoice.model import DocumentType, Format
from app.einvoice.ordering import ORDERING_NAMESPACES, OrderingType
from app.einvoice.xmlsafe import parse_xml, strip_xml_declaration

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = UBL + "CommonBasicComponents-2"
CAC = UBL + "CommonAggregateComponents-2"
EXT = UBL + "CommonExtensionComponents-2"
STS = "dian:gov:co:facturaelectronica:Structures-2-1"
NS = {"cbc": CBC, "cac": CAC, "ext": EXT, "sts": STS}

UBL_ROOTS = {
    UBL + "Invoice-2": DocumentType.INVOICE,
    UBL + "CreditNote-2": DocumentType.CREDIT_NOTE,
    UBL + "DebitNote-2": DocumentType.DEBIT_NOTE,
    UBL + "ApplicationResponse-2": DocumentType.APPLICATION_RESPONSE,
}
ATTACHED = UBL + "AttachedDocument-2"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_POST_AWARD = "urn:fdc:peppol.eu:poacc:"
EN16931 = "urn:cen.eu:en16931:2017"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"

# Formats we recognise but do not import: (namespace or prefix, format, Spanish, English name).
_FOREIGN = (
    ("urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:", Format.CII,
     "UN/CEFACT CII (Factur-X / ZUGFeRD)", "UN/CEFACT CII (Factur-X / ZUGFeRD)"),
    ("http://www.sat.gob.mx/cfd/", Format.CFDI, "CFDI de México (SAT)", "Mexican CFDI (SAT)"),
    ("http://www.sii.cl/SiiDte", Format.SII_DTE, "DTE de Chile (SII)", "Chilean SII DTE"),
    ("http://www.dian.gov.co/contratos/facturaelectronica/v1", Format.DIAN_LEGACY,
     "factura DIAN anterior a 2019 (fe:Invoice v1)", "pre-2019 DIAN invoice (fe:Invoice v1)"),
    ("dian:gov:co:facturaelectronica:Nomina", Format.UNKNOWN,
     "nómina electrónica DIAN", "DIAN electronic payroll (nómina)"),
)


@dataclass
class Detection:
    """What a file is, and the tree(s) to read from it."""

    format: Format
    document_type: DocumentType | None = None
    tree: etree._ElementTree | None = None
    """The document to read: the file itself, or the invoice inside an AttachedDocument."""
    container: etree._ElementTree | None = None
    """The AttachedDocument itself, when the file was one."""
    response: etree._ElementTree | None = None
    """DIAN's ApplicationResponse unwrapped from an AttachedDocument, when present."""
    findings: list[Finding] = field(default_factory=list)
    ordering_type: OrderingType | None = None
    """Set for an ordering document (Order, Catalogue…): ordering.read_ordering_tree reads it."""

    @property
    def readable(self) -> bool:
        """Return True when read_document can read self.tree."""
        return self.tree is not None and self.document_type is not None

    @property
    def is_ordering(self) -> bool:
        """Return True when self.tree is an ordering document (ordering.read_ordering_tree)."""
        return self.tree is not None and self.ordering_type is not None


def unsupported(es_name: str, en_name: str) -> Finding:
    """Make the finding for a format we recognise but do not import yet."""
    return error(
        "FORMAT-UNSUPPORTED",
        f"Formato no soportado todavía: {es_name}.",
        f"Format not supported yet: {en_name}.",
    )


def detect_bytes(data: bytes) -> Detection:
    """Detect the format of raw bytes (PDF or XML), parsing XML safely."""
    head = bytes(data[:1024]).lstrip()
    if head.startswith(b"%PDF-") or b"%PDF-" in bytes(data[:1024]):
        return Detection(Format.PDF, findings=[unsupported(
            "PDF (use la extracción de PDF)", "PDF (use the PDF extractor)")])
    tree, findings = parse_xml(data)
    if tree is None:
        return Detection(Format.UNKNOWN, findings=findings)
    return detect_tree(tree)


def detect_tree(tree: etree._ElementTree) -> Detection:
    """Detect the format of a parsed XML document."""
    root = tree.getroot()
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    if namespace == SBDH and qname.localname == "StandardBusinessDocument":
        return _unwrap_sbdh(root)
    if namespace.startswith(UBL) and namespace.endswith("-2"):
        # A UBL 2 namespace names its one root element: Invoice in …:Invoice-2.
        expected = namespace[len(UBL):-2]
        if qname.localname != expected:
            return Detection(Format.UNKNOWN, findings=[error(
                "FORMAT-ROOT-MISMATCH",
                f"El elemento raíz {qname.localname} no corresponde a su espacio de nombres "
                f"'{namespace}', que es el de un documento UBL {expected}.",
                f"The root element {qname.localname} does not match its namespace "
                f"'{namespace}', which is a UBL {expected} document's.",
                f"/{qname.localname}",
            )])
    if namespace in UBL_ROOTS:
        kind = UBL_ROOTS[namespace]
        return Detection(_ubl_flavour(root), kind, tree)
    if namespace == ATTACHED:
        return _unwrap_attached(tree)
    if namespace in ORDERING_NAMESPACES:
        customization = (root.findtext(f"{{{CBC}}}CustomizationID") or "").strip()
        peppol = customization.startswith(PEPPOL_POST_AWARD)
        return Detection(
            Format.PEPPOL_ORDERING if peppol else Format.UBL21,
            tree=tree,
            ordering_type=ORDERING_NAMESPACES[namespace],
        )
    for prefix, fmt, es_name, en_name in _FOREIGN:
        if namespace.startswith(prefix):
            return Detection(fmt, tree=None, findings=[unsupported(es_name, en_name)])
    if namespace.startswith(UBL):
        name = qname.localname
        if not namespace.endswith("-2"):  # UBL 1.0, or a namespace made up
            return Detection(Format.UNKNOWN, findings=[error(
                "FORMAT-UBL-VERSION",
                f"UBL {name} con el espacio de nombres '{namespace}': solo se leen documentos "
                f"UBL 2 (espacio '{UBL}{name}-2').",
                f"UBL {name} with the namespace '{namespace}': only UBL 2 documents are read "
                f"(namespace '{UBL}{name}-2').",
            )])
        return Detection(Format.UBL21, findings=[unsupported(f"UBL {name}", f"UBL {name}")])
    return Detection(Format.UNKNOWN, findings=[error(
        "FORMAT-UNKNOWN",
        f"No es una factura electrónica conocida (raíz {qname.localname}, espacio '{namespace}').",
        f"Not a known e-invoice (root {qname.localname}, namespace '{namespace}').",
    )])


def _unwrap_sbdh(root: etree._Element) -> Detection:
    """A document in a Standard Business Document envelope (how Peppol carries it): the
    document after the header is read as if it were the file."""
    inner = [child for child in root if isinstance(child.tag, str)
             and etree.QName(child).localname != "StandardBusinessDocumentHeader"]
    if not inner:
        return Detection(Format.UNKNOWN, findings=[error(
            "SBDH-NO-PAYLOAD",
            "El sobre StandardBusinessDocument no trae ningún documento tras su encabezado.",
            "The StandardBusinessDocument envelope carries no document after its header.",
            "/StandardBusinessDocument",
        )])
    return detect_tree(etree.ElementTree(copy.deepcopy(inner[0])))


def _ubl_flavour(root: etree._Element) -> Format:
    customization = (root.findtext(f"{{{CBC}}}CustomizationID") or "").strip()
    profile = (root.findtext(f"{{{CBC}}}ProfileID") or "").strip()
    if profile.startswith("DIAN") or root.find(".//sts:DianExtensions", NS) is not None:
        return Format.DIAN_UBL21
    # CustomizationID decides (PEPPOL-EN16931-R004); a Peppol ProfileID alone does not.
    if PEPPOL_BILLING in customization:
        return Format.PEPPOL_BIS3
    if customization.startswith(EN16931):
        return Format.EN16931_UBL
    return Format.UBL21


def _unwrap_attached(tree: etree._ElementTree) -> Detection:
    root = tree.getroot()
    detection = Detection(Format.DIAN_ATTACHED, container=tree)
    payload = root.findtext("cac:Attachment/cac:ExternalReference/cbc:Description", None, NS)
    if not payload or not payload.strip():
        detection.findings.append(error(
            "ATTACHED-NO-PAYLOAD",
            "El AttachedDocument no trae el documento electrónico en "
            "cac:Attachment/cac:ExternalReference/cbc:Description.",
            "The AttachedDocument carries no document in "
            "cac:Attachment/cac:ExternalReference/cbc:Description.",
            "/AttachedDocument/cac:Attachment",
        ))
        return detection
    inner, findings = _parse_payload(payload, "cac:Attachment")
    detection.findings += findings
    if inner is not None:
        namespace = etree.QName(inner.getroot()).namespace or ""
        if namespace in UBL_ROOTS:
            detection.tree = inner
            detection.document_type = UBL_ROOTS[namespace]
        else:
            detection.findings.append(error(
                "ATTACHED-PAYLOAD-TYPE",
                "El AttachedDocument no contiene una factura ni una nota UBL 2.1.",
                "The AttachedDocument does not hold a UBL 2.1 invoice or note.",
                "/AttachedDocument/cac:Attachment",
            ))
    response_text = root.findtext(
        "cac:ParentDocumentLineReference/cac:DocumentReference/cac:Attachment/"
        "cac:ExternalReference/cbc:Description", None, NS)
    if response_text and response_text.strip():
        response, findings = _parse_payload(response_text, "cac:ParentDocumentLineReference")
        detection.findings += findings
        if response is not None and etree.QName(response.getroot()).namespace == (
                UBL + "ApplicationResponse-2"):
            detection.response = response
    else:
        detection.findings.append(warning(
            "ATTACHED-NO-RESPONSE",
            "El AttachedDocument no trae la respuesta de validación de la DIAN.",
            "The AttachedDocument does not carry DIAN's validation response.",
            "/AttachedDocument/cac:ParentDocumentLineReference",
        ))
    return detection


def _parse_payload(text: str, where: str) -> tuple[etree._ElementTree | None, list[Finding]]:
    # The payload is text now: encode as UTF-8 and drop its declaration, which may name another
    # encoding. Hostile payloads get the same treatment as hostile files.
    tree, findings = parse_xml(strip_xml_declaration(text.strip().encode("utf-8")))
    return tree, [
        Finding(f.severity, f.code, f"{f.message_es} (en {where})", f"{f.message_en} (in {where})",
                f"/AttachedDocument/{where}")
        for f in findings
    ]
