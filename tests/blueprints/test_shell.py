"""The app shell (app/templates/layouts, app/web/navigation.py): the grouped navigation each
role is shown, the icons, the favicon and every page's title."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import event

from app.extensions import db
from app.permissions import ROLE_PERMISSIONS
from app.web import navigation
from app.web.navigation import ICON_SPRITE, NAVIGATION
from tests.conftest import login, make_company, make_user

STATIC = Path(navigation.__file__).resolve().parent.parent / "static"
TEMPLATES = STATIC.parent / "templates"
GROUPS = ("documents", "disputes", "payments", "commerce", "network", "company")
ALL_LINKS = {item.key for group in NAVIGATION for item in group.items}
# What a role must not be shown: the pages it would be refused.
HIDDEN = {
    "owner": set(),
    "admin": set(),
    "payables": {"upload", "issue", "numbering", "api", "audit", "gateways", "catalog",
                 "incoming"},
    "receivables": {"api", "audit", "catalog", "incoming", "shop", "orders"},
    "sales": {"upload", "issue", "numbering", "api", "audit", "gateways", "shop", "orders"},
    "viewer": {"upload", "issue", "numbering", "api", "audit", "gateways", "catalog",
               "incoming", "shop", "orders"},
}
NAV_LINK = re.compile(r'<a href="([^"]+)" data-testid="nav-([a-z]+)"')


def page(client, path: str = "/inbox/received") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def nav_links(html: str) -> dict[str, str]:
    """Return the main navigation's links as {key: href}."""
    menu = html.split('data-testid="nav-menu"', 1)[1].split("</details>", 1)[0]
    return {key: href for href, key in NAV_LINK.findall(menu)}


def signed_in(client, role: str):
    company = make_company("Andina")
    user = make_user(company, role=role, name=f"Colega {role}")
    login(client, user, company)
    return company, user


def test_are_the_groups_shown_to_an_owner_with_every_link(client):
    signed_in(client, "owner")
    html = page(client)

    for group in GROUPS:
        assert f'data-nav-group="{group}"' in html
    assert set(nav_links(html)) == ALL_LINKS
    # The menu is a <details> (works without JavaScript); the disputes link keeps its live count.
    assert re.search(r'<details class="nav-menu"[^>]*>\s*<summary', html)
    assert 'id="disputes-nav"' in html and 'data-testid="nav-disputes"' in html


@pytest.mark.parametrize("role", sorted(HIDDEN))
def test_does_each_role_see_only_the_links_it_may_open(app, client, role):
    """Every link shown opens (200), every link left out would be refused (403)."""
    assert set(ROLE_PERMISSIONS) == set(HIDDEN)  # a new role must be added here
    signed_in(client, role)
    links = nav_links(page(client, "/team/"))

    assert set(links) == ALL_LINKS - HIDDEN[role]
    for key, href in links.items():
        assert client.get(href).status_code == 200, (role, key, href)
    endpoints = {item.key: item.endpoint for group in NAVIGATION for item in group.items}
    with app.test_request_context():
        from flask import url_for

        for key in HIDDEN[role]:
            assert client.get(url_for(endpoints[key])).status_code == 403, (role, key)


def test_does_a_viewer_see_no_issuing_and_no_audit(client):
    signed_in(client, "viewer")
    html = page(client)
    for testid in ("nav-issue", "nav-upload", "nav-audit", "nav-numbering", "nav-api"):
        assert f'data-testid="{testid}"' not in html
    for testid in ("nav-received", "nav-sent", "nav-disputes", "nav-partners", "nav-team"):
        assert f'data-testid="{testid}"' in html


def test_is_the_page_shown_marked_current_in_the_menu(client):
    signed_in(client, "owner")
    for path, key in (("/inbox/sent", "sent"), ("/team/", "team"), ("/company/webhooks", "api")):
        current = re.findall(r'data-testid="nav-([a-z]+)" aria-current="page"', page(client, path))
        assert current == [key], path


def test_is_there_no_menu_for_someone_signed_out(client):
    html = page(client, "/auth/login")
    assert 'data-testid="nav-menu"' not in html
    assert 'data-testid="switch-language"' in html


def test_does_the_bell_show_an_icon_and_keep_its_hooks(client):
    signed_in(client, "owner")
    html = page(client)
    bell = html.split('data-testid="bell"', 1)[1].split("</details>", 1)[0]
    assert re.search(r'<svg class="icon" aria-hidden="true"[^>]*><use href="[^"]+#bell">', bell)
    assert "&#128276;" not in html and "\U0001f514" not in html  # no emoji box
    for hook in ("data-bell-badge", 'id="bell-fragment"', 'id="bell-poll"'):
        assert hook in bell


def test_is_every_icon_the_pages_use_in_the_sprite(client):
    sprite = ET.parse(STATIC / ICON_SPRITE).getroot()  # noqa: S314 (our own file)
    symbols = {el.get("id") for el in sprite.iter("{http://www.w3.org/2000/svg}symbol")}
    used = {g.icon for g in NAVIGATION} | {i.icon for g in NAVIGATION for i in g.items}
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r'icon\("([a-z0-9-]+)"', template.read_text(encoding="utf-8")))
    assert used and used <= symbols, used - symbols
    assert re.search(r"lucide-\d+\.\d+\.\d+-sprite\.svg$", ICON_SPRITE)  # the version in the name
    signed_in(client, "owner")
    served = client.get(re.search(r'<use href="([^"#]+)#', page(client)).group(1))
    assert served.status_code == 200 and b'<symbol id="bell"' in served.data


def test_is_the_favicon_linked_and_served_as_svg(client):
    for html in (page(client, "/auth/login"), (signed_in(client, "viewer"), page(client))[1]):
        href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html).group(1)
        response = client.get(href)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert ET.fromstring(response.data).tag == "{http://www.w3.org/2000/svg}svg"  # noqa: S314
    # Browsers also ask /favicon.ico on their own: the same icon, not a 404 in the console.
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


TITLE = re.compile(r"<title>\s*(.+?)\s*·\s*Portal</title>", re.S)


def test_does_every_page_have_its_own_title(client):
    """Each page says what it is in the window's title: "Page · Portal"."""
    assert TITLE.search(page(client, "/auth/login")).group(1) in ("Iniciar sesión", "Sign in")
    signed_in(client, "owner")
    titles = {}
    for href in nav_links(page(client)).values():
        titles[href] = TITLE.search(page(client, href)).group(1)
    for path in ("/company/", "/auth/profile", "/auth/password", "/notifications"):
        titles[path] = TITLE.search(page(client, path)).group(1)
    assert all(titles.values()), titles
    generic = {"Red empresarial", "Business network"}
    assert not generic & set(titles.values()), titles
    # The pages the menu leads to are told apart by their titles.
    menu_titles = [titles[href] for href in nav_links(page(client)).values()]
    assert len(set(menu_titles)) == len(menu_titles), menu_titles


def test_does_the_menu_ask_the_database_nothing(app):
    """The navigation is drawn from the role already loaded: the layout costs no query."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.test_request_context("/inbox/received"):
        from flask import g

        from app.models import Membership

        g.membership = Membership(company_id=1, user_id=1, role="owner")  # as the request loads it
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            shown = navigation.main_navigation()
            html = "".join(navigation.icon(item.icon) for _, items in shown for item in items)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert [group.key for group, _ in shown][1:] == list(GROUPS)
    assert html.count("<svg") == len(ALL_LINKS)
    assert statements == []


@pytest.mark.parametrize(
    ("locale", "documents", "received"),
    [("es", "Documentos", "Recibidos"), ("en", "Documents", "Received")],
)
def test_is_the_menu_in_each_users_language(client, locale, documents, received):
    """The menu is reused between pages: one language's never reaches another's user."""
    company = make_company("Andina")
    for n, language in enumerate(
        ("es", "en", locale)
    ):  # the other language's menu is rendered first
        user = make_user(company, role="owner", locale=language, email=f"{n}-{language}@x.test")
        login(client, user, company)
        html = page(client)
    menu = html.split('data-testid="nav-menu"', 1)[1].split("</details>", 1)[0]
    assert f">{documents}</span></div>" in menu
    assert f'<span class="nav-label">{received}</span>' in menu
