"""The "Payments received" and "Payments made" lists: each filter, the reconciliation status of
each payment, the CSV and XLSX exports of the filtered list, and what another company sees."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Payment, User
from app.services.payments import banked, paying
from app.services.payments.paying import Item
from app.tenancy import acting_as
from tests.conftest import login, make_company, make_user
from tests.payments_helpers import invoice
from tests.services.reconciliation.helpers import bank_account, entry, statement, store


@pytest.fixture
def client(app):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "en"
    return browser


def bank_payment(company, user, document, amount, *, reference="", e2e=""):
    with acting_as(company.id, user.id):
        payment = banked.record_bank_payment(
            company.id,
            allocations=[(document.id, Decimal(amount))],
            booked_on=dt.date(2026, 11, 20),
            reference=reference,
            end_to_end_id=e2e,
            actor=user,
        )
        db.session.commit()
    return payment


def ref(payment) -> str:
    return f"PAY-{payment.id:06d}"


@pytest.fixture
def world():
    """A supplier paid by two customers (by bank and by transfer), paying a supplier of its
    own; a stranger with payments of its own; one payment matched on the bank statement, one
    suggested, the rest unmatched."""
    supplier = make_company("Proveedora Lista", tax_id="900111222")
    first = make_company("Cliente Uno", tax_id="800555666")
    second = make_company("Cliente Dos", tax_id="700333444")
    vendor = make_company("Vendedor Tres", tax_id="600777888")
    stranger = make_company("Ajena Cuatro", tax_id="500999000")
    clerk = make_user(supplier, role="owner", name="Rita")
    second_payer = make_user(second, role="payables")
    stranger_user = make_user(stranger, role="owner")

    p_invoice = bank_payment(supplier, clerk, invoice(supplier, first, "100.00"), "100.00")
    debit_note = invoice(supplier, second, "200.00", document_type="DebitNote")
    p_debit = bank_payment(supplier, clerk, debit_note, "200.00")
    with acting_as(second.id, second_payer.id):
        p_transfer = paying.record_transfer(
            second.id,
            items=[Item(invoice(supplier, second, "333.00").id)],
            actor=second_payer,
            transfer_date=dt.date(2026, 11, 21),
            reference="TRX-1",
            proof=b"%PDF-1.4 receipt",
            proof_filename="r.pdf",
        )
        db.session.commit()
    p_made = bank_payment(supplier, clerk, invoice(vendor, supplier, "50.00"), "50.00")
    p_stranger = bank_payment(stranger, stranger_user, invoice(stranger, first, "100.00"),
                              "100.00")
    open_invoice = invoice(supplier, first, "500.00")

    # The statement: one line names a payment (matched automatically), one line names an
    # open invoice (a new payment, matched), one has only the debit note's amount (suggested).
    account = bank_account(supplier)
    store(supplier, account, statement(
        entry("100.00", text=f"Abono {ref(p_invoice)}"),
        entry("500.00", text=f"Pago {open_invoice.number}"),
        entry("200.00", text="Consignacion"),
    ), user=clerk)
    with acting_as(supplier.id):
        p_new = db.session.scalars(
            select(Payment).where(Payment.id.not_in(
                [p_invoice.id, p_debit.id, p_transfer.id, p_made.id, p_stranger.id]))
        ).one()
    return {
        "supplier": supplier, "first": first, "second": second, "vendor": vendor,
        "stranger": stranger, "clerk": clerk, "stranger_user": stranger_user,
        "invoice": p_invoice, "debit": p_debit, "transfer": p_transfer, "made": p_made,
        "foreign": p_stranger, "new": p_new,
    }


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def ids(client, path: str) -> set[int]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return set(map(int, re.findall(r'data-payment="(\d+)"', response.get_data(as_text=True))))


def test_each_list_shows_its_side_only_and_never_another_company(client, world):
    w = world
    login(client, w["clerk"], w["supplier"])
    received = {w["invoice"].id, w["debit"].id, w["transfer"].id, w["new"].id}
    assert ids(client, "/payments/received") == received
    assert ids(client, "/payments/made") == {w["made"].id}
    # The first URL still works: received, or made with ?side=sent.
    assert ids(client, "/payments/") == received
    assert ids(client, "/payments/?side=sent") == {w["made"].id}
    page = text(client.get("/payments/received"))
    assert "Payments received" in page and ref(w["debit"]) in page
    assert "Ajena" not in page and f'data-payment="{w["foreign"].id}"' not in page


def test_the_counterparty_tax_id_filter_takes_the_whole_id_its_first_digits_or_dots(
    client, world
):
    w = world
    login(client, w["clerk"], w["supplier"])
    assert ids(client, "/payments/received?tax_id=800555666") == {w["invoice"].id, w["new"].id}
    assert ids(client, "/payments/received?tax_id=800.555") == {w["invoice"].id, w["new"].id}
    assert ids(client, "/payments/received?tax_id=7003") == {w["debit"].id, w["transfer"].id}
    assert ids(client, "/payments/made?tax_id=600777888") == {w["made"].id}
    assert ids(client, "/payments/made?tax_id=800555666") == set()
    # The stranger's tax id finds nothing of the stranger's.
    assert ids(client, "/payments/received?tax_id=500999000") == set()
    assert ids(client, "/payments/received?tax_id=1234") == set()


def test_the_document_type_filter_tells_invoices_from_debit_notes(client, world):
    w = world
    login(client, w["clerk"], w["supplier"])
    assert ids(client, "/payments/received?document_type=DebitNote") == {w["debit"].id}
    assert ids(client, "/payments/received?document_type=Invoice") == {
        w["invoice"].id, w["transfer"].id, w["new"].id}
    page = text(client.get("/payments/received"))
    assert "Debit note" in page  # the option, named for people
    response = client.get("/payments/received?document_type=CreditNote")
    assert response.status_code == 422
    assert "Choose one of the document types offered." in text(response)


@pytest.mark.parametrize("written", ["{ref}", "{id}", "pay-{id}", " PAY {id} ", "#{id}"])
def test_the_payment_number_is_the_reference_or_the_bare_id(client, world, written):
    w = world
    login(client, w["clerk"], w["supplier"])
    query = written.format(ref=ref(w["debit"]), id=w["debit"].id)
    assert ids(client, f"/payments/received?number={quote(query)}") == {w["debit"].id}
    # A number of the other list, or of another company, finds nothing here.
    assert ids(client, f"/payments/received?number={w['made'].id}") == set()
    assert ids(client, f"/payments/received?number={ref(w['foreign'])}") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("number=ABC", "Payment number"),
        ("number=PAY-99999999999", "Payment number"),
        ("number=PAY-0", "Payment number"),
        ("date_from=2026-13-45", "From"),
        ("date_to=yesterday", "To"),
        ("date_from=2026-02-01&date_to=2026-01-01", "To"),
        ("method=cash", "Method"),
        ("status=nonsense", "Status"),
        ("reconciliation=maybe", "Reconciliation"),
        ("counterparty=99999999999999999999", "Company"),
        ("counterparty=abc", "Company"),
        ("tax_id=" + "9" * 41, "Tax id"),
    ],
)
def test_a_bad_filter_is_a_message_on_its_field_never_a_server_error(client, world, query,
                                                                     field):
    w = world
    login(client, w["clerk"], w["supplier"])
    for path in ("/payments/received", "/payments/made", "/payments/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert f"{field}:" in text(response)
        assert 'data-payment="' not in text(response)
    for path in ("/payments/received.csv", "/payments/made.xlsx"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert "Check the filters" in text(response)


def test_a_huge_page_number_is_an_empty_page(client, world):
    login(client, world["clerk"], world["supplier"])
    assert ids(client, "/payments/received?page=99999999999999999999") == set()


def test_method_status_and_period_filters(client, world):
    w = world
    login(client, w["clerk"], w["supplier"])
    assert ids(client, "/payments/received?method=transfer") == {w["transfer"].id}
    assert ids(client, "/payments/received?method=bank") == {
        w["invoice"].id, w["debit"].id, w["new"].id}
    assert ids(client, "/payments/received?method=stripe") == set()
    assert ids(client, "/payments/received?status=awaiting_confirmation") == {w["transfer"].id}
    assert ids(client, "/payments/received?status=succeeded&method=transfer") == set()
    page = text(client.get("/payments/received"))
    assert "Bank statement" in page and "Bank transfer" in page  # methods by name

    db.session.execute(update(Payment).where(Payment.id == w["debit"].id).values(
        created_at=dt.datetime(2026, 1, 15, 15, 0, tzinfo=dt.UTC)))
    db.session.commit()
    january = "date_from=2026-01-01&date_to=2026-01-31"
    assert ids(client, f"/payments/received?{january}") == {w["debit"].id}
    assert ids(client, "/payments/received?date_from=2026-01-15&date_to=2026-01-15") == {
        w["debit"].id}
    assert ids(client, "/payments/received?date_to=2026-01-14") == set()
    assert w["debit"].id not in ids(client, "/payments/received?date_from=2026-01-16")


def test_the_reconciliation_status_is_shown_and_filtered(client, world):
    w = world
    login(client, w["clerk"], w["supplier"])
    page = client.get("/payments/received").get_data(as_text=True)
    statuses = dict(
        (int(pid), status) for pid, status in re.findall(
            r'data-payment="(\d+)".*?data-testid="reconciliation-status" data-status="(\w+)"',
            page, re.S)
    )
    assert statuses == {
        w["invoice"].id: "matched", w["new"].id: "matched",
        w["debit"].id: "suggested", w["transfer"].id: "unmatched",
    }
    shown = text(client.get("/payments/received"))
    assert "Matched" in shown and "Suggested match" in shown and "Not matched" in shown
    assert ids(client, "/payments/received?reconciliation=matched") == {
        w["invoice"].id, w["new"].id}
    assert ids(client, "/payments/received?reconciliation=suggested") == {w["debit"].id}
    assert ids(client, "/payments/received?reconciliation=unmatched") == {w["transfer"].id}
    assert ids(client, "/payments/made?reconciliation=unmatched") == {w["made"].id}
    assert ids(client, "/payments/made?reconciliation=matched") == set()


def test_every_cell_is_labelled_for_a_phone_and_the_filters_are_labelled_fields(client, world):
    login(client, world["clerk"], world["supplier"])
    page = client.get("/payments/received").get_data(as_text=True)
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<td[^>]*>", table)
    assert cells and all("data-label=" in c for c in cells)
    for name in ("date_from", "date_to", "tax_id", "number", "document_type", "method",
                 "status", "reconciliation"):
        assert f'<label for="{name}"' in page, name
    assert 'role="search"' in page


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_exports_hold_the_filtered_list_in_words_people_read(client, world):
    w = world
    login(client, w["clerk"], w["supplier"])
    query = "reconciliation=matched"
    shown = ids(client, f"/payments/received?{query}")
    page = text(client.get(f"/payments/received?{query}"))
    assert "/payments/received.csv?reconciliation=matched" in page  # the export link keeps it

    response = client.get(f"/payments/received.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    assert rows[0] == ["Date", "Payment reference", "Counterparty", "Counterparty tax id",
                       "Invoices", "Method", "Status", "Amount", "Fee", "Currency",
                       "Reconciliation"]
    assert {int(r[1].removeprefix("PAY-")) for r in rows[1:]} == shown
    first = next(r for r in rows[1:] if r[1] == ref(w["invoice"]))
    assert first[2].startswith("Cliente Uno") and first[3] == "NIT 80.055.566-6"
    assert re.fullmatch(r"FE\d+", first[4])
    assert first[5:] == ["Bank statement", "Paid", "100.00", "", "COP", "Matched"]
    dt.date.fromisoformat(first[0])

    response = client.get(f"/payments/received.xlsx?{query}")
    assert response.status_code == 200
    sheet = read_xlsx(response.data)
    assert [str(c) for c in sheet[0]] == rows[0]
    assert {int(str(r[1]).removeprefix("PAY-")) for r in sheet[1:]} == shown
    row = next(r for r in sheet[1:] if r[1] == ref(w["invoice"]))
    assert isinstance(row[0], dt.datetime | dt.date)
    assert row[7] == 100 and row[10] == "Matched"

    # Unfiltered, the made list: only the company's own payment made.
    made = read_csv(client.get("/payments/made.csv").data)
    assert [r[1] for r in made[1:]] == [ref(w["made"])]
    assert made[1][2].startswith("Vendedor Tres") and made[1][10] == "Not matched"
    every = read_csv(client.get("/payments/received.csv").data)
    assert ref(w["foreign"]) not in {r[1] for r in every}
    assert len(every) == 1 + 4


def test_the_export_speaks_spanish_to_a_spanish_reader(app, world):
    w = world
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "es"
    login(browser, w["clerk"], w["supplier"])
    rows = read_csv(browser.get("/payments/received.csv?method=transfer").data)
    assert rows[0][0] == "Fecha" and rows[0][-1] == "Conciliación"
    assert rows[1][5] == "Transferencia bancaria" and rows[1][10] == "Sin conciliar"
    page = text(browser.get("/payments/received"))
    assert "Pagos recibidos" in page and "Nota débito" in page


def test_the_stranger_sees_only_its_own_and_the_navigation_offers_both_lists(client, world):
    w = world
    login(client, w["stranger_user"], w["stranger"])
    assert ids(client, "/payments/received") == {w["foreign"].id}
    assert ids(client, f"/payments/received?number={w['debit'].id}") == set()
    rows = read_csv(client.get("/payments/received.csv").data)
    assert [r[1] for r in rows[1:]] == [ref(w["foreign"])]
    page = client.get("/payments/made").get_data(as_text=True)
    assert 'href="/payments/received" data-testid="nav-payments"' in page
    assert 'href="/payments/made" data-testid="nav-paymentsmade"' in page


def test_the_filters_answer_htmx_with_the_list_alone_and_keep_them_in_the_export_links(
    client, world
):
    w = world
    login(client, w["clerk"], w["supplier"])
    response = client.get("/payments/made?method=bank", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="payments-list"')
    assert f'data-payment="{w["made"].id}"' in fragment
    assert 'href="/payments/made.xlsx?method=bank"' in fragment
    bad = client.get("/payments/made?number=zz", headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "Payment number:" in text(bad)


def test_the_list_is_paged_with_its_filters(client, world, monkeypatch):
    from app.blueprints.payments import lists

    w = world
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    login(client, w["clerk"], w["supplier"])
    first = client.get("/payments/received?method=bank").get_data(as_text=True)
    assert len(re.findall(r'data-payment="', first)) == 2
    assert 'href="/payments/received?page=2&amp;method=bank"' in first or (
        'href="/payments/received?method=bank&amp;page=2"' in first)
    second = ids(client, "/payments/received?method=bank&page=2")
    assert second | set(map(int, re.findall(r'data-payment="(\d+)"', first))) == {
        w["invoice"].id, w["debit"].id, w["new"].id}


def test_the_period_is_the_readers_days_not_utcs(app, client, world):
    """A payment at 8 p.m. in Bogotá on 31 January is 1 February in UTC: the list shows it on
    the 31st, so a reader in Bogotá finds it in January and not in February; a reader whose
    zone is UTC the other way round."""
    w = world
    db.session.execute(update(Payment).where(Payment.id == w["debit"].id).values(
        created_at=dt.datetime(2026, 2, 1, 1, 0, tzinfo=dt.UTC)))
    db.session.commit()
    login(client, w["clerk"], w["supplier"])
    assert w["clerk"].timezone in (None, "America/Bogota")
    on_31st = "/payments/received?date_from=2026-01-31&date_to=2026-01-31"
    assert w["debit"].id in ids(client, on_31st)
    assert w["debit"].id not in ids(client, "/payments/received?date_from=2026-02-01")
    db.session.execute(update(User).where(User.id == w["clerk"].id).values(timezone="UTC"))
    db.session.commit()
    other = app.test_client()  # (this client's requests share one ``g``: its signed-in user)
    login(other, w["clerk"], w["supplier"])
    assert w["debit"].id not in ids(other, "/payments/received?date_to=2026-01-31")
    assert w["debit"].id in ids(other, on_31st.replace("01-31", "02-01"))
