"""`flask demo bulk`: many documents between Distribuidora Andina and many partners, fast."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select
from stdnum.co import nit

from app.config import BASE_DIR
from app.extensions import db
from app.models import Company, Document, Partnership, Payment
from app.services import demo
from app.services.payments import connections
from app.tenancy import acting_as, unscoped


def _andina() -> Company:
    country, tax_id = demo.ANDINA
    return db.session.scalars(
        unscoped(select(Company).where(Company.country == country, Company.tax_id == tax_id))
    ).one()


DEMO_INVOICES = 5  # issued through the portal by `demo load` (fixtures/demo.json)


def _bulk_documents() -> list[Document]:
    bulk = or_(*(Document.number.like(f"{p}B%") for p in ("FV", "NC", "ND")))
    return db.session.scalars(unscoped(select(Document).where(bulk))).all()


def test_does_the_demo_hold_real_signed_invoices_and_a_dispute():
    demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
    docs = db.session.scalars(unscoped(select(Document).order_by(Document.id))).all()
    assert [(d.status, d.dispute_status) for d in docs] == [
        ("acknowledged", None),
        ("claimed", "open"),
        ("acknowledged", None),
        ("acknowledged", None),
        ("accepted", None),
    ]
    assert all(d.signature.get("valid") for d in docs)


def test_does_the_demo_show_invoices_paid_by_real_payments():
    """Paid (sandbox checkout, confirmed transfer), partially paid and unpaid invoices, each
    from a payment that went through; the suppliers take the sandbox and transfers."""
    assert demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
    docs = db.session.scalars(unscoped(select(Document).order_by(Document.id))).all()
    assert [d.payment_status for d in docs] == [
        "unpaid",
        "unpaid",
        "paid",
        "partially_paid",
        "paid",
    ]
    assert docs[3].paid_amount == Decimal("500000.00")
    assert docs[3].open_balance == docs[3].payable - Decimal("500000.00")
    payments = db.session.scalars(unscoped(select(Payment).order_by(Payment.id))).all()
    assert [(p.method, p.status, p.amount) for p in payments] == [
        ("sandbox", "succeeded", docs[2].payable),
        ("sandbox", "succeeded", Decimal("500000.00")),
        ("transfer", "succeeded", docs[4].payable),
    ]
    for company_id in {d.sender_company_id for d in docs}:
        with acting_as(company_id):
            assert [c.gateway for c in connections.connections(company_id)] == ["sandbox"]
            found = connections.settings_of(company_id)
            assert found.accept_transfers and found.bank_name and found.account_number


def test_does_loading_the_demo_again_start_afresh():
    path = BASE_DIR / "fixtures" / "demo.json"
    assert demo.load_demo(path)
    assert not demo.load_demo(path, only_if_empty=True)
    assert demo.load_demo(path)
    statuses = db.session.scalars(unscoped(select(Payment.status))).all()
    assert statuses == ["succeeded"] * 3


def test_bulk_fills_documents_between_andina_and_its_partners():
    demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
    andina = _andina()
    assert demo.load_bulk(200, 12, batch=64) == 200

    docs = _bulk_documents()
    assert len(docs) == 200
    assert all(d.receiver_company_id == andina.id or d.sender_company_id == andina.id for d in docs)
    assert {d.origin for d in docs} == {"xml"}
    assert len({d.status for d in docs}) >= 4
    assert any(d.sender_company_id == andina.id for d in docs)
    assert all(d.payable > 0 and d.issue_date <= d.created_at.date() for d in docs)
    assert (max(d.issue_date for d in docs) - min(d.issue_date for d in docs)).days > 365
    # 12 partners with valid NITs, each a supplier of Andina.
    partners = db.session.scalars(unscoped(select(Company).where(Company.tax_id.like("7%")))).all()
    assert len(partners) == 12 and all(nit.is_valid(c.tax_id) for c in partners)
    links = db.session.scalar(
        unscoped(
            select(func.count())
            .select_from(Partnership)
            .where(Partnership.customer_id == andina.id)
        )
    )
    assert links == 2 + 12  # the demo's two suppliers and the bulk ones


def test_bulk_runs_again_without_clashing():
    demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
    demo.load_bulk(50, 3)
    demo.load_bulk(50, 3)
    andina = _andina()
    total = db.session.scalar(
        unscoped(
            select(func.count())
            .select_from(Document)
            .where(
                or_(
                    Document.receiver_company_id == andina.id,
                    Document.sender_company_id == andina.id,
                )
            )
        )
    )
    assert total == 100 + DEMO_INVOICES
    assert (
        db.session.scalar(
            unscoped(select(func.count()).select_from(Company).where(Company.tax_id.like("7%")))
        )
        == 3
    )


def test_bulk_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "bulk", "--documents", "30", "--partners", "4"])
    assert result.exit_code == 0, result.output
    assert "30/30 documents" in result.output
    assert len(_bulk_documents()) == 30
