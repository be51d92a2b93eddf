"""Turn errors into pages or fragments a user understands; never a bare 500 for bad input."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, flash, redirect, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from app.blueprints.api import errors as api_errors
from app.extensions import db
from app.services.errors import DomainError
from app.web.htmx import is_htmx, render
from app.web.input_guard import refuse_nul
from app.web.redirects import safe_referrer_url

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("Your role does not allow this."),
    404: lambda: _("This page does not exist, or you do not have access to it."),
    405: lambda: _("This action is not available here."),
    413: lambda: _("The file is too large."),
    415: lambda: _("This page takes a form, not JSON."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Please try again."),
}


def _error_page(status: int, message: Any) -> Any:
    return render("errors/error.html", "errors/_error.html", status=status, code=status,
                  message=message)


#: The largest id a table holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class BoundedInt(IntegerConverter):
    """``<int:...>`` in a page's URL: an id too large for the database does not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers for HTTP errors, CSRF failures and uncaught DomainErrors.

    Under /api/ every error is answered in the API's JSON shape instead, even a 404 or 405 the
    router raises before any API view (so before a blueprint-scoped handler could) is found.
    """
    app.url_map.converters["int"] = BoundedInt

    @app.before_request
    def pages_take_forms() -> None:
        # The pages post forms. Flask-WTF would read a JSON body as the form's data and fail on
        # a list or a number; only the API takes JSON.
        if request.method in ("GET", "HEAD", "OPTIONS") or api_errors.is_api_request():
            return
        # Gateways post their signed webhooks as JSON (Stripe, Wompi): not a page.
        if request.is_json and request.blueprint != "gateway_webhooks":
            abort(415)

    @app.before_request
    def no_nul_characters() -> None:
        # A NUL is never typed: PostgreSQL refuses it in any text, so a query, a form or a JSON
        # body holding one is refused here, the same on both databases, before any view.
        # (Not ?next=, which only chooses where to land and is checked as such: a hostile link
        # to the sign-in page still signs the person in, landing on the home page.) An API call
        # is checked once its token is (``require_token``): without a valid one it is told 401,
        # whatever it holds.
        if not api_errors.is_api_request():
            refuse_nul()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return _error_page(400, _("Your session expired or the form is stale. Reload the page "
                                  "and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if api_errors.is_api_request():
            return api_errors.http_error(error)
        status = error.code or 500
        # A description set on purpose (not Werkzeug's default for browsers) is the message.
        custom = bool(error.description) and error.description != type(error).description
        description = error.description if custom and status in (400, 403) else None
        message = description or MESSAGES.get(status, lambda: error.name)()
        return _error_page(status, message)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def number_too_large(error: Exception) -> Any:
        # An id or number typed in a query or a form beyond what the database stores (a URL's
        # ids are bounded by the router: see BoundedInt). Any other DataError is a fault.
        if isinstance(error, DataError) and "out of range" not in str(error.orig):
            raise error
        db.session.rollback()  # PostgreSQL refuses anything more in the failed transaction
        if api_errors.is_api_request():
            return api_errors.http_error(BadRequest())
        return _error_page(400, _("A number in the request is too large."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Any:
        if api_errors.is_api_request():
            return api_errors.domain_error(error)
        if is_htmx() or request.method == "GET":
            return _error_page(error.status, error.message)
        flash(str(error.message), "error")
        return redirect(safe_referrer_url("/"), code=303)
