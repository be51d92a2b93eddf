"""Write DIAN UBL 2.1 Invoice, CreditNote and DebitNote documents from the canonical model.

The writer puts what the model says into DIAN's element order (their XSDs differ a little from
OASIS's: a credit note line carries its TaxTotal before its AllowanceCharge, a debit note puts
AllowanceCharge before PaymentMeans), adds ``sts:DianExtensions`` and leaves an empty second
``ext:UBLExtension`` for ``signature.sign_document``. Every amount is written with two decimals,
IssueTime with its offset and tax ids without separators, i.e. each value the CUFE takes is
written in the form the annex hashes; the CUFE/CUDE, SoftwareSecurityCode and QR text are then
computed from the strings just written (``cufe.cufe_inputs_from_tree``), as DIAN recomputes them.

The output is unsigned: sign it with ``signature.sign_document`` before sending it anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree
from stdnum.co import nit as co_nit

from app.einvoice import cufe
from app.einvoice.model import (
    Address,
    AllowanceCharge,
    Document,
    DocumentType,
    Line,
    MonetaryTotals,
    Party,
    TaxSubtotal,
    TaxTotal,
)

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CAC = UBL + "CommonAggregateComponents-2"
CBC = UBL + "CommonBasicComponents-2"
EXT = UBL + "CommonExtensionComponents-2"
STS = "dian:gov:co:facturaelectronica:Structures-2-1"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
_PREFIXES = {"cac": CAC, "cbc": CBC, "ext": EXT, "sts": STS}

DIAN_AGENCY = "195"
DIAN_AGENCY_NAME = "CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)"
DIAN_NIT = "800197268"
DIAN_NIT_CHECK_DIGIT = "4"
NIT_SCHEME = "31"

PROFILES = {
    DocumentType.INVOICE: "DIAN 2.1: Factura Electrónica de Venta",
    DocumentType.CREDIT_NOTE: "DIAN 2.1: Nota Crédito de Factura Electrónica de Venta",
    DocumentType.DEBIT_NOTE: "DIAN 2.1: Nota Débito de Factura Electrónica de Venta",
}
#: DIAN's value lists ConceptoNotaCredito-2.1 and ConceptoNotaDebito-2.1 (caja de herramientas 1.9).
CREDIT_NOTE_CONCEPTS = {
    "1": "Devolución parcial de los bienes y/o no aceptación parcial del servicio",
    "2": "Anulación de factura electrónica",
    "3": "Rebaja o descuento parcial o total",
    "4": "Ajuste de precio",
    "5": "Otros",
}
DEBIT_NOTE_CONCEPTS = {
    "1": "Intereses",
    "2": "Gastos por cobrar",
    "3": "Cambio del valor",
    "4": "Otro",
}
#: DIAN's TipoImpuesto-2.1 list: the name written beside each tax scheme id.
TAX_SCHEME_NAMES = {
    "01": "IVA",
    "02": "IC",
    "03": "ICA",
    "04": "INC",
    "05": "ReteIVA",
    "06": "ReteFuente",
    "07": "ReteICA",
    "08": "ReteCREE",
    "ZA": "IVA e INC",
    "ZZ": "No aplica",
}
COUNTRY_NAMES = {"CO": "Colombia"}

_CENT = Decimal("0.01")


class WriterError(ValueError):
    """The model lacks something DIAN requires, or the numbering range does not allow it."""


@dataclass(frozen=True)
class Numbering:
    """A DIAN numbering range (resolución de facturación) as GetNumberingRange returns it."""

    prefix: str
    resolution: str
    range_from: int
    range_to: int
    start_date: dt.date
    end_date: dt.date
    technical_key: str = ""

    def check(self, number: str) -> None:
        """Raise WriterError unless number is prefix + a consecutive inside the range."""
        consecutive = number[len(self.prefix) :] if number.startswith(self.prefix) else ""
        if not consecutive.isdigit():
            raise WriterError(
                f"Invoice number {number!r} does not start with the authorised "
                f"prefix {self.prefix!r} followed by digits."
            )
        if not self.range_from <= int(consecutive) <= self.range_to:
            raise WriterError(
                f"Invoice number {number!r} is outside the authorised range "
                f"{self.prefix}{self.range_from}–{self.prefix}{self.range_to}."
            )


@dataclass(frozen=True)
class Software:
    """The invoicing software DIAN registered: its id, its PIN and its provider's NIT."""

    id: str
    pin: str
    provider_nit: str
    provider_check_digit: str = ""

    @property
    def check_digit(self) -> str:
        """Return the provider's NIT check digit (computed when not given)."""
        return self.provider_check_digit or co_nit.calc_check_digit(self.provider_nit)


# --- small helpers -----------------------------------------------------------------------------


def money(value: Decimal | int | str) -> str:
    """Format an amount as DIAN wants it: a point and exactly two decimals (half up)."""
    return f"{Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP):.2f}"


def _number(value: Decimal) -> str:
    """Write a quantity or rate with at least two decimals, keeping any finer precision."""
    value = Decimal(value)
    return f"{value:.2f}" if value == value.quantize(_CENT) else f"{value.normalize():f}"


def el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """Append a prefixed element ('cbc:ID') with optional text and attributes to parent."""
    prefix, _, local = tag.partition(":")
    node = etree.SubElement(
        parent,
        f"{{{_PREFIXES[prefix]}}}{local}",
        {k: v for k, v in attrib.items() if v is not None},
    )
    if text is not None:
        node.text = text
    return node


def _opt(parent: etree._Element, tag: str, text: str | None, **attrib: str) -> None:
    if text:
        el(parent, tag, text, **attrib)


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    el(parent, tag, money(value), currencyID=currency)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def company_id(
    parent: etree._Element,
    tag: str,
    party: Party,
    *,
    tax_id: str | None = None,
    check_digit: str | None = None,
) -> None:
    """Write a DIAN cbc:CompanyID: agency 195, the id type in schemeName, the NIT's check digit."""
    scheme = party.id_scheme or NIT_SCHEME
    digit = party.check_digit if check_digit is None else check_digit
    # Written as the CUFE takes it (no dots, spaces or -DV), so what is hashed is what is read.
    value = cufe.canonical_party_id(tax_id or party.tax_id)
    if not digit and scheme == NIT_SCHEME and value.isdigit():
        digit = co_nit.calc_check_digit(value)
    el(
        parent,
        tag,
        value,
        schemeAgencyID=DIAN_AGENCY,
        schemeAgencyName=DIAN_AGENCY_NAME,
        schemeID=digit or None,
        schemeName=scheme,
    )


def tax_scheme(parent: etree._Element, scheme_id: str, name: str = "") -> None:
    """Write cac:TaxScheme with its id and DIAN's name for it."""
    scheme = el(parent, "cac:TaxScheme")
    el(scheme, "cbc:ID", scheme_id)
    el(scheme, "cbc:Name", name or TAX_SCHEME_NAMES.get(scheme_id, scheme_id))


def _address(parent: etree._Element, tag: str, address: Address) -> None:
    node = el(parent, tag)
    _opt(node, "cbc:ID", address.city_code)
    _opt(node, "cbc:CityName", address.city)
    _opt(node, "cbc:PostalZone", address.postal_zone)
    _opt(node, "cbc:CountrySubentity", address.subdivision)
    _opt(node, "cbc:CountrySubentityCode", address.subdivision_code)
    for line in address.lines:
        el(el(node, "cac:AddressLine"), "cbc:Line", line)
    if address.country:
        country = el(node, "cac:Country")
        el(country, "cbc:IdentificationCode", address.country)
        _opt(country, "cbc:Name", COUNTRY_NAMES.get(address.country), languageID="es")


def party_tax_scheme(
    parent: etree._Element, party: Party, *, address: bool = True, levels: bool = True
) -> None:
    """Write cac:PartyTaxScheme: legal name, CompanyID, responsibilities, address, tax scheme."""
    node = el(parent, "cac:PartyTaxScheme")
    _opt(node, "cbc:RegistrationName", party.registration_name or party.name)
    company_id(node, "cbc:CompanyID", party)
    if levels and party.tax_level_codes:
        el(node, "cbc:TaxLevelCode", ";".join(party.tax_level_codes))
    if address and party.address is not None:
        _address(node, "cac:RegistrationAddress", party.address)
    tax_scheme(node, party.tax_scheme or "ZZ")


def _party(parent: etree._Element, tag: str, party: Party, *, branch: str = "") -> None:
    wrapper = el(parent, tag)
    el(wrapper, "cbc:AdditionalAccountID", party.account_type or "1")
    node = el(wrapper, "cac:Party")
    if party.name:
        el(el(node, "cac:PartyName"), "cbc:Name", party.name)
    if party.address is not None:
        _address(el(node, "cac:PhysicalLocation"), "cac:Address", party.address)
    party_tax_scheme(node, party)
    legal = el(node, "cac:PartyLegalEntity")
    _opt(legal, "cbc:RegistrationName", party.registration_name or party.name)
    company_id(
        legal,
        "cbc:CompanyID",
        party,
        tax_id=party.legal_id or party.tax_id,
        check_digit=party.legal_check_digit if party.legal_id else None,
    )
    if branch:
        # DIAN (FAB10) wants the numbering prefix to name the issuer's branch here.
        el(el(legal, "cac:CorporateRegistrationScheme"), "cbc:ID", branch)
    if party.email or party.telephone or party.contact_name:
        contact = el(node, "cac:Contact")
        _opt(contact, "cbc:Name", party.contact_name)
        _opt(contact, "cbc:Telephone", party.telephone)
        _opt(contact, "cbc:ElectronicMail", party.email)


def _allowance_charge(
    parent: etree._Element, charge: AllowanceCharge, index: int, currency: str
) -> None:
    node = el(parent, "cac:AllowanceCharge")
    el(node, "cbc:ID", str(index))
    el(node, "cbc:ChargeIndicator", "true" if charge.charge else "false")
    _opt(node, "cbc:AllowanceChargeReasonCode", charge.reason_code)
    _opt(node, "cbc:AllowanceChargeReason", charge.reason)
    if charge.percent is not None:
        el(node, "cbc:MultiplierFactorNumeric", _number(charge.percent))
    _amount(node, "cbc:Amount", charge.amount, currency)
    if charge.base_amount is not None:
        _amount(node, "cbc:BaseAmount", charge.base_amount, currency)
    if charge.tax_category or charge.tax_percent is not None:
        category = el(node, "cac:TaxCategory")
        _opt(category, "cbc:ID", charge.tax_category)
        if charge.tax_percent is not None:
            el(category, "cbc:Percent", _number(charge.tax_percent))


def _tax_total(parent: etree._Element, tag: str, total: TaxTotal, currency: str) -> None:
    node = el(parent, tag)
    _amount(node, "cbc:TaxAmount", total.tax_amount, currency)
    if total.rounding_amount is not None:
        _amount(node, "cbc:RoundingAmount", total.rounding_amount, currency)
    for sub in total.subtotals:
        _tax_subtotal(node, sub, currency)


def _tax_subtotal(parent: etree._Element, sub: TaxSubtotal, currency: str) -> None:
    node = el(parent, "cac:TaxSubtotal")
    if sub.taxable_amount is not None:
        _amount(node, "cbc:TaxableAmount", sub.taxable_amount, currency)
    _amount(node, "cbc:TaxAmount", sub.tax_amount, currency)
    if sub.base_unit_measure is not None:
        el(node, "cbc:BaseUnitMeasure", _number(sub.base_unit_measure), unitCode="94")
    if sub.per_unit_amount is not None:
        _amount(node, "cbc:PerUnitAmount", sub.per_unit_amount, currency)
    category = el(node, "cac:TaxCategory")
    _opt(category, "cbc:ID", sub.category)
    if sub.percent is not None:
        el(category, "cbc:Percent", _number(sub.percent))
    _opt(category, "cbc:TaxExemptionReason", sub.exemption_reason)
    tax_scheme(category, sub.scheme_id, sub.scheme_name)


def _totals(parent: etree._Element, tag: str, totals: MonetaryTotals, currency: str) -> None:
    node = el(parent, tag)
    for name, value in (
        ("LineExtensionAmount", totals.line_extension),
        ("TaxExclusiveAmount", totals.tax_exclusive),
        ("TaxInclusiveAmount", totals.tax_inclusive),
        ("AllowanceTotalAmount", totals.allowance),
        ("ChargeTotalAmount", totals.charge),
        ("PrepaidAmount", totals.prepaid),
        ("PayableRoundingAmount", totals.payable_rounding),
        ("PayableAmount", totals.payable),
    ):
        if value is not None:
            _amount(node, f"cbc:{name}", value, currency)


# --- the document ------------------------------------------------------------------------------


_KINDS = {
    # root, line tag, quantity tag, totals tag
    DocumentType.INVOICE: ("Invoice", "InvoiceLine", "InvoicedQuantity", "LegalMonetaryTotal"),
    DocumentType.CREDIT_NOTE: (
        "CreditNote",
        "CreditNoteLine",
        "CreditedQuantity",
        "LegalMonetaryTotal",
    ),
    DocumentType.DEBIT_NOTE: (
        "DebitNote",
        "DebitNoteLine",
        "DebitedQuantity",
        "RequestedMonetaryTotal",
    ),
}


def new_root(name: str) -> etree._Element:
    """Create a UBL 2.1 root element (default namespace) with DIAN's usual prefixes declared."""
    nsmap = {
        None: f"{UBL}{name}-2",
        "cac": CAC,
        "cbc": CBC,
        "ext": EXT,
        "sts": STS,
        "ds": DS,
        "xades": XADES,
        "xades141": XADES141,
    }
    return etree.Element(f"{{{UBL}{name}-2}}{name}", nsmap=nsmap)


def dian_extensions(
    root: etree._Element,
    *,
    software: Software,
    software_pin: str,
    number: str,
    numbering: Numbering | None = None,
) -> etree._Element:
    """Write ext:UBLExtensions with sts:DianExtensions (QRCode left empty) and the signature slot.

    Return the empty sts:QRCode element, for the caller to fill once the CUFE/CUDE is known.
    """
    extensions = el(root, "ext:UBLExtensions")
    dian = el(el(el(extensions, "ext:UBLExtension"), "ext:ExtensionContent"), "sts:DianExtensions")
    if numbering is not None:
        control = el(dian, "sts:InvoiceControl")
        el(control, "sts:InvoiceAuthorization", numbering.resolution)
        period = el(control, "sts:AuthorizationPeriod")
        el(period, "cbc:StartDate", numbering.start_date.isoformat())
        el(period, "cbc:EndDate", numbering.end_date.isoformat())
        authorized = el(control, "sts:AuthorizedInvoices")
        _opt(authorized, "sts:Prefix", numbering.prefix)
        el(authorized, "sts:From", str(numbering.range_from))
        el(authorized, "sts:To", str(numbering.range_to))
    el(
        el(dian, "sts:InvoiceSource"),
        "cbc:IdentificationCode",
        "CO",
        listAgencyID="6",
        listAgencyName="United Nations Economic Commission for Europe",
        listSchemeURI="urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1",
    )
    provider = el(dian, "sts:SoftwareProvider")
    el(
        provider,
        "sts:ProviderID",
        software.provider_nit,
        schemeAgencyID=DIAN_AGENCY,
        schemeAgencyName=DIAN_AGENCY_NAME,
        schemeID=software.check_digit,
        schemeName=NIT_SCHEME,
    )
    el(
        provider,
        "sts:SoftwareID",
        software.id,
        schemeAgencyID=DIAN_AGENCY,
        schemeAgencyName=DIAN_AGENCY_NAME,
    )
    el(
        dian,
        "sts:SoftwareSecurityCode",
        cufe.software_security_code(software.id, software_pin, number),
        schemeAgencyID=DIAN_AGENCY,
        schemeAgencyName=DIAN_AGENCY_NAME,
    )
    el(
        el(dian, "sts:AuthorizationProvider"),
        "sts:AuthorizationProviderID",
        DIAN_NIT,
        schemeAgencyID=DIAN_AGENCY,
        schemeAgencyName=DIAN_AGENCY_NAME,
        schemeID=DIAN_NIT_CHECK_DIGIT,
        schemeName=NIT_SCHEME,
    )
    qr = el(dian, "sts:QRCode")
    # The second extension is where signature.sign_document puts ds:Signature.
    el(el(extensions, "ext:UBLExtension"), "ext:ExtensionContent")
    return qr


def _require(doc: Document) -> None:
    missing = [
        label
        for label, value in (
            ("number", doc.number),
            ("issue_date", doc.issue_date),
            ("issue_time", doc.issue_time),
            ("supplier.tax_id", doc.supplier.tax_id),
            ("customer.tax_id", doc.customer.tax_id),
            ("totals.line_extension", doc.totals.line_extension),
            ("totals.payable", doc.totals.payable),
        )
        if not value and value != 0
    ]
    if not doc.lines:
        missing.append("lines")
    if missing:
        raise WriterError(f"The document lacks what DIAN requires: {', '.join(missing)}.")


def _header(
    root: etree._Element, doc: Document, *, customization: str, environment: str, scheme_name: str
) -> etree._Element:
    el(root, "cbc:UBLVersionID", "UBL 2.1")
    el(root, "cbc:CustomizationID", customization)
    el(root, "cbc:ProfileID", doc.profile_id or PROFILES[doc.document_type])
    el(root, "cbc:ProfileExecutionID", environment)
    el(root, "cbc:ID", doc.number)
    uuid = el(root, "cbc:UUID", schemeID=environment, schemeName=scheme_name)
    el(root, "cbc:IssueDate", doc.issue_date.isoformat())
    el(root, "cbc:IssueTime", cufe.canonical_time(doc.issue_time))
    return uuid


def _lines(root: etree._Element, doc: Document, currency: str) -> None:
    _, line_tag, quantity_tag, _ = _KINDS[doc.document_type]
    for line in doc.lines:
        _line(root, doc.document_type, line, line_tag, quantity_tag, currency)


def _line(
    root: etree._Element,
    kind: DocumentType,
    line: Line,
    line_tag: str,
    quantity_tag: str,
    currency: str,
) -> None:
    node = el(root, f"cac:{line_tag}")
    el(node, "cbc:ID", line.id)
    _opt(node, "cbc:Note", line.note)
    if line.quantity is None or line.line_extension is None:
        raise WriterError(f"Line {line.id} needs a quantity and a line extension amount.")
    el(node, f"cbc:{quantity_tag}", _number(line.quantity), unitCode=line.unit_code or "94")
    _amount(node, "cbc:LineExtensionAmount", line.line_extension, currency)
    if kind is not DocumentType.DEBIT_NOTE and line.free_of_charge:
        el(node, "cbc:FreeOfChargeIndicator", "true")
    allowances = [(i, a) for i, a in enumerate(line.allowance_charges, start=1)]
    if kind is DocumentType.INVOICE:
        for index, charge in allowances:
            _allowance_charge(node, charge, index, currency)
    for total in line.tax_totals:
        _tax_total(node, "cac:TaxTotal", total, currency)
    if kind is DocumentType.INVOICE:
        for total in line.withholding_totals:
            _tax_total(node, "cac:WithholdingTaxTotal", total, currency)
    elif line.withholding_totals:
        raise WriterError("DIAN's credit and debit note lines carry no withholdings.")
    else:
        # DIAN's note schemas put the line's TaxTotal before its AllowanceCharge.
        for index, charge in allowances:
            _allowance_charge(node, charge, index, currency)
    item = el(node, "cac:Item")
    el(item, "cbc:Description", line.description or line.name)
    _opt(item, "cbc:Name", line.name if line.description else "")
    if line.buyer_item_id:
        el(el(item, "cac:BuyersItemIdentification"), "cbc:ID", line.buyer_item_id)
    if line.seller_item_id:
        el(el(item, "cac:SellersItemIdentification"), "cbc:ID", line.seller_item_id)
    if line.standard_item_id:
        # 999: the issuer's own coding standard (DIAN's TipoCodigoProducto list).
        scheme = line.standard_item_scheme or "999"
        el(
            el(item, "cac:StandardItemIdentification"),
            "cbc:ID",
            line.standard_item_id,
            schemeID=scheme,
            schemeName="Estándar de adopción del contribuyente" if scheme == "999" else None,
        )
    for extra in line.additional_item_ids:
        el(el(item, "cac:AdditionalItemIdentification"), "cbc:ID", extra)
    if line.tax_category or line.tax_percent is not None:
        category = el(item, "cac:ClassifiedTaxCategory")
        _opt(category, "cbc:ID", line.tax_category)
        if line.tax_percent is not None:
            el(category, "cbc:Percent", _number(line.tax_percent))
        tax_scheme(category, line.tax_totals[0].scheme_id if line.tax_totals else "ZZ")
    price = el(node, "cac:Price")
    _amount(
        price,
        "cbc:PriceAmount",
        line.price if line.price is not None else line.line_extension / line.quantity,
        currency,
    )
    el(
        price,
        "cbc:BaseQuantity",
        _number(line.base_quantity if line.base_quantity is not None else line.quantity),
        unitCode=line.unit_code or "94",
    )


def _payment(root: etree._Element, doc: Document) -> None:
    for means in doc.payment_means:
        node = el(root, "cac:PaymentMeans")
        el(node, "cbc:ID", means.id or "1")
        el(node, "cbc:PaymentMeansCode", means.code or "10")
        _opt(node, "cbc:PaymentDueDate", _date(means.due_date))
        _opt(node, "cbc:PaymentID", means.payment_id)
        if means.account_id:
            account = el(node, "cac:PayeeFinancialAccount")
            el(account, "cbc:ID", means.account_id)
            _opt(account, "cbc:Name", means.account_name)
    for terms in doc.payment_terms:
        node = el(root, "cac:PaymentTerms")
        _opt(node, "cbc:ReferenceEventCode", terms.reference_id)
        _opt(node, "cbc:Note", terms.note)


def _references(root: etree._Element, doc: Document, concepts: dict[str, str] | None) -> None:
    if concepts is not None:
        for disc in doc.discrepancies:
            if disc.code not in concepts:
                raise WriterError(
                    f"Discrepancy code {disc.code!r} is not in DIAN's list ({', '.join(concepts)})."
                )
            node = el(root, "cac:DiscrepancyResponse")
            _opt(node, "cbc:ReferenceID", disc.reference_id)
            el(node, "cbc:ResponseCode", disc.code)
            el(node, "cbc:Description", disc.description or concepts[disc.code])
    if doc.order_reference is not None and doc.order_reference.id:
        node = el(root, "cac:OrderReference")
        el(node, "cbc:ID", doc.order_reference.id)
        _opt(node, "cbc:IssueDate", _date(doc.order_reference.issue_date))
    for ref in doc.billing_references:
        node = el(el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        el(node, "cbc:ID", ref.id)
        if ref.uuid:
            el(node, "cbc:UUID", ref.uuid, schemeName=ref.uuid_scheme or "CUFE-SHA384")
        _opt(node, "cbc:IssueDate", _date(ref.issue_date))


def _build(
    doc: Document,
    *,
    software: Software,
    software_pin: str,
    environment: str,
    numbering: Numbering | None,
    customization: str,
    scheme_name: str,
) -> tuple[etree._Element, etree._Element, etree._Element]:
    _require(doc)
    kind = doc.document_type
    root_name, _, _, totals_tag = _KINDS[kind]
    currency = doc.currency or "COP"
    root = new_root(root_name)
    qr = dian_extensions(
        root, software=software, software_pin=software_pin, number=doc.number, numbering=numbering
    )
    uuid = _header(
        root, doc, customization=customization, environment=environment, scheme_name=scheme_name
    )
    if kind is DocumentType.INVOICE:
        _opt(root, "cbc:DueDate", _date(doc.due_date))
        el(root, "cbc:InvoiceTypeCode", doc.type_code or "01")
        _notes(root, doc.notes)
    elif kind is DocumentType.CREDIT_NOTE:
        el(root, "cbc:CreditNoteTypeCode", doc.type_code or "91")
        _notes(root, doc.notes)
    else:  # UBL 2.1's DebitNote has no type code element
        _notes(root, doc.notes)
    el(root, "cbc:DocumentCurrencyCode", currency)
    el(root, "cbc:LineCountNumeric", str(len(doc.lines)))
    if kind is not DocumentType.DEBIT_NOTE:
        _opt(root, "cbc:BuyerReference", doc.buyer_reference)
    concepts = {
        DocumentType.CREDIT_NOTE: CREDIT_NOTE_CONCEPTS,
        DocumentType.DEBIT_NOTE: DEBIT_NOTE_CONCEPTS,
    }.get(kind)
    if concepts is not None and not doc.discrepancies:
        raise WriterError("A credit or debit note needs its reason (a Discrepancy).")
    _references(root, doc, concepts)
    _party(
        root,
        "cac:AccountingSupplierParty",
        doc.supplier,
        branch=numbering.prefix if numbering is not None else "",
    )
    _party(root, "cac:AccountingCustomerParty", doc.customer)
    charges = list(enumerate(doc.allowance_charges, start=1))
    if kind is DocumentType.DEBIT_NOTE:
        for index, charge in charges:
            _allowance_charge(root, charge, index, currency)
    _payment(root, doc)
    if kind is not DocumentType.DEBIT_NOTE:
        for index, charge in charges:
            _allowance_charge(root, charge, index, currency)
    for total in doc.tax_totals:
        _tax_total(root, "cac:TaxTotal", total, currency)
    if doc.withholding_totals and kind is not DocumentType.INVOICE:
        raise WriterError("DIAN's credit and debit note schemas carry no WithholdingTaxTotal.")
    for total in doc.withholding_totals:
        _tax_total(root, "cac:WithholdingTaxTotal", total, currency)
    _totals(root, f"cac:{totals_tag}", doc.totals, currency)
    _lines(root, doc, currency)
    return root, uuid, qr


def _notes(root: etree._Element, notes: Iterable[str]) -> None:
    for note in notes:
        el(root, "cbc:Note", note)


def _finish(
    root: etree._Element,
    uuid: etree._Element,
    qr: etree._Element,
    key: Callable[[cufe.CufeInputs], str],
) -> bytes:
    """Fill the UUID and QR from the strings written, and serialise the document."""
    inputs = cufe.cufe_inputs_from_tree(root)
    uuid.text = key(inputs)
    qr.text = cufe.qr_content(inputs, uuid.text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def write_invoice(
    doc: Document,
    *,
    numbering: Numbering,
    software: Software,
    technical_key: str | None = None,
    software_pin: str | None = None,
    environment: str = "2",
) -> bytes:
    """Write a DIAN invoice (unsigned) with InvoiceControl, CUFE, QR and SoftwareSecurityCode."""
    if doc.document_type is not DocumentType.INVOICE:
        raise WriterError(f"write_invoice needs an Invoice, not a {doc.document_type}.")
    key = technical_key or numbering.technical_key
    if not key:
        raise WriterError("The CUFE needs the numbering range's technical key.")
    numbering.check(doc.number)
    root, uuid, qr = _build(
        doc,
        software=software,
        software_pin=software_pin or software.pin,
        environment=environment,
        numbering=numbering,
        customization=doc.customization_id or "10",
        scheme_name="CUFE-SHA384",
    )
    return _finish(root, uuid, qr, lambda inputs: cufe.compute_cufe(inputs, key))


def _write_note(
    doc: Document,
    kind: DocumentType,
    *,
    software: Software,
    software_pin: str | None,
    environment: str,
) -> bytes:
    if doc.document_type is not kind:
        raise WriterError(f"Expected a {kind}, not a {doc.document_type}.")
    pin = software_pin or software.pin
    if not pin:
        raise WriterError("The CUDE needs the software PIN.")
    referenced = bool(doc.billing_references)
    base = "2" if kind is DocumentType.CREDIT_NOTE else "3"
    root, uuid, qr = _build(
        doc,
        software=software,
        software_pin=pin,
        environment=environment,
        numbering=None,
        customization=doc.customization_id or f"{base}{0 if referenced else 2}",
        scheme_name="CUDE-SHA384",
    )
    return _finish(root, uuid, qr, lambda inputs: cufe.compute_cude(inputs, pin))


def write_credit_note(
    doc: Document, *, software: Software, software_pin: str | None = None, environment: str = "2"
) -> bytes:
    """Write a DIAN credit note (unsigned) referencing its invoice, with its reason and CUDE."""
    return _write_note(
        doc,
        DocumentType.CREDIT_NOTE,
        software=software,
        software_pin=software_pin,
        environment=environment,
    )


def write_debit_note(
    doc: Document, *, software: Software, software_pin: str | None = None, environment: str = "2"
) -> bytes:
    """Write a DIAN debit note (unsigned) referencing its invoice, with its reason and CUDE."""
    return _write_note(
        doc,
        DocumentType.DEBIT_NOTE,
        software=software,
        software_pin=software_pin,
        environment=environment,
    )


def write_document(
    doc: Document,
    *,
    software: Software,
    numbering: Numbering | None = None,
    technical_key: str | None = None,
    software_pin: str | None = None,
    environment: str = "2",
) -> bytes:
    """Write an invoice, credit note or debit note, whichever doc is."""
    if doc.document_type is DocumentType.INVOICE:
        if numbering is None:
            raise WriterError("An invoice needs its numbering range.")
        return write_invoice(
            doc,
            numbering=numbering,
            software=software,
            technical_key=technical_key,
            software_pin=software_pin,
            environment=environment,
        )
    if doc.document_type in (DocumentType.CREDIT_NOTE, DocumentType.DEBIT_NOTE):
        return _write_note(
            doc,
            doc.document_type,
            software=software,
            software_pin=software_pin,
            environment=environment,
        )
    raise WriterError(f"Cannot write a {doc.document_type} here: use events.write_event.")


# --- totals ------------------------------------------------------------------------------------


def line_tax(scheme_id: str, percent: Decimal | str, base: Decimal) -> TaxTotal:
    """Return a line's TaxTotal for one tax at percent over base (amount rounded half up)."""
    percent = Decimal(percent)
    amount = (Decimal(base) * percent / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return TaxTotal(
        tax_amount=amount,
        subtotals=[
            TaxSubtotal(
                taxable_amount=Decimal(base),
                tax_amount=amount,
                percent=percent,
                scheme_id=scheme_id,
                scheme_name=TAX_SCHEME_NAMES.get(scheme_id, ""),
            )
        ],
    )


def compute_totals(doc: Document) -> Document:
    """Fill the document's TaxTotals (one per tax, one subtotal per rate) and monetary totals.

    DIAN's arithmetic: the line total is the sum of line amounts; TaxExclusiveAmount is the sum
    of the taxable bases; document-level allowances and charges do not change the tax base and
    are applied after taxes: payable = tax inclusive − allowances + charges − prepaid (+ rounding).
    """
    by_scheme: dict[str, dict[Decimal, TaxSubtotal]] = {}
    for line in doc.lines:
        for total in line.tax_totals:
            for sub in total.subtotals:
                rates = by_scheme.setdefault(sub.scheme_id, {})
                key = sub.percent if sub.percent is not None else Decimal("-1")
                found = rates.get(key)
                if found is None:
                    rates[key] = TaxSubtotal(
                        taxable_amount=sub.taxable_amount or Decimal("0"),
                        tax_amount=sub.tax_amount,
                        percent=sub.percent,
                        scheme_id=sub.scheme_id,
                        scheme_name=sub.scheme_name,
                    )
                else:
                    found.taxable_amount += sub.taxable_amount or Decimal("0")
                    found.tax_amount += sub.tax_amount
    doc.tax_totals = [
        TaxTotal(
            tax_amount=sum((s.tax_amount for s in rates.values()), Decimal("0")),
            subtotals=list(rates.values()),
        )
        for rates in by_scheme.values()
    ]
    line_extension = sum((line.line_extension or Decimal("0") for line in doc.lines), Decimal("0"))
    taxes = sum((t.tax_amount for t in doc.tax_totals), Decimal("0"))
    bases = {}
    for line in doc.lines:  # a base taxed by two schemes counts once
        if line.tax_totals:
            bases[line.id] = line.line_extension or Decimal("0")
    allowance = sum((a.amount for a in doc.allowance_charges if not a.charge), Decimal("0"))
    charge = sum((a.amount for a in doc.allowance_charges if a.charge), Decimal("0"))
    prepaid = doc.totals.prepaid or Decimal("0")
    rounding = doc.totals.payable_rounding
    tax_inclusive = line_extension + taxes
    doc.totals = MonetaryTotals(
        line_extension=line_extension,
        tax_exclusive=sum(bases.values(), Decimal("0")),
        tax_inclusive=tax_inclusive,
        allowance=allowance,
        charge=charge,
        prepaid=doc.totals.prepaid,
        payable_rounding=rounding,
        payable=tax_inclusive - allowance + charge - prepaid + (rounding or Decimal("0")),
    )
    return doc
