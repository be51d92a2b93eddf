"""Characters no request may carry into the application: a NUL (PostgreSQL refuses it in any
text, so it is refused before it can reach the database, the same on both databases).

The pages are checked before any view (``app.web.errors``); an API call once its token is
(``require_token``), so that a call without a valid token is told to sign in first.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _


def refuse_nul() -> None:
    """Answer 400, saying why, when the request holds a NUL."""
    if _holds_nul():
        abort(400, description=_("The request holds a character that is not allowed (NUL)."))


def _holds_nul() -> bool:
    """Whether the request's query (``next`` aside), path, form fields or JSON body hold a NUL."""
    if any("\x00" in value for name, value in request.args.items(multi=True) if name != "next"):
        return True
    if any(isinstance(value, str) and "\x00" in value
           for value in (request.view_args or {}).values()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in value for _name, value in request.form.items(multi=True))
    if request.is_json:  # as an escape in a string or (not JSON, refused anyway) as itself
        body = request.get_data(cache=True)
        return b"\\u0000" in body or b"\x00" in body
    return False
