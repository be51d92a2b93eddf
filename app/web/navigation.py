"""The portal's main navigation, grouped by what people do, and its icons.

``NAVIGATION`` is the whole menu: app/templates/layouts/_nav.html draws it as a sidebar on a
wide screen and as a menu behind one button on a phone. Each link names the permission its
page requires, so nobody is shown a link that would answer 403. A new area is one more
``NavGroup`` line (Payments, Commerce…); a new page one more ``NavItem``.

Icons are symbols of one sprite (lucide, built by scripts/build_icons.py); ``icon(name)``
writes the ``<svg><use></svg>`` that shows one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.web.auth import can, membership

ICON_SPRITE = "vendor/lucide-1.87.0-sprite.svg"


@dataclass(frozen=True, slots=True)
class NavCount:
    """A live count beside a link: an htmx fragment loaded now and again on these events."""

    id: str
    endpoint: str
    trigger: str


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str  # data-testid="nav-KEY"
    endpoint: str
    label: str
    icon: str
    permission: str
    count: NavCount | None = None
    also: tuple[str, ...] = ()  # other endpoints of the same place (marked current too)


@dataclass(frozen=True, slots=True)
class NavGroup:
    key: str
    label: str
    icon: str
    items: tuple[NavItem, ...]


def _item(key, endpoint, label, icon, permission="company.view", count=None, also=()) -> NavItem:
    return NavItem(key, endpoint, label, icon, permission, count, also)


NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup("home", _l("Home"), "house", (_item("home", "main.index", _l("Home"), "house"),)),
    NavGroup("documents", _l("Documents"), "file-text", (
        _item("received", "inbox.received", _l("Received"), "inbox"),
        _item("sent", "inbox.sent", _l("Sent"), "send"),
        _item("upload", "documents.upload", _l("Send invoices"), "file-up", "documents.issue"),
        _item("issue", "issuing.invoice", _l("Issue invoice"), "file-plus", "documents.issue"),
    )),
    NavGroup("disputes", _l("Disputes"), "message-square-warning", (
        _item("disputes", "disputes.index", _l("Disputes"), "message-square-warning",
              count=NavCount("disputes-nav", "disputes.nav",
                             "load, dispute-changed from:body, dispute-activity from:body")),
    )),
    NavGroup("payments", _l("Payments"), "wallet", (
        _item("payments", "payments.received", _l("Payments received"), "wallet",
              also=("payments.index", "payments.show")),
        _item("paymentsmade", "payments.made", _l("Payments made"), "send"),
        _item("gateways", "payments.gateways_page", _l("Gateways"), "credit-card",
              "documents.issue", also=("payments.settings",)),
        _item("reconciliation", "reconciliation.index", _l("Reconciliation"), "scroll-text",
              also=("reconciliation.account", "reconciliation.line", "reconciliation.review",
                    "reconciliation.rules_page", "reconciliation.new_rule",
                    "reconciliation.edit_rule")),
    )),
    NavGroup("commerce", _l("Commerce"), "store", (
        _item("shop", "orders.shop", _l("Order"), "shopping-cart", "orders.place",
              also=("orders.view_cart",)),
        _item("orders", "orders.index", _l("My orders"), "clipboard-list", "orders.place",
              also=("orders.tolerances",)),
        _item("incoming", "orders.received", _l("Orders received"), "inbox",
              "catalog.manage"),
        _item("catalog", "catalog.index", _l("Catalog"), "package", "catalog.manage",
              also=("catalog.item", "catalog.new_item", "catalog.suggestions_page",
                    "catalog.import_file")),
    )),
    NavGroup("network", _l("Network"), "network", (
        _item("partners", "network.index", _l("Partners"), "users", "network.view"),
        _item("directory", "network.directory", _l("Directory"), "book-user", "network.view"),
    )),
    NavGroup("company", _l("Company"), "building-2", (
        _item("team", "team.index", _l("Team"), "users", "team.view"),
        _item("certificate", "company.certificate", _l("Certificate"), "shield-check"),
        _item("numbering", "issuing.numbering", _l("Numbering"), "hash", "documents.issue"),
        _item("api", "company.api_tokens_index", _l("API and webhooks"), "webhook", "api.manage",
              also=("company.webhooks_index",)),
        _item("audit", "audit.index", _l("Audit"), "scroll-text", "audit.view"),
    )),
)  # fmt: skip


def main_navigation() -> list[tuple[NavGroup, list[NavItem]]]:
    """Return the groups and, in each, the links the acting member's role may open."""
    shown = []
    for group in NAVIGATION:
        items = [item for item in group.items if can(item.permission)]
        if items:
            shown.append((group, items))
    return shown


def is_current(item: NavItem) -> bool:
    """Tell whether the link leads to the page being shown (it gets aria-current)."""
    return request.endpoint == item.endpoint or request.endpoint in item.also


def main_menu() -> Markup:
    """Return the menu's HTML (layouts/_nav.html) for this request.

    What it shows depends only on the language, the role, where the app is mounted and which
    link is the current page, so each such menu is rendered once per process and reused: the
    layout costs every page a dictionary lookup instead of fifteen links' worth of Jinja.
    """
    m = membership()
    current = next((i.key for grp in NAVIGATION for i in grp.items if is_current(i)), None)
    key = (str(get_locale()), m.role if m else None, request.script_root, current)
    cache = current_app.extensions.setdefault("main_menu", {})
    html = cache.get(key)
    if html is None:
        if len(cache) > 1024:  # a bound, never reached with a few roles, languages and links
            cache.clear()
        html = cache[key] = Markup(render_template("layouts/_nav.html"))  # noqa: S704 (Jinja escaped it)
    return html


def icon(name: str, css: str = "icon") -> Markup:
    """Return a decorative icon of the sprite: the text beside it says what it means."""
    href = g.get("icon_sprite")
    if href is None:
        href = g.icon_sprite = url_for("static", filename=ICON_SPRITE)
    return Markup(  # noqa: S704 (both values escaped)
        f'<svg class="{escape(css)}" aria-hidden="true" focusable="false">'
        f'<use href="{escape(href)}#{escape(name)}"></use></svg>'
    )
