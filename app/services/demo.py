"""Demo data: the companies, users, partnerships and a few invoices of fixtures/demo.json.

The invoices are issued through the portal itself (numbering range, engine, signature), so the
demo shows real documents: one acknowledged, one claimed with its dispute, one accepted. The
suppliers take payments through the embedded sandbox gateway and by bank transfer, and some
invoices are paid the way a buyer pays them: a checkout approved at the sandbox (its signed
webhooks handed to the portal's receiver at once, as the job queue would a moment later), or a
transfer the supplier confirmed — never by writing the amounts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, select

from app import security
from app.einvoice.signature import COLOMBIA
from app.extensions import db
from app.models import Company, Document, Membership, Partnership, User, utcnow
from app.models.catalog import CatalogItem
from app.models.network import ACTIVE
from app.services import certificates, fiscal
from app.taxids import compact_tax_id
from app.tenancy import acting_as, unscoped


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
        if "fiscal" in entry:  # checked against DIAN's lists like the company page does
            fiscal.store_fiscal_data(company, fiscal.check_fiscal_data(**entry["fiscal"]))
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
                id_document_type=person.get("id_document_type"),
                id_document_number=person.get("id_document_number"),
                job_title=person.get("job_title"),
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
    owners = {
        key: db.session.scalars(
            unscoped(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.company_id == company.id, Membership.role == "owner")
            )
        ).first()
        for key, company in companies.items()
    }
    from app.services import issuing

    _connect_payments(data, companies, owners)
    if issuing.software_configured():  # production without DIAN software: companies only
        _load_documents(data, companies, owners)
        _reconcile(companies, owners)
        _commerce(companies, owners)
    return True


def _commerce(companies: dict[str, Company], owners: dict[str, User]) -> None:
    """El Tornillo publishes the catalog its invoices suggest, and Andina orders from it (the
    order waits for El Tornillo's answer); Papelería Central's suggestions wait for review."""
    from app.services.catalogs import suggestions
    from app.services.orders import cart, placing

    tornillo, andina = companies["tornillo"], companies["andina"]
    today = dt.datetime.now(COLOMBIA).date()
    with acting_as(tornillo.id, owners["tornillo"].id):
        keys = [s.key for s in suggestions.review(tornillo.id).new]
        if not keys:
            return
        suggestions.publish(tornillo.id, keys, actor=owners["tornillo"])
        db.session.commit()
    with acting_as(andina.id, owners["andina"].id):
        found = db.session.scalars(
            select(CatalogItem).where(CatalogItem.company_id == tornillo.id)
            .order_by(CatalogItem.name).limit(2)
        ).all()
        for item, quantity in zip(found, (Decimal(10), Decimal(5)), strict=False):
            cart.add(andina.id, item.id, quantity)
        placing.place_from_cart(
            andina.id, tornillo.id,
            placing.OrderInput(delivery_date=today + dt.timedelta(days=5),
                               delivery_address="Bodega Andina, Calle 13 # 68-90, Bogotá",
                               buyer_reference="OC-ANDINA-001"),
            actor=owners["andina"], today=today,
        )
        db.session.commit()


def _reconcile(companies: dict[str, Company], owners: dict[str, User]) -> None:
    """Bank accounts and this morning's statements: the sandbox payout and the confirmed
    transfer are matched on both sides; a bank fee and an unknown credit wait for a person."""
    from app.models.payment import Payment
    from app.services import sandbox_gateway
    from app.services.reconciliation import accounts, importing
    from app.statements.model import Counterparty, Entry, Statement

    payouts = sandbox_gateway.pay_out(utcnow().date())
    db.session.commit()
    today = dt.datetime.now(COLOMBIA).date()
    transfer = db.session.scalars(
        unscoped(select(Payment).where(Payment.method == "transfer"))
    ).first()

    def line(amount: Decimal, text: str, name: str = "", e2e: str = "") -> Entry:
        return Entry(booking_date=today, value_date=today, amount=amount, currency="COP",
                     reference=text, end_to_end_id=e2e or None,
                     counterparty=Counterparty(name=name or None))

    plan: dict[str, list[Entry]] = {key: [] for key in companies}
    for payout in payouts:
        plan["tornillo"].append(line(payout.amount, f"ABONO PASARELA {payout.payout_id}",
                                     "Sandbox Payments"))
    plan["tornillo"].append(line(Decimal("-12500.00"), "CUOTA DE MANEJO", "Bancolombia"))
    plan["tornillo"].append(line(Decimal("83000.00"), "CONSIGNACION EFECTIVO"))
    if transfer is not None:
        plan["papeleria"].append(line(transfer.amount, f"TRANSF {transfer.payer_reference}",
                                      "Distribuidora Andina S.A.S."))
        plan["andina"].append(line(-transfer.amount, f"PAGO PROV {transfer.payer_reference}",
                                   "Papeleria Central S.A.S."))
    for number, (key, company) in enumerate(companies.items(), start=1):
        if not plan[key]:
            continue
        with acting_as(company.id, owners[key].id):
            account = accounts.create_bank_account(
                company.id, actor=owners[key], name="Cuenta corriente", bank_name="Bancolombia",
                currency="COP", number=f"0{number}2345678901")
            total = sum((e.amount for e in plan[key]), Decimal("0"))
            statement = Statement(
                account=None, currency="COP", opening_balance=Decimal("10000000.00"),
                closing_balance=Decimal("10000000.00") + total, entries=tuple(plan[key]),
                statement_id=f"DEMO-{today.isoformat()}", start_date=today, end_date=today)
            importing.store_statements(company.id, account_id=account.id, fmt="camt053",
                                       statements=[statement], digest="demo",
                                       filename="extracto-demo.xml", actor=owners[key])
            db.session.commit()


def _connect_payments(data: dict, companies: dict[str, Company], owners: dict[str, User]) -> None:
    """Connect the suppliers to the sandbox gateway and save what they accept (bank details)."""
    from app.services.payments import connections, settings

    for key, spec in data.get("payment_settings", {}).items():
        company, owner = companies[key], owners[key]
        with acting_as(company.id, owner.id):
            if spec.get("sandbox"):
                connections.connect_sandbox(company.id, name=company.legal_name, actor=None)
            fields = {k: v for k, v in spec.items() if k != "sandbox"}
            settings.save_settings(company.id, actor=owner, **fields)
            db.session.commit()


def _load_documents(data: dict, companies: dict[str, Company], owners: dict[str, User]) -> None:
    """Issue the demo invoices and play their DIAN events, claims and dispute replies."""
    from app.services import issuing
    from app.services.disputes import disputes
    from app.services.lifecycle import transitions

    today = dt.datetime.now(COLOMBIA).date()  # the day the numbering range and due dates count from
    for key, spec in data.get("numbering", {}).items():
        company, owner = companies[key], owners[key]
        with acting_as(company.id, owner.id):
            issuing.configure_numbering(
                company.id,
                prefix=spec["prefix"],
                range_from=spec["from"],
                range_to=spec["to"],
                resolution=spec["resolution"],
                valid_from=today - dt.timedelta(days=365),
                valid_to=today + dt.timedelta(days=365),
                technical_key=spec["technical_key"],
                actor=owner,
            )
            db.session.commit()
    for entry in data.get("documents", []):
        supplier, customer = companies[entry["supplier"]], companies[entry["customer"]]
        seller, buyer = owners[entry["supplier"]], owners[entry["customer"]]
        with acting_as(supplier.id, seller.id):
            document = issuing.issue_invoice(
                supplier.id,
                customer=issuing.CustomerInput(company_id=customer.id),
                lines=[issuing.LineInput(**line) for line in entry["lines"]],
                due_date=today + dt.timedelta(days=entry.get("due_in_days", 30)),
                actor=seller,
            )
            db.session.commit()
        with acting_as(customer.id, buyer.id):
            for code in entry.get("events", []):
                transitions.record_event(
                    customer.id, document_id=document.id, code=code, actor=buyer
                )
            if claim := entry.get("claim"):
                transitions.record_event(
                    customer.id,
                    document_id=document.id,
                    code="031",
                    claim_reason=claim["reason"],
                    note=claim["note"],
                    actor=buyer,
                )
            db.session.commit()
        for reply in entry.get("replies", []):
            company, author = companies[reply["from"]], owners[reply["from"]]
            with acting_as(company.id, author.id):
                dispute = disputes.active_dispute(company.id, document.id)
                if dispute is not None:
                    disputes.post_message(
                        company.id, dispute_id=dispute.id, actor=author, body=reply["body"]
                    )
                db.session.commit()
        if payment := entry.get("payment"):
            _pay(document, payment, payer=(customer, buyer), payee=(supplier, seller))


def _pay(
    document: Document,
    spec: dict,
    *,
    payer: tuple[Company, User],
    payee: tuple[Company, User],
) -> None:
    """Pay the invoice (all that is open, or spec["amount"]) as its buyer would."""
    from app.services.payments import paying

    (buyer, buyer_user), (supplier, seller) = payer, payee
    amount = Decimal(spec["amount"]) if "amount" in spec else None
    items = [paying.Item(document.id, amount)]
    with acting_as(buyer.id, buyer_user.id):
        if spec["method"] == "transfer":
            payment = paying.record_transfer(
                buyer.id,
                items=items,
                actor=buyer_user,
                transfer_date=dt.datetime.now(COLOMBIA).date(),
                reference=spec["reference"],
                proof=None,
            )
        else:
            payment = paying.start_payment(
                buyer.id,
                items=items,
                method=spec["method"],
                actor=buyer_user,
                urls=paying.ReturnUrls(
                    "/payments/return/{token}", "/payments/return/{token}?canceled=1"
                ),
            )
        db.session.commit()
    if spec["method"] == "transfer":
        if spec.get("confirm"):
            with acting_as(supplier.id, seller.id):
                paying.decide_transfer(
                    supplier.id, payment_id=payment.id, confirm=True, actor=seller
                )
                db.session.commit()
        return
    from app.services import sandbox_gateway

    sandbox_gateway.decide(payment.gateway_reference, "approve")
    _hear_from_sandbox(supplier.id)
    db.session.commit()


def _hear_from_sandbox(payee_company_id: int) -> None:
    """Hand the sandbox's due webhooks to the portal's receiver and apply their events now.

    The job queue does this after commit in a running portal; `flask demo load` has no worker,
    so the demo would otherwise show its payments as processing until the server starts. The
    jobs the commit enqueues anyway find these rows done and do nothing.
    """
    from app.services import sandbox_gateway
    from app.services.payments import webhooks

    stored: list[int] = []

    def send(target: str, body: bytes, headers) -> int:
        stored.extend(webhooks.receive_webhook("sandbox", target, body, headers))
        return 200

    sandbox_gateway.deliver_due(send=send)
    with acting_as(payee_company_id):
        for record_id in stored:
            webhooks.process_event(record_id)


# ------------------------------------------------------------------------------- bulk documents

ANDINA = ("CO", "9001234568")
#: Placeholder bytes for bulk documents: the benchmarks read lists, never the XML itself.
BULK_PLACEHOLDER = b"<Invoice><!-- bulk demo document: no XML kept --></Invoice>"
BULK_BATCH = 10_000
# How the lifecycle statuses and document types are spread (weights).
_STATUS_WEIGHTS = {
    "received": 20,
    "acknowledged": 15,
    "goods_received": 10,
    "accepted": 30,
    "claimed": 5,
    "tacitly_accepted": 20,
}
_TYPE_WEIGHTS = {"Invoice": 90, "CreditNote": 7, "DebitNote": 3}


def bulk_partner_tax_id(index: int) -> str:
    """Return the compact NIT (check digit included) of the index-th bulk partner company."""
    from stdnum.co import nit

    base = f"7{index:08d}"
    return base + nit.calc_check_digit(base)


def load_bulk(
    n: int,
    partners: int = 200,
    *,
    batch: int = BULK_BATCH,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Insert n documents between Distribuidora Andina and partners bulk partner companies.

    The partners are suppliers of Andina (one in five is also its customer); about nine documents
    in ten are received by Andina, the rest sent by it. The documents carry placeholder bytes,
    plausible amounts, issue dates over the last two years, spread statuses and due dates. Rows
    go in with Core executemany, batch rows per transaction. Return the number inserted.
    """
    andina = db.session.scalars(
        unscoped(select(Company).where(Company.country == ANDINA[0], Company.tax_id == ANDINA[1]))
    ).first()
    if andina is None:
        raise LookupError("Distribuidora Andina is missing: run `flask demo load` first")
    suppliers, customers = _bulk_partners(andina, max(1, partners))
    rng = random.Random(seed)
    today = utcnow().date()
    now = utcnow()
    first = (db.session.scalar(unscoped(select(func.max(Document.id)))) or 0) + 1
    statuses, status_w = list(_STATUS_WEIGHTS), list(_STATUS_WEIGHTS.values())
    types, type_w = list(_TYPE_WEIGHTS), list(_TYPE_WEIGHTS.values())
    table = Document.__table__
    signature = {"present": True, "valid": True, "role": "supplier"}
    done = 0
    while done < n:
        rows = []
        size = min(batch, n - done)
        kinds = rng.choices(types, type_w, k=size)
        states = rng.choices(statuses, status_w, k=size)
        for i in range(size):
            serial = first + done + i
            kind = kinds[i]
            if customers and rng.random() < 0.1:
                sender, receiver = andina, rng.choice(customers)
            else:
                sender, receiver = rng.choice(suppliers), andina
            issue = today - dt.timedelta(days=rng.randrange(730))
            base = Decimal(rng.randrange(5_000_000, 5_000_000_000)) / 100
            tax = (base * Decimal("0.19")).quantize(Decimal("0.01"))
            payable = base + tax
            status = states[i]
            if kind == "CreditNote":
                open_balance, payment = Decimal("0"), "unpaid"
            else:
                payment = rng.choices(("unpaid", "partially_paid", "paid"), (60, 10, 30))[0]
                open_balance = {
                    "unpaid": payable,
                    "partially_paid": (payable / 2).quantize(Decimal("0.01")),
                    "paid": Decimal("0"),
                }[payment]
            prefix = {"Invoice": "FV", "CreditNote": "NC", "DebitNote": "ND"}[kind]
            number = f"{prefix}B{serial}"
            created = dt.datetime.combine(issue, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(
                seconds=rng.randrange(36_000)
            )
            rows.append(
                {
                    "sender_company_id": sender.id,
                    "receiver_company_id": receiver.id,
                    "customer_country": receiver.country,
                    "customer_tax_id": receiver.tax_id,
                    "supplier_name": sender.legal_name,
                    "supplier_tax_id": sender.tax_id,
                    "customer_name": receiver.legal_name,
                    "customer_email": None,
                    "document_type": kind,
                    "number": number,
                    "cufe": hashlib.sha384(f"{sender.tax_id}{number}".encode()).hexdigest(),
                    "issue_date": issue,
                    "due_date": None if kind == "CreditNote" else issue + dt.timedelta(days=30),
                    "currency": "COP",
                    "line_extension": base,
                    "tax_exclusive": base,
                    "tax_inclusive": payable,
                    "payable": payable,
                    "open_balance": open_balance,
                    "paid_amount": Decimal("0") if kind == "CreditNote" else payable - open_balance,
                    "status": status,
                    "status_changed_at": None
                    if status == "received"
                    else min(created + dt.timedelta(days=rng.randrange(1, 5)), now),
                    "payment_status": payment,
                    "origin": "xml",
                    "is_legal": True,
                    "original": BULK_PLACEHOLDER,
                    "filename": f"{number}.xml",
                    "findings": [],
                    "signature": signature,
                    "related_document_id": None,
                    "submitted_by_user_id": None,
                    "created_at": created,
                    "received_at": created,
                }
            )
        db.session.execute(table.insert(), rows)
        db.session.commit()
        done += size
        if progress is not None:
            progress(done, n)
    return done


def _bulk_partners(andina: Company, count: int) -> tuple[list[Company], list[Company]]:
    """Create (or reuse) count supplier companies partnered with Andina; return them and the
    fifth of them that are also Andina's customers."""
    wanted = [bulk_partner_tax_id(i) for i in range(1, count + 1)]
    existing = {
        c.tax_id: c
        for c in db.session.scalars(
            unscoped(select(Company).where(Company.country == "CO", Company.tax_id.in_(wanted)))
        )
    }
    now = utcnow()
    for i, tax_id in enumerate(wanted, start=1):
        if tax_id in existing:
            continue
        company = Company(
            legal_name=f"Proveedor {i:04d} S.A.S.",
            trade_name=f"Proveedor {i:04d}",
            country="CO",
            tax_id=tax_id,
            contact_email=f"facturacion@proveedor{i:04d}.demo.test",
        )
        db.session.add(company)
        db.session.flush()
        existing[tax_id] = company
        links = [(company.id, andina.id)]
        if i % 5 == 0:
            links.append((andina.id, company.id))
        for supplier_id, customer_id in links:
            db.session.add(
                Partnership(
                    supplier_id=supplier_id,
                    customer_id=customer_id,
                    requested_by_id=andina.id,
                    status=ACTIVE,
                    responded_at=now,
                )
            )
    db.session.commit()
    suppliers = [existing[t] for t in wanted]
    return suppliers, [c for i, c in enumerate(suppliers, start=1) if i % 5 == 0]
