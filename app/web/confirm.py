"""Irreversible actions ask first, in one place: every route that does one calls ``ask_first``.

A form posts to its action as usual. Without ``confirm=1`` the route answers a page naming what
will happen, with a form that posts the same fields again with the CSRF token and
``confirm=1``; the action runs only then. So the server is the authority: a form posted without
JavaScript, or by a script, never acts unasked.

With JavaScript, a button or form marked ``data-confirm`` (``macros/confirm.html``) is posted
first by ``app.js`` with the header ``X-Confirm: ask``: the answer is the same confirmation as a
``<dialog>`` fragment, shown modally; a 204 says this time there is nothing to confirm (a bulk
acknowledgement), and the form is then submitted as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, make_response, request

from app.web.htmx import render

FIELD = "confirm"


@dataclass(frozen=True)
class Notice:
    """A warning beside the consequence, with an optional link (to fix what is missing)."""

    text: Any
    link: str = ""
    link_text: Any = ""


def confirmed() -> bool:
    """Tell whether this POST carries the confirmation (confirm=1)."""
    return request.form.get(FIELD) == "1"


def asking() -> bool:
    """Tell whether app.js only asks what the action would need confirmed (X-Confirm: ask)."""
    return request.headers.get("X-Confirm") == "ask"


def ask_first(
    consequence: Any,
    *,
    title: Any,
    button: Any,
    back: str,
    details: Iterable[Any] = (),
    notices: Iterable[Notice] = (),
    needed: bool = True,
) -> Response | None:
    """Return the confirmation page of this POST, or None when the action may run now.

    consequence names what will happen ("Acceptance is final and is sent to the supplier");
    back is where "Cancel" leads without JavaScript; needed=False lets the action run unasked
    (a probe from app.js then gets a 204).
    """
    if confirmed():
        return None
    if not needed:
        return make_response("", 204) if asking() else None
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", FIELD)
    ]
    query = request.query_string.decode("latin-1")
    return render(
        "confirm/page.html",
        "confirm/_dialog.html",
        title=title,
        consequence=consequence,
        button=button,
        back=back,
        details=list(details),
        notices=list(notices),
        fields=fields,
        action=request.script_root + request.path + (f"?{query}" if query else ""),
    )
