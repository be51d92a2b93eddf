"""Read and check UBL 2.1 / Peppol BIS Ordering 3 documents: Order, OrderResponse, OrderChange,
OrderCancellation, Catalogue and DespatchAdvice.

Bytes in, dataclasses out; no Flask, no database. Every input goes through the safe parser
(``xmlsafe.parse_xml``). ``read_ordering`` reads; ``check_ordering`` runs the official rules (the
root's UBL 2.1 XSD and the OpenPeppol Schematron of its transaction, ``ordering_rules.py``).
Money and quantities are ``Decimal``; a value that is not a number is read as None (the XSD says
why). Writing is in ``ordering_writer.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from app.einvoice import ordering_rules
from app.einvoice.findings import Finding, error
from app.einvoice.model import Address, MonetaryTotals
from app.einvoice.xmlsafe import parse_xml

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = UBL + "CommonBasicComponents-2"
CAC = UBL + "CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}


class OrderingType(StrEnum):
    """The ordering documents the engine reads (the UBL root's name)."""

    ORDER = "Order"
    ORDER_RESPONSE = "OrderResponse"
    ORDER_CHANGE = "OrderChange"
    ORDER_CANCELLATION = "OrderCancellation"
    CATALOGUE = "Catalogue"
    DESPATCH_ADVICE = "DespatchAdvice"


#: Root namespace → document type.
ORDERING_NAMESPACES = {UBL + f"{t.value}-2": t for t in OrderingType}

#: Where each role's party sits, per document type: (role, path to the cac:Party element).
_PARTY_PATHS: dict[OrderingType, tuple[tuple[str, str], ...]] = {}
_ORDER_PARTIES = (
    ("buyer", "cac:BuyerCustomerParty/cac:Party"),
    ("seller", "cac:SellerSupplierParty/cac:Party"),
    ("originator", "cac:OriginatorCustomerParty/cac:Party"),
    ("accounting_customer", "cac:AccountingCustomerParty/cac:Party"),
)
for _t in (
    OrderingType.ORDER,
    OrderingType.ORDER_RESPONSE,
    OrderingType.ORDER_CHANGE,
    OrderingType.ORDER_CANCELLATION,
):
    _PARTY_PATHS[_t] = _ORDER_PARTIES
_PARTY_PATHS[OrderingType.CATALOGUE] = (
    ("provider", "cac:ProviderParty"),
    ("receiver", "cac:ReceiverParty"),
    ("seller", "cac:SellerSupplierParty/cac:Party"),
    ("buyer", "cac:ContractorCustomerParty/cac:Party"),
)
_PARTY_PATHS[OrderingType.DESPATCH_ADVICE] = (
    ("despatch_supplier", "cac:DespatchSupplierParty/cac:Party"),
    ("delivery_customer", "cac:DeliveryCustomerParty/cac:Party"),
    ("buyer", "cac:BuyerCustomerParty/cac:Party"),
    ("seller", "cac:SellerSupplierParty/cac:Party"),
    ("originator", "cac:OriginatorCustomerParty/cac:Party"),
)
#: The role read as "the supplier" and "the customer" in summaries and the JSON report.
SUPPLIER_ROLES = ("provider", "despatch_supplier", "seller")
CUSTOMER_ROLES = ("receiver", "delivery_customer", "buyer")


@dataclass
class OrderingParty:
    """A buyer, seller, catalogue provider/receiver or despatch party: names and ids."""

    role: str
    name: str = ""
    registration_name: str = ""
    id: str = ""
    id_scheme: str = ""
    endpoint_id: str = ""
    endpoint_scheme: str = ""
    tax_id: str = ""
    legal_id: str = ""
    address: Address | None = None
    contact_name: str = ""
    email: str = ""
    telephone: str = ""

    @property
    def display_name(self) -> str:
        """Return the legal name where known, else the trade name."""
        return self.registration_name or self.name


@dataclass
class Classification:
    """An item's commodity classification (e.g. UNSPSC, listID 'STI')."""

    code: str
    list_id: str = ""
    list_version: str = ""


@dataclass
class OrderingItem:
    """An item as a line names it (or, in a response, the substitute the seller offers)."""

    name: str = ""
    description: str = ""
    seller_item_id: str = ""
    buyer_item_id: str = ""
    standard_item_id: str = ""
    standard_item_scheme: str = ""
    pack_size: Decimal | None = None
    classifications: list[Classification] = field(default_factory=list)
    tax_category: str = ""
    tax_percent: Decimal | None = None


@dataclass
class OrderingLine:
    """One OrderLine, CatalogueLine or DespatchLine."""

    id: str
    seller_item_id: str = ""
    buyer_item_id: str = ""
    standard_item_id: str = ""
    standard_item_scheme: str = ""
    name: str = ""
    description: str = ""
    note: str = ""
    quantity: Decimal | None = None
    """Ordered (or, in a response, the changed) quantity; a catalogue's content unit quantity."""
    unit_code: str = ""
    price: Decimal | None = None
    price_base_quantity: Decimal | None = None
    line_amount: Decimal | None = None
    tax_category: str = ""
    tax_percent: Decimal | None = None
    delivery_start: dt.date | None = None
    """The requested (order) or promised (response) delivery period of the line."""
    delivery_end: dt.date | None = None
    status_code: str = ""
    """Order response: LineStatusCode (UNCL1229: 5 accepted, 7 rejected, 3 changed…)."""
    substitute: OrderingItem | None = None
    """Order response: the item the seller offers instead (SellerSubstitutedLineItem)."""
    order_line_reference: str = ""
    """Response and despatch: the order line this line answers (OrderLineReference/LineID)."""
    order_reference: str = ""
    """Despatch: the order the line belongs to, when the line says."""
    delivered_quantity: Decimal | None = None
    outstanding_quantity: Decimal | None = None
    action_code: str = ""
    orderable_unit: str = ""
    min_quantity: Decimal | None = None
    max_quantity: Decimal | None = None
    pack_size: Decimal | None = None
    validity_start: dt.date | None = None
    validity_end: dt.date | None = None
    classifications: list[Classification] = field(default_factory=list)


@dataclass
class OrderingDocument:
    """What the engine read from one ordering document."""

    document_type: OrderingType
    customization_id: str = ""
    profile_id: str = ""
    transaction: str = ""
    """The Peppol transaction whose rules apply (T01, T76, T114, T115, T19, T16…)."""
    number: str = ""
    issue_date: dt.date | None = None
    issue_time: str = ""
    currency: str = ""
    notes: list[str] = field(default_factory=list)
    customer_reference: str = ""
    response_code: str = ""
    order_reference: str = ""
    sales_order_id: str = ""
    validity_start: dt.date | None = None
    validity_end: dt.date | None = None
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    delivery_address: Address | None = None
    parties: dict[str, OrderingParty] = field(default_factory=dict)
    tax_amount: Decimal | None = None
    totals: MonetaryTotals | None = None
    lines: list[OrderingLine] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        """Return the number of OrderLine, CatalogueLine or DespatchLine elements."""
        return len(self.lines)

    @property
    def buyer(self) -> OrderingParty | None:
        """Return the buyer (BuyerCustomerParty), when the document names one."""
        return self.parties.get("buyer")

    @property
    def seller(self) -> OrderingParty | None:
        """Return the seller (SellerSupplierParty), when the document names one."""
        return self.parties.get("seller")

    @property
    def supplier(self) -> OrderingParty | None:
        """Return the selling side: catalogue provider, despatch supplier, else the seller."""
        return next((self.parties[r] for r in SUPPLIER_ROLES if r in self.parties), None)

    @property
    def customer(self) -> OrderingParty | None:
        """Return the buying side: catalogue receiver, delivery customer, else the buyer."""
        return next((self.parties[r] for r in CUSTOMER_ROLES if r in self.parties), None)


# --- public API ------------------------------------------------------------------------------


def ordering_type_of(root: etree._Element) -> OrderingType | None:
    """Return the ordering document type of a parsed root, or None when it is not one."""
    return ORDERING_NAMESPACES.get(etree.QName(root).namespace or "")


def read_ordering(data: bytes) -> tuple[OrderingDocument | None, list[Finding]]:
    """Parse bytes safely and read an ordering document; return (document or None, findings)."""
    tree, findings = parse_xml(data)
    if tree is None:
        return None, findings
    return read_ordering_tree(tree)


def read_ordering_tree(tree: Any) -> tuple[OrderingDocument | None, list[Finding]]:
    """Read a parsed ordering document; a root of another kind is an error finding."""
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    kind = ordering_type_of(root)
    if kind is None:
        qname = etree.QName(root)
        return None, [
            error(
                "ORDERING-ROOT",
                f"No es un documento de pedidos UBL (raíz {qname.localname}, espacio "
                f"'{qname.namespace or ''}').",
                f"Not a UBL ordering document (root {qname.localname}, namespace "
                f"'{qname.namespace or ''}').",
            )
        ]
    return _read(root, kind), []


def check_ordering(
    document: bytes | Any,
    *,
    rules_dir: str | Path | None = None,
    schematron: bool = True,
    cache_dir: str | Path | None = None,
) -> list[Finding]:
    """Run the root's UBL 2.1 XSD and the Peppol ordering Schematron; return the findings.

    ``document`` is the file's bytes or a parsed tree; ``rules_dir`` defaults to
    EINVOICE_RULES_DIR. Without the rules folder the answer is one ``RULES-SKIPPED`` warning.
    """
    if isinstance(document, bytes | bytearray | memoryview):
        tree, findings = parse_xml(bytes(document))
        if tree is None:
            return findings
    else:
        tree = document
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    if ordering_type_of(root) is None:
        return read_ordering_tree(root)[1]
    if rules_dir is None:
        from app.einvoice.rules import rules_dir_from_env

        rules_dir = rules_dir_from_env()
    return ordering_rules.check_ordering_tree(
        root, rules_dir, schematron=schematron, cache_dir=cache_dir
    )


# --- reading ---------------------------------------------------------------------------------


def _text(el: etree._Element | None, path: str) -> str:
    if el is None:
        return ""
    return " ".join((el.findtext(path, "", NS) or "").split())


def _attr(el: etree._Element | None, path: str, name: str) -> str:
    if el is None:
        return ""
    node = el.find(path, NS)
    return (node.get(name) or "").strip() if node is not None else ""


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _dec(el: etree._Element | None, path: str) -> Decimal | None:
    text = _text(el, path)
    return _decimal(text) if text else None


def _date(el: etree._Element | None, path: str) -> dt.date | None:
    text = _text(el, path)
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _address(el: etree._Element | None) -> Address | None:
    if el is None:
        return None
    lines = [_text(el, p) for p in ("cbc:StreetName", "cbc:AdditionalStreetName")]
    lines += [
        " ".join((t or "").split())
        for t in el.xpath("cac:AddressLine/cbc:Line/text()", namespaces=NS)
    ]
    return Address(
        lines=[line for line in lines if line],
        city=_text(el, "cbc:CityName"),
        subdivision=_text(el, "cbc:CountrySubentity"),
        postal_zone=_text(el, "cbc:PostalZone"),
        country=_text(el, "cac:Country/cbc:IdentificationCode"),
    )


def _party(role: str, el: etree._Element) -> OrderingParty:
    return OrderingParty(
        role=role,
        name=_text(el, "cac:PartyName/cbc:Name"),
        registration_name=_text(el, "cac:PartyLegalEntity/cbc:RegistrationName"),
        id=_text(el, "cac:PartyIdentification/cbc:ID"),
        id_scheme=_attr(el, "cac:PartyIdentification/cbc:ID", "schemeID"),
        endpoint_id=_text(el, "cbc:EndpointID"),
        endpoint_scheme=_attr(el, "cbc:EndpointID", "schemeID"),
        tax_id=_text(el, "cac:PartyTaxScheme/cbc:CompanyID"),
        legal_id=_text(el, "cac:PartyLegalEntity/cbc:CompanyID"),
        address=_address(el.find("cac:PostalAddress", NS)),
        contact_name=_text(el, "cac:Contact/cbc:Name"),
        email=_text(el, "cac:Contact/cbc:ElectronicMail"),
        telephone=_text(el, "cac:Contact/cbc:Telephone"),
    )


def _classifications(item: etree._Element | None) -> list[Classification]:
    if item is None:
        return []
    return [
        Classification(
            " ".join((c.text or "").split()), c.get("listID", ""), c.get("listVersionID", "")
        )
        for c in item.iterfind("cac:CommodityClassification/cbc:ItemClassificationCode", NS)
    ]


def _item(item: etree._Element | None) -> OrderingItem:
    tax = "cac:ClassifiedTaxCategory/"
    return OrderingItem(
        name=_text(item, "cbc:Name"),
        description=_text(item, "cbc:Description"),
        seller_item_id=_text(item, "cac:SellersItemIdentification/cbc:ID"),
        buyer_item_id=_text(item, "cac:BuyersItemIdentification/cbc:ID"),
        standard_item_id=_text(item, "cac:StandardItemIdentification/cbc:ID"),
        standard_item_scheme=_attr(item, "cac:StandardItemIdentification/cbc:ID", "schemeID"),
        pack_size=_dec(item, "cbc:PackSizeNumeric"),
        classifications=_classifications(item),
        tax_category=_text(item, tax + "cbc:ID"),
        tax_percent=_dec(item, tax + "cbc:Percent"),
    )


def _with_item(line: OrderingLine, item: OrderingItem) -> OrderingLine:
    line.name, line.description = item.name, item.description
    line.seller_item_id, line.buyer_item_id = item.seller_item_id, item.buyer_item_id
    line.standard_item_id, line.standard_item_scheme = (
        item.standard_item_id,
        item.standard_item_scheme,
    )
    line.pack_size, line.classifications = item.pack_size, item.classifications
    line.tax_category, line.tax_percent = item.tax_category, item.tax_percent
    return line


def _order_line(el: etree._Element) -> OrderingLine:
    item_line = el.find("cac:LineItem", NS)
    period = "cac:Delivery/cac:RequestedDeliveryPeriod/"
    if (
        item_line is not None
        and item_line.find("cac:Delivery/cac:PromisedDeliveryPeriod", NS) is not None
    ):
        period = "cac:Delivery/cac:PromisedDeliveryPeriod/"
    line = OrderingLine(
        id=_text(item_line, "cbc:ID"),
        note=_text(el, "cbc:Note") or _text(item_line, "cbc:Note"),
        status_code=_text(item_line, "cbc:LineStatusCode"),
        quantity=_dec(item_line, "cbc:Quantity"),
        unit_code=_attr(item_line, "cbc:Quantity", "unitCode"),
        line_amount=_dec(item_line, "cbc:LineExtensionAmount"),
        price=_dec(item_line, "cac:Price/cbc:PriceAmount"),
        price_base_quantity=_dec(item_line, "cac:Price/cbc:BaseQuantity"),
        delivery_start=_date(item_line, period + "cbc:StartDate"),
        delivery_end=_date(item_line, period + "cbc:EndDate"),
        order_line_reference=_text(el, "cac:OrderLineReference/cbc:LineID"),
    )
    _with_item(line, _item(item_line.find("cac:Item", NS) if item_line is not None else None))
    substitute = el.find("cac:SellerSubstitutedLineItem/cac:Item", NS)
    if substitute is not None:
        line.substitute = _item(substitute)
    return line


def _catalogue_line(el: etree._Element) -> OrderingLine:
    price = "cac:RequiredItemLocationQuantity/cac:Price/"
    line = OrderingLine(
        id=_text(el, "cbc:ID"),
        action_code=_text(el, "cbc:ActionCode"),
        orderable_unit=_text(el, "cbc:OrderableUnit"),
        quantity=_dec(el, "cbc:ContentUnitQuantity"),
        unit_code=_attr(el, "cbc:ContentUnitQuantity", "unitCode"),
        min_quantity=_dec(el, "cbc:MinimumOrderQuantity"),
        max_quantity=_dec(el, "cbc:MaximumOrderQuantity"),
        price=_dec(el, price + "cbc:PriceAmount"),
        price_base_quantity=_dec(el, price + "cbc:BaseQuantity"),
        validity_start=_date(el, "cac:LineValidityPeriod/cbc:StartDate"),
        validity_end=_date(el, "cac:LineValidityPeriod/cbc:EndDate"),
        note=_text(el, "cbc:Note"),
    )
    return _with_item(line, _item(el.find("cac:Item", NS)))


def _despatch_line(el: etree._Element) -> OrderingLine:
    line = OrderingLine(
        id=_text(el, "cbc:ID"),
        note=_text(el, "cbc:Note"),
        delivered_quantity=_dec(el, "cbc:DeliveredQuantity"),
        quantity=_dec(el, "cbc:DeliveredQuantity"),
        unit_code=_attr(el, "cbc:DeliveredQuantity", "unitCode"),
        outstanding_quantity=_dec(el, "cbc:OutstandingQuantity"),
        order_line_reference=_text(el, "cac:OrderLineReference/cbc:LineID"),
        order_reference=_text(el, "cac:OrderLineReference/cac:OrderReference/cbc:ID"),
    )
    return _with_item(line, _item(el.find("cac:Item", NS)))


_TOTAL_ELEMENTS = (
    ("LineExtensionAmount", "line_extension"),
    ("TaxExclusiveAmount", "tax_exclusive"),
    ("TaxInclusiveAmount", "tax_inclusive"),
    ("AllowanceTotalAmount", "allowance"),
    ("ChargeTotalAmount", "charge"),
    ("PrepaidAmount", "prepaid"),
    ("PayableRoundingAmount", "payable_rounding"),
    ("PayableAmount", "payable"),
)


def _totals(el: etree._Element | None) -> MonetaryTotals | None:
    if el is None:
        return None
    totals = MonetaryTotals()
    for element, attribute in _TOTAL_ELEMENTS:
        text = _text(el, f"cbc:{element}")
        if text:
            totals.raw[element] = text
            setattr(totals, attribute, _decimal(text))
    return totals


def _read(root: etree._Element, kind: OrderingType) -> OrderingDocument:
    customization = _text(root, "cbc:CustomizationID")
    transaction = ordering_rules.transaction_for(kind.value, customization)
    delivery = root.find("cac:Delivery", NS)
    period = "cac:RequestedDeliveryPeriod/"
    if delivery is not None and delivery.find("cac:PromisedDeliveryPeriod", NS) is not None:
        period = "cac:PromisedDeliveryPeriod/"
    if kind is OrderingType.DESPATCH_ADVICE:
        delivery = root.find("cac:Shipment/cac:Delivery", NS)
        period = "cac:EstimatedDeliveryPeriod/"
    doc = OrderingDocument(
        document_type=kind,
        customization_id=customization,
        profile_id=_text(root, "cbc:ProfileID"),
        transaction=transaction.code if transaction else "",
        number=_text(root, "cbc:ID"),
        issue_date=_date(root, "cbc:IssueDate"),
        issue_time=_text(root, "cbc:IssueTime"),
        currency=_text(root, "cbc:DocumentCurrencyCode") or _text(root, "cbc:PricingCurrencyCode"),
        notes=[" ".join((n.text or "").split()) for n in root.iterfind("cbc:Note", NS)],
        customer_reference=_text(root, "cbc:CustomerReference"),
        response_code=_text(root, "cbc:OrderResponseCode"),
        order_reference=_text(root, "cac:OrderReference/cbc:ID"),
        sales_order_id=_text(root, "cbc:SalesOrderID"),
        validity_start=_date(root, "cac:ValidityPeriod/cbc:StartDate"),
        validity_end=_date(root, "cac:ValidityPeriod/cbc:EndDate"),
        delivery_start=_date(delivery, period + "cbc:StartDate"),
        delivery_end=_date(delivery, period + "cbc:EndDate"),
        delivery_address=_address(
            delivery.find("cac:DeliveryLocation/cac:Address", NS) if delivery is not None else None
        ),
        tax_amount=_dec(root, "cac:TaxTotal/cbc:TaxAmount"),
        # An order agreement (T110) states the agreed totals as an invoice does.
        totals=_totals(root.find("cac:AnticipatedMonetaryTotal", NS)
                       if root.find("cac:AnticipatedMonetaryTotal", NS) is not None
                       else root.find("cac:LegalMonetaryTotal", NS)),
    )
    if not doc.currency:
        # A catalogue need not name a currency; its prices do.
        doc.currency = next(iter(root.xpath(".//@currencyID")), "").strip()
    if kind is OrderingType.DESPATCH_ADVICE and not doc.order_reference:
        doc.order_reference = _text(
            root, "cac:DespatchLine/cac:OrderLineReference/cac:OrderReference/cbc:ID"
        )
    if kind is OrderingType.ORDER_CANCELLATION and not doc.order_reference:
        doc.order_reference = _text(root, "cac:OrderReference/cbc:ID")
    for role, path in _PARTY_PATHS[kind]:
        party = root.find(path, NS)
        if party is not None:
            doc.parties[role] = _party(role, party)
    if kind is OrderingType.CATALOGUE:
        doc.lines = [_catalogue_line(el) for el in root.iterfind("cac:CatalogueLine", NS)]
    elif kind is OrderingType.DESPATCH_ADVICE:
        doc.lines = [_despatch_line(el) for el in root.iterfind("cac:DespatchLine", NS)]
    else:
        doc.lines = [_order_line(el) for el in root.iterfind("cac:OrderLine", NS)]
    return doc
