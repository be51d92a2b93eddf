"""Rendered fragments kept in the process, for parts of a page that are a pure function of a key.

A fragment may hold forms: it is rendered with a placeholder where the CSRF token goes, and every
request that serves it puts its own session's token there (``with_csrf``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

#: What a kept fragment holds where a form's CSRF token goes (a token is URL-safe base64 and
#: dots: it never contains this, and nothing a user types reaches a page unescaped as it).
CSRF_PLACEHOLDER = "\x00csrf-token\x00"


def placeholder_csrf() -> str:
    """Stand in for the ``csrf_token()`` template global while rendering a fragment to keep."""
    return CSRF_PLACEHOLDER


def with_csrf(html: str) -> Markup:
    """Put this request's CSRF token where a kept fragment has the placeholder."""
    if CSRF_PLACEHOLDER not in html:
        return Markup(html)  # noqa: S704 (a Jinja rendering)
    return Markup(html.replace(CSRF_PLACEHOLDER, generate_csrf()))  # noqa: S704


class FragmentCache:
    """The last size renderings of fragments, by key (least recently used ones dropped).

    size 0 keeps nothing (every call renders).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, template: str, key: Hashable | None, **context: Any) -> Markup:
        """Render template with context, or return its rendering for the same key.

        The key must hold everything the rendering depends on; None renders without keeping it.
        """

        def produce() -> tuple[Markup, bool]:
            html = render_template(template, **context)
            return Markup(html), True  # noqa: S704 (a Jinja rendering)

        return self.get_or_make(key, produce)

    def get_or_make(
        self, key: Hashable | None, produce: Callable[[], tuple[Markup, bool]]
    ) -> Markup:
        """Return what is kept for key, or produce() it and keep it if produce says it may."""
        if key is not None and self.size:
            with self._lock:
                html = self._items.get(key)
                if html is not None:
                    self._items.move_to_end(key)
                    return html
        html, keep = produce()
        if key is not None and keep and self.size:
            with self._lock:
                self._items[key] = html
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return html

    def clear(self) -> None:
        """Forget every kept rendering (tests start from empty databases)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# ------------------------------------------------------------------------------------ layouts

#: Layouts rendered around a placeholder, by everything layouts/base.html shows (layout_key).
LAYOUTS = FragmentCache(size=512)
CONTENT_PLACEHOLDER = "\x00page-content\x00"


def layout_key(template: str, **context: Hashable) -> Hashable | None:
    """Return what the page template around the content shows, or None to render it afresh.

    layouts/base.html shows the user (name, e-mail, whether confirmed), the acting company and
    role (its menu), the user's companies (the switcher), the language and the flashed messages;
    a page with messages to flash is rendered afresh (showing them consumes them).
    """
    if not current_user.is_authenticated or session.get("_flashes"):
        return None
    m = g.get("membership")
    loaded = g.get("memberships")
    if m is None or not loaded or loaded[0] != current_user.id:
        return None
    return (
        template,
        tuple(sorted(context.items())),
        str(get_locale()),
        request.script_root,
        current_user.id,
        current_user.name,
        current_user.email,
        current_user.email_confirmed,
        m.company_id,
        m.company.display_name,
        m.role,
        tuple((x.company_id, x.company.display_name) for x in loaded[1]),
        current_app.config["ENV_NAME"],
    )


def render_in_layout(template: str, content: str, **context: Hashable) -> Markup:
    """Render a page template (content shown as {{ content }}) around rendered content.

    The page around is kept by layout_key; content may hold CSRF placeholders: every one, the
    layout's and the content's, gets this request's token.
    """

    def produce() -> tuple[Markup, bool]:
        html = render_template(
            template,
            content=Markup(CONTENT_PLACEHOLDER),  # noqa: S704 (a constant)
            csrf_token=placeholder_csrf,
            **context,
        )
        return Markup(html), True  # noqa: S704 (a Jinja rendering)

    page = LAYOUTS.get_or_make(layout_key(template, **context), produce)
    before, _, after = page.partition(CONTENT_PLACEHOLDER)
    return with_csrf(str(before) + str(content) + str(after))
