"""Each document's lines as rows: stored with the document, shared like it, filled for old ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from fpdf import FPDF
from sqlalchemy import delete, event, select, update

from app.einvoice.model import DocumentReference
from app.einvoice.signature import sign_document
from app.einvoice.writer import write_invoice
from app.extensions import db
from app.models import Document, DocumentLine
from app.models.document import ORIGIN_PDF
from app.services import pdf_documents
from app.services.documents import backfill, storing
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user, shared_data, unique_nit
from tests.einvoice import dian_samples as samples
from tests.services.inbox_helpers import (
    _parties,
    give_certificate,
    make_document,
    signed_invoice,
    signing_keys,
    submit,
)

pytestmark = pytest.mark.usefixtures("no_official_rules")

GTIN = "7702001034567"


@pytest.fixture
def supplier():
    company = make_company("Proveedora")
    give_certificate(company)
    return company


@pytest.fixture
def clerk(supplier):
    return make_user(supplier, role="owner", name="Sara Proveedora")


@pytest.fixture
def customer():
    return make_company("Compradora")


def invoice_with_items(supplier, customer_tax_id: str, number: str = "SETP990000201") -> bytes:
    """A signed invoice of five lines (IVA 19 %, 5 %, 0 %, INC 8 %, a discount) whose first
    line names the seller's, the buyer's and a GTIN item id, for purchase order OC-2024-0042."""
    doc = _parties(samples.invoice(number), supplier, SimpleNamespace(tax_id=customer_tax_id))
    doc.lines[0] = dataclasses.replace(
        doc.lines[0],
        name="Portátil",
        seller_item_id="PORT-14-ÑANDÚ",
        buyer_item_id="COMPRAS-889",
        standard_item_id=GTIN,
        standard_item_scheme="010",
    )
    doc.order_reference = DocumentReference(id="OC-2024-0042")
    keys = signing_keys(supplier)
    return sign_document(
        write_invoice(doc, numbering=samples.NUMBERING, software=samples.SOFTWARE),
        key=keys.key,
        certificate=keys.certificate,
    )


def stored_lines(document_id: int) -> list[DocumentLine]:
    return list(
        db.session.scalars(
            unscoped(
                select(DocumentLine)
                .where(DocumentLine.document_id == document_id)
                .order_by(DocumentLine.position)
            )
        )
    )


# --------------------------------------------------------------------------------- XML upload


def test_are_an_uploaded_invoices_lines_stored_with_their_items_prices_and_taxes(
    supplier, clerk, customer
):
    result = submit(supplier, clerk, invoice_with_items(supplier, customer.tax_id))
    assert result.accepted, result.findings
    document = db.session.get(Document, result.document.id)
    assert document.order_reference == "OC-2024-0042"

    lines = stored_lines(document.id)
    assert [line.position for line in lines] == [1, 2, 3, 4, 5]
    assert [line.line_id for line in lines] == ["1", "2", "3", "4", "5"]
    assert [line.description for line in lines] == [
        "Portátil 14 pulgadas",
        "Libro de texto escolar",
        "Servicio de transporte exento",
        "Almuerzo ejecutivo",
        "Resma de papel",
    ]
    first = lines[0]
    assert (first.name, first.seller_item_id, first.buyer_item_id) == (
        "Portátil",
        "PORT-14-ÑANDÚ",
        "COMPRAS-889",
    )
    assert (first.standard_item_id, first.standard_item_scheme) == (GTIN, "010")
    assert (first.quantity, first.unit_code, first.price) == (Decimal(2), "94", Decimal(400000))
    assert first.line_extension == Decimal("800000")
    assert (first.tax_percent, first.tax_category) == (Decimal(19), "01")
    assert lines[1].standard_item_id == "SKU-0002" and lines[1].standard_item_scheme == "999"
    assert [line.tax_percent for line in lines] == [Decimal(p) for p in ("19", "5", "0", "8", "19")]
    assert lines[3].tax_category == "04"  # INC, the line's only tax
    # The discounted line: ten reams at 1,000 less 1,000.
    assert (lines[4].quantity, lines[4].price, lines[4].line_extension) == (
        Decimal(10),
        Decimal(1000),
        Decimal(9000),
    )
    assert all(
        (line.sender_company_id, line.receiver_company_id) == (supplier.id, customer.id)
        for line in lines
    )


def test_is_an_invoice_without_an_order_reference_stored_with_none(supplier, clerk, customer):
    result = submit(supplier, clerk, signed_invoice(supplier, customer.tax_id))
    assert result.document.order_reference is None
    assert len(stored_lines(result.document.id)) == 2


def test_are_long_item_ids_cut_to_their_columns_and_huge_numbers_left_empty():
    from app.einvoice.model import Line
    from app.services.documents.lines import line_values

    values = line_values(
        Line(
            id="L" * 80,
            name="N" * 400,
            seller_item_id="S" * 150,
            standard_item_scheme="0160-GTIN-X",
            unit_code="KILOGRAMO-X",
            quantity=Decimal("1E+20"),
            price=Decimal("12.1234567"),
            tax_percent=Decimal("1000"),
        ),
        7,
    )
    assert (len(values["line_id"]), len(values["name"]), len(values["seller_item_id"])) == (
        60,
        300,
        100,
    )
    assert values["standard_item_scheme"] == "0160-GTIN-"
    assert values["unit_code"] == "KILOGRAMO-"
    assert values["quantity"] is None and values["tax_percent"] is None
    assert values["price"] == Decimal("12.1234567") and values["position"] == 7


# -------------------------------------------------------------------------------------- batch


def test_does_a_batch_store_each_documents_lines_in_one_insert(supplier, clerk, customer):
    files = [
        ("a.xml", signed_invoice(supplier, customer.tax_id, number="SETP990000011")),
        ("b.xml", signed_invoice(supplier, customer.tax_id, number="SETP990000012")),
        ("c.xml", invoice_with_items(supplier, customer.tax_id, number="SETP990000203")),
        (
            "d.xml",
            signed_invoice(
                supplier, customer.tax_id, number="SETP990000014", unit_price=Decimal("1234.5")
            ),
        ),
    ]
    inserts = []

    def count_inserts(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO DOCUMENT_LINES"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_inserts)
    try:
        with acting_as(supplier.id, clerk.id):
            submissions = storing.submit_batch(supplier.id, files=files, actor=clerk)
            db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", count_inserts)
    assert [s.outcome for s in submissions] == ["accepted"] * 4
    counts = {s.filename: len(stored_lines(s.document.id)) for s in submissions}
    assert counts == {"a.xml": 2, "b.xml": 2, "c.xml": 5, "d.xml": 1}
    assert len(inserts) == 1  # the lines of the whole batch, not one statement per line
    single = stored_lines(submissions[3].document.id)[0]
    assert (single.quantity, single.price) == (Decimal(1), Decimal("1234.5"))
    assert submissions[2].document.order_reference == "OC-2024-0042"


def test_does_a_waiting_document_of_a_batch_keep_its_lines(supplier, clerk):
    with acting_as(supplier.id, clerk.id):
        [submission] = storing.submit_batch(
            supplier.id, files=[("w.xml", signed_invoice(supplier, unique_nit()))], actor=clerk
        )
        db.session.commit()
    lines = stored_lines(submission.document.id)
    assert len(lines) == 2 and all(line.receiver_company_id is None for line in lines)


# ---------------------------------------------------------------------------------------- PDF


def a_pdf() -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    pdf.text(10, 20, "Factura PDF-77")
    return bytes(pdf.output())


def test_are_a_pdf_invoices_reviewed_lines_stored(supplier, clerk, customer):
    rows = [
        {
            "description": "Consultoría técnica",
            "quantity": "2",
            "unit_price": "750000",
            "tax_percent": "19",
        },
        {
            "description": "Soporte en sitio",
            "quantity": "1.5",
            "unit_price": "100000",
            "tax_percent": "0",
        },
    ]
    fields = {
        "number": "PDF-77",
        "issue_date": dt.date(2024, 3, 5),
        "currency": "COP",
        "customer_tax_id": customer.tax_id,
        "customer_name": "Compradora",
        "subtotal": Decimal("1650000"),
        "total": Decimal("1935000"),
    }
    with acting_as(supplier.id, clerk.id):
        document = pdf_documents.submit_pdf(
            supplier.id, filename="f.pdf", data=a_pdf(), fields=fields, actor=clerk, lines=rows
        )
        db.session.commit()
    assert document.origin == ORIGIN_PDF
    lines = stored_lines(document.id)
    assert [(line.position, line.line_id, line.description) for line in lines] == [
        (1, "1", "Consultoría técnica"),
        (2, "2", "Soporte en sitio"),
    ]
    assert [
        (line.quantity, line.price, line.line_extension, line.tax_percent) for line in lines
    ] == [
        (Decimal(2), Decimal(750000), Decimal(1500000), Decimal(19)),
        (Decimal("1.5"), Decimal(100000), Decimal(150000), Decimal(0)),
    ]
    assert all(line.receiver_company_id == customer.id for line in lines)


# --------------------------------------------------------------------------------- who reads


def test_can_only_the_two_companies_of_a_document_read_its_lines(supplier, clerk, customer):
    result = submit(supplier, clerk, invoice_with_items(supplier, customer.tax_id))
    third = make_company("Tercera")
    everything = select(DocumentLine.id)
    with acting_as(third.id):
        assert db.session.scalars(everything).all() == []
        assert (
            db.session.scalars(
                select(DocumentLine).where(DocumentLine.document_id == result.document.id)
            ).all()
            == []
        )
    with acting_as(None):
        assert db.session.scalars(everything).all() == []
    for company in (supplier, customer):
        with acting_as(company.id):
            assert len(db.session.scalars(everything).all()) == 5


def test_do_claimed_documents_lines_become_the_new_receivers(supplier, clerk):
    tax_id = unique_nit()
    waiting = submit(supplier, clerk, invoice_with_items(supplier, tax_id)).document
    assert waiting.waiting
    newcomer = make_company("Nueva", tax_id=tax_id)
    with acting_as(newcomer.id):
        assert db.session.scalars(select(DocumentLine)).all() == []
    user = make_user(newcomer)
    with acting_as(newcomer.id, user.id):
        claimed = storing.claim_waiting_documents(newcomer, actor=user)
        db.session.commit()
    assert [d.id for d in claimed] == [waiting.id]
    with acting_as(newcomer.id):
        lines = db.session.scalars(select(DocumentLine).order_by(DocumentLine.position)).all()
    assert len(lines) == 5 and {line.receiver_company_id for line in lines} == {newcomer.id}
    assert lines[0].standard_item_id == GTIN


# ---------------------------------------------------------------------------------- backfill


def forget_lines(*document_ids: int) -> None:
    """Make documents look stored before lines were kept."""
    db.session.execute(delete(DocumentLine).where(DocumentLine.document_id.in_(document_ids)))
    db.session.execute(
        update(Document).where(Document.id.in_(document_ids)).values(order_reference=None)
    )
    db.session.commit()


def test_does_the_backfill_fill_old_documents_once_and_skip_unreadable_ones(
    supplier, clerk, customer
):
    with_items = submit(supplier, clerk, invoice_with_items(supplier, customer.tax_id)).document
    plain = submit(supplier, clerk, signed_invoice(supplier, customer.tax_id)).document
    already = submit(
        supplier, clerk, signed_invoice(supplier, customer.tax_id, number="SETP990000003")
    ).document
    forget_lines(with_items.id, plain.id)
    broken = make_document(supplier, customer)
    broken.original = b"\x00 not XML at all <<<"
    old_pdf = make_document(supplier, customer)
    old_pdf.origin, old_pdf.pdf_lines = (
        ORIGIN_PDF,
        [
            {
                "description": "Tornillos",
                "quantity": "100",
                "unit_price": "250.5",
                "tax_percent": "19",
                "line_total": "25050.00",
            }
        ],
    )
    db.session.commit()
    batches = []

    report = backfill.backfill_lines(batch_size=2, after_batch=lambda r: batches.append(r.lines))
    db.session.commit()
    db.session.expire_all()  # the session keeps what it loaded across commits

    assert (report.documents, report.lines, report.unreadable) == (3, 8, 1)
    assert batches == [7, 8]  # 2 documents a batch; the one with lines is not read again
    lines = stored_lines(with_items.id)
    assert len(lines) == 5 and lines[0].standard_item_id == GTIN
    assert lines[0].tax_percent == Decimal(19) and lines[0].receiver_company_id == customer.id
    assert db.session.get(Document, with_items.id).order_reference == "OC-2024-0042"
    assert len(stored_lines(plain.id)) == 2 and len(stored_lines(already.id)) == 2
    [screw] = stored_lines(old_pdf.id)
    assert (screw.description, screw.quantity, screw.price) == (
        "Tornillos",
        Decimal(100),
        Decimal("250.5"),
    )
    assert stored_lines(broken.id) == []

    again = backfill.backfill_lines()
    assert (again.documents, again.lines, again.unreadable) == (0, 0, 1)


REAL = "dian/caja-herramientas-v1.9/ejemplificaciones"


@pytest.mark.shared_data
def test_are_real_invoices_lines_read_exactly_by_the_backfill(supplier, customer):
    root = shared_data()
    documents = {}
    for name in ("Generica.xml", "Servicios.xml", "ejemplificacionIBUA.xml"):
        document = make_document(supplier, customer)
        document.original, document.is_legal = (root / REAL / name).read_bytes(), True
        documents[name] = document
    peppol = make_document(supplier, customer)
    peppol.original = (root / "ubl/peppol-bis-billing-3/examples/base-example.xml").read_bytes()
    db.session.commit()

    report = backfill.backfill_lines()
    db.session.commit()
    db.session.expire_all()
    assert (report.documents, report.lines, report.unreadable) == (4, 7, 0)

    lente, bolsa = stored_lines(documents["Generica.xml"].id)
    assert lente.description == "AV OASYS -2.25 (8.4) LENTE DE CONTATO"
    assert (lente.seller_item_id, lente.quantity, lente.unit_code) == (
        "AOHV84-225",
        Decimal(1),
        "EA",
    )
    assert (lente.price, lente.line_extension) == (Decimal("18900.00"), Decimal("12600.06"))
    assert (lente.tax_percent, lente.tax_category) == (Decimal(19), "01")
    assert (bolsa.standard_item_id, bolsa.standard_item_scheme) == ("18937100-7", "001")
    assert (bolsa.tax_percent, bolsa.price) == (Decimal(16), Decimal(0))
    assert db.session.get(Document, documents["Servicios.xml"].id).order_reference == (
        "13.09.2018--GMO"
    )
    [coca] = stored_lines(documents["ejemplificacionIBUA.xml"].id)
    assert (coca.description, coca.quantity, coca.unit_code) == (
        "Coca cola 1LTS",
        Decimal(10),
        "NIU",
    )
    assert (coca.standard_item_id, coca.standard_item_scheme) == ("COCA1LTS", "999")
    assert coca.tax_percent == Decimal(19)  # IVA, not the per-unit IBUA beside it
    first, second = stored_lines(peppol.id)
    assert (first.name, first.description) == ("item name", "Description of item")
    assert (first.standard_item_id, first.standard_item_scheme) == ("21382183120983", "0088")
    assert (first.tax_percent, first.tax_category, first.unit_code) == (Decimal(25), "S", "DAY")
    assert (second.quantity, second.line_extension) == (Decimal(-3), Decimal(-1500))


# --------------------------------------------------------------------------------------- CLI


def test_does_the_cli_print_how_many_documents_and_lines_it_filled(app, supplier, clerk, customer):
    document = submit(supplier, clerk, invoice_with_items(supplier, customer.tax_id)).document
    forget_lines(document.id)
    broken = make_document(supplier, customer)
    broken.original = b"garbage"
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["documents", "backfill-lines"])
    assert result.exit_code == 0, result.output
    assert "1 documents filled with 5 lines (1 originals unreadable, skipped)" in result.output
    db.session.remove()
    assert len(stored_lines(document.id)) == 5

    result = runner.invoke(args=["documents", "backfill-lines", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "0 documents filled with 0 lines" in result.output
