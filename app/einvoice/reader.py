"""Read a UBL 2.1 document (DIAN or EN 16931 / Peppol flavour) into the canonical model.

The reader never raises on odd content: a value it cannot read becomes a finding and ``None``.
Amounts are ``Decimal``; the exact text of the values that feed the CUFE/CUDE is kept as well.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from app.einvoice.detect import CBC, NS, STS, UBL, UBL_ROOTS
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
_NS = {**NS, "ds": DS}

_LINES = {
    DocumentType.INVOICE: ("InvoiceLine", "InvoicedQuantity"),
    DocumentType.CREDIT_NOTE: ("CreditNoteLine", "CreditedQuantity"),
    DocumentType.DEBIT_NOTE: ("DebitNoteLine", "DebitedQuantity"),
}
_TOTALS = {
    "LineExtensionAmount": "line_extension",
    "TaxExclusiveAmount": "tax_exclusive",
    "TaxInclusiveAmount": "tax_inclusive",
    "AllowanceTotalAmount": "allowance",
    "ChargeTotalAmount": "charge",
    "PrepaidAmount": "prepaid",
    "PayableRoundingAmount": "payable_rounding",
    "PayableAmount": "payable",
}


class _Reader:
    """Holds the findings while one document is read."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.findings: list[Finding] = []

    # -- primitives -------------------------------------------------------------------------

    def path(self, el: etree._Element) -> str:
        return el.getroottree().getpath(el) if el is not None else ""

    def text(self, el: etree._Element | None, path: str) -> str:
        if el is None:
            return ""
        found = el.find(path, _NS)
        return (found.text or "").strip() if found is not None else ""

    def amount(self, el: etree._Element | None,
               path: str | None = None) -> tuple[Decimal | None, str]:
        node = el if path is None or el is None else el.find(path, _NS)
        if node is None:
            return None, ""
        raw = (node.text or "").strip()
        return self.decimal_of(node, raw), raw

    def decimal(self, el: etree._Element | None, path: str) -> Decimal | None:
        return self.amount(el, path)[0]

    def decimal_of(self, node: etree._Element, raw: str) -> Decimal | None:
        if raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.findings.append(error(
                "READ-NUMBER",
                f"Valor numérico ilegible: '{raw[:40]}'.",
                f"Unreadable number: '{raw[:40]}'.",
                self.path(node),
            ))
            return None
        return value

    def date(self, el: etree._Element | None, path: str) -> dt.date | None:
        node = el.find(path, _NS) if el is not None else None
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
        return Address(
            lines=[(n.text or "").strip() for n in el.findall("cac:AddressLine/cbc:Line", _NS)]
            + [t for t in (self.text(el, "cbc:StreetName"),
                           self.text(el, "cbc:AdditionalStreetName")) if t],
            city=self.text(el, "cbc:CityName"),
            city_code=self.text(el, "cbc:ID"),
            subdivision=self.text(el, "cbc:CountrySubentity"),
            subdivision_code=self.text(el, "cbc:CountrySubentityCode"),
            postal_zone=self.text(el, "cbc:PostalZone"),
            country=self.text(el, "cac:Country/cbc:IdentificationCode"),
        )

    def party(self, wrapper: etree._Element | None, *, dian: bool) -> Party:
        """Read an AccountingSupplierParty-like wrapper, or a bare cac:Party / SenderParty."""
        if wrapper is None:
            return Party()
        party_el = wrapper.find("cac:Party", _NS)
        if party_el is None:
            party_el = wrapper
        tax_scheme = party_el.find("cac:PartyTaxScheme", _NS)
        legal = party_el.find("cac:PartyLegalEntity", _NS)
        tax_company = tax_scheme.find("cbc:CompanyID", _NS) if tax_scheme is not None else None
        legal_company = legal.find("cbc:CompanyID", _NS) if legal is not None else None
        party = Party(
            name=self.text(party_el, "cac:PartyName/cbc:Name"),
            registration_name=self.text(legal, "cbc:RegistrationName")
            or self.text(tax_scheme, "cbc:RegistrationName"),
            account_type=self.text(wrapper, "cbc:AdditionalAccountID"),
            email=self.text(party_el, "cac:Contact/cbc:ElectronicMail"),
            telephone=self.text(party_el, "cac:Contact/cbc:Telephone"),
            contact_name=self.text(party_el, "cac:Contact/cbc:Name"),
            tax_scheme=self.text(tax_scheme, "cac:TaxScheme/cbc:ID"),
            tax_level_codes=[c for c in self.text(tax_scheme, "cbc:TaxLevelCode").split(";") if c],
        )
        endpoint = party_el.find("cbc:EndpointID", _NS)
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
            ident = party_el.find("cac:PartyIdentification/cbc:ID", _NS)
            chosen = tax_company if tax_company is not None else legal_company
            if chosen is None:
                chosen = ident
            if chosen is not None:
                party.tax_id = (chosen.text or "").strip()
                party.id_scheme = chosen.get("schemeID", "") or (
                    "VAT" if chosen is tax_company else "")
        address_el = party_el.find("cac:PostalAddress", _NS)
        if address_el is None:
            address_el = party_el.find("cac:PhysicalLocation/cac:Address", _NS)
        if address_el is None and tax_scheme is not None:
            address_el = tax_scheme.find("cac:RegistrationAddress", _NS)
        party.address = self.address(address_el)
        return party

    def allowance_charge(self, el: etree._Element) -> AllowanceCharge:
        amount, raw = self.amount(el, "cbc:Amount")
        return AllowanceCharge(
            charge=self.text(el, "cbc:ChargeIndicator").lower() == "true",
            amount=amount if amount is not None else Decimal("0"),
            amount_raw=raw,
            base_amount=self.decimal(el, "cbc:BaseAmount"),
            percent=self.decimal(el, "cbc:MultiplierFactorNumeric"),
            reason=self.text(el, "cbc:AllowanceChargeReason"),
            reason_code=self.text(el, "cbc:AllowanceChargeReasonCode"),
            tax_category=self.text(el, "cac:TaxCategory/cbc:ID"),
            tax_percent=self.decimal(el, "cac:TaxCategory/cbc:Percent"),
        )

    def tax_total(self, el: etree._Element) -> TaxTotal:
        amount_el = el.find("cbc:TaxAmount", _NS)
        amount, raw = self.amount(amount_el)
        total = TaxTotal(
            tax_amount=amount if amount is not None else Decimal("0"),
            tax_amount_raw=raw,
            currency=amount_el.get("currencyID", "") if amount_el is not None else "",
            rounding_amount=self.decimal(el, "cbc:RoundingAmount"),
        )
        for sub in el.findall("cac:TaxSubtotal", _NS):
            sub_amount = self.decimal(sub, "cbc:TaxAmount")
            category = sub.find("cac:TaxCategory", _NS)
            total.subtotals.append(TaxSubtotal(
                taxable_amount=self.decimal(sub, "cbc:TaxableAmount"),
                tax_amount=sub_amount if sub_amount is not None else Decimal("0"),
                percent=self.decimal(category, "cbc:Percent")
                if self.text(category, "cbc:Percent") else self.decimal(sub, "cbc:Percent"),
                category=self.text(category, "cbc:ID"),
                scheme_id=self.text(category, "cac:TaxScheme/cbc:ID"),
                scheme_name=self.text(category, "cac:TaxScheme/cbc:Name"),
                exemption_reason=self.text(category, "cbc:TaxExemptionReason"),
                per_unit_amount=self.decimal(sub, "cbc:PerUnitAmount"),
                base_unit_measure=self.decimal(sub, "cbc:BaseUnitMeasure"),
            ))
        return total

    def reference(self, el: etree._Element | None) -> DocumentReference | None:
        if el is None:
            return None
        uuid = el.find("cbc:UUID", _NS)
        return DocumentReference(
            id=self.text(el, "cbc:ID"),
            uuid=(uuid.text or "").strip() if uuid is not None else "",
            uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            issue_date=self.date(el, "cbc:IssueDate"),
            type_code=self.text(el, "cbc:DocumentTypeCode"),
            description=self.text(el, "cbc:DocumentDescription"),
        )

    def line(self, el: etree._Element, quantity_tag: str) -> Line:
        quantity = el.find(f"cbc:{quantity_tag}", _NS)
        amount, raw = self.amount(el, "cbc:LineExtensionAmount")
        item = el.find("cac:Item", _NS)
        standard = item.find("cac:StandardItemIdentification/cbc:ID", _NS) if item is not None \
            else None
        return Line(
            id=self.text(el, "cbc:ID"),
            quantity=self.amount(quantity)[0],
            unit_code=quantity.get("unitCode", "") if quantity is not None else "",
            line_extension=amount,
            line_extension_raw=raw,
            description=" ".join(
                (d.text or "").strip() for d in el.findall("cac:Item/cbc:Description", _NS)),
            name=self.text(item, "cbc:Name"),
            seller_item_id=self.text(item, "cac:SellersItemIdentification/cbc:ID"),
            buyer_item_id=self.text(item, "cac:BuyersItemIdentification/cbc:ID"),
            standard_item_id=(standard.text or "").strip() if standard is not None else "",
            standard_item_scheme=standard.get("schemeID", "") if standard is not None else "",
            additional_item_ids=[(n.text or "").strip() for n in el.findall(
                "cac:Item/cac:AdditionalItemIdentification/cbc:ID", _NS)],
            price=self.decimal(el, "cac:Price/cbc:PriceAmount"),
            base_quantity=self.decimal(el, "cac:Price/cbc:BaseQuantity"),
            free_of_charge=self.text(el, "cbc:FreeOfChargeIndicator").lower() == "true",
            allowance_charges=[self.allowance_charge(a)
                               for a in el.findall("cac:AllowanceCharge", _NS)],
            tax_totals=[self.tax_total(t) for t in el.findall("cac:TaxTotal", _NS)],
            withholding_totals=[self.tax_total(t)
                                for t in el.findall("cac:WithholdingTaxTotal", _NS)],
            tax_category=self.text(item, "cac:ClassifiedTaxCategory/cbc:ID"),
            tax_percent=self.decimal(item, "cac:ClassifiedTaxCategory/cbc:Percent"),
            note=" ".join((n.text or "").strip() for n in el.findall("cbc:Note", _NS)),
        )

    def dian_extensions(self) -> DianExtensions | None:
        ext = self.root.find(
            f"{{{UBL}CommonExtensionComponents-2}}UBLExtensions//{{{STS}}}DianExtensions")
        if ext is None:
            return None
        provider = ext.find("sts:SoftwareProvider/sts:ProviderID", _NS)
        return DianExtensions(
            authorization=self.text(ext, "sts:InvoiceControl/sts:InvoiceAuthorization"),
            authorization_start=self.date(ext, "sts:InvoiceControl/sts:AuthorizationPeriod/"
                                               "cbc:StartDate"),
            authorization_end=self.date(ext, "sts:InvoiceControl/sts:AuthorizationPeriod/"
                                             "cbc:EndDate"),
            prefix=self.text(ext, "sts:InvoiceControl/sts:AuthorizedInvoices/sts:Prefix"),
            range_from=self.text(ext, "sts:InvoiceControl/sts:AuthorizedInvoices/sts:From"),
            range_to=self.text(ext, "sts:InvoiceControl/sts:AuthorizedInvoices/sts:To"),
            software_provider_id=(provider.text or "").strip() if provider is not None else "",
            software_provider_check_digit=provider.get("schemeID", "")
            if provider is not None else "",
            software_id=self.text(ext, "sts:SoftwareProvider/sts:SoftwareID"),
            security_code=self.text(ext, "sts:SoftwareSecurityCode"),
            authorization_provider_id=self.text(
                ext, "sts:AuthorizationProvider/sts:AuthorizationProviderID"),
            qr_code=self.text(ext, "sts:QRCode"),
            source_country=self.text(ext, "sts:InvoiceSource/cbc:IdentificationCode"),
        )

    def attachment(self, el: etree._Element) -> Attachment:
        binary = el.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", _NS)
        size = 0
        if binary is not None and binary.text:
            # base64 length → decoded length, without decoding a possibly large blob.
            stripped = "".join(binary.text.split())
            size = len(stripped) * 3 // 4 - stripped[-2:].count("=")
        return Attachment(
            id=self.text(el, "cbc:ID"),
            description=self.text(el, "cbc:DocumentDescription"),
            filename=binary.get("filename", "") if binary is not None else "",
            mime_code=binary.get("mimeCode", "") if binary is not None else "",
            uri=self.text(el, "cac:Attachment/cac:ExternalReference/cbc:URI"),
            size=size,
        )

    def response(self, el: etree._Element) -> DocumentResponse:
        code = el.find("cac:Response/cbc:ResponseCode", _NS)
        uuid = el.find("cac:DocumentReference/cbc:UUID", _NS)
        person = el.find("cac:IssuerParty/cac:Person", _NS)
        names = [self.text(person, f"cbc:{n}") for n in ("FirstName", "FamilyName")]
        person_id = person.find("cbc:ID", _NS) if person is not None else None
        return DocumentResponse(
            response_code=(code.text or "").strip() if code is not None else "",
            response_code_list=code.get("listID", "") if code is not None else "",
            response_code_name=code.get("name", "") if code is not None else "",
            description=self.text(el, "cac:Response/cbc:Description"),
            reference_id=self.text(el, "cac:DocumentReference/cbc:ID"),
            reference_uuid=(uuid.text or "").strip() if uuid is not None else "",
            reference_uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            reference_type_code=self.text(el, "cac:DocumentReference/cbc:DocumentTypeCode"),
            issuer_person_id=self.text(person, "cbc:ID"),
            issuer_person_name=" ".join(n for n in names if n),
            issuer_person_id_scheme=person_id.get("schemeName", "") if person_id is not None
            else "",
            issuer_person_first_name=names[0],
            issuer_person_family_name=names[1],
            issuer_person_job_title=self.text(person, "cbc:JobTitle"),
            issuer_person_department=self.text(person, "cbc:OrganizationDepartment"),
        )

    # -- the document -----------------------------------------------------------------------

    def document(self, kind: DocumentType) -> Document:
        root = self.root
        uuid = root.find("cbc:UUID", _NS)
        doc = Document(
            document_type=kind,
            number=self.text(root, "cbc:ID"),
            uuid=(uuid.text or "").strip() if uuid is not None else "",
            uuid_scheme=uuid.get("schemeName", "") if uuid is not None else "",
            uuid_environment=uuid.get("schemeID", "") if uuid is not None else "",
            ubl_version=self.text(root, "cbc:UBLVersionID"),
            customization_id=self.text(root, "cbc:CustomizationID"),
            profile_id=self.text(root, "cbc:ProfileID"),
            profile_execution_id=self.text(root, "cbc:ProfileExecutionID"),
            issue_date=self.date(root, "cbc:IssueDate"),
            issue_date_raw=self.text(root, "cbc:IssueDate"),
            issue_time=self.text(root, "cbc:IssueTime"),
            currency=self.text(root, "cbc:DocumentCurrencyCode"),
            tax_currency=self.text(root, "cbc:TaxCurrencyCode"),
            buyer_reference=self.text(root, "cbc:BuyerReference"),
            notes=[(n.text or "").strip() for n in root.findall("cbc:Note", _NS)],
            is_signed=root.find(f"{{{UBL}CommonExtensionComponents-2}}UBLExtensions//"
                                f"{{{DS}}}Signature") is not None,
        )
        doc.dian = self.dian_extensions()
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
            doc.supplier = self.party(root.find("cac:SenderParty", _NS), dian=dian)
            doc.customer = self.party(root.find("cac:ReceiverParty", _NS), dian=dian)
            doc.responses = [self.response(r) for r in root.findall("cac:DocumentResponse", _NS)]
            return doc

        doc.type_code = self.text(root, "cbc:InvoiceTypeCode") or self.text(
            root, "cbc:CreditNoteTypeCode") or self.text(root, "cbc:DebitNoteTypeCode")
        count = self.text(root, "cbc:LineCountNumeric")
        if count:
            try:
                doc.line_count = int(Decimal(count))
            except (InvalidOperation, ValueError):
                self.findings.append(error(
                    "READ-NUMBER", f"LineCountNumeric ilegible: '{count[:20]}'.",
                    f"Unreadable LineCountNumeric: '{count[:20]}'.",
                    f"/{etree.QName(root).localname}/cbc:LineCountNumeric"))
        doc.supplier = self.party(root.find("cac:AccountingSupplierParty", _NS), dian=dian)
        doc.customer = self.party(root.find("cac:AccountingCustomerParty", _NS), dian=dian)
        payee = root.find("cac:PayeeParty", _NS)
        doc.payee = self.party(payee, dian=dian) if payee is not None else None
        for means in root.findall("cac:PaymentMeans", _NS):
            doc.payment_means.append(PaymentMeans(
                id=self.text(means, "cbc:ID"),
                code=self.text(means, "cbc:PaymentMeansCode"),
                due_date=self.date(means, "cbc:PaymentDueDate"),
                payment_id=self.text(means, "cbc:PaymentID"),
                account_id=self.text(means, "cac:PayeeFinancialAccount/cbc:ID"),
                account_name=self.text(means, "cac:PayeeFinancialAccount/cbc:Name"),
            ))
        for terms in root.findall("cac:PaymentTerms", _NS):
            doc.payment_terms.append(PaymentTerms(
                note=" ".join((n.text or "").strip() for n in terms.findall("cbc:Note", _NS)),
                reference_id=self.text(terms, "cbc:ReferenceEventCode") or self.text(
                    terms, "cbc:ID"),
                amount=self.decimal(terms, "cbc:Amount"),
                settlement_discount_percent=self.decimal(terms, "cbc:SettlementDiscountPercent"),
            ))
        doc.due_date = self.date(root, "cbc:DueDate") or self.date(
            root, "cac:PaymentMeans/cbc:PaymentDueDate") or self.date(
            root, "cac:PaymentTerms/cbc:PaymentDueDate")
        doc.order_reference = self.reference(root.find("cac:OrderReference", _NS))
        for ref in root.findall("cac:BillingReference/*", _NS):
            if etree.QName(ref).localname.endswith("DocumentReference"):
                doc.billing_references.append(self.reference(ref))
        for disc in root.findall("cac:DiscrepancyResponse", _NS):
            doc.discrepancies.append(Discrepancy(
                reference_id=self.text(disc, "cbc:ReferenceID"),
                code=self.text(disc, "cbc:ResponseCode"),
                description=self.text(disc, "cbc:Description"),
            ))
        doc.allowance_charges = [self.allowance_charge(a)
                                 for a in root.findall("cac:AllowanceCharge", _NS)]
        doc.tax_totals = [self.tax_total(t) for t in root.findall("cac:TaxTotal", _NS)]
        doc.withholding_totals = [self.tax_total(t)
                                  for t in root.findall("cac:WithholdingTaxTotal", _NS)]
        totals_el = root.find("cac:LegalMonetaryTotal", _NS)
        if totals_el is None:
            totals_el = root.find("cac:RequestedMonetaryTotal", _NS)
        doc.totals = self.totals(totals_el)
        line_tag, quantity_tag = _LINES[kind]
        doc.lines = [self.line(el, quantity_tag) for el in root.findall(f"cac:{line_tag}", _NS)]
        doc.attachments = [self.attachment(a)
                           for a in root.findall("cac:AdditionalDocumentReference", _NS)]
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
            if not isinstance(child.tag, str) or etree.QName(child).namespace != CBC:
                continue
            name = etree.QName(child).localname
            attr = _TOTALS.get(name)
            if attr is None:
                continue
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


