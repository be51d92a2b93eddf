"""Translated messages are text, never markup: in HTML each one is escaped, values and all.

Flask-Babel's ``lazy_gettext`` returns a ``LazyString`` whose ``__html__`` hands Jinja (and
``markupsafe.escape``, and the session's flash serializer) the interpolated text *unescaped*, as
if it were markup. So ``_l("Already connected to %(name)s", name=trade_name)`` raised as a
DomainError and rendered with ``{{ error.message }}`` put a company's name into another
company's page as HTML. This module makes a lazy string behave like the ``str`` it stands for:
escaped by autoescaping like any other text. It is installed once, when ``app.extensions``
(which creates Babel) is imported, so every ``_l``/``lazy_ngettext``/``LazyString(...)`` of the
app, of WTForms' labels and validators and of any module is covered, with no call site to
remember.

Why "the whole message is text" rather than "the format is markup, the values are escaped":
no message of the catalog is markup (one, ``Bearer <token>``, is literal text with angle
brackets), and the same messages go to JSON answers, text e-mails, CSV and PDF, where escaping
would be wrong. ``gettext`` already returns a plain ``str`` (autoescaped). In templates, Jinja's
own ``_()`` (installed by Flask-Babel with ``newstyle=True``) keeps its literal format as markup
and escapes every value, lazy strings included thanks to this module.
``tests/test_i18n_escaping.py`` sends markup through every message of the catalog that takes a
parameter.

Looking a message up is cheap too (a page asks for some seventy): Flask-Babel finds the
request's catalog anew on every call (the domain, the context, the locale, its name, the
cache), so ``Domain.get_translations`` here keeps the catalog it found for the request and
its locale (``force_locale`` sets another locale: another catalog), and templates call
``template_gettext``/``template_ngettext`` directly, with Jinja's newstyle semantics (the
translation is a format string, its values escaped) but without its two indirections.
"""

from __future__ import annotations

from typing import Any

from flask.globals import _cv_app
from flask_babel import Domain, speaklater
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

_catalog_of_domain = Domain.get_translations


def _lazy_html(self: speaklater.LazyString) -> Markup:
    """The HTML of a lazy translated message: its text, escaped."""
    return escape(str(self))


def _request_catalog(self: Domain) -> Any:
    """Domain.get_translations, found once per request (app context), domain and locale."""
    app_ctx = _cv_app.get(None)
    state = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if state is not None:
        kept = state.__dict__.get("portal_catalog")
        if kept is not None and kept[0] is self and kept[1] is state.__dict__.get("babel_locale"):
            return kept[2]
    translations = _catalog_of_domain(self)
    state = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if state is not None and state.__dict__.get("babel_locale") is not None:
        state.portal_catalog = (self, state.babel_locale, translations)
    return translations


def _catalog() -> Any:
    from flask_babel import get_translations

    return get_translations()


@pass_context
def template_gettext(context: Context, string: str, **variables: Any) -> str:
    """Jinja's newstyle ``_()``: the translation as a format string, its values escaped."""
    text = _catalog().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (the catalog's own text; values are escaped by %)
    # Always a format string ("%%" is "%"), as Jinja's newstyle gettext has it.
    return text % variables if variables or "%" in text else text


@pass_context
def template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> str:
    """Jinja's newstyle ``ngettext()``: num is a value too (``%(num)d``)."""
    variables.setdefault("num", num)
    text = _catalog().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (as above)
    return text % variables


def install_in_templates(env: Any) -> None:
    """Let templates call template_gettext/template_ngettext (after Flask-Babel's init_app)."""
    env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)


def install() -> None:
    """Make every lazy translated message escape itself in HTML, and finding a request's
    catalog cheap (idempotent)."""
    speaklater.LazyString.__html__ = _lazy_html  # type: ignore[method-assign]
    Domain.get_translations = _request_catalog  # type: ignore[method-assign]


install()
