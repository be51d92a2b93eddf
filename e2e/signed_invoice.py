"""Write a DIAN invoice signed with a demo company's certificate, for the browser journeys.

Run with the e2e server's environment (same INSTANCE_PATH and DATABASE_URL), so the app reads
the certificate `flask demo load` stored for the supplier:

    python e2e/signed_invoice.py OUT.xml SUPPLIER_TAX_ID CUSTOMER_TAX_ID NUMBER [UNIT_PRICE]

Without UNIT_PRICE the invoice has two lines, 5,950.00 in all; with it, one line of that price
plus 19 % IVA (a journey that needs an amount of its own).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(
    out: str, supplier_tax_id: str, customer_tax_id: str, number: str, unit_price: str = ""
) -> None:
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Company
    from app.tenancy import unscoped
    from tests.services.inbox_helpers import signed_invoice

    app = create_app()
    with app.app_context():
        supplier = db.session.scalars(
            unscoped(select(Company).where(Company.tax_id == supplier_tax_id))
        ).one()
        Path(out).write_bytes(
            signed_invoice(
                supplier,
                customer_tax_id,
                number=number,
                unit_price=Decimal(unit_price) if unit_price else None,
            )
        )


if __name__ == "__main__":
    main(*sys.argv[1:6])
