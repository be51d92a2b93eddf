"""Redirects to a target a user supplied (``?next=``, the Referer): only to a page of this site.

Every view that redirects somewhere it was told to go asks here. A target is accepted only when
it is a plain path of this application:

- no control character, whitespace, invisible format character or backslash anywhere, also
  once or twice percent-decoded (browsers and Werkzeug drop or rewrite those, which is how
  ``/\\t/evil.example`` becomes ``//evil.example`` in a ``Location`` header);
- no scheme, no host, no ``//`` anywhere in the path, no ``.``/``..`` segments, nothing
  percent-encoded in the path and nothing outside printable ASCII in it (full-width ``／``);
- the path must match a route of the app that answers GET.

The query string is kept only when it parses cleanly, and is written back encoded by us. What we
return is built from those checked pieces, never the text as given.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

MAX_LENGTH = 4096

# What a path of this app may contain once Werkzeug has decoded ?next= (no "%", no "\\").
_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


def _unsafe_char(text: str) -> bool:
    """Tell whether text holds a control, format, separator/whitespace character or backslash."""
    for char in text:
        if char == "\\" or char.isspace():
            return True
        if unicodedata.category(char)[0] in ("C", "Z"):
            return True
    return False


def _decodings(text: str) -> list[str]:
    """The text as given and percent-decoded once and twice (what some reader may see)."""
    once = unquote(text, errors="replace")
    return [text, once, unquote(once, errors="replace")]


def _route_path(path: str) -> str | None:
    """Return path if a GET route of the app answers it (or the path it redirects to), else None."""
    adapter = current_app.url_map.bind("")
    for _ in range(2):
        try:
            adapter.match(path, method="GET")
        except RequestRedirect as moved:  # "/team" → "/team/" (strict slashes)
            path = urlsplit(moved.new_url).path
            continue
        except HTTPException:
            return None
        return path
    return None


def _safe_path(path: str) -> str | None:
    if not _PATH.fullmatch(path) or "//" in path:
        return None
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        return None
    routed = _route_path(path)
    if routed is None or not _PATH.fullmatch(routed) or "//" in routed:
        return None
    return routed


def _safe_query(query: str) -> str | None:
    """Return the query re-encoded, or None when any of it is unsafe or malformed."""
    if not query:
        return ""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    for key, value in pairs:
        for text in (key, value):
            # A plain space in a search box is fine ("a b"): it is written back as "+".
            if any(_unsafe_char(stage.replace(" ", "")) for stage in _decodings(text)):
                return None
    return urlencode(pairs)


def safe_next_url(value: object, default: str) -> str:
    """Return value when it is a path of this site (see the module docstring), else default.

    default is trusted (build it with url_for). The fragment (``#...``) is dropped; the query
    string is kept only when it is safe, otherwise the path alone is used.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    if _unsafe_char(value):  # raw: anywhere, the query string included
        return default
    path, _, rest = value.partition("?")
    path, query = path.split("#", 1)[0], rest.split("#", 1)[0]
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return default
    for stage in _decodings(path):
        if _unsafe_char(stage) or "//" in stage or not stage.startswith("/"):
            return default
        try:
            parts = urlsplit(stage)
        except ValueError:
            return default
        if parts.scheme or parts.netloc:
            return default
    checked = _safe_path(path)
    if checked is None:
        return default
    safe_query = _safe_query(query)
    return f"{checked}?{safe_query}" if safe_query else checked


def safe_referrer_url(default: str) -> str:
    """Return the page the browser came from when it is a page of this site, else default."""
    referrer = request.referrer or ""
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return default
    own = urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
        return default
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    # The Referer is sent percent-encoded: the path of a page of ours has nothing encoded.
    return safe_next_url(target, default)
