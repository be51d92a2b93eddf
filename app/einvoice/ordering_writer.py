"""Write Peppol BIS Ordering 3 documents from plain dataclasses: Order (T01), Order Response
(T76), Despatch Advice (T16) and Catalogue (T19).

Elements go in the UBL 2.1 schema's order; amounts are written with two decimals, unit prices and
quantities as given (never in exponent form). What the Peppol rules compute is computed here
from the lines (line amounts, AnticipatedMonetaryTotal, the tax amount), so a writer's output
passes the XSD and the OpenPeppol Schematron (``ordering.check_ordering``). What OpenPeppol's
unpublished cardinality and code-list rules would say is checked here before writing: a missing
mandatory value or a code outside its list raises ``OrderingWriterError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from app.einvoice.ordering_rules import PEPPOL_POACC

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CAC = UBL + "CommonAggregateComponents-2"
CBC = UBL + "CommonBasicComponents-2"
_PREFIXES = {"cac": CAC, "cbc": CBC}

PROFILE_ORDER_ONLY = "urn:fdc:peppol.eu:poacc:bis:order_only:3"
PROFILE_ORDERING = "urn:fdc:peppol.eu:poacc:bis:ordering:3"
PROFILE_DESPATCH = "urn:fdc:peppol.eu:poacc:bis:despatch_advice:3"
PROFILE_CATALOGUE = "urn:fdc:peppol.eu:poacc:bis:catalogue_only:3"

#: UNCL4343 subset of T76: AP accepted, RE rejected, CA accepted with changes, AB received.
RESPONSE_CODES = {"AP", "RE", "CA", "AB"}
#: UNCL1229 subset of T76 lines: 1 added, 3 changed, 5 accepted, 7 not accepted, 42 delivered.
LINE_STATUS_CODES = {"1", "3", "5", "7", "42"}
ACCEPTED, REJECTED, CHANGED = "5", "7", "3"
TAX_CATEGORIES = {"AE", "E", "S", "Z", "G", "O", "K", "L", "M", "B"}
CATALOGUE_ACTIONS = {"Add", "Replace", "Update", "Delete"}
CENT = Decimal("0.01")


class OrderingWriterError(ValueError):
    """The input cannot make a valid document; the message says which value and why."""


@dataclass
class PostalAddress:
    """A postal or delivery address."""

    country: str
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_zone: str = ""
    subdivision: str = ""


@dataclass
class Party:
    """A buyer, seller, provider, receiver or despatch party.

    ``endpoint_id``/``endpoint_scheme`` are its Peppol address (EAS code, e.g. '0088' GLN,
    '0192' Norwegian organisation number); ``name`` its legal (registration) name.
    """

    name: str
    endpoint_id: str
    endpoint_scheme: str
    id: str = ""
    id_scheme: str = ""
    trade_name: str = ""
    vat_id: str = ""
    """A VAT number with its country prefix (PEPPOL-T01-R026), e.g. 'NO999999999MVA'."""
    legal_id: str = ""
    address: PostalAddress | None = None
    contact_name: str = ""
    email: str = ""
    telephone: str = ""


@dataclass
class Item:
    """An item as a line names it."""

    name: str
    seller_item_id: str = ""
    buyer_item_id: str = ""
    standard_item_id: str = ""
    standard_item_scheme: str = "0160"
    """0160 is GTIN."""
    description: str = ""
    pack_size: Decimal | None = None
    classifications: Sequence[tuple[str, str]] = ()
    """(code, listID) pairs, e.g. ('43211503', 'STI') for UNSPSC."""
    tax_category: str = ""
    tax_percent: Decimal | None = None


@dataclass
class OrderLine:
    """One line of an order."""

    id: str
    item: Item
    quantity: Decimal
    unit_code: str = "C62"
    price: Decimal | None = None
    base_quantity: Decimal | None = None
    line_amount: Decimal | None = None
    """Computed from quantity × price ÷ base quantity when not given."""
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    note: str = ""


@dataclass
class Order:
    """A Peppol Order (T01)."""

    number: str
    issue_date: dt.date
    currency: str
    buyer: Party
    seller: Party
    lines: Sequence[OrderLine]
    note: str = ""
    customer_reference: str = ""
    """The buyer's reference (BT-10 in the invoice that follows): cbc:CustomerReference."""
    issue_time: dt.time | None = None
    validity_end: dt.date | None = None
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    delivery_address: PostalAddress | None = None
    delivery_location_id: str = ""
    delivery_location_scheme: str = ""
    profile: str = PROFILE_ORDER_ONLY


@dataclass
class ResponseLine:
    """One line of an order response: what the seller says about one order line.

    ``status_code``: '5' accepted, '7' rejected, '3' changed (quantity, price, delivery date or
    a substitute item), '1' added, '42' already delivered.
    """

    id: str
    status_code: str
    item: Item
    order_line_id: str = ""
    """The order line answered (defaults to ``id``)."""
    quantity: Decimal | None = None
    unit_code: str = "C62"
    price: Decimal | None = None
    base_quantity: Decimal | None = None
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    substitute: Item | None = None
    substitute_id: str = ""
    note: str = ""


@dataclass
class OrderResponse:
    """A Peppol Order Response (T76).

    ``response_code``: 'AP' accept the whole order, 'RE' reject it, 'CA' accept with changes
    (then ``lines`` say what each order line becomes), 'AB' received only.
    """

    number: str
    issue_date: dt.date
    currency: str
    order_reference: str
    response_code: str
    seller: Party
    buyer: Party
    lines: Sequence[ResponseLine] = ()
    note: str = ""
    customer_reference: str = ""
    sales_order_id: str = ""
    issue_time: dt.time | None = None
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    profile: str = PROFILE_ORDERING


@dataclass
class DespatchLine:
    """One despatched order line."""

    id: str
    item: Item
    delivered_quantity: Decimal
    order_line_id: str
    unit_code: str = "C62"
    order_reference: str = ""
    """The order this line belongs to, when it is not the document's."""
    outstanding_quantity: Decimal | None = None
    outstanding_reason: str = ""
    note: str = ""


@dataclass
class DespatchAdvice:
    """A Peppol Despatch Advice (T16)."""

    number: str
    issue_date: dt.date
    order_reference: str
    despatch_supplier: Party
    delivery_customer: Party
    lines: Sequence[DespatchLine]
    note: str = ""
    issue_time: dt.time | None = None
    shipment_id: str = "NA"
    delivery_start: dt.date | None = None
    delivery_end: dt.date | None = None
    delivery_address: PostalAddress | None = None
    profile: str = PROFILE_DESPATCH


@dataclass
class CatalogueLine:
    """One catalogue line: an orderable item, its unit, price and order limits."""

    id: str
    item: Item
    orderable_unit: str = "C62"
    price: Decimal | None = None
    base_quantity: Decimal | None = None
    content_quantity: Decimal | None = None
    min_quantity: Decimal | None = None
    max_quantity: Decimal | None = None
    action_code: str = ""
    validity_start: dt.date | None = None
    validity_end: dt.date | None = None
    orderable: bool = True
    note: str = ""


@dataclass
class Catalogue:
    """A Peppol Catalogue (T19)."""

    number: str
    issue_date: dt.date
    validity_start: dt.date
    validity_end: dt.date
    provider: Party
    receiver: Party
    lines: Sequence[CatalogueLine]
    currency: str = ""
    """The currency of the prices (cbc:PriceAmount/@currencyID)."""
    name: str = ""
    action_code: str = ""
    seller: Party | None = None
    issue_time: dt.time | None = None
    profile: str = PROFILE_CATALOGUE
    notes: Sequence[str] = field(default_factory=tuple)


# --- helpers ---------------------------------------------------------------------------------


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{_PREFIXES[prefix]}}}{name}")
    for key, value in attrib.items():
        if value:
            node.set(key, value)
    if text is not None:
        node.text = text
    return node


def _opt(parent: etree._Element, tag: str, text: str | None, **attrib: str) -> None:
    if text:
        _el(parent, tag, text, **attrib)


def _plain(value: Decimal) -> str:
    """A number in plain notation, no exponent, no trailing zeros after the point."""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _money(value: Decimal) -> str:
    return f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):f}"


def _date(value: dt.date) -> str:
    return value.isoformat()


def _time(value: dt.time) -> str:
    return value.replace(microsecond=0).isoformat()


def _need(value: object, what: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise OrderingWriterError(f"{what} is required")


def _decimal(value: Decimal | int | str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        raise OrderingWriterError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise OrderingWriterError(f"{what} is not a finite number: {value!r}")
    return number


def _non_negative(value: Decimal | None, what: str) -> Decimal | None:
    number = _decimal(value, what)
    if number is not None and number < 0:
        raise OrderingWriterError(f"{what} cannot be negative: {value}")
    return number


def _root(name: str, customization: str, profile: str, number: str) -> etree._Element:
    root = etree.Element(f"{{{UBL}{name}-2}}{name}", nsmap={None: f"{UBL}{name}-2", **_PREFIXES})
    _el(root, "cbc:CustomizationID", customization)
    _el(root, "cbc:ProfileID", profile)
    _need(number, f"{name} number")
    _el(root, "cbc:ID", number.strip())
    return root


def _issue(root: etree._Element, day: dt.date, time: dt.time | None) -> None:
    _need(day, "issue date")
    _el(root, "cbc:IssueDate", _date(day))
    if time is not None:
        _el(root, "cbc:IssueTime", _time(time))


def _address(parent: etree._Element, tag: str, address: PostalAddress) -> None:
    _need(address.country, "address country")
    node = _el(parent, tag)
    _opt(node, "cbc:StreetName", address.street)
    _opt(node, "cbc:AdditionalStreetName", address.additional_street)
    _opt(node, "cbc:CityName", address.city)
    _opt(node, "cbc:PostalZone", address.postal_zone)
    _opt(node, "cbc:CountrySubentity", address.subdivision)
    country = _el(node, "cac:Country")
    _el(country, "cbc:IdentificationCode", address.country.strip().upper())


def _party(parent: etree._Element, party: Party, role: str, *, country: bool = False) -> None:
    """Write a cac:Party (or the party element itself, for a catalogue's provider/receiver)."""
    _need(party.name, f"{role} name")
    _need(party.endpoint_id, f"{role} endpoint id")
    _need(party.endpoint_scheme, f"{role} endpoint scheme")
    if country and (party.address is None or not party.address.country):
        raise OrderingWriterError(f"{role} address country is required")
    _el(parent, "cbc:EndpointID", party.endpoint_id.strip(), schemeID=party.endpoint_scheme)
    if party.id:
        ident = _el(parent, "cac:PartyIdentification")
        _el(ident, "cbc:ID", party.id.strip(), schemeID=party.id_scheme)
    name = _el(parent, "cac:PartyName")
    _el(name, "cbc:Name", (party.trade_name or party.name).strip())
    if party.address is not None:
        _address(parent, "cac:PostalAddress", party.address)
    if party.vat_id:
        scheme = _el(parent, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.vat_id.strip())
        tax = _el(scheme, "cac:TaxScheme")
        _el(tax, "cbc:ID", "VAT")
    legal = _el(parent, "cac:PartyLegalEntity")
    _el(legal, "cbc:RegistrationName", party.name.strip())
    _opt(legal, "cbc:CompanyID", party.legal_id.strip())
    if party.contact_name or party.email or party.telephone:
        contact = _el(parent, "cac:Contact")
        _opt(contact, "cbc:Name", party.contact_name)
        _opt(contact, "cbc:Telephone", party.telephone)
        _opt(contact, "cbc:ElectronicMail", party.email)


def _role_party(root: etree._Element, tag: str, party: Party, role: str, **kw: bool) -> None:
    holder = _el(root, tag)
    _party(_el(holder, "cac:Party"), party, role, **kw)


def _tax_category(parent: etree._Element, tag: str, item: Item, where: str) -> None:
    if not item.tax_category:
        return
    category = item.tax_category.strip().upper()
    if category not in TAX_CATEGORIES:
        raise OrderingWriterError(f"{where}: tax category {category!r} is not in UNCL5305")
    percent = _non_negative(item.tax_percent, f"{where} tax percent")
    if percent is None and category != "O":
        raise OrderingWriterError(f"{where}: tax category {category} needs a percent")
    if category == "S" and not percent:
        raise OrderingWriterError(f"{where}: standard rate (S) needs a percent above zero")
    node = _el(parent, tag)
    _el(node, "cbc:ID", category)
    if percent is not None and category != "O":
        _el(node, "cbc:Percent", _plain(percent))
    scheme = _el(node, "cac:TaxScheme")
    _el(scheme, "cbc:ID", "VAT")


def _item(parent: etree._Element, item: Item, where: str, *, need_id: bool = False) -> None:
    _need(item.name, f"{where} item name")
    if need_id and not (item.seller_item_id or item.standard_item_id):
        raise OrderingWriterError(f"{where}: a seller item id or a standard item id is required")
    node = _el(parent, "cac:Item")
    _opt(node, "cbc:Description", item.description.strip())
    pack = _non_negative(item.pack_size, f"{where} pack size")
    if pack is not None:
        _el(node, "cbc:PackSizeNumeric", _plain(pack))
    _el(node, "cbc:Name", item.name.strip())
    for tag, value in (
        ("cac:BuyersItemIdentification", item.buyer_item_id),
        ("cac:SellersItemIdentification", item.seller_item_id),
    ):
        if value:
            _el(_el(node, tag), "cbc:ID", value.strip())
    if item.standard_item_id:
        ident = _el(node, "cac:StandardItemIdentification")
        _el(ident, "cbc:ID", item.standard_item_id.strip(), schemeID=item.standard_item_scheme)
    for code, list_id in item.classifications:
        commodity = _el(node, "cac:CommodityClassification")
        _el(commodity, "cbc:ItemClassificationCode", code, listID=list_id)
    _tax_category(node, "cac:ClassifiedTaxCategory", item, where)


def _period(parent: etree._Element, tag: str, start: dt.date | None, end: dt.date | None) -> None:
    if start is None and end is None:
        return
    if start is not None and end is not None and end < start:
        raise OrderingWriterError(f"{tag}: the end {end} is before the start {start}")
    node = _el(parent, tag)
    if start is not None:
        _el(node, "cbc:StartDate", _date(start))
    if end is not None:
        _el(node, "cbc:EndDate", _date(end))


def _price(
    parent: etree._Element,
    price: Decimal | None,
    base: Decimal | None,
    unit: str,
    currency: str,
    where: str,
) -> None:
    if price is None:
        return
    node = _el(parent, "cac:Price")
    _el(node, "cbc:PriceAmount", _plain(price), currencyID=currency)
    if base is not None:
        _el(node, "cbc:BaseQuantity", _plain(base), unitCode=unit)


def _quantity(value: Decimal | None, where: str, *, positive_base: bool = False) -> Decimal | None:
    number = _non_negative(value, where)
    if positive_base and number is not None and number == 0:
        raise OrderingWriterError(f"{where} must be above zero")
    return number


def _unique_ids(ids: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for value in ids:
        _need(value, f"{what} id")
        if value in seen:
            raise OrderingWriterError(f"{what} id {value!r} appears twice")
        seen.add(value)


def _currency(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise OrderingWriterError(f"currency {value!r} is not an ISO 4217 code")
    return code


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- Order (T01) -----------------------------------------------------------------------------


def order_line_amount(line: OrderLine) -> Decimal | None:
    """Return the line's amount: as given, else quantity × price ÷ base quantity, to the cent."""
    if line.line_amount is not None:
        return Decimal(line.line_amount).quantize(CENT, ROUND_HALF_UP)
    if line.price is None:
        return None
    base = Decimal(line.base_quantity) if line.base_quantity else Decimal(1)
    amount = Decimal(line.quantity) * Decimal(line.price) / base
    return amount.quantize(CENT, ROUND_HALF_UP)


def write_order(order: Order) -> bytes:
    """Write a Peppol BIS Ordering 3 Order (T01) as UTF-8 XML bytes."""
    currency = _currency(order.currency)
    if not order.lines:
        raise OrderingWriterError("an order needs at least one line")
    _unique_ids([line.id for line in order.lines], "order line")
    root = _root("Order", PEPPOL_POACC + "order:3", order.profile, order.number)
    _issue(root, order.issue_date, order.issue_time)
    _opt(root, "cbc:Note", order.note.strip())
    _el(root, "cbc:DocumentCurrencyCode", currency)
    _opt(root, "cbc:CustomerReference", order.customer_reference.strip())
    if order.validity_end is not None:
        if order.validity_end < order.issue_date:
            raise OrderingWriterError("the order's validity ends before its issue date")
        _el(_el(root, "cac:ValidityPeriod"), "cbc:EndDate", _date(order.validity_end))
    _role_party(root, "cac:BuyerCustomerParty", order.buyer, "buyer")
    _role_party(root, "cac:SellerSupplierParty", order.seller, "seller", country=True)
    if order.delivery_address or order.delivery_start or order.delivery_end:
        delivery = _el(root, "cac:Delivery")
        if order.delivery_address is not None or order.delivery_location_id:
            location = _el(delivery, "cac:DeliveryLocation")
            _opt(
                location,
                "cbc:ID",
                order.delivery_location_id,
                schemeID=order.delivery_location_scheme,
            )
            if order.delivery_address is not None:
                _address(location, "cac:Address", order.delivery_address)
        _period(delivery, "cac:RequestedDeliveryPeriod", order.delivery_start, order.delivery_end)
    amounts = [order_line_amount(line) for line in order.lines]
    priced = [a for a in amounts if a is not None]
    tax = _order_tax(order.lines, amounts)
    if tax is not None:
        total = _el(root, "cac:TaxTotal")
        _el(total, "cbc:TaxAmount", _money(tax), currencyID=currency)
    if priced:
        line_total = sum(priced, Decimal(0))
        totals = _el(root, "cac:AnticipatedMonetaryTotal")
        _el(totals, "cbc:LineExtensionAmount", _money(line_total), currencyID=currency)
        _el(totals, "cbc:TaxExclusiveAmount", _money(line_total), currencyID=currency)
        inclusive = line_total + (tax or 0)
        _el(totals, "cbc:TaxInclusiveAmount", _money(inclusive), currencyID=currency)
        _el(totals, "cbc:PayableAmount", _money(inclusive), currencyID=currency)
    for line, amount in zip(order.lines, amounts, strict=True):
        _order_line(root, line, amount, currency)
    return _serialise(root)


def _order_tax(lines: Sequence[OrderLine], amounts: Sequence[Decimal | None]) -> Decimal | None:
    """The order's tax: each line's amount × its percent, summed, to the cent; None if untaxed."""
    taxed = [
        (amount, Decimal(line.item.tax_percent))
        for line, amount in zip(lines, amounts, strict=True)
        if amount is not None and line.item.tax_category and line.item.tax_percent is not None
    ]
    if not taxed:
        return None
    return sum((a * p / 100 for a, p in taxed), Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def _order_line(
    root: etree._Element, line: OrderLine, amount: Decimal | None, currency: str
) -> None:
    where = f"order line {line.id}"
    quantity = _quantity(line.quantity, f"{where} quantity")
    _need(quantity, f"{where} quantity")
    _need(line.unit_code, f"{where} unit code")
    price = _non_negative(line.price, f"{where} price")
    base = _quantity(line.base_quantity, f"{where} base quantity", positive_base=True)
    node = _el(root, "cac:OrderLine")
    _opt(node, "cbc:Note", line.note.strip())
    item_line = _el(node, "cac:LineItem")
    _el(item_line, "cbc:ID", line.id)
    _el(item_line, "cbc:Quantity", _plain(quantity), unitCode=line.unit_code)
    if amount is not None:
        _el(item_line, "cbc:LineExtensionAmount", _money(amount), currencyID=currency)
    if line.delivery_start or line.delivery_end:
        delivery = _el(item_line, "cac:Delivery")
        _period(delivery, "cac:RequestedDeliveryPeriod", line.delivery_start, line.delivery_end)
    _price(item_line, price, base, line.unit_code, currency, where)
    _item(item_line, line.item, where)


# --- Order response (T76) --------------------------------------------------------------------


def write_order_response(response: OrderResponse) -> bytes:
    """Write a Peppol BIS Ordering 3 Order Response (T76) as UTF-8 XML bytes."""
    currency = _currency(response.currency)
    code = response.response_code.strip().upper()
    if code not in RESPONSE_CODES:
        raise OrderingWriterError(f"response code {code!r} is not one of {sorted(RESPONSE_CODES)}")
    if code == "CA" and not response.lines:
        raise OrderingWriterError("an acceptance with changes (CA) needs the changed lines")
    if code != "CA" and response.lines:
        raise OrderingWriterError(f"a response {code} carries no lines; use CA to change lines")
    _unique_ids([line.id for line in response.lines], "response line")
    _need(response.order_reference, "order reference")
    root = _root(
        "OrderResponse", PEPPOL_POACC + "order_response:3", response.profile, response.number
    )
    _opt(root, "cbc:SalesOrderID", response.sales_order_id.strip())
    _issue(root, response.issue_date, response.issue_time)
    _el(root, "cbc:OrderResponseCode", code)
    _opt(root, "cbc:Note", response.note.strip())
    _el(root, "cbc:DocumentCurrencyCode", currency)
    _opt(root, "cbc:CustomerReference", response.customer_reference.strip())
    _el(_el(root, "cac:OrderReference"), "cbc:ID", response.order_reference.strip())
    _role_party(root, "cac:SellerSupplierParty", response.seller, "seller")
    _role_party(root, "cac:BuyerCustomerParty", response.buyer, "buyer")
    if response.delivery_start or response.delivery_end:
        delivery = _el(root, "cac:Delivery")
        _period(
            delivery, "cac:PromisedDeliveryPeriod", response.delivery_start, response.delivery_end
        )
    for line in response.lines:
        _response_line(root, line, currency)
    return _serialise(root)


def _response_line(root: etree._Element, line: ResponseLine, currency: str) -> None:
    where = f"response line {line.id}"
    status = line.status_code.strip()
    if status not in LINE_STATUS_CODES:
        raise OrderingWriterError(f"{where}: line status {status!r} is not in UNCL1229 (T76)")
    quantity = _quantity(line.quantity, f"{where} quantity")
    price = _non_negative(line.price, f"{where} price")
    base = _quantity(line.base_quantity, f"{where} base quantity", positive_base=True)
    node = _el(root, "cac:OrderLine")
    item_line = _el(node, "cac:LineItem")
    _el(item_line, "cbc:ID", line.id)
    _opt(item_line, "cbc:Note", line.note.strip())
    _el(item_line, "cbc:LineStatusCode", status)
    if quantity is not None:
        _need(line.unit_code, f"{where} unit code")
        _el(item_line, "cbc:Quantity", _plain(quantity), unitCode=line.unit_code)
    if line.delivery_start or line.delivery_end:
        delivery = _el(item_line, "cac:Delivery")
        _period(delivery, "cac:PromisedDeliveryPeriod", line.delivery_start, line.delivery_end)
    _price(item_line, price, base, line.unit_code, currency, where)
    _item(item_line, line.item, where)
    if line.substitute is not None:
        substituted = _el(node, "cac:SellerSubstitutedLineItem")
        _el(substituted, "cbc:ID", line.substitute_id or line.id)
        _item(substituted, line.substitute, f"{where} substitute", need_id=True)
    _el(_el(node, "cac:OrderLineReference"), "cbc:LineID", line.order_line_id or line.id)


# --- Despatch advice (T16) -------------------------------------------------------------------


def write_despatch_advice(advice: DespatchAdvice) -> bytes:
    """Write a Peppol BIS Ordering 3 Despatch Advice (T16) as UTF-8 XML bytes."""
    if not advice.lines:
        raise OrderingWriterError("a despatch advice needs at least one line")
    _unique_ids([line.id for line in advice.lines], "despatch line")
    _need(advice.order_reference, "order reference")
    root = _root(
        "DespatchAdvice", PEPPOL_POACC + "despatch_advice:3", advice.profile, advice.number
    )
    _issue(root, advice.issue_date, advice.issue_time)
    _opt(root, "cbc:Note", advice.note.strip())
    _el(_el(root, "cac:OrderReference"), "cbc:ID", advice.order_reference.strip())
    _role_party(root, "cac:DespatchSupplierParty", advice.despatch_supplier, "despatch supplier")
    _role_party(root, "cac:DeliveryCustomerParty", advice.delivery_customer, "delivery customer")
    if advice.delivery_address or advice.delivery_start or advice.delivery_end:
        shipment = _el(root, "cac:Shipment")
        _el(shipment, "cbc:ID", advice.shipment_id or "NA")
        delivery = _el(shipment, "cac:Delivery")
        if advice.delivery_address is not None:
            _address(delivery, "cac:DeliveryAddress", advice.delivery_address)
        _period(delivery, "cac:EstimatedDeliveryPeriod", advice.delivery_start, advice.delivery_end)
    for line in advice.lines:
        _despatch_line(root, line)
    return _serialise(root)


def _despatch_line(root: etree._Element, line: DespatchLine) -> None:
    where = f"despatch line {line.id}"
    delivered = _quantity(line.delivered_quantity, f"{where} delivered quantity")
    _need(delivered, f"{where} delivered quantity")
    _need(line.order_line_id, f"{where} order line reference")
    _need(line.unit_code, f"{where} unit code")
    outstanding = _quantity(line.outstanding_quantity, f"{where} outstanding quantity")
    if outstanding is not None and not line.outstanding_reason.strip():
        raise OrderingWriterError(f"{where}: an outstanding quantity needs its reason")
    node = _el(root, "cac:DespatchLine")
    _el(node, "cbc:ID", line.id)
    _opt(node, "cbc:Note", line.note.strip())
    _el(node, "cbc:DeliveredQuantity", _plain(delivered), unitCode=line.unit_code)
    if outstanding is not None:
        _el(node, "cbc:OutstandingQuantity", _plain(outstanding), unitCode=line.unit_code)
        _el(node, "cbc:OutstandingReason", line.outstanding_reason.strip())
    reference = _el(node, "cac:OrderLineReference")
    _el(reference, "cbc:LineID", line.order_line_id)
    if line.order_reference:
        _el(_el(reference, "cac:OrderReference"), "cbc:ID", line.order_reference)
    _item(node, line.item, where, need_id=True)


# --- Catalogue (T19) -------------------------------------------------------------------------


def write_catalogue(catalogue: Catalogue) -> bytes:
    """Write a Peppol BIS Ordering 3 Catalogue (T19) as UTF-8 XML bytes."""
    if not catalogue.lines:
        raise OrderingWriterError("a catalogue needs at least one line")
    _unique_ids([line.id for line in catalogue.lines], "catalogue line")
    if catalogue.validity_end < catalogue.validity_start:
        raise OrderingWriterError("the catalogue's validity ends before it starts")
    priced = any(line.price is not None for line in catalogue.lines)
    currency = _currency(catalogue.currency) if priced or catalogue.currency else ""
    root = _root("Catalogue", PEPPOL_POACC + "catalogue:3", catalogue.profile, catalogue.number)
    if catalogue.action_code:
        if catalogue.action_code not in CATALOGUE_ACTIONS:
            raise OrderingWriterError(f"catalogue action {catalogue.action_code!r} is unknown")
        _el(root, "cbc:ActionCode", catalogue.action_code)
    _opt(root, "cbc:Name", catalogue.name.strip())
    _issue(root, catalogue.issue_date, catalogue.issue_time)
    for note in catalogue.notes:
        _opt(root, "cbc:Note", note.strip())
    _period(root, "cac:ValidityPeriod", catalogue.validity_start, catalogue.validity_end)
    _party(_el(root, "cac:ProviderParty"), catalogue.provider, "provider")
    _party(_el(root, "cac:ReceiverParty"), catalogue.receiver, "receiver")
    if catalogue.seller is not None:
        _role_party(root, "cac:SellerSupplierParty", catalogue.seller, "seller")
    for line in catalogue.lines:
        _catalogue_line(root, line, catalogue, currency)
    return _serialise(root)


def _catalogue_line(
    root: etree._Element, line: CatalogueLine, catalogue: Catalogue, currency: str
) -> None:
    where = f"catalogue line {line.id}"
    minimum = _quantity(line.min_quantity, f"{where} minimum order quantity")
    maximum = _quantity(line.max_quantity, f"{where} maximum order quantity")
    if minimum is not None and maximum is not None and maximum < minimum:
        raise OrderingWriterError(f"{where}: the maximum order quantity is below the minimum")
    content = _quantity(line.content_quantity, f"{where} content quantity")
    price = _non_negative(line.price, f"{where} price")
    base = _quantity(line.base_quantity, f"{where} base quantity", positive_base=True)
    start = line.validity_start or catalogue.validity_start
    end = line.validity_end or catalogue.validity_end
    if start < catalogue.validity_start or end > catalogue.validity_end:
        raise OrderingWriterError(f"{where}: its validity lies outside the catalogue's")
    node = _el(root, "cac:CatalogueLine")
    _el(node, "cbc:ID", line.id)
    if line.action_code:
        if line.action_code not in CATALOGUE_ACTIONS - {"Replace"}:
            raise OrderingWriterError(f"{where}: line action {line.action_code!r} is unknown")
        _el(node, "cbc:ActionCode", line.action_code)
    _opt(node, "cbc:Note", line.note.strip())
    _el(node, "cbc:OrderableIndicator", "true" if line.orderable else "false")
    _need(line.orderable_unit, f"{where} orderable unit")
    _el(node, "cbc:OrderableUnit", line.orderable_unit)
    if content is not None:
        _el(node, "cbc:ContentUnitQuantity", _plain(content), unitCode=line.orderable_unit)
    if minimum is not None:
        _el(node, "cbc:MinimumOrderQuantity", _plain(minimum), unitCode=line.orderable_unit)
    if maximum is not None:
        _el(node, "cbc:MaximumOrderQuantity", _plain(maximum), unitCode=line.orderable_unit)
    _period(node, "cac:LineValidityPeriod", line.validity_start, line.validity_end)
    if price is not None:
        location = _el(node, "cac:RequiredItemLocationQuantity")
        _price(location, price, base, line.orderable_unit, currency, where)
    _item(node, line.item, where, need_id=True)
