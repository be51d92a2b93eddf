"""A supplier's gateway accounts: connected with keys kept encrypted (like certificates),
found by webhooks through an opaque public id, turned into adapters here only."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import gateways
from app.extensions import db
from app.gateways.base import Gateway
from app.models.payment import GATEWAYS, SANDBOX, GatewayConnection, PaymentSettings
from app.models.user import User
from app.services import audit, certificates
from app.services.errors import FieldErrors, NotFound
from app.tenancy import unscoped

#: Extra arguments for adapters, per gateway: tests hand Stripe's SDK a fake HTTP client
#: (``{"stripe": {"http_client": ...}}``) and Wompi a fake transport. Empty in production.
adapter_options: dict[str, dict[str, Any]] = {}

GATEWAY_NAMES = {
    SANDBOX: _l("Sandbox gateway (test payments)"),
    "stripe": "Stripe",
    "wompi": _l("Wompi (cards, PSE, Nequi)"),
}


def credentials_of(connection: GatewayConnection) -> dict[str, str]:
    data = certificates.decrypt(connection.credentials_encrypted)
    return json.loads(data.decode())


def adapter_for(connection: GatewayConnection) -> Gateway:
    """The adapter that speaks for this connection."""
    options = dict(adapter_options.get(connection.gateway, {}))
    if connection.gateway == SANDBOX:
        from app.services import sandbox_gateway

        options["sandbox_backend"] = sandbox_gateway.BACKEND
    return gateways.build(connection.gateway, credentials_of(connection), **options)


def connections(company_id: int, *, active_only: bool = False) -> list[GatewayConnection]:
    stmt = select(GatewayConnection).where(GatewayConnection.company_id == company_id)
    if active_only:
        stmt = stmt.where(GatewayConnection.active.is_(True))
    return list(db.session.scalars(stmt.order_by(GatewayConnection.id)))


def active_connection(company_id: int, gateway: str) -> GatewayConnection | None:
    """The supplier's connection a payer pays through (read across companies on purpose)."""
    return db.session.scalars(
        unscoped(
            select(GatewayConnection)
            .where(
                GatewayConnection.company_id == company_id,
                GatewayConnection.gateway == gateway,
                GatewayConnection.active.is_(True),
            )
            .order_by(GatewayConnection.id.desc())
            .limit(1)
        )
    ).first()


def by_public_id(gateway: str, public_id: str) -> GatewayConnection:
    """The connection a webhook URL names (a deliberate cross-company look-up: the gateway
    is not signed in); NotFound for an unknown, inactive or other gateway's id."""
    connection = db.session.scalars(
        unscoped(
            select(GatewayConnection).where(
                GatewayConnection.public_id == public_id[:40],
                GatewayConnection.gateway == gateway,
            )
        )
    ).first()
    if connection is None or not connection.active:
        raise NotFound(_l("No such gateway connection."))
    return connection


def connect_gateway(
    company_id: int, *, gateway: str, credentials: dict[str, str], label: str, actor: User | None
) -> GatewayConnection:
    """Check and store a gateway account's keys, encrypted; the keys are never shown again."""
    if gateway not in GATEWAYS:
        raise FieldErrors({"gateway": [_l("Choose one of the gateways offered.")]})
    module = gateways.module(gateway)
    errors: dict[str, list[Any]] = {}
    clean: dict[str, str] = {}
    for key, _label, _secret in module.CREDENTIAL_FIELDS:
        value = (credentials.get(key) or "").strip()
        if not value or len(value) > 300 or any(ch.isspace() for ch in value):
            errors[key] = [_l("Paste the value exactly as the gateway shows it.")]
        clean[key] = value
    checker = getattr(module, "credential_problems", None)
    for key, prefix in (checker(clean) if checker else {}).items():
        errors.setdefault(key, [_l("This key should start with %(prefix)s.", prefix=prefix)])
    if errors:
        raise FieldErrors(errors)
    main_key = clean[module.CREDENTIAL_FIELDS[0][0]]
    connection = GatewayConnection(
        company_id=company_id,
        gateway=gateway,
        public_id="gc_" + secrets.token_urlsafe(18),
        label=(label or "").strip()[:100] or str(GATEWAY_NAMES[gateway]),
        credentials_encrypted=certificates.encrypt(json.dumps(clean).encode()),
        key_hint="…" + main_key[-4:],
        test_mode=bool(module.is_test_mode(clean)),
        active=True,
        created_by_user_id=actor.id if actor else None,
    )
    db.session.add(connection)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "payments.gateway_connected",
        ("gateway_connection", connection.id),
        {"gateway": gateway, "test_mode": connection.test_mode},
    )
    return connection


def connect_sandbox(company_id: int, *, name: str, actor: User | None) -> GatewayConnection:
    """Open an account at the embedded sandbox gateway and connect it (what `make run` does
    for the demo suppliers, and the one-click choice on the gateways page)."""
    from app.services import sandbox_gateway

    public_id = "gc_" + secrets.token_urlsafe(18)
    account = sandbox_gateway.open_account(name, public_id)
    connection = connect_gateway(
        company_id,
        gateway=SANDBOX,
        credentials={
            "account_id": account.account_id,
            "secret_key": account.secret_key,
            "webhook_secret": account.webhook_secret,
        },
        label=str(GATEWAY_NAMES[SANDBOX]),
        actor=actor,
    )
    connection.public_id = public_id
    db.session.flush()
    return connection


def disconnect_gateway(company_id: int, *, connection_id: int, actor: User) -> GatewayConnection:
    connection = db.session.get(GatewayConnection, connection_id)
    if connection is None or connection.company_id != company_id:
        raise NotFound(_l("No such gateway connection."))
    connection.active = False
    audit.record_event(
        actor, company_id, "payments.gateway_disconnected", ("gateway_connection", connection.id)
    )
    return connection


def settings_of(company_id: int) -> PaymentSettings:
    """The supplier's payment settings (defaults when it never saved any: not stored)."""
    found = db.session.scalars(
        unscoped(select(PaymentSettings).where(PaymentSettings.company_id == company_id))
    ).first()
    return found or PaymentSettings(
        company_id=company_id,
        allow_partial=True,
        partial_minimum=Decimal("0"),
        accept_transfers=True,
        bank_name="",
        account_type="",
        account_number="",
        account_holder="",
        instructions="",
    )
