"""Does the portal speak Spanish and English, and format money and dates for the locale?"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale

from app.web.formatting import date_filter, money
from tests.conftest import login

TRANSLATIONS = Path(__file__).resolve().parents[1] / "app" / "translations"


def _lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def test_is_money_formatted_the_colombian_way_in_spanish(app):
    with app.test_request_context(), force_locale("es"):
        assert money(Decimal("1785000")).replace("\u00a0", " ") == "$ 1.785.000,00"
        assert money(Decimal("-12.5"), "USD").replace("\u00a0", " ") == "-US$ 12,50"


def test_is_money_formatted_the_english_way_in_english(app):
    with app.test_request_context(), force_locale("en"):
        assert money(Decimal("1785000")).replace("\u00a0", " ") == "COP 1,785,000.00"


def test_are_dates_formatted_for_the_locale(app):
    moment = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
    with app.test_request_context(), force_locale("es"):
        assert "mar" in date_filter(moment.date())
    with app.test_request_context(), force_locale("en"):
        assert "Mar" in date_filter(moment.date())


def test_is_every_message_translated_into_spanish():
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        template = read_po(handle)
    with open(TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        spanish = read_po(handle)
    missing = [
        m.id for m in template if m.id and not (spanish.get(m.id) and spanish.get(m.id).string)
    ]
    assert missing == [], f"{len(missing)} messages have no Spanish translation: {missing[:10]}"
    fuzzy = [m.id for m in spanish if m.id and m.fuzzy]
    assert fuzzy == []


def test_do_translations_keep_every_placeholder():
    with open(TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        spanish = read_po(handle)
    placeholders = re.compile(r"%\(\w+\)[sd]")
    for message in spanish:
        if not (message.id and message.string):
            continue
        # A plural message has a tuple of ids (singular, plural) and one string per form.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(set().union(*(placeholders.findall(text) for text in ids)))
        for text in strings:
            assert sorted(set(placeholders.findall(text))) == wanted, message.id


def test_is_a_visitor_answered_in_spanish_by_default(client):
    response = client.get("/auth/login")
    assert _lang(response) == "es"
    assert "Iniciar sesión" in response.get_data(as_text=True)


def test_does_an_english_browser_get_english(client):
    response = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(response) == "en"
    assert "Sign in" in response.get_data(as_text=True)


def test_is_a_users_language_choice_remembered_across_sessions(app, company, owner):
    first = app.test_client()
    login(first, owner, company)
    assert _lang(first.get("/")) == "es"
    first.post("/locale", data={"locale": "en"})
    assert _lang(first.get("/")) == "en"
    later = app.test_client()  # a new browser, a new session
    login(later, owner, company)
    assert _lang(later.get("/")) == "en"


def test_is_an_unknown_language_refused_without_changing_anything(client, company, owner):
    login(client, owner, company)
    client.post("/locale", data={"locale": "xx"})
    assert _lang(client.get("/")) == "es"


def test_does_a_message_in_another_language_switch_the_words_and_back(app):
    # A request in Spanish writing an e-mail in English (force_locale): the words follow the
    # forced language and return to the page's language after it, in Python and in templates
    # (each request's catalog is found once and kept per language: app/i18n.py).
    from flask import render_template_string
    from flask_babel import gettext

    page = "{{ _('Received') }} · {{ _('Select %(number)s', number='<b>') }}"
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert gettext("Received") == "Recibidos"
        with force_locale("en"):
            assert gettext("Received") == "Received"
            assert render_template_string(page) == "Received · Select &lt;b&gt;"
        assert gettext("Received") == "Recibidos"
        assert render_template_string(page).startswith("Recibidos · ")
        assert "&lt;b&gt;" in render_template_string(page)
