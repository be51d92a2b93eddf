"""CUFE, CUDE, SoftwareSecurityCode and QR content of DIAN documents (pure functions).

DIAN recomputes these hashes from the strings written in the XML, so the functions here hash
exactly the strings they are given: ``cufe_inputs_from_tree`` extracts them from a document as
written (amounts with their own decimals, IssueTime with its offset), and never reformats them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}

#: Tax codes that enter the CUFE, in the order DIAN concatenates them: IVA, INC, ICA.
CUFE_TAX_CODES = ("01", "04", "03")
ZERO_AMOUNT = "0.00"

QR_BASE_URL = {
    "1": "https://catalogo-vpfe.dian.gov.co/document/searchqr?documentkey=",
    "2": "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=",
}


@dataclass(frozen=True)
class CufeInputs:
    """The fields of a CUFE/CUDE, as the exact strings the document carries."""

    number: str
    issue_date: str
    issue_time: str
    line_extension: str
    tax_01: str
    tax_04: str
    tax_03: str
    payable: str
    supplier_id: str
    customer_id: str
    environment: str
    #: What the document declares in cbc:UUID (not part of the hash).
    declared: str | None = None
    #: "CUFE-SHA384" or "CUDE-SHA384", from cbc:UUID/@schemeName.
    scheme_name: str | None = None

    def concatenation(self, secret: str) -> str:
        """Return the string DIAN hashes, with secret (technical key or software PIN) in place."""
        return (
            f"{self.number}{self.issue_date}{self.issue_time}{self.line_extension}"
            f"01{self.tax_01}04{self.tax_04}03{self.tax_03}{self.payable}"
            f"{self.supplier_id}{self.customer_id}{secret}{self.environment}"
        )


def sha384_hex(text: str) -> str:
    """Return the lowercase SHA-384 hex digest of text encoded as UTF-8."""
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


def compute_cufe(inputs: CufeInputs, technical_key: str) -> str:
    """Compute an invoice's CUFE with the numbering range's technical key."""
    return sha384_hex(inputs.concatenation(technical_key))


def compute_cude(inputs: CufeInputs, software_pin: str) -> str:
    """Compute a credit or debit note's CUDE: the CUFE fields with the software PIN as secret."""
    return sha384_hex(inputs.concatenation(software_pin))


def compute_event_cude(
    *,
    number: str,
    issue_date: str,
    issue_time: str,
    sender_id: str,
    receiver_id: str,
    response_code: str,
    referenced_id: str,
    referenced_type_code: str,
    software_pin: str,
) -> str:
    """Compute the CUDE of an ApplicationResponse event (030…034); events carry no environment."""
    return sha384_hex(
        f"{number}{issue_date}{issue_time}{sender_id}{receiver_id}{response_code}"
        f"{referenced_id}{referenced_type_code}{software_pin}"
    )


def software_security_code(software_id: str, software_pin: str, number: str) -> str:
    """Compute sts:SoftwareSecurityCode: SHA-384 of SoftwareID + PIN + document number."""
    return sha384_hex(f"{software_id}{software_pin}{number}")


def qr_url(document_key: str, environment: str) -> str:
    """Return DIAN's document look-up URL for a CUFE/CUDE (environment '1' production, '2' test)."""
    return QR_BASE_URL.get(environment, QR_BASE_URL["2"]) + document_key


def qr_content(inputs: CufeInputs, document_key: str) -> str:
    """Return the sts:QRCode text: one 'Name: value' line per field, then the look-up URL.

    ValIva is the IVA total and ValOtroIm the sum of the other CUFE taxes (INC and ICA).
    """
    other_taxes = _add_amounts(inputs.tax_04, inputs.tax_03)
    lines = [
        f"NumFac: {inputs.number}",
        f"FecFac: {inputs.issue_date}",
        f"HorFac: {inputs.issue_time}",
        f"NitFac: {inputs.supplier_id}",
        f"DocAdq: {inputs.customer_id}",
        f"ValFac: {inputs.line_extension}",
        f"ValIva: {inputs.tax_01}",
        f"ValOtroIm: {other_taxes}",
        f"ValTolFac: {inputs.payable}",
        f"CUFE: {document_key}",
        qr_url(document_key, inputs.environment),
    ]
    return "\n".join(lines)


def _add_amounts(*amounts: str) -> str:
    total = sum((Decimal(a) for a in amounts), Decimal("0"))
    return f"{total:.2f}"


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _root_of(tree: etree._ElementTree | etree._Element) -> etree._Element:
    return tree.getroot() if isinstance(tree, etree._ElementTree) else tree


def _first(elements, *tags: str) -> etree._Element | None:
    """Return what ``find("t1/t2/…")`` on each of elements in turn returns first (Clark tags)."""
    tag, rest = tags[0], tags[1:]
    for el in elements or ():
        for child in el:
            if child.tag == tag:
                found = _first((child,), *rest) if rest else child
                if found is not None:
                    return found
    return None


def _all(elements, *tags: str) -> list[etree._Element]:
    """Return what ``findall("t1/t2/…")`` on each of elements in turn returns (Clark tags)."""
    tag, rest = tags[0], tags[1:]
    found = [child for el in elements for child in el if child.tag == tag]
    return _all(found, *rest) if rest else found


_B_ID = f"{{{CBC}}}ID"
_B_TAX_AMOUNT = f"{{{CBC}}}TaxAmount"
_TAX_SCHEME_ID = (
    f"{{{CAC}}}TaxSubtotal", f"{{{CAC}}}TaxCategory", f"{{{CAC}}}TaxScheme", _B_ID,
)
_PARTY_ID = (f"{{{CAC}}}Party", f"{{{CAC}}}PartyTaxScheme", f"{{{CBC}}}CompanyID")


def _tax_amounts(tax_totals: list[etree._Element]) -> dict[str, str]:
    """Return the document-level tax amount per CUFE tax code, as written (summed if repeated)."""
    found: dict[str, list[str]] = {}
    for tax_total in tax_totals:
        codes = {_text(code) for code in _all((tax_total,), *_TAX_SCHEME_ID)}
        amount = _text(_first((tax_total,), _B_TAX_AMOUNT))
        for code in codes & set(CUFE_TAX_CODES):
            found.setdefault(code, []).append(amount)
    result = {}
    for code in CUFE_TAX_CODES:
        amounts = found.get(code)
        if not amounts:
            result[code] = ZERO_AMOUNT
        elif len(amounts) == 1:
            result[code] = amounts[0]
        else:
            try:
                result[code] = _add_amounts(*amounts)
            except InvalidOperation:
                result[code] = amounts[0]
    return result


def cufe_inputs_from_tree(tree: etree._ElementTree | etree._Element) -> CufeInputs:
    """Extract the CUFE/CUDE fields of a DIAN Invoice, CreditNote or DebitNote, as written.

    The document element's children are grouped by tag in one pass (on a long invoice, one
    ``find`` per field would rescan every line).
    """
    root = _root_of(tree)
    children: dict[object, list[etree._Element]] = {}
    for child in root:
        children.setdefault(child.tag, []).append(child)

    def first(tag: str) -> etree._Element | None:
        group = children.get(tag)
        return group[0] if group else None

    totals = first(f"{{{CAC}}}LegalMonetaryTotal")
    if totals is None:  # DebitNote
        totals = first(f"{{{CAC}}}RequestedMonetaryTotal")
    taxes = _tax_amounts(children.get(f"{{{CAC}}}TaxTotal", []))
    uuid = first(f"{{{CBC}}}UUID")
    return CufeInputs(
        number=_text(first(_B_ID)),
        issue_date=_text(first(f"{{{CBC}}}IssueDate")),
        issue_time=_text(first(f"{{{CBC}}}IssueTime")),
        line_extension=_text(_first((totals,), f"{{{CBC}}}LineExtensionAmount"))
        if totals is not None
        else "",
        tax_01=taxes["01"],
        tax_04=taxes["04"],
        tax_03=taxes["03"],
        payable=_text(_first((totals,), f"{{{CBC}}}PayableAmount")) if totals is not None else "",
        supplier_id=_text(_first(children.get(f"{{{CAC}}}AccountingSupplierParty"), *_PARTY_ID)),
        customer_id=_text(_first(children.get(f"{{{CAC}}}AccountingCustomerParty"), *_PARTY_ID)),
        environment=_text(first(f"{{{CBC}}}ProfileExecutionID")),
        declared=_text(uuid) or None,
        scheme_name=uuid.get("schemeName") if uuid is not None else None,
    )
