"""A small DIAN UBL 2.1 invoice generator for tests and benchmarks (no third-party files)."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from app.einvoice.cufe import (
    CufeInputs,
    compute_cufe,
    qr_content,
    software_security_code,
)

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
STS = "dian:gov:co:facturaelectronica:Structures-2-1"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
NSMAP = {None: INVOICE_NS, "cac": CAC, "cbc": CBC, "ext": EXT, "sts": STS, "ds": DS, "xades": XADES}
NS = {k: v for k, v in NSMAP.items() if k}

TEST_TECHNICAL_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
SOFTWARE_ID = "56f2ae4e-9812-4fad-9255-08fcfcd5ccb0"
SOFTWARE_PIN = "12345"
DIAN_NAME = "CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)"


def safe_parser() -> etree.XMLParser:
    """Return an lxml parser with entities, DTDs and network off."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse(data: bytes) -> etree._Element:
    """Parse bytes safely and return the root element."""
    return etree.fromstring(data, parser=safe_parser())


def _el(parent, tag: str, text: str | None = None, **attrib) -> etree._Element:
    prefix, _, local = tag.partition(":")
    node = etree.SubElement(parent, f"{{{NS[prefix]}}}{local}", attrib)
    if text is not None:
        node.text = text
    return node


def _party(parent, tag: str, nit: str, name: str) -> None:
    party = _el(_el(parent, tag), "cac:Party")
    _el(_el(party, "cac:PartyName"), "cbc:Name", name)
    scheme = _el(party, "cac:PartyTaxScheme")
    _el(scheme, "cbc:RegistrationName", name)
    _el(
        scheme,
        "cbc:CompanyID",
        nit,
        schemeAgencyID="195",
        schemeAgencyName=DIAN_NAME,
        schemeName="31",
    )
    _el(scheme, "cbc:TaxLevelCode", "O-13")
    tax_scheme = _el(scheme, "cac:TaxScheme")
    _el(tax_scheme, "cbc:ID", "01")
    _el(tax_scheme, "cbc:Name", "IVA")


def make_invoice(
    lines: int = 2,
    *,
    number: str = "SETP990000001",
    supplier_nit: str = "900373076",
    customer_nit: str = "901234567",
    technical_key: str = TEST_TECHNICAL_KEY,
    environment: str = "2",
    unit_price: Decimal | None = None,
) -> etree._Element:
    """Build an unsigned DIAN invoice with ``lines`` lines, IVA 19 %, and its CUFE (each line's
    unit price is ``unit_price`` when given, else 1000, 2000, ...)."""
    prices = [
        unit_price if unit_price is not None else Decimal(1000 * (i % 7 + 1)) for i in range(lines)
    ]
    quantities = [Decimal(i % 3 + 1) for i in range(lines)]
    nets = [p * q for p, q in zip(prices, quantities, strict=True)]
    subtotal = sum(nets, Decimal("0"))
    tax = (subtotal * Decimal("0.19")).quantize(Decimal("0.01"))
    total = subtotal + tax
    money = {"currencyID": "COP"}

    root = etree.Element(f"{{{INVOICE_NS}}}Invoice", nsmap=NSMAP)
    extensions = _el(root, "ext:UBLExtensions")
    dian = _el(
        _el(_el(extensions, "ext:UBLExtension"), "ext:ExtensionContent"), "sts:DianExtensions"
    )
    _el(_el(dian, "sts:InvoiceSource"), "cbc:IdentificationCode", "CO")
    provider = _el(dian, "sts:SoftwareProvider")
    _el(provider, "sts:ProviderID", supplier_nit, schemeAgencyID="195", schemeName="31")
    _el(provider, "sts:SoftwareID", SOFTWARE_ID, schemeAgencyID="195")
    _el(
        dian,
        "sts:SoftwareSecurityCode",
        software_security_code(SOFTWARE_ID, SOFTWARE_PIN, number),
        schemeAgencyID="195",
    )
    qr = _el(dian, "sts:QRCode")

    _el(root, "cbc:UBLVersionID", "UBL 2.1")
    _el(root, "cbc:CustomizationID", "10")
    _el(root, "cbc:ProfileID", "DIAN 2.1: Factura Electrónica de Venta")
    _el(root, "cbc:ProfileExecutionID", environment)
    _el(root, "cbc:ID", number)
    uuid = _el(root, "cbc:UUID", schemeID=environment, schemeName="CUFE-SHA384")
    _el(root, "cbc:IssueDate", "2024-03-15")
    _el(root, "cbc:IssueTime", "14:30:00-05:00")
    _el(root, "cbc:DueDate", "2024-04-14")
    _el(root, "cbc:InvoiceTypeCode", "01")
    _el(root, "cbc:DocumentCurrencyCode", "COP")
    _el(root, "cbc:LineCountNumeric", str(lines))
    _party(root, "cac:AccountingSupplierParty", supplier_nit, "Proveedor Andino S.A.S.")
    _party(root, "cac:AccountingCustomerParty", customer_nit, "Cliente Caribe S.A.S.")
    means = _el(root, "cac:PaymentMeans")
    _el(means, "cbc:ID", "2")
    _el(means, "cbc:PaymentMeansCode", "10")
    _el(means, "cbc:PaymentDueDate", "2024-04-14")

    tax_total = _el(root, "cac:TaxTotal")
    _el(tax_total, "cbc:TaxAmount", f"{tax:.2f}", **money)
    sub = _el(tax_total, "cac:TaxSubtotal")
    _el(sub, "cbc:TaxableAmount", f"{subtotal:.2f}", **money)
    _el(sub, "cbc:TaxAmount", f"{tax:.2f}", **money)
    category = _el(sub, "cac:TaxCategory")
    _el(category, "cbc:Percent", "19.00")
    scheme = _el(category, "cac:TaxScheme")
    _el(scheme, "cbc:ID", "01")
    _el(scheme, "cbc:Name", "IVA")

    totals = _el(root, "cac:LegalMonetaryTotal")
    _el(totals, "cbc:LineExtensionAmount", f"{subtotal:.2f}", **money)
    _el(totals, "cbc:TaxExclusiveAmount", f"{subtotal:.2f}", **money)
    _el(totals, "cbc:TaxInclusiveAmount", f"{total:.2f}", **money)
    _el(totals, "cbc:PayableAmount", f"{total:.2f}", **money)

    for index, (price, quantity, net) in enumerate(
        zip(prices, quantities, nets, strict=True), start=1
    ):
        line = _el(root, "cac:InvoiceLine")
        _el(line, "cbc:ID", str(index))
        _el(line, "cbc:InvoicedQuantity", f"{quantity}", unitCode="94")
        _el(line, "cbc:LineExtensionAmount", f"{net:.2f}", **money)
        line_tax = _el(line, "cac:TaxTotal")
        line_tax_amount = (net * Decimal("0.19")).quantize(Decimal("0.01"))
        _el(line_tax, "cbc:TaxAmount", f"{line_tax_amount:.2f}", **money)
        item = _el(line, "cac:Item")
        _el(item, "cbc:Description", f"Artículo de prueba número {index}")
        _el(_el(item, "cac:StandardItemIdentification"), "cbc:ID", f"SKU-{index:04d}")
        _el(_el(line, "cac:Price"), "cbc:PriceAmount", f"{price:.2f}", **money)

    inputs = CufeInputs(
        number=number,
        issue_date="2024-03-15",
        issue_time="14:30:00-05:00",
        line_extension=f"{subtotal:.2f}",
        tax_01=f"{tax:.2f}",
        tax_04="0.00",
        tax_03="0.00",
        payable=f"{total:.2f}",
        supplier_id=supplier_nit,
        customer_id=customer_nit,
        environment=environment,
    )
    cufe = compute_cufe(inputs, technical_key)
    uuid.text = cufe
    qr.text = qr_content(inputs, cufe)
    return root


def invoice_bytes(lines: int = 2, **kwargs) -> bytes:
    """Return make_invoice(...) serialised as UTF-8 with an XML declaration."""
    return etree.tostring(make_invoice(lines, **kwargs), xml_declaration=True, encoding="UTF-8")


def make_valid_invoice(lines: int = 2, **kwargs) -> etree._Element:
    """Build make_invoice(...) completed until the engine's own checks pass.

    Adds the NIT check digits (schemeID) and each line's TaxSubtotal; the CUFE is unchanged,
    since none of these values feed it.
    """
    from stdnum.co import nit

    root = make_invoice(lines, **kwargs)
    for company in root.iterfind(".//cac:PartyTaxScheme/cbc:CompanyID", NS):
        company.set("schemeID", nit.calc_check_digit(company.text))
    provider = root.find(".//sts:SoftwareProvider/sts:ProviderID", NS)
    provider.set("schemeID", nit.calc_check_digit(provider.text))
    money = {"currencyID": "COP"}
    for line in root.iterfind("cac:InvoiceLine", NS):
        line_tax = line.find("cac:TaxTotal", NS)
        sub = _el(line_tax, "cac:TaxSubtotal")
        _el(sub, "cbc:TaxableAmount", line.findtext("cbc:LineExtensionAmount", None, NS), **money)
        _el(sub, "cbc:TaxAmount", line_tax.findtext("cbc:TaxAmount", None, NS), **money)
        category = _el(sub, "cac:TaxCategory")
        _el(category, "cbc:Percent", "19.00")
        scheme = _el(category, "cac:TaxScheme")
        _el(scheme, "cbc:ID", "01")
        _el(scheme, "cbc:Name", "IVA")
    return root
