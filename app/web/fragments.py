"""Rendered fragments kept in the process, for parts of a page that are a pure function of a key.

A fragment may hold forms: it is rendered with a placeholder where the CSRF token goes, and every
request that serves it puts its own session's token there (``with_csrf``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import render_template
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
