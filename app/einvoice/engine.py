"""One entry point for every document that enters the portal: parse → detect → verify → read →
our own checks → CUFE/CUDE → official rules.

The verify step, the CUFE step and the official rules live in their own modules
(``signature.py``, ``cufe.py``, ``rules.py``); this file only wires them together.

The file is parsed once (``detect_bytes``); that tree goes to the verifier, and the reader reads
from what the verifier returns as signed. Nothing here copies or re-serialises the document.

Ordering documents (Order, OrderResponse, Catalogue, DespatchAdvice…) take a shorter road: read
(``ordering.py``), then the root's UBL 2.1 XSD and, for Peppol BIS Ordering 3, the transaction's
Schematron (``ordering_rules.py``). They land in ``Result.ordering``; ``Result.document`` stays
None, so what needs an invoice never gets one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from app.einvoice import cufe, rules
from app.einvoice.checks import run_checks
from app.einvoice.detect import NS, Detection, detect_bytes
from app.einvoice.events import event_cude_inputs
from app.einvoice.findings import Finding, error, is_valid
from app.einvoice.model import Document, DocumentType, Format
from app.einvoice.ordering import OrderingDocument, read_ordering_tree
from app.einvoice.ordering_rules import check_ordering_tree
from app.einvoice.reader import read_document
from app.einvoice.signature import SignatureResult, verify_document

# Which official rule sets apply to each format (the ``kind`` of rules.validate_official).
RULES_KIND = {
    Format.DIAN_UBL21: "dian",
    Format.DIAN_ATTACHED: "dian",
    Format.PEPPOL_BIS3: "peppol",
    Format.EN16931_UBL: "en16931",
    Format.UBL21: "ubl",
}


@dataclass
class CufeCheck:
    """The declared CUFE/CUDE and, when the secret was known, the recomputed one."""

    declared: str | None = None
    computed: str | None = None
    valid: bool | None = None


@dataclass
class Result:
    """Everything the engine found out about one file."""

    format: Format
    document: Document | None = None
    findings: list[Finding] = field(default_factory=list)
    detection: Detection | None = None
    signature: SignatureResult | None = None
    """Set when the document carries (or, being DIAN's, should carry) a signature."""
    cufe: CufeCheck = field(default_factory=CufeCheck)
    response: Document | None = None
    """DIAN's ApplicationResponse, when the file was an AttachedDocument carrying one."""
    ordering: OrderingDocument | None = None
    """The ordering document (Order, Catalogue, DespatchAdvice…), when the file was one."""

    @property
    def valid(self) -> bool:
        """Return True when no finding is an error."""
        return self.readable and is_valid(self.findings)

    @property
    def readable(self) -> bool:
        """Return True when the file could be read into a Document or an OrderingDocument."""
        return self.document is not None or self.ordering is not None


def ingest(
    data: bytes,
    *,
    rules_dir: str | Path | None = None,
    technical_key: str | None = None,
    software_pin: str | None = None,
) -> Result:
    """Parse, detect, verify, read and check one file; return the Result (never raises on input)."""
    detection = detect_bytes(data)
    result = Result(detection.format, detection=detection, findings=list(detection.findings))
    if detection.is_ordering:
        return ordering_step(result, detection.tree, rules_dir)
    if not detection.readable:
        return result
    tree = detection.tree
    signed_root = verify_step(result, tree)
    source = signed_root if signed_root is not None else tree
    document, findings = read_document(source)
    result.document = document
    result.findings += findings
    if document is None:
        return result
    if signed_root is not None:
        document.is_signed = True
    result.findings += run_checks(document)
    result.cufe, cufe_findings = cufe_step(
        source, document, technical_key=technical_key, software_pin=software_pin
    )
    result.findings += cufe_findings
    if detection.response is not None:
        result.response, response_findings = read_document(detection.response)
        result.findings += response_findings
    result.findings += official_rules_step(tree, detection.format, rules_dir)
    return result


# -- steps ------------------------------------------------------------------------------------


def verify_step(result: Result, tree: etree._ElementTree) -> etree._Element | None:
    """Verify the signature (signature.verify_document); return the signed content when valid.

    Reading from what the verifier returns as signed means an unsigned copy of the totals
    placed outside the signed content (signature wrapping) can never reach the portal.
    """
    if result.format not in (Format.DIAN_UBL21, Format.DIAN_ATTACHED):
        root = tree.getroot()
        if next(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"), None) is None:
            return None  # EN 16931 / Peppol documents are not signed in the document itself
    supplier = _supplier_tax_id(tree)
    outcome = verify_document(tree, supplier_tax_id=supplier)
    result.signature = outcome
    result.findings += outcome.findings
    return outcome.signed_root if outcome.valid else None


def cufe_step(
    tree: etree._ElementTree | etree._Element,
    document: Document,
    *,
    technical_key: str | None,
    software_pin: str | None,
) -> tuple[CufeCheck, list[Finding]]:
    """Recompute the CUFE (technical key) or CUDE (software PIN) from the document's values.

    Each value is put in the annex's form first (``cufe.CufeInputs.canonical``): an amount
    written ``0`` is hashed as ``0.00``, as DIAN does.
    """
    check = CufeCheck(declared=document.uuid or None)
    if not document.is_dian:
        return check, []
    if document.document_type is DocumentType.APPLICATION_RESPONSE:
        return _event_cude_step(tree, document, check, software_pin)
    is_cufe = document.uuid_scheme.upper().startswith("CUFE") or (
        not document.uuid_scheme and document.document_type is DocumentType.INVOICE
    )
    secret = technical_key if is_cufe else software_pin
    if not secret:
        return check, []
    inputs = cufe.cufe_inputs_from_tree(tree)
    check.computed, check.valid = cufe.recompute(inputs, secret, document.uuid)
    if check.valid:
        return check, []
    prefix = {
        DocumentType.INVOICE: "F",
        DocumentType.CREDIT_NOTE: "C",
        DocumentType.DEBIT_NOTE: "D",
    }[document.document_type]
    name = "CUFE" if is_cufe else "CUDE"
    return check, [
        error(
            f"{prefix}AD06",
            f"El {name} declarado no corresponde al calculado con los datos del documento.",
            f"The declared {name} does not match the one computed from the document's data.",
            f"/{document.document_type}/cbc:UUID",
        )
    ]


def _event_cude_step(
    tree: etree._ElementTree | etree._Element,
    document: Document,
    check: CufeCheck,
    software_pin: str | None,
) -> tuple[CufeCheck, list[Finding]]:
    """Recompute an ApplicationResponse's CUDE (events.event_cude_inputs) with the software PIN."""
    if not software_pin or not document.uuid:
        return check, []
    check.computed = event_cude_inputs(tree).compute(software_pin)
    check.valid = check.computed == document.uuid.strip().lower()
    if check.valid:
        return check, []
    return check, [
        error(
            "AAD06",
            "El CUDE declarado del evento no corresponde al calculado con los datos del evento.",
            "The event's declared CUDE does not match the one computed from its data.",
            "/ApplicationResponse/cbc:UUID",
        )
    ]


def ordering_step(
    result: Result, tree: etree._ElementTree, rules_dir: str | Path | None
) -> Result:
    """Read an ordering document, then run its XSD and (Peppol) Schematron into result."""
    document, findings = read_ordering_tree(tree)
    result.ordering = document
    result.findings += findings
    if document is None:
        return result
    if rules_dir is None:
        rules_dir = rules.rules_dir_from_env()
    result.findings += check_ordering_tree(
        tree, rules_dir, schematron=result.format is Format.PEPPOL_ORDERING
    )
    return result


def official_rules_step(
    tree: etree._ElementTree, fmt: Format, rules_dir: str | Path | None
) -> list[Finding]:
    """Run the XSD and official rule sets (rules.validate_official) for the document's format."""
    kind = RULES_KIND.get(fmt)
    if kind is None:
        return []
    if rules_dir is None:
        rules_dir = rules.rules_dir_from_env()
    return rules.validate_official(tree, kind, rules_dir)


def _supplier_tax_id(tree: etree._ElementTree) -> str | None:
    root = tree.getroot()
    for path in (
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
        "cac:SenderParty/cac:PartyTaxScheme/cbc:CompanyID",
    ):
        text = root.findtext(path, None, NS)
        if text:
            return text.strip()
    return None
