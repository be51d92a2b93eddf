"""The Inbox trays: what a clerk sees, narrows, sorts, pages, saves, exports and acts on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.humanize import tax_id_number
from app.models import DocumentEvent, SavedFilter
from app.tenancy import unscoped
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, make_document, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    return make_company("Proveedora")


@pytest.fixture
def buyer_company():
    return make_company("Compradora")


@pytest.fixture
def clerk(buyer_company):
    return make_user(buyer_company, role="payables", name="Clara Pagos")


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="owner", name="Sara Vendedora")


def numbers(response) -> list[str]:
    """Return the document numbers listed in a tray, in order."""
    return re.findall(r'data-document="([^"]+)"', response.get_data(as_text=True))


def tray(client, user, company, path="/inbox/received", **params):
    login(client, user, company)
    response = client.get(path, query_string=params)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[body.find("<main") :][:3000]
    return response


# ------------------------------------------------------------------------------ the two trays


def test_does_a_buyer_see_a_received_invoice_and_the_supplier_see_it_as_sent(
    client, supplier, seller, buyer_company, clerk
):
    give_certificate(supplier)
    result = submit(supplier, seller, signed_invoice(supplier, buyer_company.tax_id))
    assert result.accepted, result.findings
    number = result.document.number

    page = tray(client, clerk, buyer_company)
    assert numbers(page) == [number]
    body = page.get_data(as_text=True)
    assert f"/documents/{result.document.id}" in body
    assert tax_id_number(supplier.tax_id, "CO") in body  # 800.605.697-2, as people write it
    assert numbers(tray(client, clerk, buyer_company, "/inbox/sent")) == []
    assert numbers(tray(client, seller, supplier, "/inbox/sent")) == [number]
    assert numbers(tray(client, seller, supplier, "/inbox/received")) == []


def test_does_a_row_show_amount_status_due_date_and_payment(client, supplier, buyer_company, clerk):
    make_document(
        supplier,
        buyer_company,
        number="FV1",
        payable="1785000.00",
        status="accepted",
        due_date=dt.date(2024, 4, 15),
        supplier_name="Café Andino",
    )
    body = tray(client, clerk, buyer_company).get_data(as_text=True)
    assert "Café Andino" in body
    assert "1.785.000,00" in body
    assert 'data-status="accepted"' in body and "status-accepted" in body
    assert "status-payment-unpaid" in body


def test_are_tax_ids_written_as_people_write_them(client, supplier, buyer_company, clerk):
    """A NIT reads 901.234.567-7 in the tray, not the compact 9012345677 the XML carries;
    what stdnum cannot read for the country is shown as given (escaped)."""
    from stdnum.co import nit

    supplier.tax_id = "9012345677"
    db.session.commit()
    make_document(supplier, buyer_company, supplier_name="Con NIT")
    body = tray(client, clerk, buyer_company).get_data(as_text=True)
    assert nit.format("9012345677") in body and ">9012345677<" not in body
    supplier.tax_id = "<b>12</b>"
    db.session.commit()
    make_document(supplier, buyer_company, supplier_name="Raro")
    body = tray(client, clerk, buyer_company).get_data(as_text=True)
    assert "&lt;b&gt;12&lt;/b&gt;" in body and "<b>12</b>" not in body


def test_is_markup_in_a_documents_names_and_number_shown_as_text(
    client, supplier, buyer_company, clerk
):
    """A supplier's XML names the parties and the number: none of it may become the page's HTML."""
    make_document(
        supplier,
        buyer_company,
        number='FV"><img src=x onerror=alert(1)>',
        supplier_name="<script>alert('x')</script> & Cía",
        due_date=dt.date(2024, 4, 15),
    )
    body = tray(client, clerk, buyer_company).get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Cía" in body
    assert 'data-document="FV&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in body
    assert 'aria-label="Seleccionar FV&quot;&gt;&lt;img' in body


def test_does_another_company_see_nothing_in_either_tray(
    client, supplier, buyer_company, outsider, other_company
):
    make_document(supplier, buyer_company, number="PRIV1")
    assert numbers(tray(client, outsider, other_company)) == []
    assert numbers(tray(client, outsider, other_company, "/inbox/sent")) == []


# ---------------------------------------------------------------------------------- filters


@pytest.fixture
def spread(supplier, buyer_company):
    """Five received documents with different dates, amounts, statuses and suppliers."""
    other_supplier = make_company("Ferretería")
    today = dt.date.today()
    make_document(
        supplier,
        buyer_company,
        number="A1",
        issue_date=dt.date(2024, 1, 10),
        payable="100.00",
        supplier_name="Proveedora Uno",
    )
    make_document(
        supplier,
        buyer_company,
        number="A2",
        issue_date=dt.date(2024, 2, 10),
        payable="200.00",
        status="acknowledged",
        supplier_name="Proveedora Uno",
    )
    make_document(
        supplier,
        buyer_company,
        number="A3",
        issue_date=dt.date(2024, 3, 10),
        payable="300.00",
        due_date=today - dt.timedelta(days=5),
        supplier_name="Proveedora Uno",
    )
    make_document(
        other_supplier,
        buyer_company,
        number="B1",
        issue_date=dt.date(2024, 4, 10),
        payable="400.00",
        status="claimed",
        supplier_name="Ferretería Dos",
        due_date=today + dt.timedelta(days=30),
    )
    make_document(
        other_supplier,
        buyer_company,
        number="B2",
        issue_date=dt.date(2024, 5, 10),
        payable="500.00",
        document_type="CreditNote",
        supplier_name="Ferretería Dos",
    )
    return other_supplier


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["B2", "B1", "A3", "A2", "A1"]),
        ({"status": "acknowledged"}, ["A2"]),
        ({"date_from": "2024-02-01", "date_to": "2024-03-31"}, ["A3", "A2"]),
        ({"amount_min": "250", "amount_max": "450"}, ["B1", "A3"]),
        ({"overdue": "y"}, ["A3"]),
        ({"q": "ferreter"}, ["B2", "B1"]),
        ({"q": "a2"}, ["A2"]),
        ({"type": "CreditNote"}, ["B2"]),
    ],
)
def test_does_each_filter_narrow_the_received_tray(
    client, buyer_company, clerk, spread, params, expected
):
    assert numbers(tray(client, clerk, buyer_company, **params)) == expected


def test_do_counterparty_and_tax_id_filters_narrow_the_tray(
    client, supplier, buyer_company, clerk, spread
):
    assert numbers(tray(client, clerk, buyer_company, counterparty=str(spread.id))) == ["B2", "B1"]
    assert numbers(tray(client, clerk, buyer_company, tax_id=supplier.tax_id)) == ["A3", "A2", "A1"]


def test_is_a_bad_filter_answered_422_with_its_message(client, buyer_company, clerk, spread):
    login(client, clerk, buyer_company)
    response = client.get("/inbox/received", query_string={"date_from": "yesterday"})
    assert response.status_code == 422
    assert "form-error" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- sort and pages


def test_can_the_tray_be_sorted_by_amount_both_ways(client, buyer_company, clerk, spread):
    assert numbers(tray(client, clerk, buyer_company, sort="amount")) == [
        "A1",
        "A2",
        "A3",
        "B1",
        "B2",
    ]
    assert numbers(tray(client, clerk, buyer_company, sort="-amount")) == [
        "B2",
        "B1",
        "A3",
        "A2",
        "A1",
    ]


@pytest.mark.parametrize("sort", ["counterparty", "-due_date", "status", "number", "type"])
def test_does_every_sort_list_every_document_once(client, buyer_company, clerk, spread, sort):
    assert sorted(numbers(tray(client, clerk, buyer_company, sort=sort))) == [
        "A1",
        "A2",
        "A3",
        "B1",
        "B2",
    ]


def next_link(response) -> str | None:
    match = re.search(r'href="([^"]+)"[^>]*rel="next"', response.get_data(as_text=True))
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("sort", [None, "amount", "-counterparty", "due_date"])
def test_does_the_next_page_link_continue_without_repeats(
    client, app, monkeypatch, supplier, buyer_company, clerk, sort
):
    monkeypatch.setitem(app.config, "INBOX_PAGE_SIZE", 3)
    for i in range(8):  # same issue date for some: ties are broken by id
        make_document(
            supplier,
            buyer_company,
            number=f"P{i}",
            payable=str(100 + i % 3),
            issue_date=dt.date(2024, 1, 1 + i % 2),
            supplier_name=f"S{i % 4}",
        )
    login(client, clerk, buyer_company)
    seen: list[str] = []
    url = "/inbox/received" + (f"?sort={sort}" if sort else "")
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += numbers(response)
        url = next_link(response)
        pages += 1
        assert pages < 10
    assert pages > 1
    assert sorted(seen) == [f"P{i}" for i in range(8)]


def test_is_a_forged_cursor_refused_with_a_message(client, buyer_company, clerk):
    login(client, clerk, buyer_company)
    assert client.get("/inbox/received?cursor=nonsense").status_code == 422
    assert client.get("/inbox/received?sort=amount&cursor=%%%").status_code == 422


# ------------------------------------------------------------------------------------- htmx


def test_does_an_htmx_request_get_only_the_table(client, buyer_company, clerk, spread):
    login(client, clerk, buyer_company)
    response = client.get("/inbox/received?status=claimed", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="tray"')
    assert "<html" not in body and numbers(response) == ["B1"]
    full = client.get("/inbox/received?status=claimed")
    assert "<html" in full.get_data(as_text=True) and numbers(full) == ["B1"]
    assert "HX-Request" in full.headers["Vary"]


# ----------------------------------------------------------------------------------- export


def test_does_the_csv_export_hold_the_filtered_rows_with_numbers_and_dates(
    client, buyer_company, clerk, spread
):
    login(client, clerk, buyer_company)
    response = client.get("/inbox/received.csv?q=ferreter&sort=amount")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3
    assert [r[1] for r in rows[1:]] == ["B1", "B2"]
    assert rows[1][2] == "2024-04-10" and rows[1][6] == "400.00" and rows[1][5] == "COP"


def test_does_the_xlsx_export_keep_money_as_numbers_and_dates_as_dates(
    client, buyer_company, clerk, spread
):
    login(client, clerk, buyer_company)
    response = client.get("/inbox/received.xlsx?status=claimed")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    number, issued, amount = rows[1][1], rows[1][2], rows[1][6]
    assert number == "B1"
    assert isinstance(issued, dt.datetime) and issued.date() == dt.date(2024, 4, 10)
    assert Decimal(str(amount)) == Decimal("400")


def test_is_an_export_over_the_cap_refused_with_a_clear_message(
    client, app, monkeypatch, buyer_company, clerk, spread
):
    monkeypatch.setitem(app.config, "INBOX_EXPORT_MAX_ROWS", 3)
    login(client, clerk, buyer_company)
    response = client.get("/inbox/received.csv")
    assert response.status_code == 422
    assert (
        "narrow" in response.get_data(as_text=True).lower()
        or "acote" in response.get_data(as_text=True).lower()
    )
    assert client.get("/inbox/received.csv?q=ferreter").status_code == 200


def test_does_the_sent_export_list_what_was_sent(client, supplier, seller, buyer_company, spread):
    login(client, seller, supplier)
    rows = list(
        csv.reader(
            io.StringIO(client.get("/inbox/sent.csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    assert [r[1] for r in rows[1:]] == ["A3", "A2", "A1"]


# ---------------------------------------------------------------------------- saved filters


def test_can_a_user_save_a_filter_find_it_and_delete_it(client, buyer_company, clerk, spread):
    login(client, clerk, buyer_company)
    response = client.post(
        "/inbox/filters",
        data={"name": "Reclamadas", "tray": "received", "query": "status=claimed&cursor=abc"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/inbox/received?status=claimed")
    page = client.get("/inbox/received")
    assert 'data-saved-filter="Reclamadas"' in page.get_data(as_text=True)
    assert "/inbox/received?status=claimed" in page.get_data(as_text=True)
    assert numbers(client.get("/inbox/received?status=claimed")) == ["B1"]

    saved = db.session.scalars(unscoped(select(SavedFilter))).one()
    assert (saved.user_id, saved.company_id, saved.query) == (
        clerk.id,
        buyer_company.id,
        "status=claimed",
    )
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 303
    assert db.session.scalars(unscoped(select(SavedFilter))).all() == []


def test_is_a_filter_without_a_name_refused_with_422(client, buyer_company, clerk):
    login(client, clerk, buyer_company)
    response = client.post("/inbox/filters", data={"name": "", "tray": "received", "query": ""})
    assert response.status_code == 422


def test_are_saved_filters_private_to_their_user(client, buyer_company, clerk):
    colleague = make_user(buyer_company, role="payables", name="Colega")
    db.session.add(
        SavedFilter(
            company_id=buyer_company.id,
            user_id=colleague.id,
            name="Mío",
            tray="received",
            query="status=claimed",
        )
    )
    db.session.commit()
    saved = db.session.scalars(unscoped(select(SavedFilter))).one()
    login(client, clerk, buyer_company)
    assert 'data-saved-filter="Mío"' not in client.get("/inbox/received").get_data(as_text=True)
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 404
    assert db.session.scalars(unscoped(select(SavedFilter))).one().id == saved.id


# ----------------------------------------------------------------------------- bulk actions


@pytest.fixture
def signed_pair(supplier, seller, buyer_company):
    """Two signed invoices delivered to the buyer, who has a certificate to sign events."""
    give_certificate(supplier)
    give_certificate(buyer_company)
    documents = []
    for number in ("SETP990000001", "SETP990000002"):
        result = submit(
            supplier, seller, signed_invoice(supplier, buyer_company.tax_id, number=number)
        )
        assert result.accepted, result.findings
        documents.append(result.document)
    return documents


def codes_of(document_id) -> list[str]:
    return list(
        db.session.scalars(
            unscoped(
                select(DocumentEvent.code)
                .where(DocumentEvent.document_id == document_id)
                .order_by(DocumentEvent.id)
            )
        )
    )


def test_does_bulk_acknowledge_record_030_on_each_and_skip_the_illegal_ones(
    client, buyer_company, clerk, signed_pair
):
    first, second = signed_pair
    login(client, clerk, buyer_company)
    response = client.post(
        "/inbox/bulk",
        data={"action": "acknowledge", "tray": "received", "document_ids": [first.id, second.id]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert codes_of(first.id) == ["030"] and codes_of(second.id) == ["030"]
    assert response.get_data(as_text=True).count('data-outcome="done"') == 2

    # Again: both are acknowledged already.
    response = client.post(
        "/inbox/bulk",
        data={"action": "acknowledge", "tray": "received", "document_ids": [first.id, second.id]},
    )
    assert response.get_data(as_text=True).count('data-outcome="skipped"') == 2
    # Accepting them needs the receipt (032) first: asked, and nothing recorded before the answer.
    response = client.post(
        "/inbox/bulk",
        data={"action": "accept", "tray": "received", "document_ids": [first.id, second.id]},
    )
    assert 'data-testid="confirm-form"' in response.get_data(as_text=True)
    assert codes_of(first.id) == ["030"]


def test_is_another_companys_document_skipped_in_a_bulk_action(
    client, buyer_company, clerk, signed_pair, other_company
):
    foreign = make_document(other_company, make_company("Cuarta"), number="X1")
    login(client, clerk, buyer_company)
    response = client.post(
        "/inbox/bulk",
        data={"action": "acknowledge", "tray": "received", "document_ids": [foreign.id]},
    )
    assert 'data-outcome="skipped"' in response.get_data(as_text=True)
    assert codes_of(foreign.id) == []
    response = client.post(
        "/inbox/bulk", data={"action": "download", "tray": "received", "document_ids": [foreign.id]}
    )
    assert response.status_code == 404


def test_does_bulk_download_zip_each_xml_and_pdf(client, buyer_company, clerk, signed_pair):
    login(client, clerk, buyer_company)
    response = client.post(
        "/inbox/bulk",
        data={
            "action": "download",
            "tray": "received",
            "document_ids": [d.id for d in signed_pair],
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert len([n for n in names if n.endswith(".xml")]) == 2
    assert len([n for n in names if n.endswith(".pdf")]) == 2
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    xml = next(n for n in names if n.endswith(".xml"))
    assert archive.read(xml).startswith(b"<")
    pdf = next(n for n in names if n.endswith(".pdf"))
    assert archive.read(pdf).startswith(b"%PDF")


def test_can_a_viewer_read_the_tray_but_not_act_on_it(client, buyer_company, signed_pair):
    viewer = make_user(buyer_company, role="viewer", name="Vera Vista")
    page = tray(client, viewer, buyer_company)
    body = page.get_data(as_text=True)
    assert len(numbers(page)) == 2
    assert 'value="acknowledge"' not in body and 'value="accept"' not in body
    response = client.post(
        "/inbox/bulk",
        data={"action": "acknowledge", "tray": "received", "document_ids": [signed_pair[0].id]},
    )
    assert response.status_code == 403
    assert codes_of(signed_pair[0].id) == []


def test_does_the_sent_tray_offer_no_buyer_events(client, supplier, seller, signed_pair):
    body = tray(client, seller, supplier, "/inbox/sent").get_data(as_text=True)
    assert 'value="acknowledge"' not in body and 'value="download"' in body


def test_does_an_anonymous_visitor_go_to_sign_in(client):
    response = client.get("/inbox/received")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_is_another_companys_saved_filter_404(
    client, buyer_company, clerk, other_company, outsider
):
    db.session.add(
        SavedFilter(
            company_id=other_company.id, user_id=outsider.id, name="Suyo", tray="received", query=""
        )
    )
    db.session.commit()
    saved = db.session.scalars(unscoped(select(SavedFilter))).one()
    login(client, clerk, buyer_company)
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 404
    assert db.session.scalars(unscoped(select(SavedFilter))).one().id == saved.id


def test_does_the_inbox_link_appear_in_the_navigation(client, buyer_company, clerk):
    login(client, clerk, buyer_company)
    body = client.get("/inbox/sent").get_data(as_text=True)
    assert 'href="/inbox/received"' in body and 'href="/inbox/sent"' in body


def test_is_a_paid_invoice_shown_as_paid(client, supplier, buyer_company, clerk):
    document = make_document(supplier, buyer_company, number="PAG1", status="accepted")
    document.payment_status = "paid"
    db.session.commit()
    body = tray(client, clerk, buyer_company).get_data(as_text=True)
    assert 'data-status="paid"' in body and "status-paid" in body


def test_can_the_sent_tray_be_sorted_by_customer(client, supplier, seller, buyer_company):
    for name in ("Zeta", "Alfa", "Media"):
        make_document(supplier, buyer_company, number=name, customer_name=name)
    assert numbers(tray(client, seller, supplier, "/inbox/sent", sort="counterparty")) == [
        "Alfa",
        "Media",
        "Zeta",
    ]


# ------------------------------------------------------------------ the counterparty filter


def _counterparty_options(response) -> list[tuple[str, str, bool]]:
    """Return the counterparty select's options as (value, label, selected)."""
    body = response.get_data(as_text=True)
    start = body.index('<select id="counterparty"')
    select = body[start : body.index("</select>", start)]
    option = r'<option (selected )?value="([^"]*)">([^<]*)</option>'
    return [(value, label, bool(chosen)) for chosen, value, label in re.findall(option, select)]


def test_does_the_counterparty_filter_list_the_suppliers_by_name_and_keep_the_choice(
    client, supplier, buyer_company, clerk
):
    from app.models import Partnership
    from app.models.network import ACTIVE, DECLINED

    zeta, alfa, declined, customer = (make_company(n) for n in ("Zeta", "alfa", "Nope", "Cliente"))
    for partner, status in ((zeta, ACTIVE), (alfa, ACTIVE), (declined, DECLINED)):
        db.session.add(Partnership(supplier_id=partner.id, customer_id=buyer_company.id,
                                   requested_by_id=buyer_company.id, status=status))
    db.session.add(Partnership(supplier_id=buyer_company.id, customer_id=customer.id,
                               requested_by_id=buyer_company.id, status=ACTIVE))
    db.session.add(Partnership(supplier_id=None, customer_id=buyer_company.id,
                               requested_by_id=buyer_company.id, invited_name="Invitada",
                               invited_country="CO", invited_tax_id="900000001"))
    db.session.commit()

    options = _counterparty_options(tray(client, clerk, buyer_company))
    assert [label for _value, label, _selected in options][1:] == ["alfa", "Zeta"]
    assert [selected for *_rest, selected in options] == [True, False, False]
    chosen = _counterparty_options(tray(client, clerk, buyer_company, counterparty=str(zeta.id)))
    assert [selected for *_rest, selected in chosen] == [False, False, True]
    # A partner added since the last page view is listed on the next one.
    newer = make_company("Beta")
    db.session.add(Partnership(supplier_id=newer.id, customer_id=buyer_company.id,
                               requested_by_id=buyer_company.id, status=ACTIVE))
    db.session.commit()
    options = _counterparty_options(tray(client, clerk, buyer_company))
    assert [label for _value, label, _selected in options][1:] == ["alfa", "Beta", "Zeta"]


def test_does_the_filter_form_follow_the_query_and_the_language(client, buyer_company, clerk):
    login(client, clerk, buyer_company)
    spanish = client.get("/inbox/received", query_string={"q": "FV-1"}).get_data(as_text=True)
    assert 'name="q" type="text" value="FV-1"' in spanish
    assert "Filtrar" in spanish
    plain = client.get("/inbox/received").get_data(as_text=True)
    assert 'value="FV-1"' not in plain
    client.post("/locale", data={"locale": "en"})
    english = client.get("/inbox/received", query_string={"q": "FV-1"}).get_data(as_text=True)
    assert 'value="FV-1"' in english
    assert ">Filter</button>" in english
