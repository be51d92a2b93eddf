"""Rendered fragments kept in the process, for parts of a page that are a pure function of a key."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import render_template
from markupsafe import Markup


class FragmentCache:
    """The last size renderings of fragments, by key (least recently used ones dropped)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, template: str, key: Hashable | None, **context: Any) -> Markup:
        """Render template with context, or return its rendering for the same key.

        The key must hold everything the rendering depends on; None renders without keeping it.
        """
        if key is not None:
            with self._lock:
                html = self._items.get(key)
                if html is not None:
                    self._items.move_to_end(key)
                    return html
        html = Markup(render_template(template, **context))  # noqa: S704 (a Jinja rendering)
        if key is not None:
            with self._lock:
                self._items[key] = html
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return html
