"""Read a UBL 2.1 document (DIAN or EN 16931 / Peppol flavour) into the canonical model.

The reader never raises on odd content: a value it cannot read becomes a finding and ``None``.
Amounts are ``Decimal``; the exact text of the values that feed the CUFE/CUDE is kept as well.

Every element is read in one pass over its children: the children are grouped by their
Clark-notation tag (``{namespace}Name``, precomputed below) and each field is taken from that
grouping, instead of one namespaced ``find`` per field (each of which rescans the children — on
the document element, every line). A field still means what ``find("cac:A/cbc:B")`` meant: the
first match in document order, over every ``A`` child; a list field, every match in order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from app.einvoice.detect import CAC, CBC, EXT, STS, UBL_ROOTS
from app.einvoice.findings import Finding, error
from app.einvoice.model import (
    Address,
    AllowanceCharge,
    Attachment,
    DianExtensions,
    Discrepancy,
    Document,
    DocumentReference,
    DocumentResponse,
    DocumentType,
    Line,
    MonetaryTotals,
    Party,
    PaymentMeans,
    PaymentTerms,
    TaxSubtotal,
    TaxTotal,
)

DS = "http://www.w3.org/2000/09/xmldsig#"


def _cbc(name: str) -> str:
    return f"{{{CBC}}}{name}"


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def _sts(name: str) -> str:
    return f"{{{STS}}}{name}"


# Clark-notation tags, built once.
B_ACCOUNT_ID = _cbc("AdditionalAccountID")
B_AMOUNT = _cbc("Amount")
B_BASE_AMOUNT = _cbc("BaseAmount")
B_BASE_QUANTITY = _cbc("BaseQuantity")
B_BASE_UNIT_MEASURE = _cbc("BaseUnitMeasure")
B_BUYER_REFERENCE = _cbc("BuyerReference")
B_CHARGE_INDICATOR = _cbc("ChargeIndicator")
B_CITY_NAME = _cbc("CityName")
B_COMPANY_ID = _cbc("CompanyID")
B_CREDIT_NOTE_TYPE_CODE = _cbc("CreditNoteTypeCode")
B_CUSTOMIZATION_ID = _cbc("CustomizationID")
B_DEBIT_NOTE_TYPE_CODE = _cbc("DebitNoteTypeCode")
B_DESCRIPTION = _cbc("Description")
B_DOCUMENT_CURRENCY_CODE = _cbc("DocumentCurrencyCode")
B_DOCUMENT_DESCRIPTION = _cbc("DocumentDescription")
B_DOCUMENT_TYPE_CODE = _cbc("DocumentTypeCode")
B_DUE_DATE = _cbc("DueDate")
B_EMBEDDED_BINARY = _cbc("EmbeddedDocumentBinaryObject")
B_ENDPOINT_ID = _cbc("EndpointID")
B_EMAIL = _cbc("ElectronicMail")
B_END_DATE = _cbc("EndDate")
B_EXEMPTION_REASON = _cbc("TaxExemptionReason")
B_FAMILY_NAME = _cbc("FamilyName")
B_FIRST_NAME = _cbc("FirstName")
B_FREE_OF_CHARGE = _cbc("FreeOfChargeIndicator")
B_ID = _cbc("ID")
B_IDENTIFICATION_CODE = _cbc("IdentificationCode")
B_INVOICE_TYPE_CODE = _cbc("InvoiceTypeCode")
B_ISSUE_DATE = _cbc("IssueDate")
B_ISSUE_TIME = _cbc("IssueTime")
B_JOB_TITLE = _cbc("JobTitle")
B_LINE = _cbc("Line")
B_LINE_COUNT = _cbc("LineCountNumeric")
B_LINE_EXTENSION = _cbc("LineExtensionAmount")
B_MULTIPLIER = _cbc("MultiplierFactorNumeric")
B_NAME = _cbc("Name")
B_NOTE = _cbc("Note")
B_DEPARTMENT = _cbc("OrganizationDepartment")
B_PAYMENT_DUE_DATE = _cbc("PaymentDueDate")
B_PAYMENT_ID = _cbc("PaymentID")
B_PAYMENT_MEANS_CODE = _cbc("PaymentMeansCode")
B_PERCENT = _cbc("Percent")
B_PER_UNIT_AMOUNT = _cbc("PerUnitAmount")
B_POSTAL_ZONE = _cbc("PostalZone")
B_PRICE_AMOUNT = _cbc("PriceAmount")
B_PROFILE_EXECUTION_ID = _cbc("ProfileExecutionID")
B_PROFILE_ID = _cbc("ProfileID")
B_REASON = _cbc("AllowanceChargeReason")
B_REASON_CODE = _cbc("AllowanceChargeReasonCode")
B_REFERENCE_EVENT_CODE = _cbc("ReferenceEventCode")
B_REFERENCE_ID = _cbc("ReferenceID")
B_REGISTRATION_NAME = _cbc("RegistrationName")
B_RESPONSE_CODE = _cbc("ResponseCode")
B_ROUNDING_AMOUNT = _cbc("RoundingAmount")
B_SETTLEMENT_DISCOUNT = _cbc("SettlementDiscountPercent")
B_START_DATE = _cbc("StartDate")
B_STREET_NAME = _cbc("StreetName")
B_ADDITIONAL_STREET_NAME = _cbc("AdditionalStreetName")
B_SUBENTITY = _cbc("CountrySubentity")
B_SUBENTITY_CODE = _cbc("CountrySubentityCode")
B_TAX_AMOUNT = _cbc("TaxAmount")
B_TAX_CURRENCY_CODE = _cbc("TaxCurrencyCode")
B_TAX_LEVEL_CODE = _cbc("TaxLevelCode")
B_TAXABLE_AMOUNT = _cbc("TaxableAmount")
B_TELEPHONE = _cbc("Telephone")
B_UBL_VERSION = _cbc("UBLVersionID")
B_URI = _cbc("URI")
B_UUID = _cbc("UUID")

A_ACCOUNTING_CUSTOMER = _cac("AccountingCustomerParty")
A_ACCOUNTING_SUPPLIER = _cac("AccountingSupplierParty")
A_ADDITIONAL_DOCUMENT_REFERENCE = _cac("AdditionalDocumentReference")
A_ADDITIONAL_ITEM_ID = _cac("AdditionalItemIdentification")
A_ADDRESS = _cac("Address")
A_ADDRESS_LINE = _cac("AddressLine")
A_ALLOWANCE_CHARGE = _cac("AllowanceCharge")
A_ATTACHMENT = _cac("Attachment")
A_BILLING_REFERENCE = _cac("BillingReference")
A_BUYERS_ITEM_ID = _cac("BuyersItemIdentification")
A_CLASSIFIED_TAX_CATEGORY = _cac("ClassifiedTaxCategory")
A_CONTACT = _cac("Contact")
A_COUNTRY = _cac("Country")
A_DISCREPANCY_RESPONSE = _cac("DiscrepancyResponse")
A_DOCUMENT_REFERENCE = _cac("DocumentReference")
A_DOCUMENT_RESPONSE = _cac("DocumentResponse")
A_EXTERNAL_REFERENCE = _cac("ExternalReference")
A_ISSUER_PARTY = _cac("IssuerParty")
A_ITEM = _cac("Item")
A_LEGAL_MONETARY_TOTAL = _cac("LegalMonetaryTotal")
A_ORDER_REFERENCE = _cac("OrderReference")
A_PARTY = _cac("Party")
A_PARTY_IDENTIFICATION = _cac("PartyIdentification")
A_PARTY_LEGAL_ENTITY = _cac("PartyLegalEntity")
A_PARTY_NAME = _cac("PartyName")
A_PARTY_TAX_SCHEME = _cac("PartyTaxScheme")
A_PAYEE_FINANCIAL_ACCOUNT = _cac("PayeeFinancialAccount")
A_PAYEE_PARTY = _cac("PayeeParty")
A_PAYMENT_MEANS = _cac("PaymentMeans")
A_PAYMENT_TERMS = _cac("PaymentTerms")
A_PERSON = _cac("Person")
A_PHYSICAL_LOCATION = _cac("PhysicalLocation")
A_POSTAL_ADDRESS = _cac("PostalAddress")
A_PRICE = _cac("Price")
A_RECEIVER_PARTY = _cac("ReceiverParty")
A_REGISTRATION_ADDRESS = _cac("RegistrationAddress")
A_REQUESTED_MONETARY_TOTAL = _cac("RequestedMonetaryTotal")
A_RESPONSE = _cac("Response")
A_SELLERS_ITEM_ID = _cac("SellersItemIdentification")
A_SENDER_PARTY = _cac("SenderParty")
A_STANDARD_ITEM_ID = _cac("StandardItemIdentification")
A_TAX_CATEGORY = _cac("TaxCategory")
A_TAX_SCHEME = _cac("TaxScheme")
A_TAX_SUBTOTAL = _cac("TaxSubtotal")
A_TAX_TOTAL = _cac("TaxTotal")
A_WITHHOLDING_TAX_TOTAL = _cac("WithholdingTaxTotal")

S_AUTHORIZATION_PERIOD = _sts("AuthorizationPeriod")
S_AUTHORIZATION_PROVIDER = _sts("AuthorizationProvider")
S_AUTHORIZATION_PROVIDER_ID = _sts("AuthorizationProviderID")
S_AUTHORIZED_INVOICES = _sts("AuthorizedInvoices")
S_DIAN_EXTENSIONS = _sts("DianExtensions")
S_FROM = _sts("From")
S_INVOICE_AUTHORIZATION = _sts("InvoiceAuthorization")
S_INVOICE_CONTROL = _sts("InvoiceControl")
S_INVOICE_SOURCE = _sts("InvoiceSource")
S_PREFIX = _sts("Prefix")
S_PROVIDER_ID = _sts("ProviderID")
S_QR_CODE = _sts("QRCode")
S_SECURITY_CODE = _sts("SoftwareSecurityCode")
S_SOFTWARE_ID = _sts("SoftwareID")
S_SOFTWARE_PROVIDER = _sts("SoftwareProvider")
S_TO = _sts("To")

E_UBL_EXTENSIONS = f"{{{EXT}}}UBLExtensions"
D_SIGNATURE = f"{{{DS}}}Signature"

_LINES = {
    DocumentType.INVOICE: (_cac("InvoiceLine"), _cbc("InvoicedQuantity")),
    DocumentType.CREDIT_NOTE: (_cac("CreditNoteLine"), _cbc("CreditedQuantity")),
    DocumentType.DEBIT_NOTE: (_cac("DebitNoteLine"), _cbc("DebitedQuantity")),
}
_TOTALS = {
    _cbc(name): (name, attr)
    for name, attr in (
        ("LineExtensionAmount", "line_extension"),
        ("TaxExclusiveAmount", "tax_exclusive"),
        ("TaxInclusiveAmount", "tax_inclusive"),
        ("AllowanceTotalAmount", "allowance"),
        ("ChargeTotalAmount", "charge"),
        ("PrepaidAmount", "prepaid"),
        ("PayableRoundingAmount", "payable_rounding"),
        ("PayableAmount", "payable"),
    )
}
_NO_CHILDREN: dict[object, list[etree._Element]] = {}


# -- one pass over an element's children -------------------------------------------------------

def _children(el: etree._Element | None) -> dict[object, list[etree._Element]]:
    """Group el's children by tag (Clark notation), each group in document order."""
    if el is None:
        return _NO_CHILDREN
    groups: dict[object, list[etree._Element]] = {}
    for child in el:
        tag = child.tag
        group = groups.get(tag)
        if group is None:
            groups[tag] = [child]
        else:
            group.append(child)
    return groups


def _head(group: list[etree._Element] | None) -> etree._Element | None:
    return group[0] if group else None


def _first(el: etree._Element | None, *tags: str) -> etree._Element | None:
    """Return what ``el.find("t1/t2/…")`` returns: the first match in document order."""
    if el is None:
        return None
    tag = tags[0]
    if len(tags) == 1:
        for child in el:  # small aggregates: cheaper than building an iterchildren matcher
            if child.tag == tag:
                return child
        return None
    rest = tags[1:]
    for child in el:
        if child.tag == tag:
            found = _first(child, *rest)
            if found is not None:
                return found
    return None


def _first_in(group: list[etree._Element] | None, *tags: str) -> etree._Element | None:
    """Return _first over each element of group in turn (a path whose first step is grouped)."""
    if group:
        if len(tags) == 1:  # the common case, without the recursion
            tag = tags[0]
            for el in group:
                for child in el:
                    if child.tag == tag:
                        return child
            return None
        for el in group:
            found = _first(el, *tags)
            if found is not None:
                return found
    return None


def _first2(
    group: list[etree._Element] | None, tag_a: str, tag_b: str
) -> tuple[etree._Element | None, etree._Element | None]:
    """Return (_first_in(group, tag_a), _first_in(group, tag_b)) in one pass over the group."""
    found_a = found_b = None
    if group:
        for el in group:
            for child in el:
                tag = child.tag
                if tag == tag_a:
                    if found_a is None:
                        found_a = child
                        if found_b is not None:
                            return found_a, found_b
                elif tag == tag_b and found_b is None:
                    found_b = child
                    if found_a is not None:
                        return found_a, found_b
    return found_a, found_b


def _all(el: etree._Element | None, *tags: str) -> list[etree._Element]:
    """Return what ``el.findall("t1/t2/…")`` returns: every match, in document order."""
    if el is None:
        return []
    if len(tags) == 1:
        return list(el.iterchildren(tags[0]))
    rest = tags[1:]
    return [found for child in el.iterchildren(tags[0]) for found in _all(child, *rest)]


def _all_in(group: list[etree._Element] | None, *tags: str) -> list[etree._Element]:
    """Return _all over each element of group in turn."""
    if not group:
        return []
    if len(group) == 1:
        return _all(group[0], *tags)
    return [found for el in group for found in _all(el, *tags)]


def _descendant(group: list[etree._Element] | None, tag: str) -> etree._Element | None:
    """Return the first descendant named tag of the elements of group (``A//tag``)."""
    if group:
        for el in group:
            for found in el.iterdescendants(tag):
                return found
    return None


def _text_of(group: list[etree._Element] | None) -> str:
    """Return the stripped text of the first element of group ("" when there is none)."""
    return (group[0].text or "").strip() if group else ""


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _texts(nodes: list[etree._Element] | None) -> list[str]:
    return [(n.text or "").strip() for n in nodes] if nodes else []


class _Reader:
    """Holds the findings while one document is read."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.findings: list[Finding] = []

    # -- primitives -------------------------------------------------------------------------

    def path(self, el: etree._Element) -> str:
        return el.getroottree().getpath(el) if el is not None else ""

    def amount(self, node: etree._Element | None) -> tuple[Decimal | None, str]:
        if node is None:
            return None, ""
        raw = (node.text or "").strip()
        return self.decimal_of(node, raw), raw

    def decimal(self, node: etree._Element | None) -> Decimal | None:
        if node is None:
            return None
        raw = (node.text or "").strip()
        if raw:
            try:
                value = Decimal(raw)
            except InvalidOperation:
                pass
            else:
                if value.is_finite():
                    return value
            return self.unreadable_number(node, raw)
        return None

    def decimal_of(self, node: etree._Element, raw: str) -> Decimal | None:
        if raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            return self.unreadable_number(node, raw)
        return value

    def unreadable_number(self, node: etree._Element, raw: str) -> None:
        self.findings.append(error(
            "READ-NUMBER",
            f"Valor numérico ilegible: '{raw[:40]}'.",
            f"Unreadable number: '{raw[:40]}'.",
            self.path(node),
        ))

    def date(self, node: etree._Element | None) -> dt.date | None:
        if node is None or not (node.text or "").strip():
            return None
        raw = node.text.strip()
        try:
            return dt.date.fromisoformat(raw[:10]) if len(raw) >= 10 else dt.date.fromisoformat(raw)
        except ValueError:
            self.findings.append(error(
                "READ-DATE",
                f"Fecha ilegible: '{raw[:40]}' (se espera AAAA-MM-DD).",
                f"Unreadable date: '{raw[:40]}' (expected YYYY-MM-DD).",
                self.path(node),
            ))
            return None

    # -- building blocks --------------------------------------------------------------------

    def address(self, el: etree._Element | None) -> Address | None:
        if el is None:
            return None
        get = _children(el).get
        return Address(
            lines=_texts(_all_in(get(A_ADDRESS_LINE), B_LINE))
            + [t for t in (_text_of(get(B_STREET_NAME)),
                           _text_of(get(B_ADDITIONAL_STREET_NAME))) if t],
            city=_text_of(get(B_CITY_NAME)),
            city_code=_text_of(get(B_ID)),
            subdivision=_text_of(get(B_SUBENTITY)),
            subdivision_code=_text_of(get(B_SUBENTITY_CODE)),
            postal_zone=_text_of(get(B_POSTAL_ZONE)),
            country=_text(_first_in(get(A_COUNTRY), B_IDENTIFICATION_CODE)),
        )

    def party(self, wrapper: etree._Element | None, *, dian: bool) -> Party:
        """Read an AccountingSupplierParty-like wrapper, or a bare cac:Party / SenderParty."""
        if wrapper is None:
            return Party()
        wrapper_get = _children(wrapper).get
        party_el = _head(wrapper_get(A_PARTY))
        get = _children(party_el).get if party_el is not None else wrapper_get
        tax_scheme = _head(get(A_PARTY_TAX_SCHEME))
        legal = _head(get(A_PARTY_LEGAL_ENTITY))
        tax_get = _children(tax_scheme).get
        legal_get = _children(legal).get
        tax_company = _head(tax_get(B_COMPANY_ID))
        legal_company = _head(legal_get(B_COMPANY_ID))
        contacts = get(A_CONTACT)
        party = Party(
            name=_text(_first_in(get(A_PARTY_NAME), B_NAME)),
            registration_name=_text_of(legal_get(B_REGISTRATION_NAME))
            or _text_of(tax_get(B_REGISTRATION_NAME)),
            account_type=_text_of(wrapper_get(B_ACCOUNT_ID)),
            email=_text(_first_in(contacts, B_EMAIL)),
            telephone=_text(_first_in(contacts, B_TELEPHONE)),
            contact_name=_text(_first_in(contacts, B_NAME)),
            tax_scheme=_text(_first_in(tax_get(A_TAX_SCHEME), B_ID)),
            tax_level_codes=[c for c in _text_of(tax_get(B_TAX_LEVEL_CODE)).split(";") if c],
        )
        endpoint = _head(get(B_ENDPOINT_ID))
        if endpoint is not None:
            party.endpoint_id = (endpoint.text or "").strip()
            party.endpoint_scheme = endpoint.get("schemeID", "")
        if legal_company is not None:
            party.legal_id = (legal_company.text or "").strip()
            party.legal_check_digit = legal_company.get("schemeID", "") if dian else ""
        if dian:
            source = tax_company if tax_company is not None else legal_company
            if source is not None:
                party.tax_id = (source.text or "").strip()
                party.check_digit = source.get("schemeID", "")
                party.id_scheme = source.get("schemeName", "")
        else:
            if tax_company is not None:
                party.vat_id = (tax_company.text or "").strip()
            ident = _first_in(get(A_PARTY_IDENTIFICATION), B_ID)
            chosen = tax_company if tax_company is not None else legal_company
            if chosen is None:
                chosen = ident
            if chosen is not None:
                party.tax_id = (chosen.text or "").strip()
                party.id_scheme = chosen.get("schemeID", "") or (
                    "VAT" if chosen is tax_company else "")
        address_el = _head(get(A_POSTAL_ADDRESS))
        if address_el is None:
            address_el = _first_in(get(A_PHYSICAL_LOCATION), A_ADDRESS)
        if address_el is None and tax_scheme is not None:
            address_el = _head(tax_get(A_REGISTRATION_ADDRESS))
        party.address = self.address(address_el)
        return party

    def allowance_charge(self, el: etree._Element) -> AllowanceCharge:
        get = _children(el).get
        amount, raw = self.amount(_head(get(B_AMOUNT)))
        categories = get(A_TAX_CATEGORY)
        return AllowanceCharge(
            charge=_text_of(get(B_CHARGE_INDICATOR)).lower() == "true",
            amount=amount if amount is not None else Decimal("0"),
            amount_raw=raw,
            base_amount=self.decimal(_head(get(B_BASE_AMOUNT))),
            percent=self.decimal(_head(get(B_MULTIPLIER))),
            reason=_text_of(get(B_REASON)),
            reason_code=_text_of(get(B_REASON_CODE)),
            tax_category=_text(_first_in(categories, B_ID)),
            tax_percent=self.decimal(_first_in(categories, B_PERCENT)),
        )

    def tax_total(self, el: etree._Element) -> TaxTotal:
        amount_el = rounding = None
        subtotals = []
        for child in el:
            tag = child.tag
            if tag == A_TAX_SUBTOTAL:
                subtotals.append(child)
            elif tag == B_TAX_AMOUNT:
                if amount_el is None:
                    amount_el = child
            elif tag == B_ROUNDING_AMOUNT and rounding is None:
                rounding = child
        amount, raw = self.amount(amount_el)
        total = TaxTotal(
            tax_amount=amount if amount is not None else Decimal("0"),
            tax_amount_raw=raw,
            currency=amount_el.get("currencyID", "") if amount_el is not None else "",
            rounding_amount=self.decimal(rounding),
        )
        decimal = self.decimal
        for sub in subtotals:
            sub_get = _children(sub).get
            sub_amount = decimal(_head(sub_get(B_TAX_AMOUNT)))
            category_get = _children(_head(sub_get(A_TAX_CATEGORY))).get
            category_percent = _head(category_get(B_PERCENT))
            scheme_id, scheme_name = _first2(category_get(A_TAX_SCHEME), B_ID, B_NAME)
            total.subtotals.append(TaxSubtotal(
                taxable_amount=decimal(_head(sub_get(B_TAXABLE_AMOUNT))),
                tax_amount=sub_amount if sub_amount is not None else Decimal("0"),
                percent=decimal(category_percent)
                if _text(category_percent) else decimal(_head(sub_get(B_PERCENT))),
                category=_text_of(category_get(B_ID)),
                scheme_id=_text(scheme_id),
                scheme_name=_text(scheme_name),
                exemption_reason=_text_of(category_get(B_EXEMPTION_REASON)),
                per_unit_amount=decimal(_head(sub_get(B_PER_UNIT_AMOUNT))),
                base_unit_measure=decimal(_head(sub_get(B_BASE_UNIT_MEASURE))),
            ))
        return total

    def reference(self, el: etree._Element | None) -> DocumentReference | None:
        if el is None:
            return None
        get = _children(el).get
        uuid = _head(get(B_UUID))
        return DocumentReference(
            id=_text_of(get(B_ID)),
            uuid=(uuid.text or "").strip() if uuid is not None else "",
            uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            issue_date=self.date(_head(get(B_ISSUE_DATE))),
            type_code=_text_of(get(B_DOCUMENT_TYPE_CODE)),
            description=_text_of(get(B_DOCUMENT_DESCRIPTION)),
        )

    def line(self, el: etree._Element, quantity_tag: str) -> Line:
        get = _children(el).get
        quantity = _head(get(quantity_tag))
        amount, raw = self.amount(_head(get(B_LINE_EXTENSION)))
        items = get(A_ITEM)
        item_get = _children(items[0]).get if items else _NO_CHILDREN.get
        if items and len(items) > 1:  # every Item's descriptions and ids, as findall read them
            descriptions = _all_in(items, B_DESCRIPTION)
            additional_ids = _all_in(items, A_ADDITIONAL_ITEM_ID, B_ID)
        else:
            descriptions = item_get(B_DESCRIPTION)
            additional = item_get(A_ADDITIONAL_ITEM_ID)
            additional_ids = _all_in(additional, B_ID) if additional else None
        standard = _first_in(item_get(A_STANDARD_ITEM_ID), B_ID)
        price, base_quantity = _first2(get(A_PRICE), B_PRICE_AMOUNT, B_BASE_QUANTITY)
        category, percent = _first2(item_get(A_CLASSIFIED_TAX_CATEGORY), B_ID, B_PERCENT)
        allowances = get(A_ALLOWANCE_CHARGE)
        taxes = get(A_TAX_TOTAL)
        withholdings = get(A_WITHHOLDING_TAX_TOTAL)
        notes = get(B_NOTE)
        return Line(
            id=_text_of(get(B_ID)),
            quantity=self.decimal(quantity),
            unit_code=quantity.get("unitCode", "") if quantity is not None else "",
            line_extension=amount,
            line_extension_raw=raw,
            description=" ".join(_texts(descriptions)) if descriptions else "",
            name=_text_of(item_get(B_NAME)),
            seller_item_id=_text(_first_in(item_get(A_SELLERS_ITEM_ID), B_ID)),
            buyer_item_id=_text(_first_in(item_get(A_BUYERS_ITEM_ID), B_ID)),
            standard_item_id=(standard.text or "").strip() if standard is not None else "",
            standard_item_scheme=standard.get("schemeID", "") if standard is not None else "",
            additional_item_ids=_texts(additional_ids),
            price=self.decimal(price),
            base_quantity=self.decimal(base_quantity),
            free_of_charge=_text_of(get(B_FREE_OF_CHARGE)).lower() == "true",
            allowance_charges=[self.allowance_charge(a) for a in allowances] if allowances
            else [],
            tax_totals=[self.tax_total(t) for t in taxes] if taxes else [],
            withholding_totals=[self.tax_total(t) for t in withholdings] if withholdings
            else [],
            tax_category=_text(category),
            tax_percent=self.decimal(percent),
            note=" ".join(_texts(notes)) if notes else "",
        )

    def dian_extensions(self, extensions: list[etree._Element] | None) -> DianExtensions | None:
        ext = _descendant(extensions, S_DIAN_EXTENSIONS)
        if ext is None:
            return None
        get = _children(ext).get
        control = get(S_INVOICE_CONTROL)
        software = get(S_SOFTWARE_PROVIDER)
        provider = _first_in(software, S_PROVIDER_ID)
        return DianExtensions(
            authorization=_text(_first_in(control, S_INVOICE_AUTHORIZATION)),
            authorization_start=self.date(
                _first_in(control, S_AUTHORIZATION_PERIOD, B_START_DATE)),
            authorization_end=self.date(_first_in(control, S_AUTHORIZATION_PERIOD, B_END_DATE)),
            prefix=_text(_first_in(control, S_AUTHORIZED_INVOICES, S_PREFIX)),
            range_from=_text(_first_in(control, S_AUTHORIZED_INVOICES, S_FROM)),
            range_to=_text(_first_in(control, S_AUTHORIZED_INVOICES, S_TO)),
            software_provider_id=(provider.text or "").strip() if provider is not None else "",
            software_provider_check_digit=provider.get("schemeID", "")
            if provider is not None else "",
            software_id=_text(_first_in(software, S_SOFTWARE_ID)),
            security_code=_text_of(get(S_SECURITY_CODE)),
            authorization_provider_id=_text(
                _first_in(get(S_AUTHORIZATION_PROVIDER), S_AUTHORIZATION_PROVIDER_ID)),
            qr_code=_text_of(get(S_QR_CODE)),
            source_country=_text(_first_in(get(S_INVOICE_SOURCE), B_IDENTIFICATION_CODE)),
        )

    def attachment(self, el: etree._Element) -> Attachment:
        get = _children(el).get
        attachments = get(A_ATTACHMENT)
        binary = _first_in(attachments, B_EMBEDDED_BINARY)
        size = 0
        if binary is not None and binary.text:
            # base64 length → decoded length, without decoding a possibly large blob.
            stripped = "".join(binary.text.split())
            size = len(stripped) * 3 // 4 - stripped[-2:].count("=")
        return Attachment(
            id=_text_of(get(B_ID)),
            description=_text_of(get(B_DOCUMENT_DESCRIPTION)),
            filename=binary.get("filename", "") if binary is not None else "",
            mime_code=binary.get("mimeCode", "") if binary is not None else "",
            uri=_text(_first_in(attachments, A_EXTERNAL_REFERENCE, B_URI)),
            size=size,
        )

    def response(self, el: etree._Element) -> DocumentResponse:
        get = _children(el).get
        responses = get(A_RESPONSE)
        references = get(A_DOCUMENT_REFERENCE)
        code = _first_in(responses, B_RESPONSE_CODE)
        uuid = _first_in(references, B_UUID)
        person = _first_in(get(A_ISSUER_PARTY), A_PERSON)
        person_get = _children(person).get
        names = [_text_of(person_get(B_FIRST_NAME)), _text_of(person_get(B_FAMILY_NAME))]
        person_id = _head(person_get(B_ID))
        return DocumentResponse(
            response_code=(code.text or "").strip() if code is not None else "",
            response_code_list=code.get("listID", "") if code is not None else "",
            response_code_name=code.get("name", "") if code is not None else "",
            description=_text(_first_in(responses, B_DESCRIPTION)),
            reference_id=_text(_first_in(references, B_ID)),
            reference_uuid=(uuid.text or "").strip() if uuid is not None else "",
            reference_uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            reference_type_code=_text(_first_in(references, B_DOCUMENT_TYPE_CODE)),
            issuer_person_id=_text(person_id),
            issuer_person_name=" ".join(n for n in names if n),
            issuer_person_id_scheme=person_id.get("schemeName", "") if person_id is not None
            else "",
            issuer_person_first_name=names[0],
            issuer_person_family_name=names[1],
            issuer_person_job_title=_text_of(person_get(B_JOB_TITLE)),
            issuer_person_department=_text_of(person_get(B_DEPARTMENT)),
        )

    # -- the document -----------------------------------------------------------------------

    def document(self, kind: DocumentType) -> Document:
        root = self.root
        get = _children(root).get
        uuid = _head(get(B_UUID))
        issue_date = _head(get(B_ISSUE_DATE))
        extensions = get(E_UBL_EXTENSIONS)
        doc = Document(
            document_type=kind,
            number=_text_of(get(B_ID)),
            uuid=(uuid.text or "").strip() if uuid is not None else "",
            uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            uuid_environment=uuid.get("schemeID", "") if uuid is not None else "",
            ubl_version=_text_of(get(B_UBL_VERSION)),
            customization_id=_text_of(get(B_CUSTOMIZATION_ID)),
            profile_id=_text_of(get(B_PROFILE_ID)),
            profile_execution_id=_text_of(get(B_PROFILE_EXECUTION_ID)),
            issue_date=self.date(issue_date),
            issue_date_raw=_text(issue_date),
            issue_time=_text_of(get(B_ISSUE_TIME)),
            currency=_text_of(get(B_DOCUMENT_CURRENCY_CODE)),
            tax_currency=_text_of(get(B_TAX_CURRENCY_CODE)),
            buyer_reference=_text_of(get(B_BUYER_REFERENCE)),
            notes=_texts(get(B_NOTE)),
            is_signed=_descendant(extensions, D_SIGNATURE) is not None,
        )
        doc.dian = self.dian_extensions(extensions)
        dian = doc.dian is not None or doc.profile_id.startswith("DIAN")
        for missing, label in ((doc.number, "cbc:ID"), (doc.issue_date_raw, "cbc:IssueDate")):
            if not missing:
                self.findings.append(error(
                    "READ-MISSING",
                    f"Falta {label} en el documento.",
                    f"The document has no {label}.",
                    f"/{etree.QName(root).localname}/{label}",
                ))
        if kind is DocumentType.APPLICATION_RESPONSE:
            doc.supplier = self.party(_head(get(A_SENDER_PARTY)), dian=dian)
            doc.customer = self.party(_head(get(A_RECEIVER_PARTY)), dian=dian)
            doc.responses = [self.response(r) for r in get(A_DOCUMENT_RESPONSE) or ()]
            return doc

        doc.type_code = _text_of(get(B_INVOICE_TYPE_CODE)) or _text(
            _head(get(B_CREDIT_NOTE_TYPE_CODE))) or _text_of(get(B_DEBIT_NOTE_TYPE_CODE))
        count = _text_of(get(B_LINE_COUNT))
        if count:
            try:
                doc.line_count = int(Decimal(count))
            except (InvalidOperation, ValueError):
                self.findings.append(error(
                    "READ-NUMBER", f"LineCountNumeric ilegible: '{count[:20]}'.",
                    f"Unreadable LineCountNumeric: '{count[:20]}'.",
                    f"/{etree.QName(root).localname}/cbc:LineCountNumeric"))
        doc.supplier = self.party(_head(get(A_ACCOUNTING_SUPPLIER)), dian=dian)
        doc.customer = self.party(_head(get(A_ACCOUNTING_CUSTOMER)), dian=dian)
        payee = _head(get(A_PAYEE_PARTY))
        doc.payee = self.party(payee, dian=dian) if payee is not None else None
        means_group = get(A_PAYMENT_MEANS)
        for means in means_group or ():
            means_get = _children(means).get
            accounts = means_get(A_PAYEE_FINANCIAL_ACCOUNT)
            doc.payment_means.append(PaymentMeans(
                id=_text_of(means_get(B_ID)),
                code=_text_of(means_get(B_PAYMENT_MEANS_CODE)),
                due_date=self.date(_head(means_get(B_PAYMENT_DUE_DATE))),
                payment_id=_text_of(means_get(B_PAYMENT_ID)),
                account_id=_text(_first_in(accounts, B_ID)),
                account_name=_text(_first_in(accounts, B_NAME)),
            ))
        terms_group = get(A_PAYMENT_TERMS)
        for terms in terms_group or ():
            terms_get = _children(terms).get
            doc.payment_terms.append(PaymentTerms(
                note=" ".join(_texts(terms_get(B_NOTE))),
                reference_id=_text_of(terms_get(B_REFERENCE_EVENT_CODE))
                or _text_of(terms_get(B_ID)),
                amount=self.decimal(_head(terms_get(B_AMOUNT))),
                settlement_discount_percent=self.decimal(
                    _head(terms_get(B_SETTLEMENT_DISCOUNT))),
            ))
        doc.due_date = self.date(_head(get(B_DUE_DATE))) or self.date(
            _first_in(means_group, B_PAYMENT_DUE_DATE)) or self.date(
            _first_in(terms_group, B_PAYMENT_DUE_DATE))
        doc.order_reference = self.reference(_head(get(A_ORDER_REFERENCE)))
        for billing in get(A_BILLING_REFERENCE) or ():
            for ref in billing.iterchildren("*"):
                if etree.QName(ref).localname.endswith("DocumentReference"):
                    doc.billing_references.append(self.reference(ref))
        for disc in get(A_DISCREPANCY_RESPONSE) or ():
            disc_get = _children(disc).get
            doc.discrepancies.append(Discrepancy(
                reference_id=_text_of(disc_get(B_REFERENCE_ID)),
                code=_text_of(disc_get(B_RESPONSE_CODE)),
                description=_text_of(disc_get(B_DESCRIPTION)),
            ))
        doc.allowance_charges = [self.allowance_charge(a)
                                 for a in get(A_ALLOWANCE_CHARGE) or ()]
        doc.tax_totals = [self.tax_total(t) for t in get(A_TAX_TOTAL) or ()]
        doc.withholding_totals = [self.tax_total(t)
                                  for t in get(A_WITHHOLDING_TAX_TOTAL) or ()]
        totals_el = _head(get(A_LEGAL_MONETARY_TOTAL))
        if totals_el is None:
            totals_el = _head(get(A_REQUESTED_MONETARY_TOTAL))
        doc.totals = self.totals(totals_el)
        line_tag, quantity_tag = _LINES[kind]
        doc.lines = [self.line(el, quantity_tag) for el in get(line_tag) or ()]
        doc.attachments = [self.attachment(a)
                           for a in get(A_ADDITIONAL_DOCUMENT_REFERENCE) or ()]
        return doc

    def totals(self, el: etree._Element | None) -> MonetaryTotals:
        totals = MonetaryTotals()
        if el is None:
            self.findings.append(error(
                "READ-MISSING",
                "Falta el grupo de totales (LegalMonetaryTotal).",
                "The document has no totals group (LegalMonetaryTotal).",
                f"/{etree.QName(self.root).localname}/cac:LegalMonetaryTotal",
            ))
            return totals
        for child in el:
            entry = _TOTALS.get(child.tag)
            if entry is None:
                continue
            name, attr = entry
            raw = (child.text or "").strip()
            totals.raw[name] = raw
            setattr(totals, attr, self.decimal_of(child, raw))
        return totals


def read_document(
    tree: etree._ElementTree | etree._Element,
) -> tuple[Document | None, list[Finding]]:
    """Read a UBL 2.1 Invoice, CreditNote, DebitNote or ApplicationResponse into a Document."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    namespace = etree.QName(root).namespace or ""
    kind = UBL_ROOTS.get(namespace)
    if kind is None:
        return None, [error(
            "READ-NOT-UBL",
            f"No es un documento UBL 2.1 que se pueda leer ({etree.QName(root).localname}).",
            f"Not a readable UBL 2.1 document ({etree.QName(root).localname}).",
            "/" + etree.QName(root).localname,
        )]
    reader = _Reader(root)
    document = reader.document(kind)
    return document, reader.findings
