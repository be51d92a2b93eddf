"""Canonical-model documents for the writer and event tests: a DIAN invoice and its notes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from app.einvoice.model import (
    Address,
    AllowanceCharge,
    Discrepancy,
    Document,
    DocumentReference,
    DocumentType,
    Line,
    Party,
    PaymentMeans,
    TaxSubtotal,
    TaxTotal,
)
from app.einvoice.writer import Numbering, Software, compute_totals, line_tax

TECHNICAL_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
SOFTWARE = Software(
    id="56f2ae4e-9812-4fad-9255-08fcfcd5ccb0", pin="12345", provider_nit="900373076"
)
NUMBERING = Numbering(
    prefix="SETP",
    resolution="18760000001",
    range_from=990000000,
    range_to=995000000,
    start_date=dt.date(2019, 1, 19),
    end_date=dt.date(2030, 1, 19),
    technical_key=TECHNICAL_KEY,
)
SUPPLIER_NIT = "900373076"
CUSTOMER_NIT = "901234567"


def _bogota() -> Address:
    return Address(
        lines=["Carrera 7 # 71-21"],
        city="Bogotá, D.C.",
        city_code="11001",
        subdivision="Bogotá",
        subdivision_code="11",
        postal_zone="110231",
        country="CO",
    )


def supplier() -> Party:
    """The issuer: a company (persona jurídica) responsible for IVA."""
    return Party(
        name="Proveedor Andino",
        registration_name="Proveedor Andino S.A.S.",
        tax_id=SUPPLIER_NIT,
        check_digit="4",
        id_scheme="31",
        legal_id=SUPPLIER_NIT,
        legal_check_digit="4",
        account_type="1",
        tax_level_codes=["O-13"],
        tax_scheme="01",
        address=_bogota(),
        email="facturacion@andino.example",
    )


def customer() -> Party:
    """The buyer: another company."""
    return Party(
        name="Cliente Caribe",
        registration_name="Cliente Caribe S.A.S.",
        tax_id=CUSTOMER_NIT,
        check_digit="7",
        id_scheme="31",
        legal_id=CUSTOMER_NIT,
        legal_check_digit="7",
        account_type="1",
        tax_level_codes=["R-99-PN"],
        tax_scheme="ZZ",
        address=_bogota(),
        email="cuentas@caribe.example",
    )


def _line(
    number: int,
    description: str,
    quantity: str,
    price: str,
    scheme: str,
    percent: str,
    *,
    discount: str | None = None,
) -> Line:
    gross = Decimal(quantity) * Decimal(price)
    allowances = []
    if discount is not None:
        allowances = [
            AllowanceCharge(
                charge=False,
                amount=Decimal(discount),
                base_amount=gross,
                reason="Descuento por volumen",
                percent=Decimal(discount) * 100 / gross,
            )
        ]
    net = gross - sum((a.amount for a in allowances), Decimal("0"))
    return Line(
        id=str(number),
        quantity=Decimal(quantity),
        unit_code="94",
        line_extension=net,
        description=description,
        standard_item_id=f"SKU-{number:04d}",
        standard_item_scheme="999",
        price=Decimal(price),
        base_quantity=Decimal("1"),
        allowance_charges=allowances,
        tax_totals=[line_tax(scheme, percent, net)],
    )


def invoice(number: str = "SETP990000101") -> Document:
    """An invoice with IVA 19 %, 5 % and 0 %, INC 8 %, a line discount, a document-level
    discount and a ReteFuente withholding."""
    doc = Document(
        document_type=DocumentType.INVOICE,
        number=number,
        issue_date=dt.date(2024, 3, 15),
        issue_time="14:30:00-05:00",
        due_date=dt.date(2024, 4, 14),
        currency="COP",
        notes=["Factura de prueba escrita por el motor del portal."],
        supplier=supplier(),
        customer=customer(),
        payment_means=[PaymentMeans(id="2", code="42", due_date=dt.date(2024, 4, 14))],
        lines=[
            _line(1, "Portátil 14 pulgadas", "2", "400000", "01", "19.00"),
            _line(2, "Libro de texto escolar", "3", "10000", "01", "5.00"),
            _line(3, "Servicio de transporte exento", "1", "50000", "01", "0.00"),
            _line(4, "Almuerzo ejecutivo", "4", "25000", "04", "8.00"),
            _line(5, "Resma de papel", "10", "1000", "01", "19.00", discount="1000"),
        ],
        allowance_charges=[
            AllowanceCharge(
                charge=False,
                amount=Decimal("5000.00"),
                base_amount=Decimal("989000.00"),
                percent=Decimal("0.51"),
                reason="Descuento comercial",
                reason_code="00",
            )
        ],
        withholding_totals=[
            TaxTotal(
                tax_amount=Decimal("20000.00"),
                subtotals=[
                    TaxSubtotal(
                        taxable_amount=Decimal("800000.00"),
                        tax_amount=Decimal("20000.00"),
                        percent=Decimal("2.50"),
                        scheme_id="06",
                        scheme_name="ReteFuente",
                    )
                ],
            )
        ],
    )
    return compute_totals(doc)


def credit_note(
    invoice_doc: Document, cufe: str, *, number: str = "NC101", concept: str = "1"
) -> Document:
    """A credit note returning part of line 1 of invoice_doc."""
    doc = Document(
        document_type=DocumentType.CREDIT_NOTE,
        number=number,
        issue_date=dt.date(2024, 3, 20),
        issue_time="09:00:00-05:00",
        currency="COP",
        due_date=dt.date(2024, 4, 14),  # notes carry it in PaymentMeans only
        supplier=supplier(),
        customer=customer(),
        payment_means=[PaymentMeans(id="2", code="42", due_date=dt.date(2024, 4, 14))],
        discrepancies=[
            Discrepancy(
                reference_id=invoice_doc.number,
                code=concept,
                description="Devolución parcial de un portátil",
            )
        ],
        billing_references=[
            DocumentReference(
                id=invoice_doc.number,
                uuid=cufe,
                uuid_scheme="CUFE-SHA384",
                issue_date=invoice_doc.issue_date,
            )
        ],
        lines=[_line(1, "Portátil 14 pulgadas", "1", "400000", "01", "19.00")],
    )
    return compute_totals(doc)


def debit_note(invoice_doc: Document, cufe: str, *, number: str = "ND101") -> Document:
    """A debit note charging late-payment interest on invoice_doc."""
    doc = Document(
        document_type=DocumentType.DEBIT_NOTE,
        number=number,
        issue_date=dt.date(2024, 5, 2),
        issue_time="10:15:00-05:00",
        currency="COP",
        due_date=dt.date(2024, 5, 30),
        supplier=supplier(),
        customer=customer(),
        payment_means=[PaymentMeans(id="2", code="42", due_date=dt.date(2024, 5, 30))],
        discrepancies=[
            Discrepancy(reference_id=invoice_doc.number, code="1", description="Intereses de mora")
        ],
        billing_references=[
            DocumentReference(
                id=invoice_doc.number,
                uuid=cufe,
                uuid_scheme="CUFE-SHA384",
                issue_date=invoice_doc.issue_date,
            )
        ],
        lines=[
            _line(1, "Intereses de mora", "1", "15000", "01", "19.00"),
            _line(2, "Gastos de cobranza", "1", "8000", "01", "19.00"),
        ],
    )
    return compute_totals(doc)


#: Fields the writer derives (header, hashes, DIAN extensions) or the reader adds (exact text).
_DERIVED = {
    "uuid",
    "uuid_scheme",
    "uuid_environment",
    "ubl_version",
    "customization_id",
    "profile_id",
    "profile_execution_id",
    "type_code",
    "issue_date_raw",
    "line_count",
    "dian",
    "is_signed",
}


def _prune(value):
    if isinstance(value, dict):
        return {
            k: _prune(v)
            for k, v in value.items()
            if not (k.endswith("_raw") or k == "raw" or (k == "currency" and "tax_amount" in value))
        }
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def meaningful(doc: Document) -> dict:
    """Return doc as a dict without what the writer derives or the reader keeps as raw text.

    Decimals compare by value, so 19 and 19.00 are equal, as they should be.
    """
    data = dataclasses.asdict(doc)
    return _prune({k: v for k, v in data.items() if k not in _DERIVED})
