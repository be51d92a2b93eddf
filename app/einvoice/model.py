"""The canonical, framework-free model of an e-invoicing document (UBL 2.1, DIAN and EN 16931).

Money is ``Decimal``. Where a value feeds a hash (CUFE/CUDE), the exact text written in the XML is
kept beside it (``*_raw``) because DIAN recomputes from the XML's own strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class DocumentType(StrEnum):
    """The kinds of document the engine reads."""

    INVOICE = "Invoice"
    CREDIT_NOTE = "CreditNote"
    DEBIT_NOTE = "DebitNote"
    APPLICATION_RESPONSE = "ApplicationResponse"


class Format(StrEnum):
    """What an uploaded file is."""

    DIAN_UBL21 = "dian-ubl-2.1"
    DIAN_ATTACHED = "dian-attached-document"
    PEPPOL_BIS3 = "peppol-bis-3"
    PEPPOL_ORDERING = "peppol-bis-ordering-3"
    EN16931_UBL = "en16931-ubl"
    UBL21 = "ubl-2.1"
    CII = "cii"
    CFDI = "mx-cfdi"
    SII_DTE = "cl-sii-dte"
    DIAN_LEGACY = "dian-legacy-v1"
    PDF = "pdf"
    UNKNOWN = "unknown"


@dataclass
class Address:
    """A postal address as written in the document."""

    lines: list[str] = field(default_factory=list)
    city: str = ""
    city_code: str = ""
    subdivision: str = ""
    subdivision_code: str = ""
    postal_zone: str = ""
    country: str = ""


@dataclass
class Party:
    """A supplier, customer, sender or receiver."""

    name: str = ""
    registration_name: str = ""
    tax_id: str = ""
    check_digit: str = ""
    id_scheme: str = ""
    """DIAN: schemeName (31 = NIT, 13 = cédula…); EN 16931: schemeID (e.g. 0088, VAT)."""
    vat_id: str = ""
    legal_id: str = ""
    legal_check_digit: str = ""
    endpoint_id: str = ""
    endpoint_scheme: str = ""
    account_type: str = ""
    tax_level_codes: list[str] = field(default_factory=list)
    tax_scheme: str = ""
    address: Address | None = None
    email: str = ""
    telephone: str = ""
    contact_name: str = ""

    @property
    def display_name(self) -> str:
        """Return the legal name where known, else the trade name."""
        return self.registration_name or self.name


@dataclass
class AllowanceCharge:
    """A discount (charge=False) or a surcharge (charge=True), on the document or a line."""

    charge: bool
    amount: Decimal
    amount_raw: str = ""
    base_amount: Decimal | None = None
    percent: Decimal | None = None
    reason: str = ""
    reason_code: str = ""
    tax_category: str = ""
    tax_percent: Decimal | None = None


@dataclass
class TaxSubtotal:
    """One tax rate's base and amount."""

    taxable_amount: Decimal | None
    tax_amount: Decimal
    percent: Decimal | None = None
    category: str = ""
    scheme_id: str = ""
    scheme_name: str = ""
    exemption_reason: str = ""
    per_unit_amount: Decimal | None = None
    base_unit_measure: Decimal | None = None


@dataclass
class TaxTotal:
    """A TaxTotal (or WithholdingTaxTotal) block: its amount and subtotals."""

    tax_amount: Decimal
    tax_amount_raw: str = ""
    currency: str = ""
    subtotals: list[TaxSubtotal] = field(default_factory=list)
    rounding_amount: Decimal | None = None

    @property
    def scheme_id(self) -> str:
        """Return the tax scheme of the first subtotal (DIAN puts one tax per TaxTotal)."""
        return self.subtotals[0].scheme_id if self.subtotals else ""


@dataclass
class MonetaryTotals:
    """LegalMonetaryTotal (or DebitNote's RequestedMonetaryTotal)."""

    line_extension: Decimal | None = None
    tax_exclusive: Decimal | None = None
    tax_inclusive: Decimal | None = None
    allowance: Decimal | None = None
    charge: Decimal | None = None
    prepaid: Decimal | None = None
    payable_rounding: Decimal | None = None
    payable: Decimal | None = None
    raw: dict[str, str] = field(default_factory=dict)
    """Exact text by UBL element name, e.g. raw['PayableAmount'] = '50000.00'."""


@dataclass
class Line:
    """An invoice, credit-note or debit-note line."""

    id: str
    quantity: Decimal | None = None
    unit_code: str = ""
    line_extension: Decimal | None = None
    line_extension_raw: str = ""
    description: str = ""
    name: str = ""
    seller_item_id: str = ""
    buyer_item_id: str = ""
    standard_item_id: str = ""
    standard_item_scheme: str = ""
    additional_item_ids: list[str] = field(default_factory=list)
    price: Decimal | None = None
    base_quantity: Decimal | None = None
    free_of_charge: bool = False
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)
    tax_totals: list[TaxTotal] = field(default_factory=list)
    withholding_totals: list[TaxTotal] = field(default_factory=list)
    tax_category: str = ""
    tax_percent: Decimal | None = None
    note: str = ""


@dataclass
class PaymentMeans:
    """How the invoice is to be paid."""

    id: str = ""
    code: str = ""
    due_date: dt.date | None = None
    payment_id: str = ""
    account_id: str = ""
    account_name: str = ""


@dataclass
class PaymentTerms:
    """Payment terms as text and/or an amount."""

    note: str = ""
    reference_id: str = ""
    amount: Decimal | None = None
    settlement_discount_percent: Decimal | None = None


@dataclass
class DocumentReference:
    """A reference to another document (billing reference, order, despatch, attachment…)."""

    id: str = ""
    uuid: str = ""
    uuid_scheme: str = ""
    issue_date: dt.date | None = None
    type_code: str = ""
    description: str = ""


@dataclass
class Attachment:
    """A document-level attachment (AdditionalDocumentReference)."""

    id: str = ""
    description: str = ""
    filename: str = ""
    mime_code: str = ""
    uri: str = ""
    size: int = 0
    """Size of the embedded binary (base64-decoded), 0 when only referenced."""


@dataclass
class Discrepancy:
    """A credit or debit note's reason (DiscrepancyResponse)."""

    reference_id: str = ""
    code: str = ""
    description: str = ""


@dataclass
class DianExtensions:
    """The DIAN sts:DianExtensions bits the portal needs (CUFE, QR, numbering range)."""

    authorization: str = ""
    authorization_start: dt.date | None = None
    authorization_end: dt.date | None = None
    prefix: str = ""
    range_from: str = ""
    range_to: str = ""
    software_provider_id: str = ""
    software_provider_check_digit: str = ""
    software_id: str = ""
    security_code: str = ""
    authorization_provider_id: str = ""
    qr_code: str = ""
    source_country: str = ""


@dataclass
class DocumentResponse:
    """ApplicationResponse: one response about a referenced document (event code, reason)."""

    response_code: str = ""
    response_code_list: str = ""
    response_code_name: str = ""
    description: str = ""
    reference_id: str = ""
    reference_id_raw: str = ""
    reference_uuid: str = ""
    reference_uuid_scheme: str = ""
    reference_type_code: str = ""
    issuer_person_id: str = ""
    issuer_person_name: str = ""
    issuer_person_id_scheme: str = ""
    """schemeName of the person's id (13 = cédula de ciudadanía…)."""
    issuer_person_first_name: str = ""
    issuer_person_family_name: str = ""
    issuer_person_job_title: str = ""
    issuer_person_department: str = ""


@dataclass
class Document:
    """One document, read into the shape every other part of the portal uses."""

    document_type: DocumentType
    number: str = ""
    uuid: str = ""
    """CUFE (invoices) or CUDE (notes, events)."""
    uuid_scheme: str = ""
    """schemeName of cbc:UUID: CUFE-SHA384, CUDE-SHA384…"""
    uuid_environment: str = ""
    """schemeID of cbc:UUID (DIAN: 1 production, 2 test)."""
    ubl_version: str = ""
    customization_id: str = ""
    profile_id: str = ""
    profile_execution_id: str = ""
    type_code: str = ""
    issue_date: dt.date | None = None
    issue_date_raw: str = ""
    issue_time: str = ""
    """Kept as written (e.g. '09:15:23-05:00'): it goes into the CUFE verbatim."""
    due_date: dt.date | None = None
    currency: str = ""
    tax_currency: str = ""
    line_count: int | None = None
    buyer_reference: str = ""
    supplier: Party = field(default_factory=Party)
    customer: Party = field(default_factory=Party)
    payee: Party | None = None
    payment_means: list[PaymentMeans] = field(default_factory=list)
    payment_terms: list[PaymentTerms] = field(default_factory=list)
    order_reference: DocumentReference | None = None
    billing_references: list[DocumentReference] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)
    tax_totals: list[TaxTotal] = field(default_factory=list)
    withholding_totals: list[TaxTotal] = field(default_factory=list)
    totals: MonetaryTotals = field(default_factory=MonetaryTotals)
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    dian: DianExtensions | None = None
    responses: list[DocumentResponse] = field(default_factory=list)
    """ApplicationResponse only."""
    is_signed: bool = False

    @property
    def is_dian(self) -> bool:
        """Return True for a DIAN (Colombia) UBL 2.1 document."""
        return self.dian is not None or self.profile_id.startswith("DIAN")

    def tax_amount(self, scheme_id: str) -> Decimal:
        """Return the document-level tax amount of one tax scheme (0 when absent)."""
        return sum((t.tax_amount for t in self.tax_totals if t.scheme_id == scheme_id),
                   Decimal("0"))

    def duplicate_key(self) -> tuple[str, str, str]:
        """Return (supplier tax id, document type, number): what makes a document unique."""
        return duplicate_key(self)


def duplicate_key(document: Document) -> tuple[str, str, str]:
    """Return (supplier tax id, document type, number), normalised for comparison."""
    tax_id = "".join(ch for ch in document.supplier.tax_id.upper() if ch.isalnum())
    return tax_id, str(document.document_type), document.number.strip().upper()
