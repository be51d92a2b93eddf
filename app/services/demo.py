"""Demo data: the companies, users and partnerships of fixtures/demo.json."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select

from app import security
from app.extensions import db
from app.models import Company, Membership, Partnership, User, utcnow
from app.models.network import ACTIVE
from app.services import certificates
from app.taxids import compact_tax_id
from app.tenancy import unscoped


def load_demo(path: Path, *, only_if_empty: bool = False) -> bool:
    """(Re)create the demo data; with only_if_empty, do nothing if any company exists."""
    if only_if_empty and db.session.scalars(unscoped(select(Company.id).limit(1))).first():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    tax_ids = [(c["country"], compact_tax_id(c["country"], c["tax_id"])) for c in data["companies"]]
    emails = [u["email"] for c in data["companies"] for u in c["users"]]
    for country, tax_id in tax_ids:
        db.session.execute(
            delete(Company).where(Company.country == country, Company.tax_id == tax_id)
        )
    db.session.execute(delete(User).where(User.email.in_(emails)))
    db.session.flush()

    password_hash = security.hash_password(data["password"])
    companies: dict[str, Company] = {}
    for entry, (country, tax_id) in zip(data["companies"], tax_ids, strict=True):
        company = Company(
            legal_name=entry["legal_name"],
            trade_name=entry.get("trade_name"),
            country=country,
            tax_id=tax_id,
            contact_email=entry["contact_email"],
            locale=entry.get("locale", "es"),
        )
        db.session.add(company)
        db.session.flush()
        companies[entry["key"]] = company
        # A self-signed test certificate, so the demo companies can sign what they issue.
        certificates.store_test_certificate(company.id, name=company.legal_name, nit=tax_id)
        for person in entry["users"]:
            user = User(
                name=person["name"],
                email=person["email"],
                password_hash=password_hash,
                email_confirmed_at=utcnow(),
                last_company_id=company.id,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(company_id=company.id, user_id=user.id, role=person["role"]))
    for link in data["partnerships"]:
        db.session.add(
            Partnership(
                supplier_id=companies[link["supplier"]].id,
                customer_id=companies[link["customer"]].id,
                requested_by_id=companies[link["requested_by"]].id,
                status=ACTIVE,
                responded_at=utcnow(),
            )
        )
    db.session.commit()
    return True
