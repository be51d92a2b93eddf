"""Two fresh companies for the commerce journey (e2e/test_commerce.py), printed as JSON.

    python e2e/commerce_data.py

Run with the e2e server's environment (same INSTANCE_PATH and DATABASE_URL), like
e2e/signed_invoice.py. A supplier that can issue (fiscal profile, a test certificate, a
numbering range) with an owner and a sales person, and a buyer connected to it as its customer
with an owner and a payables person. The supplier has issued the buyer two invoices through the
weeks ago, whose lines (item codes, names, prices) the catalog suggests: written as rows the way
tests/services/catalogs/test_suggestions.py writes them (an invoice issued through the portal
names its lines only in cbc:Description, which the suggestions do not read as a name yet). Names,
tax ids and e-mails are new on every run, so the journey runs again on the same database.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Nandu-Quetzal-2026x"  # noqa: S105 (the journey's own test accounts)

# Days ago, then (code, name, quantity, unit price) of the invoices issued before the journey.
INVOICES = (
    (
        40,
        ("TOR-38", 'Tornillo ñandú 3/8"', "200", "1200"),
        ("CEM-50", "Cemento gris 50 kg", "12", "32000"),
    ),
    (
        10,
        ("GUA-01", "Guantes de carnaza", "10", "9000"),
        ("BRO-10", "Broca para concreto 10 mm", "5", "15500"),
        ("TOR-38", 'Tornillo ñandú 3/8"', "100", "1250.50"),
    ),
)


def _nit() -> str:
    from stdnum.co import nit

    base = f"8{secrets.randbelow(10**8):08d}"
    return base + nit.calc_check_digit(base)


def _past_invoice(supplier, buyer, number, today, days_ago, lines) -> None:
    """An invoice the supplier issued the buyer days ago: a row and its lines, no XML."""
    from app.extensions import db
    from app.models import DocumentLine
    from tests.services.inbox_helpers import make_document

    amounts = [Decimal(quantity) * Decimal(price) for _c, _n, quantity, price in lines]
    doc = make_document(
        supplier,
        buyer,
        issue_date=today - dt.timedelta(days=days_ago),
        payable=str(sum(amounts) * Decimal("1.19")),
        number=number,
        customer_name=buyer.legal_name,
        supplier_name=supplier.legal_name,
    )
    for position, ((code, name, quantity, price), amount) in enumerate(
        zip(lines, amounts, strict=True), start=1
    ):
        db.session.add(
            DocumentLine(
                document_id=doc.id,
                sender_company_id=supplier.id,
                receiver_company_id=buyer.id,
                position=position,
                line_id=str(position),
                seller_item_id=code,
                name=name,
                quantity=Decimal(quantity),
                unit_code="94",
                price=Decimal(price),
                line_extension=amount,
                tax_percent=Decimal("19"),
            )
        )
    db.session.commit()


def setup() -> dict[str, object]:
    from app import create_app, security
    from app.extensions import db
    from app.models import Company, Membership, Partnership, User, utcnow
    from app.models.network import ACTIVE
    from app.services import certificates, fiscal, issuing
    from app.tenancy import acting_as

    token = secrets.token_hex(3)
    app = create_app()
    with app.app_context():
        password_hash = security.hash_password(PASSWORD)

        def company(legal_name: str, trade_name: str, fiscal_data: dict) -> Company:
            found = Company(
                legal_name=legal_name,
                trade_name=trade_name,
                country="CO",
                tax_id=_nit(),
                contact_email=f"contacto-{token}-{len(trade_name)}@example.com",
                locale="es",
            )
            fiscal.store_fiscal_data(found, fiscal.check_fiscal_data(**fiscal_data))
            db.session.add(found)
            db.session.flush()
            return found

        def member(where: Company, role: str, name: str) -> User:
            person = User(
                name=name,
                email=f"{role}-{where.id}-{token}@example.com",
                password_hash=password_hash,
                email_confirmed_at=utcnow(),
                last_company_id=where.id,
                id_document_type="13",
                id_document_number=f"{10**9 + secrets.randbelow(10**8)}",
            )
            db.session.add(person)
            db.session.flush()
            db.session.add(Membership(company_id=where.id, user_id=person.id, role=role))
            return person

        supplier = company(
            f"Ferretería Ñandú {token} S.A.S.",
            f"Ñandú {token}",
            {
                "person_type": "1",
                "responsibilities": ["O-15"],
                "tax_scheme": "01",
                "address_line": "Carrera 43A # 1-50",
                "municipality": "05001 Medellín",
                "postal_code": "050021",
            },
        )
        buyer = company(
            f"Constructora Bolívar {token} S.A.S.",
            f"Bolívar {token}",
            {
                "person_type": "1",
                "responsibilities": ["O-13"],
                "tax_scheme": "01",
                "address_line": "Calle 100 # 19-54",
                "municipality": "11001 Bogotá, D.C.",
                "postal_code": "110111",
            },
        )
        certificates.store_test_certificate(
            supplier.id, name=supplier.legal_name, nit=supplier.tax_id
        )
        owner = member(supplier, "owner", "Olga Dueña")
        seller = member(supplier, "sales", "Sara Ventas")
        member(buyer, "owner", "Beto Dueño")
        purchaser = member(buyer, "payables", "Pedro Compras")
        db.session.add(
            Partnership(
                supplier_id=supplier.id,
                customer_id=buyer.id,
                requested_by_id=buyer.id,
                status=ACTIVE,
                responded_at=utcnow(),
            )
        )
        db.session.commit()

        today = dt.datetime.now(dt.UTC).date()
        with acting_as(supplier.id, owner.id):
            issuing.configure_numbering(
                supplier.id,
                prefix="SETN",
                range_from=1,
                range_to=5000,
                resolution="18760000009",
                valid_from=today - dt.timedelta(days=30),
                valid_to=today + dt.timedelta(days=365),
                technical_key="fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
                actor=owner,
            )
            db.session.commit()
        for number, (days_ago, *lines) in enumerate(INVOICES, start=1):
            _past_invoice(supplier, buyer, f"HIST{token}{number}", today, days_ago, lines)
        return {
            "password": PASSWORD,
            "supplier": supplier.trade_name,
            "buyer": buyer.trade_name,
            "owner": owner.email,
            "seller": seller.email,
            "purchaser": purchaser.email,
        }


if __name__ == "__main__":
    print(json.dumps(setup()))
