"""The trays' due-date filters (due_from, due_to) and the "not accepted yet" status."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import login, make_company, make_user
from tests.services.home_helpers import doc


@pytest.fixture
def me():
    return make_company("Yo")


@pytest.fixture
def partner():
    return make_company("Socio")


@pytest.fixture
def signed_in(client, me):
    login(client, make_user(me, role="owner"), me)
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


def numbers(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return sorted(re.findall(r'<tr data-document="([^"]+)"', response.text))


@pytest.fixture
def dated(me, partner):
    for day in (1, 7, 8, 14, 15):
        doc(partner, me, due=dt.date(2026, 12, day), number=f"D{day:02d}")
    doc(partner, me, due=None, number="NONE")
    doc(me, partner, due=dt.date(2026, 12, 8), number="SENT08")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("due_from=2026-12-07&due_to=2026-12-14", ["D07", "D08", "D14"]),  # both ends included
        ("due_from=2026-12-08", ["D08", "D14", "D15"]),
        ("due_to=2026-12-07", ["D01", "D07"]),
        ("due_from=2026-12-08&due_to=2026-12-08", ["D08"]),
        ("due_from=2026-12-15&due_to=2026-12-01", []),  # the wrong way round: nothing
        ("", ["D01", "D07", "D08", "D14", "D15", "NONE"]),
    ],
)
def test_the_received_tray_filters_by_due_date(signed_in, dated, query, expected):
    """Does the tray list the documents due within the dates, ends included, undated ones
    only when no due date is asked?"""
    assert numbers(signed_in, f"/inbox/received?{query}") == expected


def test_the_sent_tray_filters_by_due_date_too(signed_in, dated):
    assert numbers(signed_in, "/inbox/sent?due_from=2026-12-08&due_to=2026-12-08") == ["SENT08"]


@pytest.mark.parametrize("value", ["2026-13-01", "mañana", "2026-02-30", "1" * 40, "<b>"])
def test_a_wrong_due_date_is_a_clear_422(signed_in, dated, value):
    """Is a due date that is not a date refused with a message, never a 500 nor a list?"""
    for key in ("due_from", "due_to"):
        response = signed_in.get("/inbox/received", query_string={key: value})
        assert response.status_code == 422
        assert "Not a valid date value." in response.text
        assert 'value="<b>"' not in response.text


def test_the_due_dates_are_kept_in_the_trays_links(signed_in, dated, me, partner):
    """Do the sort headers and the export keep the due dates chosen?"""
    page = signed_in.get("/inbox/received?due_from=2026-12-07&due_to=2026-12-14").text
    assert 'name="due_from"' in page and 'value="2026-12-07"' in page
    assert "due_from=2026-12-07&amp;due_to=2026-12-14" in page
    export = signed_in.get("/inbox/received.csv?due_from=2026-12-07&due_to=2026-12-14")
    assert export.status_code == 200
    body = export.get_data(as_text=True)
    assert "D07" in body and "D14" in body and "D01" not in body and "D15" not in body


def test_not_accepted_yet_lists_every_status_before_acceptance(signed_in, me, partner):
    """Does "not accepted yet" list received, acknowledged and goods-received documents only?"""
    for status in (
        "received",
        "acknowledged",
        "goods_received",
        "accepted",
        "claimed",
        "tacitly_accepted",
    ):
        doc(me, partner, status=status, number=status.upper())
    doc(me, None, status="received", number="WAITING")
    assert numbers(signed_in, "/inbox/sent?status=not_accepted") == [
        "ACKNOWLEDGED",
        "GOODS_RECEIVED",
        "RECEIVED",
        "WAITING",
    ]
    assert numbers(signed_in, "/inbox/sent?status=claimed") == ["CLAIMED"]
    assert signed_in.get("/inbox/sent?status=nonsense").status_code == 422
