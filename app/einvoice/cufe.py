"""CUFE, CUDE, SoftwareSecurityCode and QR content of DIAN documents (pure functions).

DIAN's formula (Anexo técnico, CUFE/CUDE) defines the form of each value it takes, and that form
is hashed, not the text a document happens to carry: a document that writes its INC total as
``<cbc:TaxAmount>0</cbc:TaxAmount>`` has a CUFE computed over ``0.00``. ``CufeInputs`` keeps the
values as read; ``CufeInputs.canonical`` (used by every hash and the QR) puts each one in the
annex's form:

* amounts (ValFac, ValImp1/2/3, ValTot): a point, exactly two decimals, no thousands separator,
  no sign for zero. A value written with more decimals is **truncated** to two (the annex's
  "decimales a dos (2) dígitos truncados": 262.569 → 262.56). Implementers disagree on this
  point, so a verifier also accepts the half-up rounding (``AMOUNT_ROUNDINGS``); the two only
  differ for documents that write more than two decimals, which DIAN's rules refuse anyway;
* FecFac: ``YYYY-MM-DD`` (an xsd:date timezone suffix is dropped);
* HorFac: ``HH:MM:SS`` and the offset as ``±HH:MM`` (fractions of a second dropped, ``Z`` written
  ``+00:00``, a time without offset taken as Colombian legal time ``-05:00``);
* NitOFE / NumAdq: the identifier without dots, spaces or the NIT's ``-DV`` suffix;
* TipoAmbiente and the tax codes: the digits as DIAN's lists write them (``1``/``2``, ``01``).

An amount that is not a number at all is kept as written: it cannot have a canonical form, and
the CUFE then does not recompute (the document's own checks report the amount).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}

#: Tax codes that enter the CUFE, in the order DIAN concatenates them: IVA, INC, ICA.
CUFE_TAX_CODES = ("01", "04", "03")
ZERO_AMOUNT = "0.00"
#: How an amount written with more than two decimals is brought to two: the annex's truncation
#: first (what the writer and ``concatenation`` use), then half-up, which some issuers use.
AMOUNT_ROUNDINGS = (ROUND_DOWN, ROUND_HALF_UP)
#: The offset of Colombian legal time, assumed for a HorFac written without one.
COLOMBIA_OFFSET = "-05:00"
_CENT = Decimal("0.01")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_TIME = re.compile(r"(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?")
_ID_SEPARATORS = re.compile(r"[\s.]")

QR_BASE_URL = {
    "1": "https://catalogo-vpfe.dian.gov.co/document/searchqr?documentkey=",
    "2": "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=",
}


@dataclass(frozen=True)
class CufeInputs:
    """The fields of a CUFE/CUDE as written (``canonical`` gives the form that is hashed)."""

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

    def canonical(self, rounding: str = ROUND_DOWN) -> CufeInputs:
        """Return these fields in the form the annex defines (see the module docstring)."""
        return replace(
            self,
            number=self.number.strip(),
            issue_date=canonical_date(self.issue_date),
            issue_time=canonical_time(self.issue_time),
            line_extension=canonical_amount(self.line_extension, rounding),
            tax_01=canonical_amount(self.tax_01, rounding),
            tax_04=canonical_amount(self.tax_04, rounding),
            tax_03=canonical_amount(self.tax_03, rounding),
            payable=canonical_amount(self.payable, rounding),
            supplier_id=canonical_party_id(self.supplier_id),
            customer_id=canonical_party_id(self.customer_id),
            environment=_environment(self.environment),
        )

    def concatenation(self, secret: str, rounding: str = ROUND_DOWN) -> str:
        """Return the string DIAN hashes, with secret (technical key or software PIN) in place."""
        c = self.canonical(rounding)
        return (
            f"{c.number}{c.issue_date}{c.issue_time}{c.line_extension}"
            f"01{c.tax_01}04{c.tax_04}03{c.tax_03}{c.payable}"
            f"{c.supplier_id}{c.customer_id}{secret.strip()}{c.environment}"
        )

    def has_sub_cent_amounts(self) -> bool:
        """Say whether an amount is written with more than two significant decimals."""
        amounts = (self.line_extension, self.tax_01, self.tax_04, self.tax_03, self.payable)
        return any(
            canonical_amount(a, ROUND_DOWN) != canonical_amount(a, ROUND_HALF_UP) for a in amounts
        )


def canonical_amount(text: str | Decimal, rounding: str = ROUND_DOWN) -> str:
    """Return an amount as the CUFE takes it: a point, two decimals, no separators (or as written).

    ``0`` → ``0.00``, ``342000.000`` → ``342000.00``, ``342000.5`` → ``342000.50``; more than two
    decimals are truncated (``rounding=ROUND_DOWN``) or rounded. Text that is not a finite number
    is returned as written, so that a CUFE over it never recomputes.
    """
    if isinstance(text, Decimal):
        value = text
    else:
        written = text.strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", written):
            return text
        value = Decimal(written)
    if not value.is_finite():
        return str(text)
    value = value.quantize(_CENT, rounding=rounding)
    if value.is_zero():
        value = abs(value)
    return f"{value:.2f}"


def canonical_date(text: str) -> str:
    """Return FecFac/FecDE as ``YYYY-MM-DD``: an xsd:date's timezone suffix is dropped."""
    match = _DATE.fullmatch(text.strip())
    return match.group(1) if match else text.strip()


def canonical_time(text: str) -> str:
    """Return HorFac/HorDE as ``HH:MM:SS±HH:MM`` (Colombian time when no offset is written)."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        return text.strip()
    offset = match.group(2)
    if offset is None:
        offset = COLOMBIA_OFFSET
    elif offset == "Z":
        offset = "+00:00"
    return match.group(1) + offset


def canonical_party_id(text: str) -> str:
    """Return NitOFE/NumAdq: the identifier without dots or spaces and without a NIT's ``-DV``."""
    value = _ID_SEPARATORS.sub("", text)
    match = re.fullmatch(r"(\d+)-\d", value)
    return match.group(1) if match else value


def _environment(text: str) -> str:
    value = text.strip()
    return str(int(value)) if value.isdigit() else value


def canonical_code(text: str, width: int = 2) -> str:
    """Return a numeric code (tax scheme, environment) zero-padded to width; others as written."""
    value = text.strip()
    return value.zfill(width) if value.isdigit() else value


def sha384_hex(text: str) -> str:
    """Return the lowercase SHA-384 hex digest of text encoded as UTF-8."""
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


def compute_cufe(inputs: CufeInputs, technical_key: str) -> str:
    """Compute an invoice's CUFE with the numbering range's technical key."""
    return sha384_hex(inputs.concatenation(technical_key))


def compute_cude(inputs: CufeInputs, software_pin: str) -> str:
    """Compute a credit or debit note's CUDE: the CUFE fields with the software PIN as secret."""
    return sha384_hex(inputs.concatenation(software_pin))


def recompute(inputs: CufeInputs, secret: str, declared: str | None) -> tuple[str, bool]:
    """Recompute a CUFE/CUDE and say whether it is the declared one.

    Returns the annex's value (amounts truncated) and whether declared matches it or, for a
    document writing amounts with more than two decimals, the value with amounts rounded half up.
    """
    wanted = (declared or "").strip().lower()
    computed = sha384_hex(inputs.concatenation(secret))
    if computed == wanted:
        return computed, True
    if inputs.has_sub_cent_amounts():
        for rounding in AMOUNT_ROUNDINGS[1:]:
            if sha384_hex(inputs.concatenation(secret, rounding)) == wanted:
                return computed, True
    return computed, False


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
    """Compute the CUDE of an ApplicationResponse event (030…034); events carry no environment.

    Dates, times and party ids take the same canonical form as in the CUFE.
    """
    return sha384_hex(
        f"{number.strip()}{canonical_date(issue_date)}{canonical_time(issue_time)}"
        f"{canonical_party_id(sender_id)}{canonical_party_id(receiver_id)}"
        f"{canonical_code(response_code, width=3)}{referenced_id.strip()}"
        f"{canonical_code(referenced_type_code)}{software_pin.strip()}"
    )


def software_security_code(software_id: str, software_pin: str, number: str) -> str:
    """Compute sts:SoftwareSecurityCode: SHA-384 of SoftwareID + PIN + document number."""
    return sha384_hex(f"{software_id}{software_pin}{number}")


def qr_url(document_key: str, environment: str) -> str:
    """Return DIAN's document look-up URL for a CUFE/CUDE (environment '1' production, '2' test)."""
    return QR_BASE_URL.get(environment, QR_BASE_URL["2"]) + document_key


def qr_content(inputs: CufeInputs, document_key: str) -> str:
    """Return the sts:QRCode text: one 'Name: value' line per field, then the look-up URL.

    ValIva is the IVA total and ValOtroIm the sum of the other CUFE taxes (INC and ICA); every
    value is in its canonical form, as hashed.
    """
    inputs = inputs.canonical()
    other_taxes = _add_amounts(inputs.tax_04, inputs.tax_03)
    lines = [
        f"NumFac: {inputs.number}",
        f"FecFac: {inputs.issue_date}",
        f"HorFac: {inputs.issue_time}",
        f"NitFac: {inputs.supplier_id}",
        f"DocAdq: {inputs.customer_id}",
        f"ValFac: {inputs.line_extension}",
        f"ValIva: {inputs.tax_01}",
        f"ValOtroIm: {canonical_amount(other_taxes)}",
        f"ValTolFac: {inputs.payable}",
        f"CUFE: {document_key}",
        qr_url(document_key, inputs.environment),
    ]
    return "\n".join(lines)


def _add_amounts(*amounts: str) -> str:
    """Add amounts written as text; raise InvalidOperation when one is not a number."""
    total = sum((Decimal(a.strip()) for a in amounts), Decimal("0"))
    return f"{total:f}"


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
    f"{{{CAC}}}TaxSubtotal",
    f"{{{CAC}}}TaxCategory",
    f"{{{CAC}}}TaxScheme",
    _B_ID,
)
_PARTY_ID = (f"{{{CAC}}}Party", f"{{{CAC}}}PartyTaxScheme", f"{{{CBC}}}CompanyID")


def _tax_amounts(tax_totals: list[etree._Element]) -> dict[str, str]:
    """Return the document-level tax amount per CUFE tax code, as written (summed if repeated)."""
    found: dict[str, list[str]] = {}
    for tax_total in tax_totals:
        codes = {canonical_code(_text(code)) for code in _all((tax_total,), *_TAX_SCHEME_ID)}
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

    The hashes put them in the annex's form (``CufeInputs.canonical``).

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
