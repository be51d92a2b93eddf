"""The report of one ingested file: the JSON form the command line prints (one object per file)
and a short human-readable summary.

The JSON keys are a contract other tools rely on: every key is always present, amounts are
strings (the exact text of the XML), and a value that does not apply is ``None`` (JSON null).
``line_count`` counts the document's lines (invoice, credit or debit note lines; OrderLine,
CatalogueLine or DespatchLine). An ordering document (Order, Catalogue, DespatchAdvice…) has the
same keys, ``supplier``/``customer`` being its selling and buying sides (seller/buyer, catalogue
provider/receiver, despatch supplier/delivery customer), ``totals`` its AnticipatedMonetaryTotal,
plus ``transaction`` (the Peppol transaction whose rules ran), ``order_reference`` and
``parties`` (every party by role: name, id, endpoint).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.einvoice.engine import Result
from app.einvoice.findings import Finding, error
from app.einvoice.model import Format, MonetaryTotals, Party
from app.einvoice.ordering import OrderingDocument, OrderingParty

# (JSON key, UBL element in LegalMonetaryTotal, MonetaryTotals attribute)
TOTALS = (
    ("line_extension", "LineExtensionAmount", "line_extension"),
    ("tax_exclusive", "TaxExclusiveAmount", "tax_exclusive"),
    ("tax_inclusive", "TaxInclusiveAmount", "tax_inclusive"),
    ("allowance", "AllowanceTotalAmount", "allowance"),
    ("charge", "ChargeTotalAmount", "charge"),
    ("prepaid", "PrepaidAmount", "prepaid"),
    ("payable", "PayableAmount", "payable"),
)


def unreadable_file_finding(reason: str) -> Finding:
    """Make the finding for a file that could not even be opened."""
    return error(
        "FILE-UNREADABLE",
        f"No se pudo leer el archivo: {reason}",
        f"The file could not be read: {reason}",
    )


def as_json(result: Result, file: str, *, language: str = "en") -> dict[str, Any]:
    """Return the JSON form of one file's Result (the `einvoice inspect --json` contract)."""
    if result.ordering is not None:
        return _ordering_json(result, result.ordering, file, language)
    document = result.document
    signature = result.signature
    return {
        "file": file,
        "format": str(result.format),
        "document_type": str(document.document_type) if document else None,
        "number": _or_none(document.number) if document else None,
        "issue_date": document.issue_date.isoformat() if document and document.issue_date else None,
        "currency": _or_none(document.currency) if document else None,
        "line_count": len(document.lines) if document else None,
        "supplier": _party(document.supplier if document else None),
        "customer": _party(document.customer if document else None),
        "totals": _totals(document.totals if document else None),
        "cufe": {
            "declared": result.cufe.declared or None,
            "computed": result.cufe.computed,
            "valid": result.cufe.valid,
        },
        "signature": {
            "present": bool(signature and signature.present),
            "valid": signature.valid if signature is not None and signature.present else None,
            "signer": signature.subject if signature is not None else None,
            "signing_time": signature.signing_time.isoformat()
            if signature is not None and signature.signing_time
            else None,
            "reason": signature.reason if signature is not None else None,
        },
        "valid": result.valid,
        "findings": [_finding(f, language) for f in result.findings],
    }


def _ordering_json(
    result: Result, document: OrderingDocument, file: str, language: str
) -> dict[str, Any]:
    return {
        "file": file,
        "format": str(result.format),
        "document_type": str(document.document_type),
        "transaction": _or_none(document.transaction),
        "number": _or_none(document.number),
        "issue_date": document.issue_date.isoformat() if document.issue_date else None,
        "currency": _or_none(document.currency),
        "line_count": document.line_count,
        "supplier": _ordering_party(document.supplier),
        "customer": _ordering_party(document.customer),
        "parties": {
            role: {
                "name": _or_none(party.display_name),
                "id": _or_none(party.id),
                "id_scheme": _or_none(party.id_scheme),
                "endpoint_id": _or_none(party.endpoint_id),
                "endpoint_scheme": _or_none(party.endpoint_scheme),
                "tax_id": _or_none(party.tax_id or party.legal_id),
            }
            for role, party in document.parties.items()
        },
        "order_reference": _or_none(document.order_reference),
        "response_code": _or_none(document.response_code),
        "totals": _totals(document.totals),
        "cufe": {"declared": None, "computed": None, "valid": None},
        "signature": {
            "present": False,
            "valid": None,
            "signer": None,
            "signing_time": None,
            "reason": None,
        },
        "valid": result.valid,
        "findings": [_finding(f, language) for f in result.findings],
    }


def _ordering_party(party: OrderingParty | None) -> dict[str, str | None]:
    if party is None:
        return {"tax_id": None, "name": None}
    ident = party.tax_id or party.legal_id or party.id or party.endpoint_id
    return {"tax_id": _or_none(ident), "name": _or_none(party.display_name)}


def unreadable_json(file: str, finding: Finding, *, language: str = "en") -> dict[str, Any]:
    """Return the JSON form for a file that could not be opened (same keys, nulls)."""
    result = Result(Format.UNKNOWN, findings=[finding])
    return as_json(result, file, language=language)


def summary(result: Result, file: str, *, language: str = "en") -> str:
    """Return a few readable lines about one file's Result."""
    data = as_json(result, file, language=language)
    verdict = "VALID" if data["valid"] else "INVALID" if result.readable else "UNREADABLE"
    head = " ".join(
        str(v)
        for v in (
            data["format"],
            data["document_type"],
            data["number"],
            data["issue_date"],
            data["currency"],
            f"{data['line_count']} lines" if data["line_count"] is not None else None,
        )
        if v
    )
    lines = [f"{file}: {verdict}  {head}"]
    if result.readable:
        supplier, customer = data["supplier"], data["customer"]
        lines.append(f"  supplier {supplier['tax_id'] or '-'} {supplier['name'] or ''}".rstrip())
        lines.append(f"  customer {customer['tax_id'] or '-'} {customer['name'] or ''}".rstrip())
        totals = data["totals"]
        lines.append(
            "  totals "
            + ", ".join(f"{key} {value}" for key, value in totals.items() if value is not None)
        )
        lines.append(f"  {_cufe_line(data['cufe'])}")
        lines.append(f"  {_signature_line(data['signature'])}")
    for finding in data["findings"]:
        where = f" at {finding['path']}" if finding["path"] else ""
        lines.append(f"  {finding['severity']} {finding['code']}{where}: {finding['message']}")
    return "\n".join(lines)


def _or_none(value: str) -> str | None:
    return value or None


def _party(party: Party | None) -> dict[str, str | None]:
    if party is None:
        return {"tax_id": None, "name": None}
    return {"tax_id": _or_none(party.tax_id), "name": _or_none(party.display_name)}


def _totals(totals: MonetaryTotals | None) -> dict[str, str | None]:
    if totals is None:
        return {key: None for key, _, _ in TOTALS}
    return {key: _amount(totals, element, attribute) for key, element, attribute in TOTALS}


def _amount(totals: MonetaryTotals, element: str, attribute: str) -> str | None:
    raw = totals.raw.get(element)
    if raw:
        return raw
    value: Decimal | None = getattr(totals, attribute)
    return None if value is None else f"{value:f}"


def _finding(finding: Finding, language: str) -> dict[str, Any]:
    data = finding.as_dict(language)
    data["path"] = data["path"] or None
    return data


def _cufe_line(cufe: dict[str, Any]) -> str:
    if not cufe["declared"]:
        return "CUFE/CUDE: none declared"
    if cufe["valid"] is None:
        return f"CUFE/CUDE {cufe['declared']} (not recomputed: no technical key or PIN given)"
    return f"CUFE/CUDE {cufe['declared']} ({'matches' if cufe['valid'] else 'DOES NOT match'})"


def _signature_line(signature: dict[str, Any]) -> str:
    if not signature["present"]:
        return "signature: none" + (f" ({signature['reason']})" if signature["reason"] else "")
    if signature["valid"]:
        return f"signature: valid, by {signature['signer']} at {signature['signing_time']}"
    return f"signature: INVALID ({signature['reason']})"
