"""Conditional GETs of signed-in pages: an ETag from what the page shows, 304 when it is the same.

A page that can say cheaply what it shows (the Inbox's trays: the company's tray version,
``app.models.tray_version``, raised by the database with every change a tray shows) answers a
repeat view with ``304 Not Modified`` instead of reading and rendering it again.

The validator is a digest of everything the answer depends on: what the route says its content
shows, the URL (path and query string), page or htmx fragment, the release (templates, code and
translations), and what the layout around it shows — the user (name, e-mail, whether confirmed),
the acting company and role, the user's companies (the switcher), the language — and the
session's CSRF token, which the page's forms carry. A digest, so it tells nothing of them; a
user, a company or a session never matches another's.

Such answers say ``Cache-Control: private, no-cache`` instead of the portal's ``no-store``
(``app.web.headers``): ``private`` keeps them out of every shared cache (proxies, CDNs;
RFC 9111 §5.2.2.7), ``no-cache`` makes the browser ask before each reuse (§5.2.2.4), so a
change, a sign-out (a new session, a new token) or another company shows at once. Signing out
also sends ``Clear-Site-Data: "cache"``, which empties the browser's copies on a shared computer.
A page with a flashed message gets no ETag: showing it consumes the message.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Hashable
from pathlib import Path

from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.web.headers import PRIVATE_REVALIDATE
from app.web.htmx import is_htmx


@functools.cache
def release(root: str) -> str:
    """Return a digest of the app's templates, code and translations (what renders a page)."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        if path.suffix in (".html", ".py", ".mo") and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page_etag(*shown: Hashable) -> str | None:
    """Return the weak ETag of this page for this session, or None when it may not have one.

    shown is what the route's content shows (a version number that every change raises, the
    day…); the rest — URL, layout, user, company, language, session — is added here.
    """
    m = g.get("membership")
    if m is None or not current_user.is_authenticated or session.get("_flashes"):
        return None
    loaded = g.get("memberships")
    companies = loaded[1] if loaded and loaded[0] == current_user.id else ()
    generate_csrf()  # the session's token exists before it is read (the page's forms carry it)
    parts = (
        release(current_app.root_path),
        current_app.config["ENV_NAME"],
        request.script_root,
        request.full_path,
        is_htmx(),
        str(get_locale()),
        current_user.id,
        current_user.name,
        current_user.email,
        current_user.email_confirmed,
        current_user.timezone,  # the times a page shows
        m.company_id,
        m.role,
        m.company.display_name,
        tuple((x.company_id, x.company.display_name) for x in companies),
        session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), ""),
        shown,
    )
    return 'W/"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def not_modified(etag: str | None) -> Response | None:
    """Return a 304 when the browser's copy has this ETag (If-None-Match), else None."""
    if etag is None or not request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        return None
    return revalidated(Response(status=304), etag)


def revalidated(response: Response, etag: str | None) -> Response:
    """Give a 200 (or its 304) the ETag and let the browser keep it, asking before each use."""
    if etag is None or response.status_code not in (200, 304):
        return response
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = PRIVATE_REVALIDATE
    response.vary.update(("HX-Request", "Cookie"))
    return response
