"""/api/v1 reconciliation as an ERP uses it: bank accounts, statement uploads (the parsers
stubbed), lines with their status, suggestions, confirm, undo, matching by hand, the
reconciliation.matched webhook; scopes, other companies' ids and bad input."""

from __future__ import annotations

import io
from decimal import Decimal

import jsonschema_rs
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Payment, WebhookDelivery, WebhookEndpoint
from app.models.api import (
    PAYMENTS_READ,
    RECONCILIATION_READ,
    RECONCILIATION_WRITE,
)
from app.models.reconciliation import BankLine
from app.services.reconciliation import importing
from app.statements.model import StatementError
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.payments_helpers import invoice
from tests.services.reconciliation.helpers import bank_account, entry, statement, store

API = "/api/v1"
EN = {"Accept-Language": "en"}


def refreshed(document: Document) -> Document:
    db.session.expire_all()
    return db.session.scalars(unscoped(select(Document).where(Document.id == document.id))).one()


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    supplier, buyer = make_company("Proveedora API"), make_company("Compradora API")
    stranger = make_company("Ajena API")
    full = (RECONCILIATION_READ, RECONCILIATION_WRITE)
    return {
        "supplier": supplier,
        "buyer": buyer,
        "stranger": stranger,
        "h": bearer(make_api_token(supplier, scopes=full)[1]) | EN,
        "reader": bearer(make_api_token(supplier, scopes=(RECONCILIATION_READ,))[1]) | EN,
        "payments_only": bearer(make_api_token(supplier, scopes=(PAYMENTS_READ,))[1]) | EN,
        "stranger_h": bearer(make_api_token(stranger, scopes=full)[1]) | EN,
    }


def stub_statement(monkeypatch, *statements):
    calls = []

    def read(data, *, filename="", mapping=None, decimal_comma=False):
        calls.append((data, filename))
        return "camt053", list(statements)

    monkeypatch.setattr(importing, "read_statement", read)
    return calls


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


# ------------------------------------------------------------------------------ bank accounts


def test_bank_accounts_are_added_and_listed(client, world):
    h = world["h"]
    created = client.post(f"{API}/bank-accounts", headers=h, json={
        "name": "Bancolombia ahorros", "bank_name": "Bancolombia", "currency": "COP",
        "number": "123-456 789"})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["name"], body["currency"], body["number"], body["is_iban"]) == (
        "Bancolombia ahorros", "COP", "123456789", False)
    iban = client.post(f"{API}/bank-accounts", headers=h, json={
        "name": "EUR", "currency": "EUR", "number": "DE89 3704 0044 0532 0130 00"}).json
    assert iban["is_iban"] is True and iban["number"] == "DE89370400440532013000"
    listed = client.get(f"{API}/bank-accounts", headers=world["reader"]).json["data"]
    assert [a["id"] for a in listed] == [body["id"], iban["id"]][::-1] or {
        a["id"] for a in listed} == {body["id"], iban["id"]}
    # The stranger sees none of them.
    assert client.get(f"{API}/bank-accounts", headers=world["stranger_h"]).json == {"data": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "currency": "COP", "number": "123456789"}, "number"),  # twice
        ({"name": "B", "currency": "XXY", "number": "1"}, "currency"),  # unknown currency
        ({"name": "C", "currency": "cop", "number": "1"}, "currency"),  # pattern
        ({"name": "D", "currency": "EUR", "number": "DE00 3704 0044 0532 0130 00"}, "number"),
        ({"name": "", "currency": "COP", "number": "2"}, "name"),
        ({"name": 5, "currency": "COP", "number": "2"}, "name"),
        ({"name": "E", "currency": "COP", "number": 2}, "number"),
        ({"name": "F", "currency": "COP", "number": "2", "extra": True}, "extra"),
        ({"name": "G" * 101, "currency": "COP", "number": "2"}, "name"),
    ],
)
def test_a_bad_bank_account_is_refused_by_field(client, world, body, field):
    h = world["h"]
    client.post(f"{API}/bank-accounts", headers=h,
                json={"name": "A", "currency": "COP", "number": "123456789"})
    error = error_of(client.post(f"{API}/bank-accounts", headers=h, json=body), 422)
    assert field in error["details"]["fields"]


def test_a_bank_account_body_that_is_not_json_is_refused(client, world):
    h = world["h"]
    assert error_of(client.post(f"{API}/bank-accounts", headers=h, data=b"{}"), 415)
    error_of(client.post(f"{API}/bank-accounts", headers=h | {"Content-Type": "application/json"},
                         data=b"{"), 400)
    error_of(client.post(f"{API}/bank-accounts", headers=h, json=[1, 2]), 422)


# ---------------------------------------------------------------------------------- uploads


def test_a_statement_is_uploaded_as_multipart_or_raw_and_imported_once(client, world,
                                                                       monkeypatch):
    supplier, buyer = world["supplier"], world["buyer"]
    paid = invoice(supplier, buyer, "250000.00")
    twins = [invoice(supplier, buyer, "500.00") for _ in range(2)]
    account = bank_account(supplier)
    calls = stub_statement(monkeypatch, statement(
        entry("250000.00", text=f"Pago {paid.number}"),
        entry("500.00", text="consignacion"),
        entry("-12.00", text="comision"),
    ))
    url = f"{API}/bank-accounts/{account.id}/statements"
    first = client.post(url, headers=world["h"],
                        data={"file": (io.BytesIO(b"<Document>1</Document>"), "dic.xml")})
    assert first.status_code == 201, first.json
    assert first.json == {
        "account_id": account.id, "format": "camt053", "statements": 1, "new_lines": 3,
        "duplicates": 0, "findings": [], "auto_confirmed": 1, "suggested": 1,
        "line_ids": first.json["line_ids"],
        "matching_pending": False,
    }
    assert len(first.json["line_ids"]) == 3
    assert calls[0] == (b"<Document>1</Document>", "dic.xml")
    assert refreshed(paid).open_balance == 0
    assert {t.open_balance for t in map(refreshed, twins)} == {Decimal("500.00")}

    again = client.post(f"{url}?filename=again.xml", headers=world["h"] | {
        "Content-Type": "application/xml"}, data=b"<Document>1</Document>")
    assert again.status_code == 201
    assert (again.json["new_lines"], again.json["duplicates"]) == (0, 3)
    assert calls[1] == (b"<Document>1</Document>", "again.xml")
    for mimetype in ("text/plain", "application/octet-stream"):
        raw = client.post(url, headers=world["h"] | {"Content-Type": mimetype}, data=b"x;y")
        assert raw.status_code == 201 and raw.json["duplicates"] == 3


def test_a_statement_with_a_balance_gap_is_imported_with_a_finding(client, world, monkeypatch):
    account = bank_account(world["supplier"])
    stub_statement(monkeypatch, statement(entry("100.00"), opening="0", closing="90"))
    body = client.post(f"{API}/bank-accounts/{account.id}/statements", headers=world["h"],
                       data={"file": (io.BytesIO(b"x"), "s.xml")}).json
    assert body["new_lines"] == 1 and len(body["findings"]) == 1
    assert "missing" in body["findings"][0]


def test_an_unreadable_statement_is_a_422_naming_the_problem(client, world, monkeypatch):
    account = bank_account(world["supplier"])

    def refuse(data, **_kw):
        raise StatementError("Line 7: the amount 'abc' is not a number.",
                             "Línea 7: el valor 'abc' no es un número.")

    monkeypatch.setattr(importing, "read_statement", refuse)
    url = f"{API}/bank-accounts/{account.id}/statements"
    error = error_of(client.post(url, headers=world["h"],
                                 data={"file": (io.BytesIO(b"garbage"), "s.csv")}), 422)
    assert error["details"]["fields"]["file"] == ["Line 7: the amount 'abc' is not a number."]
    spanish = world["h"] | {"Accept-Language": "es"}
    error = error_of(client.post(url, headers=spanish,
                                 data={"file": (io.BytesIO(b"garbage"), "s.csv")}), 422)
    assert error["message"] == "Línea 7: el valor 'abc' no es un número."


def test_a_csv_reads_amounts_that_leave_the_mark_open_in_the_callers_language(client, world):
    account = bank_account(world["supplier"])
    url = f"{API}/bank-accounts/{account.id}/statements"
    data = b"Fecha;Concepto;Valor\n05/01/2024;Pago;-150.000\n06/01/2024;Abono;1.500\n"
    spanish = world["h"] | {"Accept-Language": "es"}
    response = client.post(url, headers=spanish, data={"file": (io.BytesIO(data), "s.csv")})
    assert response.status_code == 201, response.json
    db.session.expire_all()
    assert list(db.session.scalars(unscoped(select(BankLine.amount).order_by(BankLine.id)))) == [
        Decimal(-150000), Decimal(1500)]


def test_a_statement_of_another_account_or_empty_is_refused(client, world, monkeypatch):
    account = bank_account(world["supplier"])
    url = f"{API}/bank-accounts/{account.id}/statements"
    stub_statement(monkeypatch, statement(entry("1.00"), account="555555555"))
    error = error_of(client.post(url, headers=world["h"], data={
        "file": (io.BytesIO(b"x"), "s.xml")}), 422)
    assert "555555555" in error["message"]
    stub_statement(monkeypatch)
    error_of(client.post(url, headers=world["h"], data={"file": (io.BytesIO(b"x"), "s.xml")}),
             422)


def test_a_statement_upload_without_a_file_or_too_large_is_refused(client, world,
                                                                   monkeypatch):
    account = bank_account(world["supplier"])
    url = f"{API}/bank-accounts/{account.id}/statements"
    stub_statement(monkeypatch, statement(entry("1.00")))
    error = error_of(client.post(url, headers=world["h"], data={"other": "x"},
                                 content_type="multipart/form-data"), 422)
    assert "file" in error["details"]["fields"]
    error = error_of(client.post(url, headers=world["h"] | {
        "Content-Type": "application/xml"}, data=b""), 422)
    assert "body" in error["details"]["fields"]
    error_of(client.post(url, headers=world["h"], json={"file": "x"}), 415)
    monkeypatch.setattr(importing, "MAX_BYTES", 10)
    error = error_of(client.post(url, headers=world["h"], data={
        "file": (io.BytesIO(b"x" * 11), "big.xml")}), 413)
    assert "too large" in error["message"]
    error_of(client.post(url, headers=world["h"] | {"Content-Type": "text/plain"},
                         data=b"x" * 11), 413)
    assert client.post(url, headers=world["h"] | {"Content-Type": "text/plain"},
                       data=b"x" * 10).status_code == 201
    error_of(client.post(f"{url}?filename=" + "a" * 256, headers=world["h"] | {
        "Content-Type": "text/plain"}, data=b"x"), 422)
    error_of(client.post(f"{url}?unknown=1", headers=world["h"] | {
        "Content-Type": "text/plain"}, data=b"x"), 422)


# ------------------------------------------------------------------------------ lines, matches


@pytest.fixture
def waiting(world):
    """A supplier's statement: one line matched automatically, one waiting between two
    invoices of its amount, one money-out line nothing explains."""
    supplier, buyer = world["supplier"], world["buyer"]
    paid = invoice(supplier, buyer, "250000.00")
    twins = [invoice(supplier, buyer, "500.00") for _ in range(2)]
    account = bank_account(supplier)
    result = store(supplier, account, statement(
        entry("250000.00", text=f"Pago {paid.number}", e2e="E2E-1"),
        entry("500.00", text="consignacion"),
        entry("-12.34567", text="comision"),
    ))
    auto, ambiguous, fee = result.line_ids
    return {"account": account, "paid": paid, "twins": twins, "auto": auto,
            "ambiguous": ambiguous, "fee": fee}


def test_lines_are_listed_with_their_status_filtered_and_paged(client, world, waiting):
    h = world["h"]
    body = client.get(f"{API}/bank-lines", headers=h).json
    by_id = {line["id"]: line for line in body["data"]}
    assert set(by_id) == {waiting["auto"], waiting["ambiguous"], waiting["fee"]}
    assert body["next_cursor"] is None
    auto = by_id[waiting["auto"]]
    assert (auto["status"], auto["amount"], auto["matched_amount"]) == (
        "matched", "250000.00", "250000.00")
    assert auto["end_to_end_id"] == "E2E-1" and auto["booking_date"] == "2026-12-02"
    assert by_id[waiting["ambiguous"]]["status"] == "suggested"
    assert by_id[waiting["fee"]]["amount"] == "-12.34567"  # five decimals kept
    assert by_id[waiting["fee"]]["status"] == "unmatched"

    def ids(query):
        response = client.get(f"{API}/bank-lines?{query}", headers=world["reader"])
        assert response.status_code == 200, response.json
        return {line["id"] for line in response.json["data"]}

    assert ids("status=matched") == {waiting["auto"]}
    assert ids("status=suggested") == {waiting["ambiguous"]}
    assert ids(f"account_id={waiting['account'].id}&status=unmatched") == {waiting["fee"]}
    assert ids("since=2026-12-03") == set()
    assert ids("until=2026-12-02&since=2026-12-02") == {
        waiting["auto"], waiting["ambiguous"], waiting["fee"]}
    seen, cursor = [], None
    while True:
        query = "limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{API}/bank-lines?{query}", headers=h).json
        seen += [line["id"] for line in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 3
    # The stranger sees none of them.
    assert client.get(f"{API}/bank-lines", headers=world["stranger_h"]).json["data"] == []


@pytest.mark.parametrize(
    "query",
    ["status=maybe", "since=2026-13-01", "until=yesterday", "account_id=abc", "account_id=0",
     "account_id=99999999999999", "limit=0", "limit=201", "limit=x", "cursor=nonsense",
     "cursor=", "q=1", "status=matched&status=unmatched"],
)
def test_bad_line_filters_are_a_422_naming_them(client, world, query):
    error = error_of(client.get(f"{API}/bank-lines?{query}", headers=world["h"]), 422)
    assert error["details"]["fields"]


def test_the_suggestions_of_a_line_carry_score_evidence_and_items(client, world, waiting):
    body = client.get(f"{API}/bank-lines/{waiting['ambiguous']}/suggestions",
                      headers=world["reader"])
    assert body.status_code == 200, body.json
    found = body.json["data"]
    assert {s["items"][0]["document_id"] for s in found} == {t.id for t in waiting["twins"]}
    first = found[0]
    assert first["status"] == "suggested" and first["bank_line_id"] == waiting["ambiguous"]
    assert 0 < first["score"] <= 100 and first["fee"] == "0.00"
    exact = next(e for e in first["evidence"] if e["code"] == "amount_exact")
    assert exact["label"] == "Exact amount" and exact["points"] > 0
    assert all(set(e) == {"code", "label", "points", "detail"} for e in first["evidence"])
    (item,) = first["items"]
    assert item["kind"] == "receivable" and item["amount"] == "500.00"
    assert item["label"].startswith(next(t.number for t in waiting["twins"]
                                         if t.id == item["document_id"]))
    assert item["payment_id"] is None and item["payout_id"] is None
    # A matched line has no suggestion left; an unmatched one none yet.
    for line in ("auto", "fee"):
        assert client.get(f"{API}/bank-lines/{waiting[line]}/suggestions",
                          headers=world["h"]).json == {"data": []}


def test_a_suggestion_is_confirmed_twice_with_one_effect_then_undone(client, world, waiting):
    supplier = world["supplier"]
    db.session.add(WebhookEndpoint(company_id=supplier.id, url="http://127.0.0.1:9/hooks",
                                   secret="whsec_x", events=["reconciliation.matched"]))
    db.session.commit()
    found = client.get(f"{API}/bank-lines/{waiting['ambiguous']}/suggestions",
                       headers=world["h"]).json["data"]
    chosen = found[0]
    document_id = chosen["items"][0]["document_id"]
    url = f"{API}/matches/{chosen['id']}"
    first = client.post(f"{url}/confirm", headers=world["h"])
    assert first.status_code == 200, first.json
    assert first.json["status"] == "confirmed" and first.json["confirmed_at"]
    assert first.json["auto"] is False
    payment_id = first.json["items"][0]["payment_id"]
    assert payment_id is not None
    again = client.post(f"{url}/confirm", headers=world["h"])
    assert again.status_code == 200 and again.json == first.json
    assert db.session.scalar(unscoped(select(Payment.status).where(
        Payment.id == payment_id))) == "succeeded"
    assert len(db.session.scalars(unscoped(select(Payment).where(
        Payment.method == "bank"))).all()) == 2  # the automatic one and this one
    document = next(t for t in waiting["twins"] if t.id == document_id)
    assert refreshed(document).open_balance == 0
    line = next(x for x in client.get(f"{API}/bank-lines", headers=world["h"]).json["data"]
                if x["id"] == waiting["ambiguous"])
    assert (line["status"], line["matched_amount"]) == ("matched", "500.00")
    # The other suggestion was set aside: confirming it is a conflict.
    other = next(s for s in found if s["id"] != chosen["id"])
    error_of(client.post(f"{API}/matches/{other['id']}/confirm", headers=world["h"]), 409)

    (delivery,) = db.session.scalars(unscoped(select(WebhookDelivery).where(
        WebhookDelivery.company_id == supplier.id))).all()
    assert delivery.event_type == "reconciliation.matched"
    payload = delivery.payload
    assert payload["type"] == "reconciliation.matched"
    data = payload["data"]
    assert data["match_id"] == chosen["id"] and data["auto"] is False
    assert data["bank_line"]["id"] == waiting["ambiguous"]
    assert Decimal(data["bank_line"]["amount"]) == Decimal("500.00")
    assert [(i["kind"], i["document_id"], i["payment_id"], Decimal(i["amount"]))
            for i in data["items"]] == [("receivable", document_id, payment_id,
                                         Decimal("500.00"))]
    spec = client.get(f"{API}/openapi.json").json
    hook = spec["webhooks"]["reconciliation.matched"]["post"]
    schema = hook["requestBody"]["content"]["application/json"]["schema"]
    jsonschema_rs.validate({**schema, "components": spec["components"]}, payload)

    undone = client.post(f"{url}/undo", headers=world["h"])
    assert undone.status_code == 200 and undone.json["status"] == "undone"
    assert undone.json["undone_at"]
    assert refreshed(document).open_balance == Decimal("500.00")
    error = error_of(client.post(f"{url}/undo", headers=world["h"]), 409)
    assert error["code"] == "conflict"
    error_of(client.post(f"{url}/confirm", headers=world["h"]), 409)


def test_a_line_is_matched_by_hand_with_a_fee(client, world, waiting):
    supplier, buyer = world["supplier"], world["buyer"]
    a, b = invoice(supplier, buyer, "300.00"), invoice(supplier, buyer, "200.00")
    result = store(supplier, waiting["account"], statement(entry("495.00", text="varios")),
                   digest="y")
    (line_id,) = result.line_ids
    url = f"{API}/bank-lines/{line_id}/matches"
    body = {"items": [{"kind": "receivable", "id": a.id},
                      {"kind": "receivable", "id": b.id, "amount": "200.00"}], "fee": "5.00"}
    made = client.post(url, headers=world["h"], json=body)
    assert made.status_code == 201, made.json
    match = made.json
    assert match["status"] == "confirmed" and match["manual"] is True and match["fee"] == "5.00"
    assert [(i["document_id"], i["amount"]) for i in match["items"]] == [
        (a.id, "300.00"), (b.id, "200.00")]
    assert [e["label"] for e in match["evidence"]] == ["Chosen by hand"]
    assert refreshed(a).open_balance == 0 and refreshed(b).open_balance == 0
    error_of(client.post(url, headers=world["h"], json=body), 409)  # matched already


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"kind": "nope", "id": 1}]},
        {"items": [{"kind": "receivable", "id": "1"}]},
        {"items": [{"kind": "receivable", "id": 0}]},
        {"items": [{"kind": "receivable", "id": 2**31}]},
        {"items": [{"kind": "receivable", "id": 1.5}]},
        {"items": [{"kind": "receivable", "id": 10**30}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": "-5.00"}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": 5}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": "1e5"}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": "9" * 16}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": "0"}]},
        {"items": [{"kind": "receivable", "id": "{first}", "amount": "999999999999999"}]},
        {"items": [{"kind": "receivable", "id": "{first}"}], "fee": "-1"},
        {"items": [{"kind": "receivable", "id": "{first}"}], "fee": "999999999999999"},
        {"items": [{"kind": "payable", "id": "{first}"}]},  # money in settles no payable
        {"items": [{"kind": "receivable", "id": "{first}", "extra": 1}]},
        {"items": "all"},
        {"items": [{"kind": "receivable", "id": "{first}"}] * 101},
        [],
        None,
    ],
)
def test_a_bad_manual_match_is_a_4xx_json_error(client, world, waiting, body):
    first = waiting["twins"][0].id
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        body = {**body, "items": [
            {**i, "id": first} if i.get("id") == "{first}" else i for i in body["items"]]}
    response = client.post(f"{API}/bank-lines/{waiting['ambiguous']}/matches",
                           headers=world["h"], json=body)
    assert 400 <= response.status_code < 500, (body, response.status_code)
    error_of(response, response.status_code)
    assert {t.open_balance for t in map(refreshed, waiting["twins"])} == {Decimal("500.00")}


def test_a_manual_match_of_an_item_that_is_not_open_or_not_ours_is_a_404(client, world,
                                                                         waiting):
    foreign = invoice(world["stranger"], world["buyer"], "500.00")
    url = f"{API}/bank-lines/{waiting['ambiguous']}/matches"
    for kind, target in (("receivable", foreign.id), ("payment_in", 999999),
                         ("payout", 999999)):
        response = client.post(url, headers=world["h"],
                               json={"items": [{"kind": kind, "id": target}]})
        error_of(response, 404)
    # An invoice of ours paid already: nothing is open of it.
    response = client.post(url, headers=world["h"],
                           json={"items": [{"kind": "receivable", "id": waiting["paid"].id}]})
    assert response.status_code in (404, 422)
    error_of(response, response.status_code)


# ------------------------------------------------------------------ scopes and other companies


def test_scopes_are_enforced_on_every_endpoint(client, world, waiting, monkeypatch):
    stub_statement(monkeypatch, statement(entry("1.00")))
    match_id = client.get(f"{API}/bank-lines/{waiting['ambiguous']}/suggestions",
                          headers=world["h"]).json["data"][0]["id"]
    writes = [
        ("POST", f"{API}/bank-accounts", {"json": {"name": "X", "currency": "COP",
                                                   "number": "9"}}),
        ("POST", f"{API}/bank-accounts/{waiting['account'].id}/statements",
         {"data": {"file": (io.BytesIO(b"x"), "s.xml")}}),
        ("POST", f"{API}/bank-lines/{waiting['ambiguous']}/matches",
         {"json": {"items": [{"kind": "receivable", "id": waiting["twins"][0].id}]}}),
        ("POST", f"{API}/matches/{match_id}/confirm", {}),
        ("POST", f"{API}/matches/{match_id}/undo", {}),
    ]
    reads = [
        ("GET", f"{API}/bank-accounts", {}),
        ("GET", f"{API}/bank-lines", {}),
        ("GET", f"{API}/bank-lines/{waiting['ambiguous']}/suggestions", {}),
    ]
    for method, url, kwargs in writes:
        kwargs = {k: ({"file": (io.BytesIO(b"x"), "s.xml")} if k == "data" else v)
                  for k, v in kwargs.items()}
        error = error_of(client.open(url, method=method, headers=world["reader"], **kwargs), 403)
        assert error["code"] == "insufficient_scope"
        assert error["details"]["required_scope"] == "reconciliation:write"
    for method, url, kwargs in reads + writes:
        for headers, status in ((world["payments_only"], 403), (EN, 401)):
            fresh = {k: ({"file": (io.BytesIO(b"x"), "s.xml")} if k == "data" else v)
                     for k, v in kwargs.items()}
            error_of(client.open(url, method=method, headers=headers, **fresh), status)
    for method, url, _kwargs in reads:
        assert client.open(url, method=method, headers=world["reader"]).status_code == 200
    # Nothing changed.
    assert client.get(f"{API}/bank-lines?status=suggested", headers=world["h"]).json["data"]
    assert {t.open_balance for t in map(refreshed, waiting["twins"])} == {Decimal("500.00")}


def test_another_companys_ids_are_404_on_every_endpoint(client, world, waiting, monkeypatch):
    stub_statement(monkeypatch, statement(entry("1.00")))
    match_id = client.get(f"{API}/bank-lines/{waiting['ambiguous']}/suggestions",
                          headers=world["h"]).json["data"][0]["id"]
    account, line = waiting["account"].id, waiting["ambiguous"]
    h = world["stranger_h"]
    for method, url, kwargs in [
        ("GET", f"{API}/bank-lines?account_id={account}", {}),
        ("GET", f"{API}/bank-lines/{line}/suggestions", {}),
        ("POST", f"{API}/bank-accounts/{account}/statements",
         {"data": {"file": (io.BytesIO(b"x"), "s.xml")}}),
        ("POST", f"{API}/bank-accounts/{account}/statements",
         {"data": b"x", "content_type": "text/plain"}),
        ("POST", f"{API}/bank-lines/{line}/matches",
         {"json": {"items": [{"kind": "receivable", "id": waiting["twins"][0].id}]}}),
        ("POST", f"{API}/bank-lines/{line}/matches", {"json": {"items": "bad body"}}),
        ("POST", f"{API}/matches/{match_id}/confirm", {}),
        ("POST", f"{API}/matches/{match_id}/undo", {}),
        ("POST", f"{API}/matches/2147483648/confirm", {}),
        ("POST", f"{API}/matches/abc/undo", {}),
        ("GET", f"{API}/bank-lines/-1/suggestions", {}),
    ]:
        response = client.open(url, method=method, headers=h, **kwargs)
        error = error_of(response, 404)
        assert error["code"] == "not_found", url
    # The stranger's own account does not read the supplier's lines either.
    own = bank_account(world["stranger"], number="777")
    assert client.get(f"{API}/bank-lines?account_id={own.id}", headers=h).json["data"] == []
    # Nothing moved for the supplier.
    line_now = next(x for x in client.get(f"{API}/bank-lines", headers=world["h"]).json["data"]
                    if x["id"] == line)
    assert line_now["status"] == "suggested"


def test_a_removed_bank_account_answers_404(client, world, waiting):
    from app.services.reconciliation import accounts
    from app.tenancy import acting_as

    with acting_as(world["supplier"].id):
        accounts.remove_bank_account(world["supplier"].id, waiting["account"].id, actor=None)
        db.session.commit()
    error_of(client.get(f"{API}/bank-lines?account_id={waiting['account'].id}",
                        headers=world["h"]), 404)
    assert client.get(f"{API}/bank-accounts", headers=world["h"]).json == {"data": []}


def test_a_payment_recorded_from_a_bank_line_is_read_by_the_payments_api(client, world,
                                                                         waiting):
    """The automatic match recorded a payment of method bank: GET /payments answers it."""
    listed = client.get(f"{API}/payments", headers=world["payments_only"])
    assert listed.status_code == 200, listed.json
    (payment,) = listed.json["data"]
    assert (payment["method"], payment["status"], payment["amount"]) == (
        "bank", "succeeded", "250000.00")
    assert payment["allocations"][0]["document_id"] == waiting["paid"].id
    one = client.get(f"{API}/payments/{payment['id']}", headers=world["payments_only"])
    assert one.status_code == 200 and one.json["method"] == "bank"
