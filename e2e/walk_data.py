"""What the page walk (e2e/test_walk.py) needs from the app, printed as JSON.

    python e2e/walk_data.py routes   the GET rules of the URL map (no database is touched)
    python e2e/walk_data.py setup    with the e2e server's environment (same INSTANCE_PATH and
                                     DATABASE_URL): a member of Distribuidora Andina for every
                                     role, made through the team service; tokens for the pages
                                     a link opens; the ids of each demo company's documents and
                                     disputes to put in the URLs

Both run in a child process, like e2e/signed_invoice.py: the test process holds no app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Walk-Quetzal-2026x"  # noqa: S105 (the walk's own test accounts)
ANDINA = ("CO", "9001234568")
TORNILLO = ("CO", "9012345677")
ROLES = ("admin", "payables", "receivables", "sales", "viewer")


def routes() -> list[dict[str, object]]:
    from app import create_app

    app = create_app()
    return [
        {"rule": rule.rule, "endpoint": rule.endpoint, "arguments": sorted(rule.arguments)}
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
        if "GET" in (rule.methods or ())
    ]


def setup() -> dict[str, object]:
    from sqlalchemy import select

    from app import create_app, security
    from app.extensions import db
    from app.models import Company, Dispute, Document, User
    from app.models.payment import Payment
    from app.services import team
    from app.services.accounts import find_user_by_email
    from app.tenancy import acting_as, unscoped

    app = create_app()
    out: dict[str, object] = {"password": PASSWORD, "members": {}, "companies": {}}
    with app.app_context():

        def company(key: tuple[str, str]) -> Company:
            return db.session.scalars(
                unscoped(select(Company).where(Company.country == key[0], Company.tax_id == key[1]))
            ).one()

        def invite(company_id: int, owner: User, email: str, role: str) -> str:
            """Invite through the team service; return a link token we know."""
            with acting_as(company_id, owner.id):
                invitation = team.invite_member(company_id, email=email, role=role, actor=owner)
                # The service mails its token and keeps only the hash: give it one we know.
                token, invitation.token_hash = security.new_secret_token()
                db.session.commit()
            return token

        andina = company(ANDINA)
        owner = find_user_by_email("buyer@demo.test")
        assert owner is not None
        members = out["members"]
        assert isinstance(members, dict)
        for role in ROLES:
            email = f"walk-{role}@demo.test"
            if find_user_by_email(email) is None:
                token = invite(andina.id, owner, email, role)
                team.accept_invitation(
                    token, user=None, name=f"Walk {role.capitalize()}", password=PASSWORD
                )
                db.session.commit()
            members[role] = email
        # A pending invitation (its link page) and a reset link (its page): nothing is used up
        # by opening them.
        pending = find_user_by_email("walk-viewer@demo.test")
        assert pending is not None
        out["tokens"] = {
            "auth.invitation": invite(
                andina.id,
                owner,
                f"walk-pending-{security.new_secret_token()[0][:8]}@demo.test",
                "viewer",
            ),
            "auth.reset": security.make_token(
                "password-reset",
                {"u": pending.id, "f": security.fingerprint(pending.password_hash)},
            ),
        }

        # A pay link (a public page) for Andina's open received invoices.
        from app.services.payments import queries as payment_queries

        with acting_as(andina.id):
            owed = db.session.scalars(
                select(Document.id).where(
                    Document.receiver_company_id == andina.id,
                    Document.document_type == "Invoice",
                    Document.open_balance > 0,
                )
            ).all()
        if owed:
            out["tokens"]["payments.pay_link"] = payment_queries.pay_link_token(owed[:3])  # type: ignore[index]
        # The return page of a payment the demo made (its random access token is the key).
        returned = db.session.scalars(
            unscoped(select(Payment.access_token).order_by(Payment.id).limit(1))
        ).first()
        if returned:
            out["tokens"]["payments.payment_return"] = returned  # type: ignore[index]

        companies = out["companies"]
        assert isinstance(companies, dict)
        for key, tax_id in (("andina", ANDINA), ("tornillo", TORNILLO)):
            found = company(tax_id)
            with acting_as(found.id):
                documents = db.session.scalars(select(Document).order_by(Document.id)).all()
                disputes = db.session.scalars(select(Dispute).order_by(Dispute.id)).all()
                payment_ids = db.session.scalars(select(Payment.id).order_by(Payment.id)).all()
                bank = _reconciliation(found)
            disputed = {d.document_id for d in disputes}
            sent = [d.id for d in documents if d.sender_company_id == found.id]
            # The document page with the most on it: one with a dispute, else any.
            shown = [d.id for d in documents if d.id in disputed] or [d.id for d in documents]
            companies[key] = {
                "document_id": shown[0] if shown else None,
                "sent_document_id": sent[0] if sent else None,
                "dispute_id": disputes[0].id if disputes else None,
                "payment_id": payment_ids[0] if payment_ids else None,
                **bank,
            }
        # The sandbox gateway's hosted checkout: an open test payment (no company's row; any
        # visitor, signed in or not, may open its page).
        charge_id = _sandbox_checkout()
        for values in companies.values():
            values["charge_id"] = charge_id
    return out


def _reconciliation(company) -> dict[str, int | None]:
    """The company's first bank account, the line with the most on its page (one waiting with
    suggestions, else a matched one, else any) and a rule (a disabled one is made if it has
    none, so it changes no matching). Run acting as the company."""
    from sqlalchemy import case, select

    from app.extensions import db
    from app.models.reconciliation import BankAccount, BankLine
    from app.services.reconciliation import rules

    account_id = db.session.scalars(
        select(BankAccount.id).where(BankAccount.company_id == company.id).order_by(BankAccount.id)
    ).first()
    rank = case({"suggested": 0, "matched": 1}, value=BankLine.status, else_=2)
    line_id = db.session.scalars(
        select(BankLine.id).where(BankLine.company_id == company.id).order_by(rank, BankLine.id)
    ).first()
    found = rules.rules(company.id)
    if not found:
        found = [
            rules.save_rule(
                company.id,
                actor=None,
                data={
                    "name": "Comisión bancaria del recaudo",
                    "action": "fee_difference",
                    "direction": "credit",
                    "text_contains": "RECAUDO",
                    "fee_max": "5000",
                    "enabled": False,
                },
            )
        ]
        db.session.commit()
    return {"account_id": account_id, "line_id": line_id, "rule_id": found[0].id}


def _sandbox_checkout() -> str:
    """Open a sandbox account and a checkout of two invoices; return the charge's id."""
    from app.extensions import db
    from app.services import sandbox_gateway

    account = sandbox_gateway.open_account("Walk Proveedora S.A.S.", "")
    charge = sandbox_gateway.create_checkout(
        account.secret_key,
        {
            "reference": "walk",
            "amount": 178500000,
            "currency": "COP",
            "idempotency_key": "walk",
            "description": "Facturas FE-1001, FE-1002",
            "lines": [
                {"reference": "1", "description": "Factura FE-1001", "amount": 119000000},
                {"reference": "2", "description": "Factura FE-1002", "amount": 59500000},
            ],
            "success_url": "/",
            "cancel_url": "/",
        },
    )
    db.session.commit()
    return charge.charge_id


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in ("routes", "setup"):
        raise SystemExit(__doc__)
    result = routes() if command == "routes" else setup()
    # The app logs to stderr; stdout carries only the JSON.
    sys.stdout.write(json.dumps(result) + "\n")
