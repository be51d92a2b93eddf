"""The reconciliation pages: bank accounts, an account's statement (import, column mapping, lines
with their running balance), one line (suggestions, confirm, undo, manual match, ignore), the
review queue, the rules, and the chain shown on the invoice's page.

Statement files are not parsed here (the parsers are tested on their own): the import route is
driven through a monkeypatched ``importing.read_statement``; other lines are stored directly.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document
from app.models.reconciliation import BankAccount, BankLine, Match, ReconciliationRule
from app.services.reconciliation import importing
from app.statements.model import StatementError
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.payments_helpers import invoice as make_invoice
from tests.services.reconciliation import helpers
from tests.services.reconciliation.helpers import entry, statement, store


@pytest.fixture
def client(app):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "en"
    return browser


@pytest.fixture
def parties():
    supplier, buyer = make_company("Proveedora Andina S.A.S."), make_company("Compradora S.A.S.")
    owner = make_user(supplier, role="owner", name="Olga Dueña")
    return supplier, buyer, owner


def invoice(supplier, buyer, amount: str) -> SimpleNamespace:
    """An open invoice, kept as plain values (requests end the session its row was read in)."""
    document = make_invoice(supplier, buyer, amount)
    return SimpleNamespace(id=document.id, number=document.number)


def bank_account(company, **kwargs) -> SimpleNamespace:
    account = helpers.bank_account(company, **kwargs)
    return SimpleNamespace(id=account.id)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\xa0", " ")


def account_row(account_id: int) -> BankAccount:
    db.session.expire_all()
    return db.session.scalars(unscoped(
        select(BankAccount).where(BankAccount.id == account_id))).one()


def open_balance(document_id: int) -> Decimal:
    db.session.expire_all()
    return db.session.scalars(unscoped(
        select(Document.open_balance).where(Document.id == document_id))).one()


def lines_of(company) -> list[BankLine]:
    db.session.expire_all()
    return list(db.session.scalars(unscoped(
        select(BankLine).where(BankLine.company_id == company.id).order_by(BankLine.id))))


def matches_of(line) -> list[Match]:
    db.session.expire_all()
    return list(db.session.scalars(unscoped(
        select(Match).where(Match.bank_line_id == line.id).order_by(Match.id))))


def ambiguous(supplier, buyer, owner, amount: str = "500.00"):
    """Two open invoices of the same amount and a credit naming neither: two suggestions."""
    a, b = invoice(supplier, buyer, amount), invoice(supplier, buyer, amount)
    account = bank_account(supplier)
    store(supplier, account, statement(entry(amount, text="pago cliente", name="Compradora")),
          user=owner)
    line = lines_of(supplier)[0]
    assert line.status == "suggested"
    return account, SimpleNamespace(id=line.id), a, b


# ------------------------------------------------------------------------------ the pages


def test_every_page_renders_for_the_owner(client, parties):
    supplier, buyer, owner = parties
    account, line, a, b = ambiguous(supplier, buyer, owner)
    with acting_as(supplier.id):
        rule = ReconciliationRule(company_id=supplier.id, name="Comisiones",
                                  action="fee_difference", text_contains="comision",
                                  fee_max=Decimal("10"), position=1)
        db.session.add(rule)
        db.session.commit()
    login(client, owner, supplier)
    pages = {
        "/reconciliation/": ["Cuenta corriente", "•••• 6789", "Add a bank account"],
        f"/reconciliation/accounts/{account.id}": ["Import a statement", "Column mapping",
                                                    "Statement lines", "Recent imports"],
        f"/reconciliation/lines/{line.id}": ["Suggestions", "Match by hand", a.number],
        "/reconciliation/review": ["Review queue", "To review: 1"],
        "/reconciliation/rules": ["Comisiones", "A shortfall up to N is a bank fee"],
        "/reconciliation/rules/new": ["New rule", "When a bank line…"],
        f"/reconciliation/rules/{rule.id}": ["Edit the rule Comisiones"],
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        for snippet in expected:
            assert snippet in page, (url, snippet)
        assert 'data-testid="nav-reconciliation"' in page
        assert "Traceback" not in page
    # The queue shows the line's best suggestion: one of the two invoices of the same amount
    # (they tie; which comes first follows the order the database reads them in).
    queue = text(client.get("/reconciliation/review"))
    assert (a.number in queue) != (b.number in queue)


def test_the_nav_link_is_in_spanish_too(client, parties):
    supplier, _buyer, owner = parties
    with client.session_transaction() as session:
        session["locale"] = "es"
    login(client, owner, supplier)
    page = text(client.get("/reconciliation/"))
    assert "Conciliación" in page and "Cuentas bancarias" in page


def test_every_input_has_a_label_and_tables_carry_data_labels(client, parties):
    """At 390 px the tables stack (class stack, data-label per cell); every input is named."""
    supplier, buyer, owner = parties
    account, line, *_ = ambiguous(supplier, buyer, owner)
    login(client, owner, supplier)
    for url in ("/reconciliation/", f"/reconciliation/accounts/{account.id}",
                f"/reconciliation/lines/{line.id}", "/reconciliation/review",
                "/reconciliation/rules/new"):
        page = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
            if re.search(r'type="(hidden|submit)"', tag):
                continue
            found = re.search(r'\bid="([^"]+)"', tag)
            assert found, (url, tag)
            assert f'for="{found.group(1)}"' in page, (url, tag)
        for table in re.findall(r"<table[^>]*>.*?</table>", page, flags=re.S):
            assert 'class="stack' in table, url
            cells = re.findall(r"<td\b[^>]*>", table)
            assert cells and all("data-label=" in cell for cell in cells), url


# ------------------------------------------------------------------------------ bank accounts


def test_an_account_is_added_and_listed_with_its_number_masked(client, parties):
    supplier, _buyer, owner = parties
    login(client, owner, supplier)
    response = client.post("/reconciliation/accounts", data={
        "name": "Ahorros Bancolombia", "bank_name": "Bancolombia", "currency": "COP",
        "number": "0012-3456-7890"})
    assert response.status_code == 303
    account = db.session.scalars(unscoped(select(BankAccount))).one()
    assert (account.company_id, account.number, account.currency) == (
        supplier.id, "001234567890", "COP")
    assert response.headers["Location"].endswith(f"/reconciliation/accounts/{account.id}")
    page = text(client.get("/reconciliation/"))
    assert "Ahorros Bancolombia" in page and "•••• 7890" in page
    assert "001234567890" not in page


def test_a_good_iban_is_kept_compact(client, parties):
    supplier, _buyer, owner = parties
    login(client, owner, supplier)
    response = client.post("/reconciliation/accounts", data={
        "name": "Euros", "bank_name": "Deutsche", "currency": "EUR",
        "number": "DE89 3704 0044 0532 0130 00"})
    assert response.status_code == 303
    account = db.session.scalars(unscoped(select(BankAccount))).one()
    assert account.number == "DE89370400440532013000" and account.is_iban


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"number": "DE89 3704 0044 0532 0130 01"}, "number", "This IBAN is not valid"),
    ({"name": ""}, "name", "Give the account a name"),
    ({"number": ""}, "number", "Give the account number or IBAN"),
    ({"currency": "XYZ"}, "currency", "Choose the account's currency"),
    ({"name": "x" * 101}, "name", "100"),
])
def test_a_bad_account_answers_422_with_the_message_by_its_field(
    client, parties, data, field, message
):
    supplier, _buyer, owner = parties
    login(client, owner, supplier)
    form = {"name": "Euros", "bank_name": "Banco", "currency": "EUR", "number": "123456", **data}
    response = client.post("/reconciliation/accounts", data=form)
    assert response.status_code == 422
    page = text(response)
    assert f'data-field-error="{field}"' in page
    assert message in page
    assert db.session.scalars(unscoped(select(BankAccount))).all() == []


def test_the_same_account_twice_is_refused(client, parties):
    supplier, _buyer, owner = parties
    bank_account(supplier, number="123456789")
    login(client, owner, supplier)
    response = client.post("/reconciliation/accounts", data={
        "name": "Otra vez", "bank_name": "Banco", "currency": "COP", "number": "123 456 789"})
    assert response.status_code == 422
    assert "This account is already here." in text(response)
    assert len(db.session.scalars(unscoped(select(BankAccount))).all()) == 1


def test_removing_an_account_asks_first_then_hides_it(client, parties):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    login(client, owner, supplier)
    url = f"/reconciliation/accounts/{account.id}/remove"
    asked = client.post(url)
    assert asked.status_code == 200 and "Remove Cuenta corriente?" in text(asked)
    assert account_row(account.id).active
    done = client.post(url, data={"confirm": "1"})
    assert done.status_code == 303
    db.session.expire_all()
    assert not account_row(account.id).active
    assert "data-account=" not in text(client.get("/reconciliation/"))
    assert client.get(f"/reconciliation/accounts/{account.id}").status_code == 404


# ------------------------------------------------------------------------------ importing


def upload(client, account, data=b"<Document/>", name="extracto.xml"):
    return client.post(f"/reconciliation/accounts/{account.id}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_imported_file_shows_its_lines_with_a_running_balance(client, parties, monkeypatch):
    supplier, buyer, owner = parties
    doc = invoice(supplier, buyer, "250000.00")
    account = bank_account(supplier)
    seen = {}

    def read(data, *, filename="", mapping=None, decimal_comma=False):
        seen["args"] = (data, filename)
        return "camt053", [statement(
            entry("250000.00", text=f"Pago {doc.number}", name="Compradora",
                  day=dt.date(2026, 12, 1)),
            entry("-15000.00", text="Comision manejo", day=dt.date(2026, 12, 2)),
            entry("40000.00", text="Consignacion", name="Anonimo", day=dt.date(2026, 12, 3)),
            opening="1000000.00")]

    monkeypatch.setattr(importing, "read_statement", read)
    login(client, owner, supplier)
    response = upload(client, account)
    assert response.status_code == 303
    assert seen["args"] == (b"<Document/>", "extracto.xml")
    page = text(client.get(response.headers["Location"]))
    assert "Statement imported: 3 new lines, 0 already here, 1 matched automatically" in page
    balances = re.findall(r'data-testid="line-balance">([^<]*)<', page)
    # Newest first: 1,275,000 after the third line; 1,235,000; 1,250,000 after the first.
    assert balances == ["COP 1,275,000.00", "COP 1,235,000.00", "COP 1,250,000.00"]
    amounts = re.findall(r'data-testid="line-amount"><span class="(money-\w+)">([^<]*)<', page)
    assert amounts == [("money-in", "+COP 40,000.00"), ("money-out", "-COP 15,000.00"),
                       ("money-in", "+COP 250,000.00")]
    assert "Matched" in page and "Not matched" in page
    assert "extracto.xml" in page and "Balances add up" in page
    assert open_balance(doc.id) == 0
    # Again: nothing added twice.
    response = upload(client, account)
    page = text(client.get(response.headers["Location"]))
    assert "0 new lines, 3 already here" in page
    assert len(lines_of(supplier)) == 3


def test_a_balance_gap_is_reported_after_the_import(client, parties, monkeypatch):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    monkeypatch.setattr(importing, "read_statement", lambda data, **kw: (
        "mt940", [statement(entry("100.00"), opening="0", closing="90")]))
    login(client, owner, supplier)
    page = text(client.get(upload(client, account).headers["Location"]))
    assert "The file may lack lines" in page
    assert 'data-testid="balance-gap"' in page


def test_an_unreadable_file_answers_422_with_the_parsers_message(client, parties, monkeypatch):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)

    def read(data, **kw):
        raise StatementError("Line 7: :61: has no amount.", "Línea 7: :61: no tiene importe.")

    monkeypatch.setattr(importing, "read_statement", read)
    login(client, owner, supplier)
    response = upload(client, account, b":20:X\n:61:bad", "extracto.sta")
    assert response.status_code == 422
    page = text(response)
    assert 'data-field-error="file"' in page and "Line 7: :61: has no amount." in page
    assert lines_of(supplier) == []
    with client.session_transaction() as session:
        session["locale"] = "es"
    assert "Línea 7: :61: no tiene importe." in text(upload(client, account))


def test_a_statement_of_another_account_is_refused_on_the_form(client, parties, monkeypatch):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    monkeypatch.setattr(importing, "read_statement", lambda data, **kw: (
        "camt053", [statement(entry("1.00"), account="555555555")]))
    login(client, owner, supplier)
    response = upload(client, account)
    assert response.status_code == 422
    assert "This statement is for account 555555555" in text(response)


def test_an_upload_without_a_file_or_empty_is_refused(client, parties, monkeypatch):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    monkeypatch.setattr(importing, "read_statement", lambda *a, **k: pytest.fail("read"))
    login(client, owner, supplier)
    response = client.post(f"/reconciliation/accounts/{account.id}/import", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose the statement file to import." in text(response)
    response = upload(client, account, b"", "vacio.csv")
    assert response.status_code == 422 and "The file is empty." in text(response)


def test_an_oversized_upload_answers_413(client, parties, monkeypatch, app):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    monkeypatch.setattr(importing, "read_statement", lambda *a, **k: pytest.fail("read"))
    login(client, owner, supplier)
    # Past the statement limit (made small here): the form says so.
    monkeypatch.setattr("app.statements.MAX_BYTES", 1024)
    response = upload(client, account, b"x" * 2048)
    assert response.status_code == 413 and "The file is too large" in text(response)
    # Past the app's request limit: Flask refuses before the route reads it.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = upload(client, account, b"x" * 8192)
    assert response.status_code == 413 and "The file is too large." in text(response)
    assert lines_of(supplier) == []


def test_the_column_mapping_is_saved_and_shown_again(client, parties):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    login(client, owner, supplier)
    url = f"/reconciliation/accounts/{account.id}/mapping"
    response = client.post(url, data={
        "date_column": "Fecha", "date_format": "%d/%m/%Y", "debit_column": "Débito",
        "credit_column": "Crédito", "decimal_comma": "y", "skip_rows": "3", "delimiter": ";",
        "description_column": "Concepto"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = account_row(account.id).column_mapping
    assert saved["date_column"] == "Fecha" and saved["date_format"] == "%d/%m/%Y"
    assert (saved["debit_column"], saved["credit_column"], saved["amount_column"]) == (
        "Débito", "Crédito", None)
    assert saved["decimal_comma"] is True and saved["skip_rows"] == 3
    assert saved["delimiter"] == ";" and saved["description_column"] == "Concepto"
    page = text(client.get(f"/reconciliation/accounts/{account.id}"))
    assert 'value="Concepto"' in page and "31/12/2026" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"date_column": ""}, "date_column", "Give the column that holds the date."),
    ({"amount_column": ""}, "amount_column", "Give the amount column, or both"),
    ({"debit_column": "Débito"}, "amount_column", "not both"),
    ({"skip_rows": "-1"}, "skip_rows", ""),
    ({"date_format": "%H"}, "date_format", "Not a valid choice"),
])
def test_a_bad_mapping_answers_422_by_its_field(client, parties, data, field, message):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    login(client, owner, supplier)
    form = {"date_column": "Fecha", "date_format": "%Y-%m-%d", "amount_column": "Valor", **data}
    response = client.post(f"/reconciliation/accounts/{account.id}/mapping", data=form)
    assert response.status_code == 422
    page = text(response)
    assert f'data-field-error="{field}"' in page and message in page
    db.session.expire_all()
    assert account_row(account.id).column_mapping is None


def test_the_lines_are_filtered_and_paginated(client, parties):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    entries = [entry(f"{i + 1}.00", text=f"abono {i}", day=dt.date(2026, 11, 1) + dt.timedelta(i))
               for i in range(55)]
    store(supplier, account, statement(*entries, entry("-7.00", text="cargo gmf",
                                                       day=dt.date(2026, 10, 1))))
    login(client, owner, supplier)
    base = f"/reconciliation/accounts/{account.id}"
    first = text(client.get(base))
    assert first.count('data-line="') == 50 and 'data-testid="next-page"' in first
    second = text(client.get(base + "?page=2"))
    assert second.count('data-line="') == 6 and 'data-testid="next-page"' not in second
    out = text(client.get(base + "?direction=debit"))
    assert out.count('data-line="') == 1 and "cargo gmf" in out
    found = text(client.get(base + "?q=abono+54"))
    assert found.count('data-line="') == 1
    dated = text(client.get(base + "?date_from=2026-11-01&date_to=2026-11-03"))
    assert dated.count('data-line="') == 3
    assert client.get(base + "?status=nonsense").status_code == 422
    assert client.get(base + "?date_from=2026-12-01&date_to=2026-11-01").status_code == 422
    fragment = client.get(base + "?status=unmatched", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


# ------------------------------------------------------------------------------ one line


def test_a_suggestion_is_confirmed_then_undone(client, parties):
    supplier, buyer, owner = parties
    _account, line, a, b = ambiguous(supplier, buyer, owner)
    login(client, owner, supplier)
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    assert "Exact amount" in page and "Score" in page and "Invoice you issued" in page
    chosen = next(x for x in matches_of(line) if x.status == "suggested")
    response = client.post(f"/reconciliation/matches/{chosen.id}/confirm")
    assert response.status_code == 303
    assert lines_of(supplier)[0].status == "matched"
    settled = {a.id: open_balance(a.id), b.id: open_balance(b.id)}
    assert sorted(settled.values()) == [Decimal("0"), Decimal("500.00")]
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    assert "Matched with" in page and "Confirmed by a person" in page
    # Undo asks first, then reverses the payment.
    asked = client.post(f"/reconciliation/matches/{chosen.id}/undo")
    assert asked.status_code == 200 and "Undo this match?" in text(asked)
    assert lines_of(supplier)[0].status == "matched"
    done = client.post(f"/reconciliation/matches/{chosen.id}/undo", data={"confirm": "1"})
    assert done.status_code == 303
    assert lines_of(supplier)[0].status == "unmatched"
    assert open_balance(a.id) == open_balance(b.id) == Decimal("500.00")
    # An undone match cannot be confirmed again: a message, not an error page.
    again = client.post(f"/reconciliation/matches/{chosen.id}/confirm", follow_redirects=True)
    assert again.status_code == 200 and "no longer open" in text(again)


def test_the_review_queue_confirms_in_place(client, parties):
    supplier, buyer, owner = parties
    _account, line, *_ = ambiguous(supplier, buyer, owner)
    login(client, owner, supplier)
    page = text(client.get("/reconciliation/review"))
    assert f'id="review-line-{line.id}"' in page and "Exact amount" in page
    best = re.search(r'action="/reconciliation/matches/(\d+)/confirm"', page).group(1)
    response = client.post(f"/reconciliation/matches/{best}/confirm", data={"back": "review"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = text(response)
    assert row.lstrip().startswith(f'<tr id="review-line-{line.id}"') and "Matched" in row
    assert 'data-testid="confirm"' not in row
    assert lines_of(supplier)[0].status == "matched"
    page = text(client.get("/reconciliation/review"))
    assert 'data-testid="queue-empty"' in page and "Matched: 1" in page


def test_a_line_is_matched_by_hand_to_two_invoices_with_a_fee(client, parties):
    supplier, buyer, owner = parties
    a, b = invoice(supplier, buyer, "300.00"), invoice(supplier, buyer, "200.00")
    invoice(supplier, buyer, "999.00")
    foreign = invoice(make_company("Ajena S.A.S."), buyer, "300.00")
    account = bank_account(supplier)
    store(supplier, account, statement(entry("495.00", text="varios")), user=owner)
    line = SimpleNamespace(id=lines_of(supplier)[0].id)
    login(client, owner, supplier)
    search = client.get(f"/reconciliation/lines/{line.id}/candidates?q={a.number}",
                        headers={"HX-Request": "true"})
    assert search.status_code == 200
    assert f'value="receivable:{a.id}"' in text(search)
    assert f'value="receivable:{b.id}"' not in text(search)
    by_amount = text(client.get(f"/reconciliation/lines/{line.id}/candidates?q=200,00",
                                headers={"HX-Request": "true"}))
    assert f'value="receivable:{b.id}"' in by_amount and f"receivable:{a.id}" not in by_amount
    # Searching again keeps what was ticked, with its amount, ticked and first (never another
    # company's invoice named in the request).
    kept = text(client.get(
        f"/reconciliation/lines/{line.id}/candidates",
        query_string={"q": "200,00", "item": [f"receivable:{a.id}", "payable:1", "x:y",
                                              f"receivable:{foreign.id}"],
                      f"amount-receivable-{a.id}": "295"},
        headers={"HX-Request": "true"}))
    assert kept.index(f'value="receivable:{a.id}"') < kept.index(f'value="receivable:{b.id}"')
    assert f'value="receivable:{a.id}" id="item-receivable-{a.id}" checked' in kept
    assert f'value="receivable:{b.id}" id="item-receivable-{b.id}">' in kept  # not ticked
    assert 'value="295"' in kept
    assert f"receivable:{foreign.id}" not in kept
    response = client.post(f"/reconciliation/lines/{line.id}/match", data={
        "item": [f"receivable:{a.id}", f"receivable:{b.id}"], "fee": "5"})
    assert response.status_code == 303
    assert open_balance(a.id) == 0 and open_balance(b.id) == 0
    assert lines_of(supplier)[0].status == "matched"
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    assert "Chosen by hand" in page and "Fee kept by the bank" in page


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose at least one invoice, payment or payout."),
    ({"fee": "abc"}, "Write the fee like 1500 or 12.50."),
    ({"item": "payable:{a}"}, "Choose among the items offered."),
    ({"item": "receivable:{a}", "amount-receivable-{a}": "-3"}, "Write each amount like"),
    ({"item": "receivable:{a}", "amount-receivable-{a}": "400"}, "at most what is open"),
    ({"item": "receivable:{a}", "fee": "-1"}, "Write the fee like"),
])
def test_a_wrong_manual_match_answers_422_and_changes_nothing(client, parties, data, message):
    supplier, buyer, owner = parties
    a = invoice(supplier, buyer, "300.00")
    account = bank_account(supplier)
    store(supplier, account, statement(entry("495.00", text="varios")), user=owner)
    line = SimpleNamespace(id=lines_of(supplier)[0].id)
    login(client, owner, supplier)
    form = {k.format(a=a.id): v.format(a=a.id) for k, v in data.items()}
    response = client.post(f"/reconciliation/lines/{line.id}/match", data=form)
    assert response.status_code == 422
    assert message in text(response)
    assert open_balance(a.id) == Decimal("300.00")
    assert lines_of(supplier)[0].status == "unmatched"


def test_a_line_is_ignored_and_restored(client, parties):
    supplier, _buyer, owner = parties
    account = bank_account(supplier)
    store(supplier, account, statement(entry("-12.00", text="GMF 4x1000")))
    line = SimpleNamespace(id=lines_of(supplier)[0].id)
    login(client, owner, supplier)
    assert client.post(f"/reconciliation/lines/{line.id}/ignore").status_code == 303
    assert lines_of(supplier)[0].status == "ignored"
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    assert "Ignored" in page and 'data-testid="restore"' in page
    assert 'data-testid="manual-match"' not in page
    assert "GMF" not in text(client.get("/reconciliation/review"))
    assert client.post(f"/reconciliation/lines/{line.id}/restore").status_code == 303
    assert lines_of(supplier)[0].status == "unmatched"


# ------------------------------------------------------------------------------ rules


RULE = {"name": "Comisión bancaria", "action": "fee_difference", "direction": "credit",
        "text_contains": "transferencia", "fee_max": "15", "enabled": "y"}


def rules_of(company) -> list[ReconciliationRule]:
    db.session.expire_all()
    return list(db.session.scalars(unscoped(select(ReconciliationRule).where(
        ReconciliationRule.company_id == company.id).order_by(ReconciliationRule.position))))


def test_rules_are_created_edited_moved_toggled_and_deleted(client, parties):
    supplier, _buyer, owner = parties
    login(client, owner, supplier)
    assert client.post("/reconciliation/rules/new", data=RULE).status_code == 303
    second = {**RULE, "name": "Pasarela", "action": "gateway_payout", "fee_max": "",
              "text_contains": "WOMPI"}
    assert client.post("/reconciliation/rules/new", data=second).status_code == 303
    first, other = rules_of(supplier)
    assert (first.name, first.fee_max, first.enabled) == ("Comisión bancaria", Decimal("15"), True)
    page = text(client.get("/reconciliation/rules"))
    assert page.index("Comisión bancaria") < page.index("Pasarela")
    assert "A shortfall up to N is a bank fee" in page
    assert "Lines like this are gateway payouts" in page
    # Edit.
    response = client.post(f"/reconciliation/rules/{first.id}",
                           data={**RULE, "fee_max": "20", "auto_confirm": "y"})
    assert response.status_code == 303
    edited = rules_of(supplier)[0]
    assert edited.fee_max == Decimal("20") and edited.auto_confirm
    # Move the second up.
    assert client.post(f"/reconciliation/rules/{other.id}/move",
                       data={"direction": "up"}).status_code == 303
    assert [r.name for r in rules_of(supplier)] == ["Pasarela", "Comisión bancaria"]
    assert client.post(f"/reconciliation/rules/{other.id}/move",
                       data={"direction": "sideways"}).status_code == 400
    # Toggle.
    assert client.post(f"/reconciliation/rules/{first.id}/toggle").status_code == 303
    assert not next(r for r in rules_of(supplier) if r.id == first.id).enabled
    assert "Off" in text(client.get("/reconciliation/rules"))
    # Delete asks first.
    asked = client.post(f"/reconciliation/rules/{first.id}/delete")
    assert asked.status_code == 200 and len(rules_of(supplier)) == 2
    assert client.post(f"/reconciliation/rules/{first.id}/delete",
                       data={"confirm": "1"}).status_code == 303
    assert [r.name for r in rules_of(supplier)] == ["Pasarela"]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": ""}, "name", "Give the rule a name"),
    ({"action": "delete_everything"}, "action", "Choose one of the actions offered."),
    ({"fee_max": ""}, "fee_max", "Give the largest difference that is a bank fee."),
    ({"amount_min": "doce"}, "amount_min", "Write an amount"),
    ({"amount_min": "100", "amount_max": "50"}, "amount_max", "below the smallest"),
    ({"action": "partner_oldest_first"}, "partner", "Give the partner's tax id"),
    ({"direction": "", "text_contains": ""}, "text_contains", "Give at least one condition."),
    ({"bank_account_id": "999999"}, "bank_account_id", "Choose one of your bank accounts."),
])
def test_a_wrong_rule_answers_422_by_its_field(client, parties, data, field, message):
    supplier, _buyer, owner = parties
    login(client, owner, supplier)
    response = client.post("/reconciliation/rules/new", data={**RULE, **data})
    assert response.status_code == 422
    page = text(response)
    assert f'data-field-error="{field}"' in page and message in page
    assert rules_of(supplier) == []


# ------------------------------------------------------------------------------ access


def test_another_companys_ids_answer_404_on_every_route(client, parties, monkeypatch):
    supplier, buyer, owner = parties
    account, line, *_ = ambiguous(supplier, buyer, owner)
    match = next(x for x in matches_of(line) if x.status == "suggested")
    with acting_as(supplier.id):
        rule = ReconciliationRule(company_id=supplier.id, name="Suya", action="gateway_payout",
                                  position=1)
        db.session.add(rule)
        db.session.commit()
    monkeypatch.setattr(importing, "read_statement", lambda *a, **k: pytest.fail("read"))
    stranger = make_company("Ajena S.A.S.")
    login(client, make_user(stranger, role="owner"), stranger)
    a, ln, m, r = account.id, line.id, match.id, rule.id
    imp = lines_of(supplier)[0].import_id
    for method, url in [
        ("GET", f"/reconciliation/accounts/{a}"),
        ("POST", f"/reconciliation/accounts/{a}/remove"),
        ("POST", f"/reconciliation/accounts/{a}/import"),
        ("POST", f"/reconciliation/accounts/{a}/mapping"),
        ("GET", f"/reconciliation/lines/{ln}"),
        ("GET", f"/reconciliation/lines/{ln}/candidates"),
        ("POST", f"/reconciliation/lines/{ln}/match"),
        ("POST", f"/reconciliation/lines/{ln}/ignore"),
        ("POST", f"/reconciliation/lines/{ln}/restore"),
        ("POST", f"/reconciliation/matches/{m}/confirm"),
        ("POST", f"/reconciliation/matches/{m}/undo"),
        ("GET", f"/reconciliation/rules/{r}"),
        ("POST", f"/reconciliation/rules/{r}"),
        ("POST", f"/reconciliation/rules/{r}/move"),
        ("POST", f"/reconciliation/rules/{r}/toggle"),
        ("POST", f"/reconciliation/rules/{r}/delete"),
        ("POST", f"/reconciliation/imports/{imp}/delete"),
    ]:
        data = {"confirm": "1", "direction": "up", "item": "receivable:1", "name": "x",
                "date_column": "Fecha", "amount_column": "Valor"}
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert lines_of(supplier)[0].status == "suggested"
    assert lines_of(supplier)[0].import_id == imp  # the import and its line are still there
    db.session.expire_all()
    assert account_row(account.id).active
    assert [x.name for x in rules_of(supplier)] == ["Suya"]
    for url in ("/reconciliation/", "/reconciliation/review", "/reconciliation/rules"):
        page = text(client.get(url))
        assert "Cuenta corriente" not in page and "Suya" not in page and "pago cliente" not in page


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_a_role_without_the_permission_sees_but_cannot_act(client, parties, role):
    supplier, buyer, owner = parties
    account, line, *_ = ambiguous(supplier, buyer, owner)
    match = next(x for x in matches_of(line) if x.status == "suggested")
    login(client, make_user(supplier, role=role), supplier)
    for url in ("/reconciliation/", f"/reconciliation/accounts/{account.id}",
                f"/reconciliation/lines/{line.id}", "/reconciliation/review",
                "/reconciliation/rules"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        assert 'data-testid="confirm"' not in page and 'data-testid="import-form"' not in page
        assert 'data-testid="account-form"' not in page
        assert 'data-testid="delete-import"' not in page
    for method, url in [
        ("POST", f"/reconciliation/imports/{lines_of(supplier)[0].import_id}/delete"),
        ("POST", "/reconciliation/accounts"),
        ("POST", f"/reconciliation/accounts/{account.id}/remove"),
        ("POST", f"/reconciliation/accounts/{account.id}/import"),
        ("POST", f"/reconciliation/accounts/{account.id}/mapping"),
        ("POST", f"/reconciliation/lines/{line.id}/match"),
        ("POST", f"/reconciliation/lines/{line.id}/ignore"),
        ("POST", f"/reconciliation/matches/{match.id}/confirm"),
        ("GET", "/reconciliation/rules/new"),
        ("POST", "/reconciliation/rules/new"),
    ]:
        response = client.open(url, method=method, data={"confirm": "1", **RULE})
        assert response.status_code == 403, (method, url)
        assert "Your role does not allow this." in text(response)
    assert lines_of(supplier)[0].status == "suggested"


@pytest.mark.parametrize("role", ["payables", "receivables"])
def test_the_accountants_of_both_sides_may_reconcile(client, parties, role):
    supplier, buyer, owner = parties
    _account, line, *_ = ambiguous(supplier, buyer, owner)
    match = next(x for x in matches_of(line) if x.status == "suggested")
    login(client, make_user(supplier, role=role), supplier)
    assert client.post(f"/reconciliation/matches/{match.id}/confirm").status_code == 303
    assert lines_of(supplier)[0].status == "matched"


# ------------------------------------------------------------------------------ the invoice


def test_the_invoice_page_shows_the_bank_line_that_paid_it(client, parties):
    supplier, buyer, owner = parties
    _account, line, a, b = ambiguous(supplier, buyer, owner)
    match = next(x for x in matches_of(line)
                 if x.status == "suggested" and _document_of(x) == a.id)
    buyer_owner = make_user(buyer, role="owner")
    buyer_id = buyer.id
    login(client, owner, supplier)
    assert client.post(f"/reconciliation/matches/{match.id}/confirm").status_code == 303
    page = text(client.get(f"/documents/{a.id}"))
    panel = page.split('data-testid="document-payments"', 1)[1].split("</article>", 1)[0]
    assert "Seen in the bank" in panel
    assert f'href="/reconciliation/lines/{line.id}"' in panel
    assert "Bank line of" in panel and "500.00" in panel
    # The other invoice has no payment: no chain.
    assert f"/reconciliation/lines/{line.id}" not in text(client.get(f"/documents/{b.id}"))
    # The buyer sees the same payment; without a bank account of its own, no bank column.
    with client.session_transaction() as session:
        session["company_id"] = buyer_id
    login(client, buyer_owner)
    buyer_page = text(client.get(f"/documents/{a.id}"))
    assert 'data-testid="document-payments"' in buyer_page
    assert 'data-testid="bank-chain"' not in buyer_page
    # Once it reconciles too: not yet seen in its own bank, and never the supplier's line.
    helpers.bank_account(_company(buyer_id), number="987654321")
    buyer_page = text(client.get(f"/documents/{a.id}"))
    assert "Not yet seen in the bank" in buyer_page
    assert f"/reconciliation/lines/{line.id}" not in buyer_page


def _company(company_id: int):
    from app.models import Company

    return db.session.scalars(unscoped(select(Company).where(Company.id == company_id))).one()


def test_a_payout_line_shows_the_chain_of_its_settlement(client, parties):
    """A bank credit matched to a gateway payout lists the payout's settlement lines."""
    from app.models.reconciliation import GatewayPayout, GatewayPayoutLine
    from tests.payments_helpers import connect_fake

    supplier, _buyer, owner = parties
    connection = connect_fake(supplier)
    payout = GatewayPayout(company_id=supplier.id, connection_id=connection.id,
                           gateway="sandbox", settlement_id="po_7781", currency="COP",
                           amount=Decimal("970.00"), status="paid", paid_on=dt.date(2026, 12, 1))
    db.session.add(payout)
    db.session.flush()
    db.session.add_all([
        GatewayPayoutLine(company_id=supplier.id, payout_id=payout.id, kind="charge",
                          gateway_reference="ch_1", amount=Decimal("1000.00"),
                          fee=Decimal("30.00"), net=Decimal("970.00")),
    ])
    db.session.commit()
    account = bank_account(supplier)
    store(supplier, account, statement(entry("970.00", text="SANDBOX po_7781")), user=owner)
    line = SimpleNamespace(id=lines_of(supplier)[0].id)
    login(client, owner, supplier)
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    assert "Gateway payout" in page and "po_7781" in page
    chain = page.split('data-testid="payout-chain"', 1)[1].split("</ul>", 1)[0]
    assert "Charge" in chain and "COP 1,000.00" in chain and "fee COP 30.00" in chain


def _document_of(match: Match) -> int | None:
    from app.models.reconciliation import MatchItem

    return db.session.scalars(unscoped(
        select(MatchItem.document_id).where(MatchItem.match_id == match.id))).first()


@pytest.mark.parametrize(("typed", "amount"), [
    ("1.234,56", Decimal("1234.56")), ("1,234.56", Decimal("1234.56")), ("1234", Decimal("1234")),
    ("200,00", Decimal("200.00")), ("1.234", Decimal("1234")), ("$ 1.500.000", Decimal("1500000")),
    ("12.5", Decimal("12.5")), ("FE00012", None), ("", None), ("-5", None), ("1,2,3.4.5", None),
])
def test_amounts_typed_in_the_search_are_read_either_way(typed, amount):
    from app.services.reconciliation.search import parse_amount

    assert parse_amount(typed) == amount


@pytest.mark.parametrize(("typed", "amount"), [
    ("1.234", Decimal("1234")), ("1,234", Decimal("1234")), ("1 234,56", Decimal("1234.56")),
    ("USD 1,000,000", Decimal("1000000")), ("0,500", Decimal("0.500")),
    ("1234.567", Decimal("1234.567")), ("1.2.3", None), ("5.", None), ("1e3", None), ("NaN", None),
    ("−5", None), ("1" * 41, None),
])
def test_are_amounts_in_the_search_read_by_the_shared_rules(typed, amount):
    from app.services.reconciliation.search import parse_amount

    assert parse_amount(typed) == amount


def test_the_search_without_javascript_opens_the_line_page_with_the_results(client, parties):
    supplier, buyer, owner = parties
    a, b = invoice(supplier, buyer, "300.00"), invoice(supplier, buyer, "200.00")
    account = bank_account(supplier)
    store(supplier, account, statement(entry("495.00", text="varios")), user=owner)
    line = SimpleNamespace(id=lines_of(supplier)[0].id)
    login(client, owner, supplier)
    response = client.get(f"/reconciliation/lines/{line.id}/candidates?q={b.number}")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert f'value="receivable:{b.id}"' in page and f'value="receivable:{a.id}"' not in page
    assert f'value="{b.number}"' in page


def test_the_import_summary_counts_the_lines_to_review_not_their_suggestions(
    client, parties, monkeypatch
):
    supplier, buyer, owner = parties
    for _ in range(2):
        invoice(supplier, buyer, "500.00")
    named = invoice(supplier, buyer, "731.00")
    account = bank_account(supplier)
    monkeypatch.setattr(importing, "read_statement", lambda data, **kw: ("camt053", [statement(
        entry("500.00", text="TRANSFERENCIA", name="Compradora"),
        entry("731.00", text=f"Pago {named.number}", name="Compradora"),
        entry("-9.00", text="GMF"))]))
    login(client, owner, supplier)
    page = text(client.get(upload(client, account).headers["Location"]))
    assert len(matches_of(lines_of(supplier)[0])) == 2  # two suggestions for one line
    assert ("Statement imported: 3 new lines, 0 already here, 1 matched automatically, "
            "1 suggestion to review.") in page


def test_a_debit_matched_to_a_payment_names_the_invoices_it_paid(client, parties):
    supplier, buyer, owner = parties
    doc = invoice(supplier, buyer, "250000.00")
    store(supplier, bank_account(supplier), statement(
        entry("250000.00", text=f"Pago factura {doc.number}", e2e="E2E-55")), user=owner)
    assert open_balance(doc.id) == 0  # the supplier's line recorded the payment
    buyer_owner = make_user(buyer, role="owner")
    store(buyer, bank_account(buyer, number="987654321"), statement(
        entry("-250000.00", text=f"Pago factura {doc.number}", e2e="E2E-55")))
    line = lines_of(buyer)[0]
    assert line.status == "matched"
    login(client, buyer_owner, buyer)
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    confirmed = page.split('data-testid="confirmed-matches"', 1)[1].split("</section>", 1)[0]
    assert "Payment made" in confirmed and re.search(r"PAY-\d{6}", confirmed)
    paid = confirmed.split('data-testid="paid-documents"', 1)[1].split("</span>", 1)[0]
    assert "Invoices it paid:" in paid
    assert f'<a href="/documents/{doc.id}">{doc.number}</a>' in paid
    # In Spanish too.
    with client.session_transaction() as session:
        session["locale"] = "es"
    assert "Facturas que pagó:" in text(client.get(f"/reconciliation/lines/{line.id}"))


def test_a_credit_matched_to_an_invoice_does_not_name_it_twice(client, parties):
    supplier, buyer, owner = parties
    doc = invoice(supplier, buyer, "250000.00")
    store(supplier, bank_account(supplier), statement(
        entry("250000.00", text=f"Pago factura {doc.number}", e2e="E2E-56")), user=owner)
    line = lines_of(supplier)[0]
    login(client, owner, supplier)
    page = text(client.get(f"/reconciliation/lines/{line.id}"))
    confirmed = page.split('data-testid="confirmed-matches"', 1)[1].split("</section>", 1)[0]
    assert confirmed.count(f'<a href="/documents/{doc.id}">') == 1


def test_an_import_made_by_mistake_is_deleted_after_asking_unless_a_line_is_matched(
    client, parties
):
    supplier, buyer, owner = parties
    account, line, a, _b = ambiguous(supplier, buyer, owner)
    first = lines_of(supplier)[0].import_id
    # A second file repeats the first line (a duplicate) and brings one of its own.
    store(supplier, SimpleNamespace(id=account.id),
          statement(entry("500.00", text="pago cliente", name="Compradora"),
                    entry("70.00", text="intereses")),
          user=owner, digest="second")
    assert len(lines_of(supplier)) == 2
    second = lines_of(supplier)[1].import_id
    login(client, owner, supplier)
    page = text(client.get(f"/reconciliation/accounts/{account.id}"))
    assert page.count('data-testid="delete-import"') == 2
    asked = client.post(f"/reconciliation/imports/{second}/delete")
    assert asked.status_code == 200 and "Delete this import?" in text(asked)
    assert len(lines_of(supplier)) == 2  # nothing happens before the answer
    done = client.post(f"/reconciliation/imports/{second}/delete", data={"confirm": "1"},
                       follow_redirects=True)
    assert done.status_code == 200 and "The import was deleted." in text(done)
    assert [x.id for x in lines_of(supplier)] == [line.id]  # the first file's line stays
    # A file with a confirmed line is kept until that match is undone.
    chosen = next(x for x in matches_of(line) if x.status == "suggested")
    client.post(f"/reconciliation/matches/{chosen.id}/confirm")
    refused = client.post(f"/reconciliation/imports/{first}/delete", data={"confirm": "1"},
                          follow_redirects=True)
    assert "Undo the matches of its lines first (1 matched)." in text(refused)
    assert [x.status for x in lines_of(supplier)] == ["matched"]
    client.post(f"/reconciliation/matches/{chosen.id}/undo", data={"confirm": "1"})
    client.post(f"/reconciliation/imports/{first}/delete", data={"confirm": "1"})
    assert lines_of(supplier) == [] and matches_of(line) == []
    assert open_balance(a.id) == Decimal("500.00")
    assert client.post(f"/reconciliation/imports/{first}/delete",
                       data={"confirm": "1"}).status_code == 404
