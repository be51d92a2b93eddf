"""Does the PDF graphic representation show what a buyer and DIAN need to see?"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pdfplumber
import pytest

from app.einvoice import cufe
from app.einvoice.detect import detect_bytes
from app.einvoice.model import (
    Address,
    DianExtensions,
    Document,
    DocumentType,
    Line,
    MonetaryTotals,
    Party,
    PaymentMeans,
    TaxSubtotal,
    TaxTotal,
)
from app.einvoice.reader import read_document
from app.einvoice.render import cufe_inputs_from_document, render_pdf
from tests.conftest import shared_data

# The facts sheet's worked CUFE example (annex vector): 1 500 000 + IVA 285 000 = 1 785 000.
ANNEX_CUFE = ("8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bc"
              "d4c3c3f156c506ed5908f9276f5bd9b4")


def make_invoice(lines: int = 2, *, currency: str = "COP") -> Document:
    """Build the annex example invoice (323200000129) with as many lines as asked."""
    each = (Decimal("1500000") / lines).quantize(Decimal("0.01"))
    items = [
        Line(id=str(n), quantity=Decimal("1"), unit_code="EA", price=each, line_extension=each,
             description=f"Servicio de consultoría número {n}")
        for n in range(1, lines + 1)
    ]
    items[-1].line_extension = items[-1].price = Decimal("1500000") - each * (lines - 1)
    return Document(
        document_type=DocumentType.INVOICE,
        number="323200000129",
        uuid=ANNEX_CUFE,
        uuid_scheme="CUFE-SHA384",
        uuid_environment="1",
        profile_id="DIAN 2.1: Factura Electrónica de Venta",
        profile_execution_id="1",
        type_code="01",
        issue_date=dt.date(2019, 1, 16),
        issue_date_raw="2019-01-16",
        issue_time="10:53:10-05:00",
        due_date=dt.date(2019, 2, 15),
        currency=currency,
        supplier=Party(registration_name="Proveedora Andina S.A.S.", tax_id="700085371",
                       check_digit="1", id_scheme="31",
                       address=Address(lines=["Calle 100 # 8A - 55"], city="Bogotá, D.C.",
                                       subdivision="Bogotá", country="CO"),
                       email="facturas@andina.example"),
        customer=Party(registration_name="Compradora Ñandú Ltda.", tax_id="800199436",
                       check_digit="5", id_scheme="31"),
        tax_totals=[TaxTotal(tax_amount=Decimal("285000.00"), tax_amount_raw="285000.00",
                             subtotals=[TaxSubtotal(taxable_amount=Decimal("1500000.00"),
                                                    tax_amount=Decimal("285000.00"),
                                                    percent=Decimal("19.00"), scheme_id="01",
                                                    scheme_name="IVA")])],
        withholding_totals=[TaxTotal(tax_amount=Decimal("37500.00"),
                                     subtotals=[TaxSubtotal(taxable_amount=Decimal("1500000.00"),
                                                            tax_amount=Decimal("37500.00"),
                                                            percent=Decimal("2.50"),
                                                            scheme_id="06",
                                                            scheme_name="ReteFuente")])],
        totals=MonetaryTotals(line_extension=Decimal("1500000.00"),
                              tax_exclusive=Decimal("1500000.00"),
                              tax_inclusive=Decimal("1785000.00"),
                              payable=Decimal("1785000.00"),
                              raw={"LineExtensionAmount": "1500000.00",
                                   "PayableAmount": "1785000.00"}),
        lines=items,
        notes=["Gracias por su compra."],
        dian=DianExtensions(authorization="18760000001", prefix="", range_from="1",
                            range_to="5000000"),
    )


def pdf_text(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def test_does_the_pdf_show_number_cufe_total_and_parties():
    data = render_pdf(make_invoice())
    assert data.startswith(b"%PDF-")
    text = "\n".join(pdf_text(data))
    assert "323200000129" in text
    assert ANNEX_CUFE in text
    assert "$ 1.785.000,00" in text
    assert "NIT 700.085.371-1" in text and "NIT 800.199.436-5" in text
    assert "Compradora Ñandú Ltda." in text and "Proveedora Andina S.A.S." in text
    assert "19%" in text and "19.00" not in text and "$ 285.000,00" in text
    assert "ReteRenta" in text and "2,5%" in text and "$ 37.500,00" in text
    assert "16/01/2019 10:53" in text and "-05:00" not in text
    assert "Gracias por su compra." in text
    assert "Página 1 de 1" in text
    assert "Autorización de numeración DIAN No. 18760000001, rango 1 a 5000000" in text
    assert "NO ES UNA FACTURA" not in text


def test_is_the_qr_code_drawn_with_dians_content():
    doc = make_invoice()
    expected = cufe.qr_content(cufe_inputs_from_document(doc), ANNEX_CUFE)
    assert expected.splitlines()[0] == "NumFac: 323200000129"
    assert expected.endswith("searchqr?documentkey=" + ANNEX_CUFE)
    assert "ValTolFac: 1785000.00" in expected and "ValIva: 285000.00" in expected
    with pdfplumber.open(io.BytesIO(render_pdf(doc))) as pdf:
        images = pdf.pages[0].images
    assert len(images) == 1
    assert images[0]["width"] == pytest.approx(images[0]["height"])  # square: the QR


def test_can_the_caller_choose_the_qr_text_and_title():
    data = render_pdf(make_invoice(), qr_text="hola", title="Factura de prueba")
    assert "Factura de prueba" in pdf_text(data)[0]
    # A one-word QR is much smaller than DIAN's; its image still appears.
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages[0].images) == 1


def test_does_a_long_invoice_break_into_numbered_pages():
    doc = make_invoice(lines=120)
    pages = pdf_text(render_pdf(doc))
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Página {number} de {len(pages)}" in text
    everything = "\n".join(pages)
    for n in (1, 60, 120):
        assert re.search(rf"Servicio de consultoría número {n}\b", everything)
    # The table heading is repeated on the following pages, and the total comes last.
    assert "Descripción" in pages[1]
    assert "$ 1.785.000,00" in pages[-1]


def test_are_amounts_formatted_for_english_and_other_currencies():
    data = render_pdf(make_invoice(currency="EUR"), locale="en")
    text = "\n".join(pdf_text(data))
    assert "€1,785,000.00" in text.replace(" ", "")
    assert "Electronic sales invoice" in text and "Page 1 of 1" in text


def test_is_a_pdf_origin_document_marked_as_not_a_legal_invoice():
    data = render_pdf(make_invoice(lines=80), pdf_origin=True)
    pages = pdf_text(data)
    assert len(pages) >= 2
    for text in pages:
        assert "NO ES UNA FACTURA ELECTRÓNICA VÁLIDA" in text
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert pdf.pages[0].images == []  # no QR: DIAN has nothing to look up


def test_does_text_outside_the_font_survive_as_something_readable():
    doc = make_invoice()
    doc.customer.registration_name = "Łódź 東京 Trading"
    text = pdf_text(render_pdf(doc))[0]
    assert "Lódz ?? Trading" in text


@pytest.mark.shared_data
def test_does_a_real_dian_invoice_render_with_its_stored_qr():
    path = shared_data() / "dian/caja-herramientas-v1.9/ejemplificaciones/Generica.xml"
    detection = detect_bytes(path.read_bytes())
    doc, _ = read_document(detection.tree)
    data = render_pdf(doc)
    text = "\n".join(pdf_text(data))
    assert doc.number in text and doc.uuid in text
    assert "$ 15.024,07" in text
    assert re.search(r"NIT 800\.197\.268-4", text)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages[0].images) == 1


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        ("es", ["40 unidades", "Efectivo", "Crédito", "kilogramo", "Gran contribuyente",
                "peso colombiano (COP)"], ["O-13", " 94 ", "KGM", ": 10\n"]),
        ("en", ["40 units", "Cash", "Credit", "kilogram", "Large taxpayer",
                "Colombian Peso (COP)"], ["O-13", " 94 ", "KGM", ": 10\n"]),
    ],
)
def test_does_the_pdf_name_the_codes_a_person_would_have_to_decode(locale, shown, hidden):
    doc = make_invoice()
    doc.lines[0].quantity, doc.lines[0].unit_code = Decimal("40.00"), "94"
    doc.lines[1].quantity, doc.lines[1].unit_code = Decimal("1"), "KGM"
    doc.payment_means = [PaymentMeans(id="2", code="10")]
    doc.supplier.tax_level_codes = ["O-13"]
    text = "\n".join(pdf_text(render_pdf(doc, locale=locale))) + "\n"
    for words in shown:
        assert words in text, words
    for code in hidden:
        assert code not in text, code
    # An unknown unit or means is shown as written rather than dropped.
    doc.lines[0].unit_code, doc.payment_means = "XQZ", [PaymentMeans(id="1", code="ZZ9")]
    text = "\n".join(pdf_text(render_pdf(doc, locale=locale)))
    assert "XQZ" in text and "ZZ9" in text
