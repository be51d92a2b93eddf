"""Roles and what each may do: declared once, checked by app.web.auth.require_permission."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OWNER, ADMIN, PAYABLES, RECEIVABLES, SALES, VIEWER = (
    "owner",
    "admin",
    "payables",
    "receivables",
    "sales",
    "viewer",
)

ROLE_LABELS = {
    OWNER: _l("Owner"),
    ADMIN: _l("Administrator"),
    PAYABLES: _l("Accounts payable"),
    RECEIVABLES: _l("Accounts receivable"),
    SALES: _l("Sales"),
    VIEWER: _l("Viewer"),
}

# Roles an administrator can give when inviting or changing a colleague (ownership is not given).
ASSIGNABLE_ROLES = (ADMIN, PAYABLES, RECEIVABLES, SALES, VIEWER)

PERMISSIONS = {
    "company.view": _l("See the company's workspace"),
    "company.manage": _l("Edit the company's profile"),
    "team.view": _l("See the team"),
    "team.manage": _l("Invite colleagues, change roles, deactivate members"),
    "network.view": _l("See the directory and partners"),
    "network.manage": _l("Connect with partners and invite them"),
    "documents.receive": _l("Receive and process supplier invoices"),
    "documents.issue": _l("Issue invoices and collect"),
    "reconciliation.manage": _l("Import bank statements and reconcile them"),
    "catalog.manage": _l("Manage the catalog and orders"),
    "orders.place": _l("Order from suppliers' catalogs"),
    "disputes.participate": _l("Open disputes on documents and write in them"),
    "audit.view": _l("See the access audit"),
    "api.manage": _l("Manage API tokens"),
}

_EVERYONE = {"company.view", "team.view", "network.view"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OWNER: frozenset(PERMISSIONS),
    ADMIN: frozenset(PERMISSIONS),
    PAYABLES: frozenset(
        _EVERYONE
        | {"documents.receive", "network.manage", "disputes.participate", "reconciliation.manage",
           "orders.place"}
    ),
    RECEIVABLES: frozenset(
        _EVERYONE
        | {"documents.issue", "network.manage", "disputes.participate", "reconciliation.manage"}
    ),
    SALES: frozenset(_EVERYONE | {"catalog.manage", "network.manage"}),
    VIEWER: frozenset(_EVERYONE),
}


def role_can(role: str | None, permission: str) -> bool:
    """Tell whether the role holds the permission."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role or "", frozenset())
