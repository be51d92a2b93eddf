"""Can the portal read invoices that arrive as PDFs, and survive PDFs built to hurt it?"""

from __future__ import annotations

import datetime as dt
import resource
import zlib
from decimal import Decimal

import pytest
from fpdf import FPDF

from app.einvoice.pdfextract import (
    Limits,
    extract_embedded_xml,
    extract_from_text,
    extract_pdf,
    parse_amount,
    parse_date,
)
from app.einvoice.render import render_pdf
from tests.conftest import shared_data
from tests.einvoice.test_render import ANNEX_CUFE, make_invoice

CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice
  xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>FX-2024-17</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20240315</udt:DateTimeString>
  </ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedTradeProduct><ram:Name>Widget</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>
    <ram:ChargeAmount>50.00</ram:ChargeAmount></ram:NetPriceProductTradePrice>
   </ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="H87">2</ram:BilledQuantity>
   </ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation>
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount>
   </ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Seller SARL</ram:Name>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR12345678901</ram:ID>
    </ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Buyer GmbH</ram:Name></ram:BuyerTradeParty>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>
    <udt:DateTimeString format="102">20240414</udt:DateTimeString></ram:DueDateDateTime>
   </ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount>
    <ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">20.00</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>
    <ram:DuePayableAmount>120.00</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


def raw_pdf(content: bytes, *, filters: str = "/Filter /FlateDecode",
            resources: str = "<< >>") -> bytes:
    """Build a one-page PDF by hand around a content stream (already encoded)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        f"/Resources {resources} >>".encode(),
        f"<< /Length {len(content)} {filters} >>\nstream\n".encode() + content
        + b"\nendstream",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return out


def deflate_bomb(gibibytes: int) -> bytes:
    """Return a Flate stream of a few MB that inflates to gibibytes of zeros."""
    chunk = bytes(1 << 20)
    packer = zlib.compressobj(9)
    head = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor starts afresh, so every next chunk packs identically.
    segment = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    return head + segment * (gibibytes * 1024 - 1) + packer.flush()


def test_does_a_decompression_bomb_become_a_limit_finding_without_hurting_us():
    bomb = raw_pdf(deflate_bomb(4))
    assert len(bomb) < 10 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extraction, findings = extract_pdf(bomb, limits=Limits(memory_bytes=256 * 2**20))
    assert [f.code for f in findings] == ["PDF-LIMIT"]
    assert findings[0].severity == "error"
    # The child stopped at its memory limit, not at the (much later) wall-time limit.
    assert "memory" in findings[0].message_en
    assert extraction.source == "none" and extraction.fields == {}
    # The inflated gigabytes lived (briefly) in the child, not here.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_does_an_object_heavy_page_hit_the_cpu_limit():
    text_ops = b"BT /F1 1 Tf 1 1 Td (a) Tj ET\n" * 400_000
    page = raw_pdf(zlib.compress(text_ops),
                   resources="<< /Font << /F1 << /Type /Font /Subtype /Type1 "
                             "/BaseFont /Helvetica >> >> >>")
    _, findings = extract_pdf(page, limits=Limits(cpu_seconds=1, wall_seconds=20))
    assert [f.code for f in findings] == ["PDF-LIMIT"]


def test_does_the_wall_time_limit_stop_a_slow_child():
    text_ops = b"BT /F1 1 Tf 1 1 Td (a) Tj ET\n" * 400_000
    page = raw_pdf(zlib.compress(text_ops),
                   resources="<< /Font << /F1 << /Type /Font /Subtype /Type1 "
                             "/BaseFont /Helvetica >> >> >>")
    _, findings = extract_pdf(page, limits=Limits(wall_seconds=0.5))
    assert [f.code for f in findings] == ["PDF-LIMIT"]
    assert "0.5 s" in findings[0].message_en


@pytest.mark.parametrize("data", [b"", b"hello, I am a text file", b"<Invoice/>", "not bytes"])
def test_is_non_pdf_input_refused_clearly(data):
    extraction, findings = extract_pdf(data)
    assert [f.code for f in findings] == ["PDF-NOT-PDF"]
    assert extraction.source == "none"


def test_is_a_broken_pdf_a_finding_not_a_crash():
    _, findings = extract_pdf(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n%%EOF")
    assert findings and findings[0].severity == "error"
    assert findings[0].code in ("PDF-MALFORMED", "PDF-NO-TEXT")


def test_is_an_oversized_pdf_refused_before_parsing():
    _, findings = extract_pdf(b"%PDF-1.4\n" + bytes(2048), limits=Limits(max_bytes=1024))
    assert [f.code for f in findings] == ["PDF-SIZE"]


def test_is_a_password_protected_pdf_reported():
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Invoice No. 123 Total 10.00")
    _, findings = extract_pdf(bytes(pdf.output()))
    assert [f.code for f in findings] == ["PDF-ENCRYPTED"]
    assert findings[0].severity == "error"


def test_does_the_portal_read_back_its_own_rendered_invoice():
    """An invoice rendered by the portal (Spanish, COP) is read back by the text heuristics."""
    extraction, findings = extract_pdf(render_pdf(make_invoice(lines=3), pdf_origin=True))
    assert findings == []
    assert extraction.source == "text" and extraction.pages == 1
    assert extraction.value("number") == "323200000129"
    assert extraction.value("issue_date") == dt.date(2019, 1, 16)
    assert extraction.value("due_date") == dt.date(2019, 2, 15)
    assert extraction.value("currency") == "COP"
    assert extraction.value("total") == Decimal("1785000.00")
    assert extraction.value("subtotal") == Decimal("1500000.00")
    assert extraction.value("supplier_name") == "Proveedora Andina S.A.S."
    assert extraction.value("customer_name") == "Compradora Ñandú Ltda."
    assert extraction.value("supplier_tax_id") == "700085371-1"
    assert extraction.value("customer_tax_id") == "800199436-5"
    assert [line.amount for line in extraction.lines] == [
        Decimal("500000.00"), Decimal("500000.00"), Decimal("500000.00")]
    assert all(0 < f.confidence <= 1 for f in extraction.fields.values())
    assert ANNEX_CUFE in extraction.text


def test_is_embedded_factur_x_xml_preferred_over_the_text():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Invoice No. WRONG-1 Total 999.99")
    pdf.embed_file(bytes=CII.encode(), basename="factur-x.xml")
    data = bytes(pdf.output())

    extraction, findings = extract_pdf(data)
    assert findings == []
    assert extraction.source == "embedded-xml" and extraction.embedded_xml == "factur-x.xml"
    assert extraction.value("number") == "FX-2024-17"
    assert extraction.value("total") == Decimal("120.00")
    assert extraction.value("due_date") == dt.date(2024, 4, 14)
    assert extraction.value("supplier_tax_id") == "FR12345678901"
    assert extraction.confidence("total") == 1.0
    assert [(line.description, line.quantity, line.amount) for line in extraction.lines] == [
        ("Widget", Decimal("2"), Decimal("100.00"))]

    text_only, _ = extract_pdf(data, use_embedded_xml=False)
    assert text_only.source == "text" and text_only.value("number") == "WRONG-1"


def test_is_a_hostile_embedded_xml_refused_and_the_text_read_instead():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Invoice No. TXT-7 Total 12.50")
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    pdf.embed_file(bytes=evil, basename="factur-x.xml")
    extraction, findings = extract_pdf(bytes(pdf.output()))
    assert "XML-DTD" in [f.code for f in findings]
    assert extraction.source == "text" and extraction.value("number") == "TXT-7"


@pytest.mark.parametrize(("raw", "style", "expected"), [
    ("1.785.000,00", ",", "1785000.00"), ("1,785,000.00", ".", "1785000.00"),
    ("45,93", ",", "45.93"), ("4.11", ".", "4.11"), ("1.785", ",", "1785"),
    ("1,785", ".", "1785"), ("1'234.50", ".", "1234.50"), ("-0,00", ",", "-0.00"),
    ("1 785 000,00", ",", "1785000.00"),
])
def test_are_amounts_read_in_every_number_style(raw, style, expected):
    assert parse_amount(raw, style) == Decimal(expected)


@pytest.mark.parametrize(("raw", "day_first", "expected"), [
    ("2024-03-15", True, dt.date(2024, 3, 15)), ("15/03/2024", True, dt.date(2024, 3, 15)),
    ("03/20/2023", False, dt.date(2023, 3, 20)), ("05.03.2018", True, dt.date(2018, 3, 5)),
    ("August 3 , 2014", True, dt.date(2014, 8, 3)), ("7. Mai 2014", True, dt.date(2014, 5, 7)),
    ("3 de enero de 2024", True, dt.date(2024, 1, 3)), ("21.05.14", True, dt.date(2014, 5, 21)),
])
def test_are_dates_read_in_several_languages(raw, day_first, expected):
    assert parse_date(raw, day_first=day_first) == expected


def test_are_spanish_labels_understood():
    text = """Distribuidora El Sol S.A.S.
NIT: 900.373.076-4
FACTURA ELECTRÓNICA DE VENTA No. FE-1024
Fecha de emisión: 15/03/2024
Fecha de vencimiento: 14/04/2024
Cliente: Ferretería La Tuerca Ltda.
NIT 901.234.567-0
Descripción Cantidad Precio unitario Total
Tornillos galvanizados caja x100 2 200.000,00 400.000,00
Subtotal $ 1.000.000,00
IVA 19% $ 190.000,00
Total a pagar $ 1.190.000,00
"""
    ex = extract_from_text(text)
    assert ex.value("supplier_name") == "Distribuidora El Sol S.A.S."
    assert ex.value("supplier_tax_id") == "900373076-4"
    assert ex.value("customer_name") == "Ferretería La Tuerca Ltda."
    assert ex.value("customer_tax_id") == "901234567-0"
    assert ex.value("number") == "FE-1024"
    assert ex.value("issue_date") == dt.date(2024, 3, 15)
    assert ex.value("due_date") == dt.date(2024, 4, 14)
    assert ex.value("currency") == "COP"
    assert (ex.value("subtotal"), ex.value("tax"), ex.value("total")) == (
        Decimal("1000000.00"), Decimal("190000.00"), Decimal("1190000.00"))
    assert ex.confidence("total") >= 0.95  # subtotal + tax = total
    assert [(line.description, line.quantity, line.unit_price, line.amount)
            for line in ex.lines] == [("Tornillos galvanizados caja x100", Decimal("2"),
                                       Decimal("200000.00"), Decimal("400000.00"))]


@pytest.mark.shared_data
def test_does_every_shared_pdf_run_without_an_error():
    files = sorted((shared_data() / "pdf").rglob("*.pdf"))
    assert len(files) >= 8
    for path in files:
        extraction, findings = extract_pdf(path.read_bytes())
        assert [f for f in findings if f.severity == "error"] == [], path.name
        assert extraction.source in ("text", "embedded-xml"), path.name


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "expected"), [
    ("invoice2data/compare/AmazonWebServices.pdf",
     {"number": "42183017", "issue_date": dt.date(2014, 8, 3), "total": Decimal("4.11"),
      "currency": "USD", "supplier_name": "Amazon Web Services"}),
    ("invoice2data/compare/AzureInterior.pdf",
     {"number": "INV/2023/03/0008", "issue_date": dt.date(2023, 3, 20),
      "due_date": dt.date(2023, 4, 4), "subtotal": Decimal("262.90"),
      "tax": Decimal("16.94"), "total": Decimal("279.84"), "currency": "USD"}),
    ("invoice2data/compare/NetpresseInvoice.pdf",
     {"number": "2022089083", "issue_date": dt.date(2022, 11, 28), "total": Decimal("56.02"),
      "subtotal": Decimal("46.68"), "currency": "EUR"}),
    ("invoice2data/compare/QualityHosting.pdf",
     {"number": "30064443", "issue_date": dt.date(2014, 5, 7), "total": Decimal("34.73"),
      "currency": "EUR", "supplier_name": "QualityHosting AG"}),
])
def test_are_known_fields_found_on_real_vendor_pdfs(name, expected):
    extraction, _ = extract_pdf((shared_data() / "pdf" / name).read_bytes())
    assert extraction.source == "text"
    assert {key: extraction.value(key) for key in expected} == expected


@pytest.mark.shared_data
@pytest.mark.parametrize("stem", ["EN16931_Einfach", "EN16931_Gutschrift", "EN16931_Rabatte"])
def test_does_factur_x_read_the_embedded_xml_as_the_truth(stem):
    folder = shared_data() / "pdf" / "facturx"
    truth, _ = extract_embedded_xml((folder / "CII" / f"{stem}.cii.xml").read_bytes())
    extraction, findings = extract_pdf((folder / "FX" / f"{stem}.pdf").read_bytes())
    assert findings == []
    assert extraction.source == "embedded-xml"
    assert extraction.as_dict()["fields"] == truth.as_dict()["fields"]
    assert extraction.value("number") == "471102"
    assert extraction.value("supplier_tax_id") == "DE123456789"
    assert len(extraction.lines) == len(truth.lines) >= 2


# ---------------------------------------------------------- layouts the heuristics never saw

#: (language, header labels, totals labels, number style, date as written, the date)
LAYOUTS = [
    ("es", ("Factura N°", "Fecha de emisión"), ("Base imponible", "IVA 21%", "Total factura"),
     "1.234,56", "05/03/2024", dt.date(2024, 3, 5)),
    ("en", ("Invoice Number", "Issue Date"), ("Subtotal", "VAT 20%", "Grand Total"),
     "1,234.56", "March 5, 2024", dt.date(2024, 3, 5)),
    ("de", ("Rechnungsnummer", "Rechnungsdatum"), ("Nettobetrag", "MwSt. 19%", "Gesamtbetrag"),
     "1.234,56", "5. März 2024", dt.date(2024, 3, 5)),
    ("fr", ("Numéro de facture", "Date de facture"), ("Total HT", "TVA 20%", "Total TTC"),
     "1 234,56", "05/03/2024", dt.date(2024, 3, 5)),
    ("pt", ("Fatura nº", "Data de emissão"), ("Total sem IVA", "IVA 23%", "Total a pagar"),
     "1.234,56", "5 de março de 2024", dt.date(2024, 3, 5)),
    ("it", ("Numero fattura", "Data fattura"), ("Imponibile", "IVA 22%", "Totale documento"),
     "1.234,56", "5 marzo 2024", dt.date(2024, 3, 5)),
    ("ch", ("Rechnung Nr.", "Datum"), ("Zwischensumme", "MwSt. 8.1%", "Rechnungsbetrag"),
     "1'234.56", "2024-03-05", dt.date(2024, 3, 5)),
]


def _written(value: Decimal, style: str) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = f"{int(whole):,}"
    separator, mark = {"1.234,56": (".", ","), "1,234.56": (",", "."), "1 234,56": (" ", ","),
                       "1'234.56": ("'", ".")}[style]
    return groups.replace(",", separator) + mark + cents


def layout_pdf(layout, *, grid: bool, number="A-7731", amounts=("12345.60", "2592.58")) -> bytes:
    """One invoice: header fields in a row of labels over values (grid) or as 'label: value'."""
    _, (number_label, date_label), (sub_label, tax_label, total_label), style, date, _ = layout
    subtotal, tax = Decimal(amounts[0]), Decimal(amounts[1])
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.text(10, 18, "Proveedor Ejemplo S.L.")
    pdf.set_font("Helvetica", "", 9)
    if grid:
        pdf.text(110, 40, number_label)
        pdf.text(160, 40, date_label)
        pdf.text(110, 46, number)
        pdf.text(160, 46, date)
    else:
        pdf.text(110, 40, f"{number_label}: {number}")
        pdf.text(110, 46, f"{date_label}: {date}")
    pdf.text(10, 80, "Servicio profesional")
    pdf.text(170, 80, _written(subtotal, style))
    for row, (label, value) in enumerate(
            ((sub_label, subtotal), (tax_label, tax), (total_label, subtotal + tax))):
        pdf.text(120, 110 + 6 * row, label)
        pdf.text(172, 110 + 6 * row, f"{_written(value, style)} EUR")
    return bytes(pdf.output())


@pytest.mark.parametrize("grid", [False, True], ids=["label-value", "labels-over-values"])
@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout[0] for layout in LAYOUTS])
def test_are_fields_read_from_layouts_in_six_languages(layout, grid):
    extraction, findings = extract_pdf(layout_pdf(layout, grid=grid))
    assert extraction.value("number") == "A-7731"
    assert extraction.value("issue_date") == layout[-1]
    assert extraction.value("subtotal") == Decimal("12345.60")
    assert extraction.value("tax") == Decimal("2592.58")
    assert extraction.value("total") == Decimal("14938.18")
    assert extraction.value("currency") == "EUR"
    assert extraction.words and extraction.page_sizes


def test_are_amounts_chosen_so_that_subtotal_and_tax_make_the_total():
    # A stray "Total" (of a line) precedes the real totals; only one triple adds up.
    text = "\n".join([
        "Invoice No: 55", "Date: 2024-01-02", "Total 999.00", "Subtotal 100.00",
        "VAT 21.00", "Total 121.00",
    ])
    extraction = extract_from_text(text)
    assert (extraction.value("subtotal"), extraction.value("tax"), extraction.value("total")) \
        == (Decimal("100.00"), Decimal("21.00"), Decimal("121.00"))


@pytest.mark.parametrize("raw, style, expected", [
    ("1.234,56", ",", "1234.56"), ("1,234.56", ".", "1234.56"), ("1 234,56", ",", "1234.56"),
    ("1'234.56", ".", "1234.56"), ("1.234.567", ",", "1234567"), ("45,93", ",", "45.93"),
    ("0,75", ",", "0.75"), ("12.50", ".", "12.50"),
])
def test_are_amounts_read_in_each_locales_format(raw, style, expected):
    assert parse_amount(raw, style) == Decimal(expected)


@pytest.mark.parametrize("raw, expected", [
    ("15 de março de 2024", dt.date(2024, 3, 15)), ("3 marzo 2024", dt.date(2024, 3, 3)),
    ("7. Mai 2014", dt.date(2014, 5, 7)), ("1er février 2024", dt.date(2024, 2, 1)),
    ("March 3rd, 2024", dt.date(2024, 3, 3)), ("2024/03/15", dt.date(2024, 3, 15)),
    ("15-Mar-2024", dt.date(2024, 3, 15)), ("20.03.2024", dt.date(2024, 3, 20)),
    ("12 dicembre 2023", dt.date(2023, 12, 12)), ("9 de setembro de 2022", dt.date(2022, 9, 9)),
])
def test_are_dates_read_in_many_forms_and_languages(raw, expected):
    extraction = extract_from_text(f"Invoice No: 1\nDate: {raw}\nTotal 10.00")
    assert extraction.value("issue_date") == expected


def test_does_a_learned_layout_read_the_next_pdf_and_leave_a_wrong_typed_hint_alone():
    from app.einvoice.pdflayout import apply_layout, learn_layout

    layout = LAYOUTS[0]
    first, _ = extract_pdf(layout_pdf(layout, grid=True, number="Z-1"))
    hints = learn_layout(first, {"number": "Z-1", "total": Decimal("14938.18")})
    assert set(hints["fields"]) == {"number", "total"}
    second, _ = extract_pdf(layout_pdf(layout, grid=True, number="Z-2",
                                       amounts=("100.00", "21.00")))
    assert set(apply_layout(second, hints)) >= {"number", "total"}
    assert second.value("number") == "Z-2"
    assert second.value("total") == Decimal("121.00")
    # A hint that points at text of the wrong type changes nothing.
    hints["fields"]["issue_date"] = dict(hints["fields"]["total"])
    third, _ = extract_pdf(layout_pdf(layout, grid=True, number="Z-3"))
    apply_layout(third, hints)
    assert third.value("issue_date") == layout[-1]


def test_are_real_vendor_pdfs_read_without_a_learned_layout():
    import json

    folder = shared_data() / "pdf" / "invoice2data" / "compare"
    if not folder.is_dir():
        pytest.skip(f"{folder} (invoice2data's vendor PDFs) is not here")
    right = expected = 0
    for pdf in sorted(folder.glob("*.pdf")):
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))[0]
        extraction, _ = extract_pdf(pdf.read_bytes())
        for ours, theirs in (("number", "invoice_number"), ("total", "amount"),
                             ("issue_date", "date")):
            if truth.get(theirs) is None:
                continue
            want = truth[theirs]
            want = dt.date.fromisoformat(want) if ours == "issue_date" else \
                Decimal(str(want)) if ours == "total" else str(want).lstrip("#")
            expected += 1
            right += extraction.value(ours) == want
    assert expected >= 12 and right == expected


@pytest.mark.parametrize(("raw", "style", "expected"), [
    ("€ 1.234,56", ",", Decimal("1234.56")),
    ("1,234.56 USD", ".", Decimal("1234.56")),
    ("US$ 99.00", ".", Decimal("99.00")),
    ("R$ 1.000,00", ",", Decimal("1000.00")),
    ("1 234,56 €", ",", Decimal("1234.56")),
    ("-45,93", ",", Decimal("-45.93")),
    ("12/03/2024", ",", None),
    ("Total 12.00", ".", None),
    ("€", ",", None),
])
def test_does_a_learned_layout_read_an_amount_with_its_currency_beside_it(raw, style, expected):
    """A hinted place holding '€ 1.234,56' or '1,234.56 USD' gives the amount; a date does not."""
    from app.einvoice.pdflayout import _read

    assert _read("total", raw, style, True) == expected


@pytest.mark.parametrize("space", ["\xa0", "\u202f", "\u2009"], ids=["nbsp", "narrow", "thin"])
def test_is_an_amount_grouped_with_a_no_break_or_thin_space_read_whole(space):
    """French and Swiss PDFs group thousands with a no-break, narrow or thin space."""
    text = f"FACTURE\nFacture n° F-204\nTotal HT 1{space}000,00 €\nTVA 200,00 €\n" \
           f"Total TTC 1{space}200,00 €\n"
    extraction = extract_from_text(text)
    assert extraction.value("total") == Decimal("1200.00")
    assert extraction.value("subtotal") == Decimal("1000.00")


@pytest.mark.parametrize(("raw", "style", "expected"), [
    # A lone separator before three digits that cannot group thousands (after a 0 or four
    # digits) is a decimal one, whatever the document's style (app.numbers' rules).
    ("0,500", ".", "0.500"), ("1234.567", ",", "1234.567"), ("−12,50", ",", "-12.50"),
    ("1\u00a0785\u00a0000,00", ",", "1785000.00"),
])
def test_is_an_amount_read_by_the_shared_number_rules(raw, style, expected):
    assert parse_amount(raw, style) == Decimal(expected)


@pytest.mark.parametrize("raw", ["1,234,56", "1.234.5678", "NaN", "1e3", "Infinity", "", "1" * 41])
def test_is_what_is_not_an_amount_not_guessed(raw):
    assert parse_amount(raw, ".") is None and parse_amount(raw, ",") is None
