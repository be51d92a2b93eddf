"""What responses say about caching and about the server that sent them.

- Every answer but a static file carries ``Cache-Control: no-store``: signed-in pages and
  fragments, document downloads, every API answer (errors and token failures included), and the
  public pages too, since each carries a CSRF token and the layout of whoever asked. A shared
  or browser cache (the back button on a shared computer) keeps nothing of them. Static files
  (``/static/…``) keep Flask's own caching. The one exception is a page that answers conditional
  GETs (``app.web.conditional``, the Inbox's trays): with an ``ETag``, ``private, no-cache`` —
  no shared cache keeps it and the browser asks before each reuse.
- No ``Server`` header names software or versions. The app itself sets none (and removes one a
  view might set); Werkzeug's development server, which ``make run`` (``python wsgi.py``) serves
  with, would add ``Server: Werkzeug/x Python/y`` to every answer, so ``wsgi.py`` runs it with
  :class:`QuietRequestHandler`. Gunicorn sends ``Server: gunicorn`` with no version.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from werkzeug.serving import WSGIRequestHandler

NO_STORE = "no-store"
#: What app.web.conditional sets on pages with an ETag.
PRIVATE_REVALIDATE = "private, no-cache"


def cacheable(response: Response) -> bool:
    """Tell whether this answer may be kept by a cache: only the app's static files."""
    return request.endpoint == "static" and response.status_code < 400


def revalidated(response: Response) -> bool:
    """Tell whether a view made this a privately kept, always revalidated page (with an ETag)."""
    return (
        response.status_code in (200, 304)
        and "ETag" in response.headers
        and response.headers.get("Cache-Control") == PRIVATE_REVALIDATE
    )


def apply_cache_and_server_policy(response: Response) -> Response:
    """Set ``Cache-Control: no-store`` on everything but static files and revalidated pages;
    drop any ``Server``."""
    response.headers.pop("Server", None)
    if not cacheable(response) and not revalidated(response):
        response.headers["Cache-Control"] = NO_STORE
        response.headers.pop("Expires", None)
        response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the ``Server: Werkzeug/x Python/y`` header."""

    def send_response(self, code: int, message: Any = None) -> None:
        # http.server's send_response, less its Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
