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
"""

from __future__ import annotations

from flask_babel import speaklater
from markupsafe import Markup, escape


def _lazy_html(self: speaklater.LazyString) -> Markup:
    """The HTML of a lazy translated message: its text, escaped."""
    return escape(str(self))


def install() -> None:
    """Make every lazy translated message escape itself in HTML (idempotent)."""
    speaklater.LazyString.__html__ = _lazy_html  # type: ignore[method-assign]


install()
