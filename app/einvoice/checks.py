"""Our own checks, which run even without the official rule sets.

Totals arithmetic, tax subtotals, line count, tax ids and check digits, dates, currency codes and
the duplicate key. Codes are the official rule ids where one exists: EN 16931's ``BR-CO-*`` for
EN 16931 / Peppol / generic UBL documents, and DIAN's ``FAU02``… (``C``/``D`` for notes) for DIAN
documents, whose totals follow DIAN's own definitions (e.g. TaxExclusiveAmount is the taxable
base, not line total − allowances + charges). Otherwise a stable code of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import list_currencies

from app.einvoice.findings import Finding, error, warning
from app.einvoice.model import Document, DocumentType, Party, duplicate_key
from app.taxids import TaxIdError, compact_tax_id

ZERO = Decimal("0")
CENT = Decimal("0.01")
ONE = Decimal("1")
NIT_SCHEME = "31"
EN16931 = "urn:cen.eu:en16931:2017"
_DIAN_PREFIX = {
    DocumentType.INVOICE: "F",
    DocumentType.CREDIT_NOTE: "C",
    DocumentType.DEBIT_NOTE: "D",
}
_TOTALS_PATH = {
    DocumentType.DEBIT_NOTE: "cac:RequestedMonetaryTotal",
}


@lru_cache(maxsize=1)
def iso_currencies() -> frozenset[str]:
    """Return the ISO 4217 currency codes Babel knows (current and historic)."""
    return frozenset(list_currencies())


def run_checks(document: Document) -> list[Finding]:
    """Run every one of our own checks on a read document; return the findings."""
    findings: list[Finding] = []
    if document.document_type is not DocumentType.APPLICATION_RESPONSE:
        if document.is_dian:
            findings += check_totals_dian(document)
            findings += check_tax_subtotals(document)
        elif document.customization_id.startswith(EN16931):
            findings += check_totals_en16931(document)
            findings += check_tax_subtotals(document)
        else:
            # Plain UBL 2.1 promises no EN 16931 semantics: the same arithmetic, as warnings.
            findings += [_as_warning(f) for f in
                         check_totals_en16931(document) + check_tax_subtotals(document)]
        findings += check_line_count(document)
        findings += check_currency(document)
    findings += check_tax_ids(document)
    findings += check_dates(document)
    return findings


def _as_warning(finding: Finding) -> Finding:
    return warning(finding.code, finding.message_es, finding.message_en, finding.path)


# -- totals ----------------------------------------------------------------------------------

def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _xpath_round(value: Decimal) -> Decimal:
    """Round like XPath's round(): to the nearest integer, halves towards +infinity."""
    return (value + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)


def _totals_path(document: Document, element: str) -> str:
    group = _TOTALS_PATH.get(document.document_type, "cac:LegalMonetaryTotal")
    return f"/{document.document_type}/{group}/cbc:{element}"


def _mismatch(code: str, document: Document, element: str, declared: Decimal,
              expected: Decimal, what_es: str, what_en: str) -> Finding:
    return error(
        code,
        f"{element} es {declared}, pero {what_es} da {expected}.",
        f"{element} is {declared}, but {what_en} gives {expected}.",
        _totals_path(document, element),
    )


def _tax_total_in_document_currency(document: Document):
    for total in document.tax_totals:
        if not total.currency or total.currency == document.currency:
            return total
    return None


def check_totals_en16931(document: Document) -> list[Finding]:
    """Check the EN 16931 totals (BR-12…15 presence, BR-CO-10…16 arithmetic), to the cent."""
    findings: list[Finding] = []
    t = document.totals
    for code, value, element in (
        ("BR-12", t.line_extension, "LineExtensionAmount"),
        ("BR-13", t.tax_exclusive, "TaxExclusiveAmount"),
        ("BR-14", t.tax_inclusive, "TaxInclusiveAmount"),
        ("BR-15", t.payable, "PayableAmount"),
    ):
        if value is None:
            findings.append(error(code, f"Falta {element}.", f"{element} is missing.",
                                  _totals_path(document, element)))
    allowances = [a for a in document.allowance_charges if not a.charge]
    charges = [a for a in document.allowance_charges if a.charge]
    if t.line_extension is not None:
        expected = _cents(_sum(line.line_extension for line in document.lines))
        if t.line_extension != expected:
            findings.append(_mismatch("BR-CO-10", document, "LineExtensionAmount",
                                      t.line_extension, expected,
                                      "la suma de las líneas", "the sum of the lines"))
    if t.allowance is not None or allowances:
        expected = _cents(_sum(a.amount for a in allowances))
        if (t.allowance or ZERO) != expected:
            findings.append(_mismatch("BR-CO-11", document, "AllowanceTotalAmount",
                                      t.allowance or ZERO, expected,
                                      "la suma de los descuentos", "the sum of the allowances"))
    if t.charge is not None or charges:
        expected = _cents(_sum(c.amount for c in charges))
        if (t.charge or ZERO) != expected:
            findings.append(_mismatch("BR-CO-12", document, "ChargeTotalAmount",
                                      t.charge or ZERO, expected,
                                      "la suma de los cargos", "the sum of the charges"))
    if t.tax_exclusive is not None and t.line_extension is not None:
        expected = t.line_extension - (t.allowance or ZERO) + (t.charge or ZERO)
        if t.tax_exclusive != expected:
            findings.append(_mismatch("BR-CO-13", document, "TaxExclusiveAmount",
                                      t.tax_exclusive, expected,
                                      "líneas − descuentos + cargos",
                                      "lines − allowances + charges"))
    tax_total = _tax_total_in_document_currency(document)
    if t.tax_inclusive is not None and t.tax_exclusive is not None:
        tax = tax_total.tax_amount if tax_total is not None else ZERO
        expected = _cents(t.tax_exclusive + tax)
        if t.tax_inclusive != expected:
            findings.append(_mismatch("BR-CO-15", document, "TaxInclusiveAmount",
                                      t.tax_inclusive, expected,
                                      "base + impuestos", "tax exclusive + tax"))
    if t.payable is not None and t.tax_inclusive is not None:
        expected = t.tax_inclusive - (t.prepaid or ZERO) + (t.payable_rounding or ZERO)
        if t.payable != expected:
            findings.append(_mismatch("BR-CO-16", document, "PayableAmount", t.payable, expected,
                                      "total − anticipos + redondeo",
                                      "tax inclusive − prepaid + rounding"))
    return findings


def check_totals_dian(document: Document) -> list[Finding]:
    """Check the totals as DIAN defines them (FAU02–FAU06, FAR08), rounded to whole units."""
    findings: list[Finding] = []
    prefix = _DIAN_PREFIX[document.document_type]
    t = document.totals
    for value, element in ((t.line_extension, "LineExtensionAmount"),
                           (t.tax_exclusive, "TaxExclusiveAmount"),
                           (t.tax_inclusive, "TaxInclusiveAmount"),
                           (t.payable, "PayableAmount")):
        if value is None:
            findings.append(error("TOTAL-MISSING", f"Falta {element}.", f"{element} is missing.",
                                  _totals_path(document, element)))

    def compare(code: str, element: str, declared: Decimal | None, expected: Decimal,
                what_es: str, what_en: str) -> None:
        if declared is not None and _xpath_round(declared) != _xpath_round(expected):
            findings.append(_mismatch(prefix + code, document, element, declared, expected,
                                      what_es, what_en))

    compare("AU02", "LineExtensionAmount", t.line_extension,
            _sum(line.line_extension for line in document.lines),
            "la suma de las líneas", "the sum of the lines")
    compare("AU03", "TaxExclusiveAmount", t.tax_exclusive,
            _sum(sub.taxable_amount for line in document.lines
                 for sub in (line.tax_totals[0].subtotals if line.tax_totals else [])),
            "la suma de las bases gravables de las líneas", "the lines' taxable amounts")
    taxes = _sum(total.tax_amount for total in document.tax_totals)
    if t.line_extension is not None:
        compare("AU04", "TaxInclusiveAmount", t.tax_inclusive, t.line_extension + taxes,
                "valor bruto + tributos", "line total + taxes")
    allowances = _sum(a.amount for a in document.allowance_charges if not a.charge)
    charges = _sum(a.amount for a in document.allowance_charges if a.charge)
    if t.allowance is not None:
        compare("AU05", "AllowanceTotalAmount", t.allowance, allowances,
                "la suma de los descuentos", "the sum of the allowances")
    if t.charge is not None:
        compare("AU06", "ChargeTotalAmount", t.charge, charges,
                "la suma de los cargos", "the sum of the charges")
    if t.payable is not None and t.tax_inclusive is not None:
        r = _xpath_round
        expected = (r(t.tax_inclusive) - r(t.allowance or ZERO) + r(t.charge or ZERO)
                    - r(t.prepaid or ZERO) + r(t.payable_rounding or ZERO))
        compare("AR08", "PayableAmount", t.payable, expected,
                "total con impuestos − descuentos + cargos − anticipos + redondeo",
                "tax inclusive − allowances + charges − prepaid + rounding")
    return findings


# -- taxes -----------------------------------------------------------------------------------

def check_tax_subtotals(document: Document) -> list[Finding]:
    """Check each subtotal (base × rate = amount, ±1) and each TaxTotal = Σ its subtotals."""
    findings: list[Finding] = []
    dian = document.is_dian
    sum_code = "TAX-TOTAL-SUM" if dian else "BR-CO-14"
    rate_code = "TAX-SUBTOTAL-RATE" if dian else "BR-CO-17"
    tolerance = ONE
    for index, total in enumerate(document.tax_totals, start=1):
        path = f"/{document.document_type}/cac:TaxTotal[{index}]"
        if total.subtotals:
            expected = _sum(sub.tax_amount for sub in total.subtotals)
            if abs(total.tax_amount - expected) > CENT / 2 and not (
                    dian and _xpath_round(total.tax_amount) == _xpath_round(expected)):
                findings.append(error(
                    sum_code,
                    f"TaxAmount es {total.tax_amount}, pero sus subtotales suman {expected}.",
                    f"TaxAmount is {total.tax_amount}, but its subtotals add up to {expected}.",
                    path + "/cbc:TaxAmount",
                ))
        for sub_index, sub in enumerate(total.subtotals, start=1):
            if sub.taxable_amount is None or sub.percent is None or sub.per_unit_amount:
                continue
            expected = _cents(sub.taxable_amount * sub.percent / 100)
            if abs(sub.tax_amount - expected) > tolerance:
                findings.append(error(
                    rate_code,
                    f"El subtotal {sub.scheme_id or sub.category} dice {sub.tax_amount}, pero "
                    f"{sub.taxable_amount} × {sub.percent} % = {expected}.",
                    f"Tax subtotal {sub.scheme_id or sub.category} says {sub.tax_amount}, but "
                    f"{sub.taxable_amount} × {sub.percent}% = {expected}.",
                    f"{path}/cac:TaxSubtotal[{sub_index}]/cbc:TaxAmount",
                ))
    return findings


def check_line_count(document: Document) -> list[Finding]:
    """Check LineCountNumeric (where given) against the number of lines."""
    if document.line_count is None or document.line_count == len(document.lines):
        return []
    return [error(
        "LINE-COUNT",
        f"LineCountNumeric dice {document.line_count}, pero hay {len(document.lines)} líneas.",
        f"LineCountNumeric says {document.line_count}, but there are {len(document.lines)} lines.",
        f"/{document.document_type}/cbc:LineCountNumeric",
    )]


# -- tax ids ---------------------------------------------------------------------------------

def check_tax_ids(document: Document) -> list[Finding]:
    """Check Colombian NITs and their declared check digits (DIAN documents)."""
    if not document.is_dian:
        return []
    findings: list[Finding] = []
    if document.document_type is DocumentType.APPLICATION_RESPONSE:
        roles = (("SenderParty", document.supplier, "emisor", "sender"),
                 ("ReceiverParty", document.customer, "receptor", "receiver"))
    else:
        roles = (("AccountingSupplierParty", document.supplier, "vendedor", "supplier"),
                 ("AccountingCustomerParty", document.customer, "comprador", "customer"))
    for element, party, role_es, role_en in roles:
        findings += _check_party_nit(document, element, party, role_es, role_en)
    if document.dian and document.dian.software_provider_id:
        findings += _check_nit(
            document.dian.software_provider_id, document.dian.software_provider_check_digit,
            "proveedor de software", "software provider",
            f"/{document.document_type}/ext:UBLExtensions//sts:SoftwareProvider/sts:ProviderID",
            error)
    return findings


def _check_party_nit(document: Document, element: str, party: Party, role_es: str,
                     role_en: str) -> list[Finding]:
    if party.id_scheme != NIT_SCHEME or not party.tax_id:
        return []
    base = f"/{document.document_type}/cac:{element}"
    if document.document_type is not DocumentType.APPLICATION_RESPONSE:
        base += "/cac:Party"
    findings = _check_nit(party.tax_id, party.check_digit, role_es, role_en,
                          base + "/cac:PartyTaxScheme/cbc:CompanyID", error)
    if party.legal_id == party.tax_id and party.legal_check_digit not in ("", party.check_digit):
        # The legal-entity copy of the NIT disagrees with the tax-scheme copy: the NIT itself was
        # checked above, so this is a data-quality warning, not a second error.
        findings += _check_nit(party.legal_id, party.legal_check_digit, role_es, role_en,
                               base + "/cac:PartyLegalEntity/cbc:CompanyID", warning)
    return findings


def _check_nit(nit: str, check_digit: str, role_es: str, role_en: str, path: str,
               make: Callable[..., Finding]) -> list[Finding]:
    if not nit.isdigit():
        return [make("TAXID-FORMAT",
                     f"El NIT del {role_es} ('{nit[:20]}') debe ser solo dígitos, sin DV.",
                     f"The {role_en}'s NIT ('{nit[:20]}') must be digits only, without the "
                     "check digit.", path)]
    if not check_digit:
        return [make("TAXID-CHECK-DIGIT",
                     f"Falta el dígito de verificación (schemeID) del NIT {nit} del {role_es}.",
                     f"The check digit (schemeID) of the {role_en}'s NIT {nit} is missing.",
                     path)]
    try:
        compact_tax_id("CO", nit + check_digit)
    except TaxIdError as exc:
        if exc.reason == "checksum":
            return [make("TAXID-CHECK-DIGIT",
                         f"El dígito de verificación {check_digit} no corresponde al NIT {nit} "
                         f"del {role_es}.",
                         f"Check digit {check_digit} does not match the {role_en}'s NIT {nit}.",
                         path)]
        return [make("TAXID-FORMAT",
                     f"El NIT {nit}-{check_digit} del {role_es} no es válido ({exc.reason}).",
                     f"The {role_en}'s NIT {nit}-{check_digit} is not valid ({exc.reason}).",
                     path)]
    return []


# -- dates and currency ----------------------------------------------------------------------

def check_dates(document: Document) -> list[Finding]:
    """Check that the due date and referenced invoices do not contradict the issue date."""
    findings: list[Finding] = []
    issue = document.issue_date
    if issue is None:
        return findings
    if document.due_date is not None and document.due_date < issue:
        findings.append(warning(
            "DATE-DUE-BEFORE-ISSUE",
            f"La fecha de vencimiento ({document.due_date}) es anterior a la de emisión ({issue}).",
            f"The due date ({document.due_date}) is before the issue date ({issue}).",
            f"/{document.document_type}/cbc:DueDate",
        ))
    for ref in document.billing_references:
        if ref.issue_date is not None and ref.issue_date > issue:
            findings.append(warning(
                "DATE-REFERENCE-AFTER-ISSUE",
                f"El documento referenciado {ref.id} es posterior ({ref.issue_date}) a este "
                f"({issue}).",
                f"Referenced document {ref.id} is dated after this one ({ref.issue_date} > "
                f"{issue}).",
                f"/{document.document_type}/cac:BillingReference",
            ))
    return findings


def check_currency(document: Document) -> list[Finding]:
    """Check the document (and tax) currency against ISO 4217."""
    findings: list[Finding] = []
    codes = iso_currencies()
    for value, element, code in ((document.currency, "DocumentCurrencyCode", "BR-CL-04"),
                                 (document.tax_currency, "TaxCurrencyCode", "BR-CL-05")):
        if element == "DocumentCurrencyCode" and not value:
            findings.append(error("CURRENCY-MISSING", "Falta la moneda del documento.",
                                  "The document currency is missing.",
                                  f"/{document.document_type}/cbc:{element}"))
        elif value and value not in codes:
            findings.append(error(
                "CURRENCY-CODE" if document.is_dian else code,
                f"'{value[:10]}' no es un código de moneda ISO 4217.",
                f"'{value[:10]}' is not an ISO 4217 currency code.",
                f"/{document.document_type}/cbc:{element}",
            ))
    return findings


def check_duplicate(document: Document, existing: Container[tuple[str, str, str]]) -> list[Finding]:
    """Return a DUPLICATE error when the document's key is among the existing keys."""
    key = duplicate_key(document)
    if key not in existing:
        return []
    return [error(
        "DUPLICATE",
        f"Ya existe el documento {document.number} ({document.document_type}) del emisor {key[0]}.",
        f"Document {document.number} ({document.document_type}) from supplier {key[0]} already "
        "exists.",
        f"/{document.document_type}/cbc:ID",
    )]
