"""The signed-in home: figures per role whose links list exactly what they count, the chart's
table, the setup checklist, and the issuing pages that say what still blocks issuing."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from app.models import Partnership, utcnow
from tests.conftest import give_fiscal_profile, login, make_company, make_user
from tests.services.home_helpers import dispute, doc, give_numbering_range
from tests.services.inbox_helpers import give_certificate

FIGURE = re.compile(
    r'<a class="home-figure" href="([^"]+)" data-figure="([^"]+)">\s*'
    r'<strong class="home-figure-count" data-count="(\d+)">'
)


@pytest.fixture(autouse=True)
def _english(client):
    with client.session_transaction() as session:
        session["locale"] = "en"


@pytest.fixture
def me():
    return make_company("Yo")


@pytest.fixture
def partner():
    return make_company("Socio")


@pytest.fixture
def stranger():
    return make_company("Extraña")


def section(page: str, side: str) -> str:
    """The page's part for one side ('' when the side is not shown)."""
    start = page.find(f'data-testid="home-{side}"')
    if start < 0:
        return ""
    end = page.find("</section>", start)
    return page[start:end]


def figures(page: str, side: str) -> dict[str, tuple[str, int]]:
    """key → (link, count) of one side's figures."""
    return {
        key: (html.unescape(href), int(count))
        for href, key, count in FIGURE.findall(section(page, side))
    }


def rows(client, url: str) -> int:
    """How many documents (or disputes) the page at url lists."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(re.findall(r"<tr data-(?:document|dispute)=", response.text))


def busy_company(me, partner, stranger):
    """Documents and disputes of every kind the figures count, and some they must not."""
    today = utcnow().date()
    past, soon = today - dt.timedelta(days=2), today
    for status in ("received", "received", "acknowledged", "goods_received", "accepted"):
        doc(partner, me, status=status, due=past)
    doc(partner, me, due=past, payment_status="paid")
    doc(partner, me, due=past, open_balance="0.00")
    doc(partner, me, due=soon, currency="USD", amount="12.50")
    doc(partner, me, due=soon, payment_status="paid")
    doc(partner, me, due=past, document_type="DebitNote")
    for status in ("received", "acknowledged", "claimed", "claimed", "accepted"):
        doc(me, partner, status=status, due=past)
    doc(me, None, status="received", due=soon)
    doc(partner, stranger, status="received", due=past)
    doc(stranger, partner, status="claimed", due=past)
    dispute(doc(partner, me), waiting=me)
    dispute(doc(me, partner), waiting=me)
    dispute(doc(me, partner), waiting=partner)
    dispute(doc(partner, stranger), waiting=stranger)


def test_every_figure_links_to_a_list_of_exactly_what_it_counts(client, me, partner, stranger):
    """Does each figure's link open the tray (or disputes) listing exactly its documents?"""
    busy_company(me, partner, stranger)
    login(client, make_user(me, role="owner"), me)
    page = client.get("/").text
    found = {
        **figures(page, "payables"),
        **{f"sent-{k}": v for k, v in figures(page, "receivables").items()},
    }
    assert set(found) == {
        "awaiting_030",
        "awaiting_032",
        "awaiting_033",
        "due_week",
        "overdue",
        "disputes",
        "sent-not_accepted",
        "sent-claimed",
        "sent-due_week",
        "sent-overdue",
        "sent-disputes",
    }
    expected = {
        "awaiting_030": 2,
        "awaiting_032": 1,
        "awaiting_033": 1,
        "due_week": 2,
        "overdue": 5,
        "disputes": 1,
        "sent-not_accepted": 3,
        "sent-claimed": 2,
        "sent-due_week": 1,
        "sent-overdue": 5,
        "sent-disputes": 1,
    }
    assert {key: count for key, (_link, count) in found.items()} == expected
    for key, (link, count) in found.items():
        assert rows(client, link) == count, key


def test_the_overdue_amounts_are_shown_per_currency(client, me, partner):
    """Are pesos and dollars shown apart, never added?"""
    past = utcnow().date() - dt.timedelta(days=1)
    doc(partner, me, due=past, amount="1000.00")
    doc(partner, me, due=past, amount="20.00", currency="USD")
    login(client, make_user(me, role="payables"), me)
    payables = section(client.get("/").text, "payables")
    overdue = payables[payables.index('data-figure="overdue"') :]
    overdue = overdue[: overdue.index("</a>")]
    assert "COP" in overdue and "1,000.00" in overdue
    assert "$\xa020.00" in overdue and "1,020" not in overdue


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("owner", {"payables", "receivables"}),
        ("admin", {"payables", "receivables"}),
        ("viewer", {"payables", "receivables"}),
        ("payables", {"payables"}),
        ("receivables", {"receivables"}),
        ("sales", {"receivables"}),
    ],
)
def test_each_role_sees_the_figures_of_its_side(client, me, partner, role, shown):
    """Does a payables clerk see payables and not receivables (and so on for each role)?"""
    doc(partner, me, status="received")
    doc(me, partner, status="claimed")
    login(client, make_user(me, role=role), me)
    page = client.get("/").text
    assert {side for side in ("payables", "receivables") if section(page, side)} == shown
    table = page[
        page.index('id="home-due-table"') : page.index(
            "</table>", page.index('id="home-due-table"')
        )
    ]
    assert ('data-side="payables"' in table) == ("payables" in shown)
    assert ('data-side="receivables"' in table) == ("receivables" in shown)
    assert ("Recently received" in page) == ("payables" in shown)


def test_the_chart_is_drawn_from_a_table_of_eight_weeks(client, me, partner):
    """Is there a table of eight weeks with exact amounts, the chart's script from 'self' only?"""
    today = utcnow().date()
    doc(me, partner, due=today + dt.timedelta(days=7), amount="1234.56")
    login(client, make_user(me, role="receivables"), me)
    response = client.get("/")
    page = response.text
    table = page[page.index('id="home-due-table"') :]
    table = table[: table.index("</table>")]
    assert len(re.findall(r'<th scope="row">', table)) == 8
    assert 'data-amount="1234.56"' in table
    assert 'data-currency="COP"' in table
    assert "/static/vendor/chart-4.6.2.umd.min.js" in page
    assert "/static/js/home-chart.js" in page
    assert "<script>" not in page and "style=" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_recently_received_lists_number_supplier_amount_and_date(client, me, partner):
    """Does the home list the last received documents with what identifies them?"""
    doc(partner, me, number="FE-77", amount="1500.00", issue_date=dt.date(2026, 3, 4))
    login(client, make_user(me, role="payables"), me)
    table = client.get("/").text
    table = table[table.index('data-testid="recent-received"') :]
    assert "FE-77" in table and partner.legal_name in table
    assert "1,500.00" in table and "Mar 4, 2026" in table


def test_another_companys_documents_never_show(client, me, partner, stranger):
    """Does a busy stranger's traffic leave my home at zero?"""
    past = utcnow().date() - dt.timedelta(days=3)
    doc(partner, stranger, status="received", due=past)
    doc(stranger, partner, status="claimed", due=past)
    dispute(doc(partner, stranger), waiting=stranger)
    login(client, make_user(me, role="owner"), me)
    page = client.get("/").text
    counts = [c for side in ("payables", "receivables") for _l, c in figures(page, side).values()]
    assert counts and not any(counts)
    assert "Nothing received yet." in page


# ------------------------------------------------------------------------------- checklist


def complete(company):
    """Give company every setup step: fiscal data, certificate, numbering, partner, colleague."""
    from app.extensions import db

    give_fiscal_profile(company)
    give_certificate(company)
    give_numbering_range(company)
    other = make_company("Cliente")
    db.session.add(
        Partnership(
            supplier_id=company.id,
            customer_id=other.id,
            requested_by_id=company.id,
            status="active",
        )
    )
    db.session.commit()
    make_user(company, role="admin")


def steps(page: str) -> dict[str, bool]:
    return {
        key: done == "yes"
        for key, done in re.findall(r'data-step="(\w+)" data-done="(yes|no)"', page)
    }


def test_a_new_company_sees_its_checklist_with_links(client, me):
    """Does a brand-new company read "0 of 5 done" and a link to where each step is done?"""
    login(client, make_user(me, role="owner"), me)
    page = client.get("/").text
    assert "0 of 5 done" in page and '<progress value="0" max="5"' in page
    assert steps(page) == dict.fromkeys(
        ("fiscal", "certificate", "numbering", "partner", "colleague"), False
    )
    for link in (
        "/company/#fiscal-data",
        "/company/certificate",
        "/issue/numbering",
        "/network/",
        "/team/",
    ):
        assert f'href="{link}"' in page


def test_the_checklist_counts_what_is_done(client, me, partner):
    """Do a fiscal profile and a certificate make it "2 of 5", an invitation a colleague?"""
    owner = make_user(me, role="owner")
    give_fiscal_profile(me)
    give_certificate(me)
    login(client, owner, me)
    page = client.get("/").text
    assert "2 of 5 done" in page
    assert steps(page) == {
        "fiscal": True,
        "certificate": True,
        "numbering": False,
        "partner": False,
        "colleague": False,
    }
    response = client.post(
        "/team/invitations", data={"email": "nuevo@example.test", "role": "viewer"}
    )
    assert response.status_code in (302, 303), response.text
    assert steps(client.get("/").text)["colleague"] is True


def test_a_complete_company_sees_no_checklist(client, me):
    """Is the checklist gone once every step is done?"""
    complete(me)
    login(client, make_user(me, role="owner"), me)
    page = client.get("/").text
    assert 'id="setup-checklist"' not in page and "of 5 done" not in page


# ------------------------------------------------------------------------- issuing blocked


def test_a_new_company_is_told_what_blocks_issuing_instead_of_a_form(client, me):
    """Does the invoice page list fiscal profile, certificate and numbering, with links, and no
    form, and refuse a POST sent anyway?"""
    login(client, make_user(me, role="owner"), me)
    response = client.get("/issue/invoice")
    page = response.text
    assert response.status_code == 200 and 'id="issuing-blocked"' in page
    assert 'id="invoice-form"' not in page and 'name="customer_id"' not in page
    assert set(re.findall(r'<li data-step="(\w+)">', page)) == {
        "fiscal",
        "certificate",
        "numbering",
    }
    for link in (
        'href="/company/#fiscal-data"',
        'href="/company/certificate"',
        'href="/issue/numbering"',
    ):
        assert link in page
    posted = client.post("/issue/invoice", data={"customer_tax_id": "900123456"})
    assert posted.status_code == 422 and 'id="issuing-blocked"' in posted.text


def test_only_the_missing_steps_are_listed(client, me):
    """With fiscal data and a certificate, is the numbering range the one step named?"""
    give_fiscal_profile(me)
    give_certificate(me)
    login(client, make_user(me, role="owner"), me)
    page = client.get("/issue/invoice").text
    assert re.findall(r'<li data-step="(\w+)">', page) == ["numbering"]


def test_a_complete_company_sees_the_invoice_form(client, me):
    complete(me)
    login(client, make_user(me, role="owner"), me)
    page = client.get("/issue/invoice").text
    assert 'id="invoice-form"' in page and 'id="issuing-blocked"' not in page


def test_a_note_is_blocked_by_fiscal_data_and_certificate_not_numbering(client, me, partner):
    """Is a credit note refused without a certificate, and offered without a numbering range?"""
    invoice = doc(me, partner)
    give_fiscal_profile(me)
    login(client, make_user(me, role="owner"), me)
    page = client.get(f"/issue/documents/{invoice.id}/credit-note").text
    assert re.findall(r'<li data-step="(\w+)">', page) == ["certificate"]
    assert 'id="note-form"' not in page
    give_certificate(me)
    for kind in ("credit-note", "debit-note"):
        page = client.get(f"/issue/documents/{invoice.id}/{kind}").text
        assert 'id="note-form"' in page and 'id="issuing-blocked"' not in page


def test_another_companys_invoice_is_still_404_when_blocked(client, me, partner, stranger):
    """Does a blocked company learn nothing of another company's invoice (404, not the list)?"""
    theirs = doc(partner, stranger)
    login(client, make_user(me, role="owner"), me)
    assert client.get(f"/issue/documents/{theirs.id}/credit-note").status_code == 404
