"""Render a full page or just its fragment, decided in one place by the HX-Request header."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """Tell whether htmx sent this request (and not as a boosted full-page navigation)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render(
    page: str, fragment: str | None = None, *, status: int = 200, **context: Any
) -> Response:
    """Render the page, or only its fragment for an htmx request; vary the cache on it."""
    template = fragment if fragment and is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def form_errors(form: Any, error: Any) -> None:
    """Put a DomainError (or FieldErrors) next to the form fields it names."""
    errors = getattr(error, "errors", None) or {error.field: [error.message]}
    for name, messages in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
        else:
            form.form_errors.extend(messages)
