"""Markup sent through translated messages comes out as text, never as HTML.

Flask-Babel's lazy strings used to hand Jinja their interpolated text as markup, so a company
named ``<img src=x onerror=…>`` reached another company's page through ``_l("… %(name)s")``.
``app/i18n.py`` fixes that in one place; these tests send markup through every message of the
catalog that takes a parameter (in both languages, eagerly, lazily, from a template, through
the flash serializer), then end to end through the pages the security review named.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask.json.tag import TaggedJSONSerializer
from flask_babel import force_locale, gettext, lazy_gettext, lazy_ngettext, ngettext
from markupsafe import Markup, escape
from sqlalchemy import update

from app.extensions import db
from app.models import Membership, Partnership
from tests.conftest import login, make_company, make_user

HOSTILE = "<img src=x onerror=alert(1)>"
SVG_NAME = "<svg onload=alert(1)>.xml"
TRANSLATIONS = Path(__file__).resolve().parents[1] / "app" / "translations"
PARAMETER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([a-z])")


def _catalog_messages() -> list[tuple[str, str | None, dict[str, str]]]:
    """Every msgid with a %(name)x parameter, from the template and the Spanish catalog.

    The .po is read too: a message added there but not yet extracted is covered as well.
    """
    found: dict[tuple[str, str | None], dict[str, str]] = {}
    for path in (TRANSLATIONS / "messages.pot", TRANSLATIONS / "es/LC_MESSAGES/messages.po"):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            params = {name: kind for text in ids for name, kind in PARAMETER.findall(text)}
            if message.id and params:
                plural = ids[1] if len(ids) > 1 else None
                found[(ids[0], plural)] = params
    return [(msgid, plural, params) for (msgid, plural), params in sorted(found.items())]


MESSAGES = _catalog_messages()


def _values(params: dict[str, str]) -> dict[str, object]:
    return {name: (HOSTILE if kind == "s" else 3) for name, kind in params.items()}


def _renderings(msgid: str, plural: str | None, params: dict[str, str]):
    """(how, HTML) for each way the app turns this message into HTML."""
    values = _values(params)
    if plural is None:
        eager, lazy = gettext(msgid, **values), lazy_gettext(msgid, **values)
    else:
        values.pop("num", None)
        eager = ngettext(msgid, plural, 3, **values)
        lazy = lazy_ngettext(msgid, plural, 3, **values)
    serializer = TaggedJSONSerializer()  # what flash() keeps in the session cookie
    for how, message in (("gettext", eager), ("lazy_gettext", lazy)):
        yield how, render_template_string("<p>{{ m }}</p>", m=message)
        yield f"{how} |e", render_template_string("{{ m|e }}", m=message)
        yield f"{how} escape()", str(escape(message))
        yield f"{how} Markup %", str(Markup("<p>%s</p>") % message)
        yield (
            f"{how} as a value",
            render_template_string("{{ _('Saved: %(what)s', what=m) }}", m=message),
        )
        flashed = serializer.loads(serializer.dumps({"m": message}))["m"]
        yield f"{how} flashed", render_template_string("{{ m }}", m=flashed)
    if plural is None:  # the template's own _(), its literal kept as markup, values escaped
        yield "template _()", render_template_string("{{ _(msgid, **v) }}", msgid=msgid, v=values)
    else:
        yield (
            "template ngettext()",
            render_template_string(
                "{{ ngettext(msgid, plural, 3, **v) }}", msgid=msgid, plural=plural, v=values
            ),
        )


def test_does_the_catalog_have_messages_with_parameters_to_try():
    """The walk below is only worth something if it finds the catalog's messages."""
    assert len(MESSAGES) > 100
    assert any(msgid == "Request sent to %(name)s." for msgid, _, _ in MESSAGES)
    assert any(plural for _, plural, _ in MESSAGES)


@pytest.mark.parametrize("locale", ["es", "en"])
def test_does_markup_in_any_parameter_of_any_message_come_out_escaped(app, locale):
    """Every message with a parameter, every parameter = an <img onerror>: no raw <img out."""
    failures = []
    with app.test_request_context(), force_locale(locale):
        for msgid, plural, params in MESSAGES:
            for how, out in _renderings(msgid, plural, params):
                if "<img" in out or "onerror=alert(1)>" in out:
                    failures.append(f"{how}: {msgid!r} → {out[:160]!r}")
                elif "s" in params.values() and HOSTILE not in html.unescape(out):
                    failures.append(f"{how}: {msgid!r} lost its value → {out[:160]!r}")
                elif "&amp;lt;" in out:
                    failures.append(f"{how}: {msgid!r} escaped twice → {out[:160]!r}")
    assert not failures, f"{len(failures)} renderings:\n" + "\n".join(failures[:30])


def test_is_a_lazy_message_still_plain_text_outside_html(app):
    """JSON answers, text e-mails and exports get the text as typed, not HTML entities."""
    with app.test_request_context(), force_locale("en"):
        message = lazy_gettext("Request sent to %(name)s.", name=HOSTILE)
        assert str(message) == f"Request sent to {HOSTILE}."
        assert render_template_string("{{ m }}", m=message) == (
            "Request sent to &lt;img src=x onerror=alert(1)&gt;."
        )


def test_does_an_api_error_keep_the_name_as_text(app, client):
    """An API message carries the plain text (JSON is not HTML): escaping it would garble it."""
    from app.blueprints.api import errors as api_errors
    from app.services.errors import Conflict

    with app.test_request_context("/api/v1/x"), force_locale("en"):
        error = Conflict(lazy_gettext("Already connected to %(name)s", name=HOSTILE))
        response = api_errors.domain_error(error)
        response = response[0] if isinstance(response, tuple) else response
        assert HOSTILE in response.get_json()["error"]["message"]


# ---------------------------------------------------------------------------------------------
# End to end: the pages the review named


def english(browser) -> None:
    with browser.session_transaction() as session:
        session["locale"] = "en"


def assert_escaped(response, needle: str = HOSTILE) -> str:
    body = response.get_data(as_text=True)
    # The hostile tags (the layout has an <img> logo and <svg> icons of its own).
    assert "<img src=x" not in body and "<svg onload" not in body, body[:2000]
    assert str(escape(needle)) in body, f"{needle!r} not shown (escaped) in:\n{body[:2000]}"
    return body


@pytest.fixture
def evil():
    """A company whose trade name is markup, with its owner."""
    company = make_company(HOSTILE)
    return company, make_user(company, name=HOSTILE)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_does_the_connect_conflict_show_a_markup_name_escaped(app, company, owner, evil, locale):
    """The 409 of "connect" (swapped in by htmx) names the other company: as text."""
    evil_company, evil_owner = evil
    attacker, victim = app.test_client(), app.test_client()
    login(attacker, evil_owner, evil_company)
    login(victim, owner, company)
    with victim.session_transaction() as session:
        session["locale"] = locale
    data = {"company_id": company.id, "relation": "supplier"}
    assert attacker.post("/network/connect", data=data).status_code == 303

    asked_back = {"company_id": evil_company.id, "relation": "customer"}
    response = victim.post("/network/connect", data=asked_back, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert_escaped(response)

    # Once connected, "you are already connected with …" names them too.
    db.session.execute(update(Partnership).values(status="active"))
    db.session.commit()
    response = victim.post("/network/connect", data=asked_back, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert_escaped(response)

    # Without htmx the same message is flashed and shown on the next page.
    response = victim.post("/network/connect", data=asked_back, follow_redirects=True)
    assert_escaped(response)


def test_are_flashed_messages_with_a_name_escaped(app, company, owner, evil, outbox):
    """Flash messages that name a company: "Request sent to …", "working as …"."""
    evil_company, _ = evil
    browser = app.test_client()
    login(browser, owner, company)
    english(browser)
    data = {"company_id": evil_company.id, "relation": "supplier"}
    response = browser.post("/network/connect", data=data, follow_redirects=True)
    assert "Request sent to" in assert_escaped(response)

    # The text e-mail to the other company keeps the name as text, not as entities.
    mails = [m for m in outbox() if company.display_name in m["body"]]
    assert mails and all("&lt;" not in m["body"] for m in mails)

    # Working as a company named with markup.

    db.session.add(Membership(company_id=evil_company.id, user_id=owner.id, role="owner"))
    db.session.commit()
    response = browser.post(
        "/switch-company", data={"company_id": evil_company.id}, follow_redirects=True
    )
    assert assert_escaped(response).count(str(escape(HOSTILE))) >= 1


@pytest.mark.parametrize("htmx", [True, False])
def test_does_the_upload_report_show_a_markup_file_name_escaped(app, company, owner, htmx):
    """A file named <svg onload=…>.xml: its row and its refusal name it as text."""
    browser = app.test_client()
    login(browser, owner, company)
    english(browser)
    headers = {"HX-Request": "true"} if htmx else {}
    response = browser.post(
        "/documents/upload",
        data={"files": [(io.BytesIO(b"not xml at all"), SVG_NAME)]},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code in (200, 422)
    assert_escaped(response, SVG_NAME)


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        (SVG_NAME, b"x" * 64, SVG_NAME),  # "… is larger than 5 MB."
        ("<svg onload=alert(1)>.zip", "broken", None),  # "… is not a ZIP the portal can read."
        ("ok.zip", "skipped", "<svg onload=alert(1)>.txt"),  # "Skipped (not XML): …"
    ],
)
def test_are_upload_errors_that_name_the_file_escaped(
    app, company, owner, monkeypatch, name, content, shown
):
    """The size error, an unreadable ZIP and a skipped member name the file: as text."""
    from app.services.documents import storing

    monkeypatch.setattr(storing, "MAX_FILE_BYTES", 32)
    if content == "broken":  # the end record is right, the central directory is not
        content = _zip(**{"a.xml": b"<x/>"}).replace(b"PK\x01\x02", b"XX\x01\x02")
        assert zipfile.is_zipfile(io.BytesIO(content))
    if content == "skipped":
        content = _zip(**{"<svg onload=alert(1)>.txt": b"hi", "a.xml": b"<x/>"})
        monkeypatch.setattr(storing, "MAX_FILE_BYTES", 5 * 1024 * 1024)
    browser = app.test_client()
    login(browser, owner, company)
    english(browser)
    response = browser.post(
        "/documents/upload",
        data={"files": [(io.BytesIO(content), name)]},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert response.status_code in (200, 422)
    assert_escaped(response, shown or name)


def test_is_the_request_size_error_of_an_upload_a_page_without_markup(
    app, company, owner, monkeypatch
):
    """Over MAX_CONTENT_LENGTH the upload answers 413 with the message, nothing of the file."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    browser = app.test_client()
    login(browser, owner, company)
    english(browser)
    response = browser.post(
        "/documents/upload",
        data={"files": [(io.BytesIO(b"x" * 4096), SVG_NAME)]},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "too large" in body and "<svg" not in body
