"""The issue form as people use it: lines added and removed as needed (with htmx or without
JavaScript), the customer searched among the company's own customers, withholdings ticked."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Partnership
from app.tenancy import unscoped
from tests.blueprints import test_issuing
from tests.blueprints.test_issuing import configure, invoice_data, issued_invoice
from tests.conftest import give_fiscal_profile, login, make_company, make_user

HTMX = {"HX-Request": "true"}

# The issuing tests' fixtures: an English session, a supplier that can issue, its clerk, a buyer.
_english = test_issuing._english
supplier = test_issuing.supplier
clerk = test_issuing.clerk
buyer = test_issuing.buyer


def documents():
    return db.session.scalars(unscoped(select(Document))).all()


def partner(supplier, customer, status="active"):
    db.session.add(
        Partnership(
            supplier_id=supplier.id,
            customer_id=customer.id,
            requested_by_id=supplier.id,
            status=status,
        )
    )
    db.session.commit()
    return customer


def value_of(page, name):
    """The value a text input named `name` shows ("" when empty, None when absent)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if match is None:
        return None
    value = re.search(r'value="([^"]*)"', match[0])
    return value[1] if value else ""


def row_names(page):
    return re.findall(r'name="(lines-\d+)-description"', page)


def lines(count, start=0):
    """count filled lines posted as lines-<start>... (1 unit at 1,000 × position, IVA 19 %)."""
    data = {}
    for position in range(count):
        index = start + position
        data |= {
            f"lines-{index}-description": f"Artículo {position + 1}",
            f"lines-{index}-quantity": "1",
            f"lines-{index}-unit_price": str(1000 * (position + 1)),
            f"lines-{index}-tax": "IVA19",
            f"lines-{index}-discount": "",
        }
    return data


def without_lines(data):
    return {k: v for k, v in data.items() if not k.startswith("lines-")}


# --- Lines: one to start, more or fewer as needed --------------------------------------------


def test_the_form_starts_with_one_line_and_offers_to_add_more(client, supplier, clerk):
    """Does a new invoice show one line, a Remove button on it and an "Add line" button?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    page = client.get("/issue/invoice").text
    assert row_names(page) == ["lines-0"]
    assert re.search(r'<button type="submit" name="remove_line" value="0"', page)
    assert 'aria-label="Remove line 1"' in page
    add = re.search(r'<button type="submit" name="add_line" value="1"[^>]*>', page)
    assert add and 'hx-post="/issue/lines"' in add[0] and 'hx-swap="beforeend"' in add[0]


def test_add_line_without_javascript_keeps_every_typed_value(client, supplier, clerk, buyer):
    """Without JavaScript, does "Add line" draw the form again with one more line, all kept?"""
    login(client, clerk, supplier)
    configure(client)
    data = invoice_data(buyer, notes="Entregar en bodega", withholdings=["RETEFUENTE25", "RETEICA"])
    data.pop("confirm")
    response = client.post("/issue/invoice", data=data | {"add_line": "1"})
    assert response.status_code == 200
    page = response.text
    assert row_names(page) == ["lines-0", "lines-1", "lines-2", "lines-3"]
    assert [value_of(page, f"lines-{i}-description") for i in range(4)] == [
        "Portátil",
        "Libro",
        "Almuerzo",
        "",
    ]
    assert (
        value_of(page, "lines-1-quantity") == "3"
        and value_of(page, "lines-2-unit_price") == "25000"
    )
    assert re.search(r'<option value="IVA5" selected>', page)
    assert re.search(r'name="lines-3-description"[^>]*autofocus|autofocus[^>]*name="lines-3-', page)
    assert value_of(page, "customer_tax_id") == buyer.tax_id
    assert "Entregar en bodega" in page
    for code in ("RETEFUENTE25", "RETEICA"):
        assert re.search(rf'<input checked[^>]*value="{code}"', page), code
    assert documents() == []  # drawing the form again issues nothing


def test_remove_line_without_javascript_renumbers_and_keeps_the_rest(
    client, supplier, clerk, buyer
):
    """Without JavaScript, does "Remove" on the second line leave the first and third, in order?"""
    login(client, clerk, supplier)
    configure(client)
    response = client.post("/issue/invoice", data=invoice_data(buyer, remove_line="1"))
    assert response.status_code == 200
    page = response.text
    assert row_names(page) == ["lines-0", "lines-1"]
    assert value_of(page, "lines-0-description") == "Portátil"
    assert value_of(page, "lines-1-description") == "Almuerzo"
    assert value_of(page, "lines-1-quantity") == "4"
    assert "Libro" not in page
    assert documents() == []
    # The last line removed leaves one empty line to type in.
    only = without_lines(invoice_data(buyer)) | lines(1) | {"remove_line": "0"}
    page = client.post("/issue/invoice", data=only).text
    assert row_names(page) == ["lines-0"] and value_of(page, "lines-0-description") == ""


@pytest.mark.parametrize("value", ["7", "-1", "abc", "١", "99999999999999999999999"])
def test_removing_a_line_that_is_not_there_says_so(client, supplier, clerk, buyer, value):
    """Is a Remove of a line the form does not hold answered with a message, lines kept?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    response = client.post("/issue/invoice", data=invoice_data(buyer, remove_line=value))
    assert response.status_code == 422
    assert "That line is no longer on the form." in response.text
    assert row_names(response.text) == ["lines-0", "lines-1", "lines-2"]


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ({}, "lines-0"),
        (lines(3), "lines-3"),
        (lines(1) | lines(1, start=5), "lines-6"),  # a row removed in the browser left a gap
    ],
)
def test_add_line_with_htmx_answers_one_row_with_the_next_index(
    client, supplier, clerk, posted, expected
):
    """Does htmx's "Add line" get one empty row, numbered after the rows on the page?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    response = client.post("/issue/lines", data=posted | {"add_line": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr") and "<html" not in response.text
    assert row_names(response.text) == [expected]
    assert value_of(response.text, f"{expected}-description") == ""
    assert "autofocus" in response.text
    position = len({k.split("-")[1] for k in posted}) + 1
    assert f'aria-label="Remove line {position}"' in response.text


def test_the_note_form_adds_lines_too(client, supplier, clerk, buyer):
    """Does a credit note, pre-filled from the invoice, keep its lines when one is added?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    invoice = issued_invoice(client, buyer)
    url = f"/issue/documents/{invoice.id}/credit-note"
    page = client.get(url).text
    assert row_names(page) == ["lines-0", "lines-1", "lines-2"]
    assert 'hx-post="/issue/lines"' in page
    # Enter in a field presses the first submit button: signing, never a line's Remove.
    form = page[page.index('id="note-form"'):]
    first = re.search(r'<(?:button|input)[^>]*type="submit"[^>]*>', form).group(0)
    assert "remove_line" not in first and "add_line" not in first
    data = {"reason": "2"} | lines(2) | {"add_line": "1"}
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert row_names(response.text) == ["lines-0", "lines-1", "lines-2"]
    assert value_of(response.text, "lines-1-description") == "Artículo 2"
    removed = client.post(url, data={"reason": "2"} | lines(2) | {"remove_line": "0"})
    assert row_names(removed.text) == ["lines-0"]
    assert value_of(removed.text, "lines-0-description") == "Artículo 2"
    assert len(documents()) == 1  # only the invoice


# --- Limits and malformed line data -------------------------------------------------------------


def test_at_most_two_hundred_lines(client, supplier, clerk, buyer):
    """Is a 201st line refused with a message, with htmx and without, and the 200 kept?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    base = without_lines(invoice_data(buyer))
    base.pop("confirm")
    full = base | lines(200)
    page = client.post("/issue/invoice", data=full | {"add_line": "1"})
    assert page.status_code == 422 and "A document holds at most 200 lines." in page.text
    assert len(row_names(page.text)) == 200
    assert value_of(page.text, "lines-199-description") == "Artículo 200"
    htmx = client.post("/issue/lines", data=lines(200) | {"add_line": "1"}, headers=HTMX)
    assert htmx.status_code == 422
    assert htmx.headers["HX-Retarget"] == "#line-problems"
    assert "A document holds at most 200 lines." in htmx.text and "<tr" not in htmx.text
    sent = client.post("/issue/invoice", data=base | lines(201) | {"confirm": "1"})
    assert sent.status_code == 422 and "A document holds at most 200 lines." in sent.text
    assert documents() == []


MALFORMED = [
    {"lines--1-description": "Negativa"},
    {"lines-10000-description": "Lejana"},
    {"lines-x-description": "Letra"},
    {"lines-²-description": "Superíndice"},  # a digit to str.isdigit, not to int()
    {"lines-01-description": "Cero a la izquierda"},
    {"lines-0-colour": "rojo"},
    {"lines-0": "sin campo"},
    {"lines-0-description": ["Dos", "veces"]},
]


@pytest.mark.parametrize("extra", MALFORMED)
def test_malformed_line_data_is_refused_with_a_message(client, supplier, clerk, buyer, extra):
    """Are lines posted with odd names refused clearly (never a 500, never an invoice)?"""
    login(client, clerk, supplier)
    configure(client)
    data = invoice_data(buyer) | extra
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 422
    assert "Some of the lines sent could not be read" in response.text
    assert documents() == []
    # The same data to "Add line", the live totals and a note: messages, no server error.
    added = client.post("/issue/lines", data=data | {"add_line": "1"}, headers=HTMX)
    assert added.status_code == 422 and "could not be read" in added.text
    assert client.post("/issue/invoice/totals", data=data, headers=HTMX).status_code == 200


@pytest.mark.parametrize("missing", ["quantity", "unit_price", "tax", "description"])
def test_a_line_sent_without_one_of_its_fields_is_refused(client, supplier, clerk, buyer, missing):
    """Is a line that arrives without a field named, rather than filled with a guess?"""
    login(client, clerk, supplier)
    configure(client)
    data = invoice_data(buyer)
    data.pop(f"lines-1-{missing}")
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 422
    assert "Line 2 arrived incomplete; check it and send again." in response.text
    assert documents() == []


def test_gaps_in_the_line_numbers_are_renumbered_in_order(client, supplier, clerk, buyer):
    """Rows removed in the browser leave gaps: are the lines still issued, in their order?"""
    login(client, clerk, supplier)
    configure(client)
    data = without_lines(invoice_data(buyer, withholdings=[])) | lines(1, start=3) | lines(1)
    data |= {"lines-9-description": "Tercero", "lines-9-quantity": "2"}
    data |= {"lines-9-unit_price": "500", "lines-9-tax": "IVA0"}
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 302, response.text
    xml = documents()[0].original.decode()
    names = re.findall(r"<cbc:Description>([^<]+)</cbc:Description>", xml)
    assert names == ["Artículo 1", "Artículo 1", "Tercero"]


@pytest.mark.parametrize("count", [1, 25])
def test_an_invoice_of_one_or_many_lines_has_the_right_totals(
    client, supplier, clerk, buyer, count
):
    """Does an invoice of 1 or 25 lines, added as needed, add up to the right total?"""
    login(client, clerk, supplier)
    configure(client)
    data = without_lines(invoice_data(buyer, withholdings=[])) | lines(count)
    base = sum(Decimal(1000 * (i + 1)) for i in range(count))
    expected = (base * Decimal("1.19")).quantize(Decimal("0.01"))
    live = client.post("/issue/invoice/totals", data=data, headers=HTMX)
    assert f"{expected:,.2f}" in live.text
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 302, response.text
    document = documents()[0]
    assert document.payable == expected
    assert document.original.count(b"<cac:InvoiceLine>") == count


# --- The customer picker ------------------------------------------------------------------------


@pytest.fixture
def network(supplier, buyer):
    """The supplier's customers: the buyer, two more; a pending one; another supplier's."""
    partner(supplier, buyer)
    partner(supplier, give_fiscal_profile(make_company("Hotel Caribe")))
    partner(supplier, make_company("<script>alert(1)</script>"))
    partner(supplier, make_company("Pendiente"), status="pending")
    elsewhere = make_company("Ajena")
    partner(elsewhere, make_company("Cliente de otra"))
    seller = make_company("Proveedor nuestro")  # we are its customer, not the other way
    partner(seller, db.session.get(type(supplier), supplier.id))
    return elsewhere


def search(client, query, **params):
    return client.get(
        "/issue/customers", query_string={"customer_q": query, **params}, headers=HTMX
    )


def test_the_search_lists_only_the_companys_own_active_customers(
    client, supplier, clerk, buyer, network
):
    """Does typing in the picker list only this company's customers, as radio buttons?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    everyone = search(client, "")
    assert everyone.status_code == 200 and "<html" not in everyone.text
    names = re.findall(r'name="customer_id"[^>]*>\s*([^<]+?)\s*<small', everyone.text)
    assert len(names) == 3 and buyer.legal_name in names
    for absent in ("Pendiente", "Cliente de otra", "Proveedor nuestro", "Ajena"):
        assert absent not in everyone.text
    hotel = search(client, "caribe").text
    assert "Hotel Caribe" in hotel and buyer.legal_name not in hotel
    assert 'id="customer-none" value="" checked' in hotel
    by_tax_id = search(client, buyer.tax_id[:6]).text
    assert buyer.legal_name in by_tax_id
    assert "Cliente de otra" not in search(client, "otra").text
    assert "None of your customers matches “otra”." in search(client, "otra").text


def test_the_search_escapes_names_and_survives_odd_queries(client, supplier, clerk, buyer, network):
    """Is a name with markup shown as text, and are long, empty or odd queries answered?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    page = search(client, "script").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    odd = ("x" * 5000, "%", "_", "'; drop table companies; --", "   ")
    for query in (*odd, "\x01\x7f"):
        response = search(client, query)
        assert response.status_code == 200, query
    for query in ("\u0000", "andi\u0000na"):  # PostgreSQL refuses a NUL: the portal first
        response = search(client, query)
        assert response.status_code == 400, query
        assert "(NUL)" in response.text
    assert "%" not in re.sub(r"“.*?”", "", search(client, "%").text)  # % is no wildcard
    assert 'maxlength="100"' in client.get("/issue/invoice").text


def test_the_chosen_customer_stays_listed_while_another_is_searched(
    client, supplier, clerk, buyer, network
):
    """After choosing a customer, does searching something else keep it listed and chosen?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    page = search(client, "caribe", customer_id=str(buyer.id)).text
    assert re.search(rf'value="{buyer.id}"[^>]*checked', page)
    assert "Hotel Caribe" in page
    other = make_company("Cliente ajena")
    partner(network, other)
    page = search(client, "", customer_id=str(other.id)).text
    assert f'value="{other.id}"' not in page  # another company's customer is not shown
    assert 'id="customer-none" value="" checked' in page
    for odd in ("99999999999999999999999", "-1", "abc", "١", ""):
        response = search(client, "", customer_id=odd)
        assert response.status_code == 200, odd
        assert 'id="customer-none" value="" checked' in response.text


def test_many_customers_ask_to_type_more(client, supplier, clerk):
    """With more customers than the list shows, does the picker say to type more?"""
    for number in range(12):
        partner(supplier, make_company(f"Cliente {number:02d}"))
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    page = search(client, "cliente").text
    assert len(re.findall(r'name="customer_id" id="customer-\d+"', page)) == 8
    assert "More customers match" in page
    assert "More customers match" not in search(client, "cliente 11").text


def test_without_javascript_search_draws_the_form_again(client, supplier, clerk, buyer, network):
    """Without JavaScript, does "Search" show the matches and keep what was typed?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    data = invoice_data(buyer, customer_q="caribe", find_customer="1")
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 200
    assert "Hotel Caribe" in response.text and value_of(response.text, "customer_q") == "caribe"
    assert value_of(response.text, "lines-2-description") == "Almuerzo"
    assert documents() == []


@pytest.mark.parametrize(
    "whose", ["other company's customer", "a stranger", "self", "junk", "huge"]
)
def test_a_customer_that_is_not_ours_is_refused(client, supplier, clerk, buyer, network, whose):
    """Can a clerk post another company's customer (or any id) as the invoice's customer?"""
    login(client, clerk, supplier)
    configure(client)
    ids = {
        "other company's customer": db.session.scalars(
            unscoped(select(Partnership.customer_id).where(Partnership.supplier_id == network.id))
        ).first(),
        "a stranger": make_company("Desconocida").id,
        "self": supplier.id,
        "junk": "1 OR 1=1",
        "huge": "99999999999999999999999",
    }
    response = client.post("/issue/invoice", data=invoice_data(buyer, customer_id=str(ids[whose])))
    assert response.status_code == 422
    assert "Choose one of your customers, or “Customer not on the network”." in response.text
    assert 'id="customer-none" value="" checked' in response.text
    assert documents() == []


def test_a_chosen_partner_wins_over_the_typed_block(client, supplier, clerk, buyer, network):
    """When a partner is chosen, is the hand-typed customer ignored (not refused, not used)?"""
    login(client, clerk, supplier)
    configure(client)
    page = client.get("/issue/invoice").text
    assert 'class="customer-typed"' in page and 'id="customer-none" value="" checked' in page
    data = invoice_data(
        buyer,
        customer_id=str(buyer.id),
        customer_tax_id="900373076-5",  # a wrong check digit: would be refused if it were read
        customer_name="Otra Empresa",
        customer_email="no@example.test",
    )
    response = client.post("/issue/invoice", data=data)
    assert response.status_code == 302, response.text
    document = documents()[0]
    assert document.receiver_company_id == buyer.id
    assert b"Otra Empresa" not in document.original


def test_a_partner_chosen_stays_chosen_when_the_form_comes_back(
    client, supplier, clerk, buyer, network
):
    """After "Add line", is the chosen partner still ticked and marked when it lacks fiscal data?"""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    data = invoice_data(buyer, customer_id=str(buyer.id), add_line="1")
    page = client.post("/issue/invoice", data=data).text
    assert re.search(rf'value="{buyer.id}" data-needs-fiscal checked', page)
    assert 'id="customer-none" value="">' in page


# --- Withholdings --------------------------------------------------------------------------------


def test_withholdings_are_checkboxes_that_round_trip(client, supplier, clerk, buyer):
    """Are withholdings ticked in a fieldset, kept when the form comes back, and applied?"""
    login(client, clerk, supplier)
    configure(client)
    page = client.get("/issue/invoice").text
    fieldset = re.search(r"<fieldset>\s*<legend>Withholdings</legend>.*?</fieldset>", page, re.S)
    assert fieldset and fieldset[0].count('type="checkbox"') >= 2
    assert "<select multiple" not in page
    chosen = ["RETEFUENTE25", "RETEIVA15"]
    back = client.post(
        "/issue/invoice",
        data=invoice_data(buyer, withholdings=chosen, lines_x="") | {"add_line": "1"},
    ).text
    for code in chosen:
        assert re.search(rf'<input checked[^>]*value="{code}"', back), code
    assert not re.search(r'<input checked[^>]*value="RETEICA"', back)
    bad = client.post("/issue/invoice", data=invoice_data(buyer, withholdings=["RETE999"]))
    assert bad.status_code == 422 and 'data-field-error="withholdings"' in bad.text
    totals = client.post(
        "/issue/invoice/totals", data=invoice_data(buyer, withholdings=chosen), headers=HTMX
    )
    assert "ReteFuente" in totals.text and "ReteIVA" in totals.text
    assert (
        client.post("/issue/invoice", data=invoice_data(buyer, withholdings=chosen)).status_code
        == 302
    )


def test_the_new_routes_need_the_issuing_permission(client, supplier):
    """Can a viewer fetch line rows or search the customers?"""
    viewer = make_user(supplier, role="viewer")
    login(client, viewer, supplier)
    assert client.post("/issue/lines", data={"add_line": "1"}).status_code == 403
    assert client.get("/issue/customers?customer_q=a").status_code == 403


@pytest.mark.parametrize("value", [5, {"a": 1}, None, True])
def test_lines_sent_as_json_with_other_types_are_refused(client, supplier, clerk, value):
    """A JSON body whose line holds a number or an object: a message, never a server error
    (the pages take forms: every JSON body is refused, app.web.errors)."""
    login(client, clerk, supplier)
    configure(client)  # a numbering range: else the page says what blocks issuing
    body = {"lines-0-description": value, "lines-0-quantity": "1"}
    for url in ("/issue/invoice", "/issue/lines"):
        response = client.post(url, json=body | {"add_line": "1"})
        assert response.status_code == 415, url
        assert "not JSON" in response.text or "no JSON" in response.text
    assert client.post("/issue/invoice/totals", json=body).status_code == 415
    assert db.session.scalars(unscoped(select(Document))).first() is None
