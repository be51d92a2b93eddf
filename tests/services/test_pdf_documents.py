"""The lines of an invoice sent as a PDF: pre-filled from the extraction, checked, stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.einvoice import pdfextract
from app.einvoice.pdfextract import ExtractedLine, Extraction, Field
from app.services import pdf_documents
from app.services.errors import FieldErrors
from tests.conftest import shared_data


def row(description="Consultoría", quantity="1", unit_price="750000", tax_percent="19"):
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_percent": tax_percent,
    }


def test_are_reviewed_lines_stored_as_exact_decimal_strings(app):
    stored = pdf_documents.check_lines(
        [row(quantity="2.5", unit_price="0.10"), row("Soporte", "3", "333333.33", "5")],
        currency="COP",
        total=Decimal("1050000.30"),
        required=True,
    )
    assert stored == [
        {
            "description": "Consultoría",
            "quantity": "2.5",
            "unit_price": "0.10",
            "tax_percent": "19",
            "line_total": "0.25",
        },
        {
            "description": "Soporte",
            "quantity": "3",
            "unit_price": "333333.33",
            "tax_percent": "5",
            "line_total": "999999.99",
        },
    ]
    # 0.25 + 0.05 (19 %) + 999999.99 + 50000.00 (5 %) = 1050000.29: within one peso of the total.
    assert pdf_documents.lines_total(stored) == Decimal("1050000.29")


def test_does_every_bad_cell_get_its_own_message(app):
    with pytest.raises(FieldErrors) as caught:
        pdf_documents.check_lines(
            [
                row(description=" ", quantity="0", unit_price="-1", tax_percent="120"),
                {**row(quantity="abc", tax_percent="nineteen"), "index": "7"},
            ],
            currency="COP",
            total=Decimal("1"),
            required=True,
        )
    errors = {name: str(messages[0]) for name, messages in caught.value.errors.items()}
    assert set(errors) == {
        "lines-0-description",
        "lines-0-quantity",
        "lines-0-unit_price",
        "lines-0-tax_percent",
        "lines-7-quantity",
        "lines-7-tax_percent",
    }
    assert "mayor que 0" in errors["lines-0-quantity"]  # the default language: Spanish
    assert "0 o más" in errors["lines-0-unit_price"]
    assert "de 0 a 100" in errors["lines-7-tax_percent"]


def test_do_lines_that_miss_the_total_say_by_how_much(app):
    with pytest.raises(FieldErrors) as caught:
        pdf_documents.check_lines(
            [row()], currency="COP", total=Decimal("892600.00"), required=True
        )
    message = str(caught.value.errors["lines"][0])
    assert "892500.00" in message and "892600.00" in message and "-100.00" in message
    # 750000 + 19 % = 892500: one peso off is accepted in pesos, one cent off in euros is too.
    pdf_documents.check_lines([row()], currency="COP", total=Decimal("892501"), required=True)
    pdf_documents.check_lines([row()], currency="EUR", total=Decimal("892500.01"), required=True)
    with pytest.raises(FieldErrors) as caught:
        pdf_documents.check_lines(
            [row()], currency="EUR", total=Decimal("892500.50"), required=True
        )
    assert "-0.50" in str(caught.value.errors["lines"][0])


def test_may_an_invoice_go_without_lines_only_when_its_pdf_had_none(app):
    assert pdf_documents.check_lines([], currency="COP", total=Decimal(5), required=False) == []
    with pytest.raises(FieldErrors) as caught:
        pdf_documents.check_lines([], currency="COP", total=Decimal(5), required=True)
    assert "lines" in caught.value.errors


def test_is_the_rate_taken_from_the_header_when_the_lines_do_not_give_it():
    extraction = Extraction(
        fields={
            "subtotal": Field(Decimal("1500000.00"), 0.95),
            "tax": Field(Decimal("285000"), 0.95),
        },
        lines=[
            ExtractedLine(
                "Consultoría", Decimal(1), "EA", Decimal("750000.00"), Decimal("750000.00"), 0.6
            ),
            ExtractedLine("Viáticos", None, "", Decimal("15.00"), Decimal("150.00"), 0.4),
        ],
    )
    first, second = pdf_documents.review_lines(extraction)
    assert first == {
        "description": "Consultoría",
        "quantity": "1",
        "unit_price": "750000",
        "tax_percent": "19",
        "low": "",
    }
    assert second["tax_percent"] == "19"
    assert set(second["low"].split()) == set(pdf_documents.LINE_CELLS)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["EN16931_Einfach", "EN16931_Gutschrift"])
def test_do_the_lines_of_a_real_facturx_pdf_add_up_to_its_total(app, name):
    pdf = shared_data() / "pdf" / "facturx" / "FX" / f"{name}.pdf"
    extraction, _ = pdfextract.extract_pdf(pdf.read_bytes())
    rows = pdf_documents.review_lines(extraction)
    assert [r["tax_percent"] for r in rows] == ["19", "7"]
    assert not any(r["low"] for r in rows)
    stored = pdf_documents.check_lines(
        rows, currency="EUR", total=extraction.value("total"), required=True
    )
    assert [line["line_total"] for line in stored] == ["198.00", "275.00"]


@pytest.mark.shared_data
def test_are_doubtful_rows_of_a_real_text_pdf_highlighted(app):
    pdf = shared_data() / "pdf" / "invoice2data" / "compare" / "AzureInterior.pdf"
    extraction, _ = pdfextract.extract_pdf(pdf.read_bytes())
    rows = pdf_documents.review_lines(extraction)
    assert [r["description"] for r in rows][:2] == [
        "[17589684] Beeswax XL",
        "[FURN_7777] Office Chair",
    ]
    # 1 × 1.00 is not the 0.90 printed (a discount), and the truffles have no quantity.
    assert {"quantity", "unit_price"} <= set(rows[2]["low"].split())
    assert "quantity" in rows[3]["low"].split()


# ------------------------------------------------------------------ learned supplier layouts


def odd_layout_pdf(number: str, total: str, *, day: int = 5) -> bytes:
    """A supplier layout the heuristics cannot read alone: the number sits under 'Referencia'."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(10, 18, "Ferretería Andina S.A.S.")
    pdf.set_font("Helvetica", "", 9)
    pdf.text(10, 24, "NIT 900123456-7")
    pdf.text(120, 40, "Referencia")
    pdf.text(160, 40, "Emitida")
    pdf.text(120, 46, number)
    pdf.text(160, 46, f"{day:02d}/03/2024")
    pdf.text(120, 120, "Valor neto")
    pdf.text(175, 120, total)
    return bytes(pdf.output())


def stage_as(company, user, data):
    """Upload a PDF and return it as the review shows it, once its extraction job ran."""
    from app.extensions import db
    from app.tenancy import acting_as

    with acting_as(company.id, user.id):
        upload = pdf_documents.upload_pdf(company.id, filename="f.pdf", data=data, actor=user)
        db.session.commit()  # the extraction job runs (eagerly, in tests)
        return pdf_documents.staged_pdf(pdf_documents.find_upload(company.id, upload.token))


def send_as(company, user, data, fields):
    from app.extensions import db
    from app.tenancy import acting_as

    with acting_as(company.id, user.id):
        document = pdf_documents.submit_pdf(
            company.id, filename="f.pdf", data=data, fields=fields, actor=user
        )
        db.session.commit()
    return document


def reviewed(staged, customer, **corrections):
    fields = dict(staged.fields)
    fields.update(currency="COP", customer_tax_id=customer.tax_id, **corrections)
    return fields


def test_does_a_corrected_field_come_right_on_the_suppliers_next_pdf(app):
    import datetime as dt

    from tests.conftest import make_company, make_user

    company, customer = make_company("Andina"), make_company("Cliente")
    clerk = make_user(company)
    first_pdf = odd_layout_pdf("AND-2041", "1.190.000")
    first = stage_as(company, clerk, first_pdf)
    assert first.fields["number"] != "AND-2041"  # the heuristics alone miss it
    send_as(
        company,
        clerk,
        first_pdf,
        reviewed(
            first,
            customer,
            number="AND-2041",
            issue_date=dt.date(2024, 3, 5),
            total=Decimal("1190000"),
            subtotal=Decimal("1190000"),
            tax=Decimal("0"),
        ),
    )

    second = stage_as(company, clerk, odd_layout_pdf("AND-2077", "2.380.500", day=19))
    assert second.fields["number"] == "AND-2077"
    assert second.fields["issue_date"] == dt.date(2024, 3, 19)
    assert second.fields["total"] == Decimal("2380500")
    assert not second.low_confidence("number")


def test_is_another_companys_learned_layout_never_used(app):
    import datetime as dt

    from tests.conftest import make_company, make_user

    company, other, customer = (
        make_company("Andina"),
        make_company("Otra"),
        make_company("Cliente"),
    )
    clerk, stranger = make_user(company), make_user(other)
    data = odd_layout_pdf("AND-2041", "1.190.000")
    staged = stage_as(company, clerk, data)
    send_as(
        company,
        clerk,
        data,
        reviewed(
            staged,
            customer,
            number="AND-2041",
            issue_date=dt.date(2024, 3, 5),
            total=Decimal("1190000"),
        ),
    )

    theirs = stage_as(other, stranger, odd_layout_pdf("AND-2077", "2.380.500"))
    assert theirs.fields["number"] != "AND-2077"
    # Even asked directly for the other company's id while acting as itself, nothing is read.
    from app.tenancy import acting_as

    extraction, _ = pdfextract.extract_pdf(odd_layout_pdf("AND-2099", "5.000"))
    with acting_as(other.id, stranger.id):
        assert pdf_documents.apply_learned_layout(company.id, extraction) == []
    assert extraction.value("number") != "AND-2099"


def test_does_a_supplier_without_tax_id_get_its_layout_by_its_header(app):
    import datetime as dt

    from fpdf import FPDF

    from tests.conftest import make_company, make_user

    def pdf_of(number):
        pdf = FPDF(format="A4")
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.text(10, 18, "Taller Mecanico del Norte")
        pdf.set_font("Helvetica", "", 9)
        pdf.text(10, 24, "Calle Larga Esquina")
        pdf.text(120, 60, "Comprobante")
        pdf.text(160, 60, number)
        pdf.text(120, 66, "Fecha 02/04/2024")
        pdf.text(120, 120, "Total 50.000")
        return bytes(pdf.output())

    company, customer = make_company("Taller"), make_company("Cliente")
    clerk = make_user(company)
    first = pdf_of("TN-7")
    staged = stage_as(company, clerk, first)
    send_as(
        company,
        clerk,
        first,
        reviewed(
            staged, customer, number="TN-7", issue_date=dt.date(2024, 4, 2), total=Decimal("50000")
        ),
    )
    assert stage_as(company, clerk, pdf_of("TN-8")).fields["number"] == "TN-8"


def test_is_the_invoice_sent_when_a_colleague_learned_the_same_supplier_at_the_same_moment(
    app, monkeypatch
):
    """Two clerks send the same new supplier's PDFs at once: the second's layout row would
    repeat the first's (company, supplier); the invoice is sent and the first layout kept."""
    import datetime as dt

    from sqlalchemy import select

    from app.extensions import db
    from app.models.pdf_layout import PdfLayout
    from app.tenancy import acting_as
    from tests.conftest import make_company, make_user

    company, customer = make_company("Andina"), make_company("Cliente")
    clerk = make_user(company)
    data = odd_layout_pdf("AND-2041", "1.190.000")
    staged = stage_as(company, clerk, data)
    extraction, _ = pdfextract.extract_pdf(data)
    with acting_as(company.id, clerk.id):
        for key in pdf_documents._layout_keys(extraction):
            db.session.add(PdfLayout(company_id=company.id, supplier_key=key, hints={"v": 1}))
        db.session.commit()
    # This clerk's look-up ran before the colleague's rows were committed: it saw none.
    monkeypatch.setattr(pdf_documents, "_layouts", lambda company_id, keys: {})

    document = send_as(
        company,
        clerk,
        data,
        reviewed(staged, customer, number="AND-2041", issue_date=dt.date(2024, 3, 5),
                 total=Decimal("1190000")),
    )

    assert document.id is not None and document.number == "AND-2041"
    with acting_as(company.id, clerk.id):
        kept = db.session.scalars(select(PdfLayout.hints)).all()
    assert kept and all(hints == {"v": 1} for hints in kept)
