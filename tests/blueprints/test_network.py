"""The network: the directory, connection requests, inviting partners (one by one or by CSV).

Each test signs in through the test client and checks what a user would notice: the page,
the status code, the e-mails written and the partnerships left in the database.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from sqlalchemy import select
from stdnum.co import nit

from app.extensions import db
from app.models import Company, Partnership
from app.tenancy import unscoped
from tests.conftest import PASSWORD, login, make_company, make_user

# ---------------------------------------------------------------- helpers


def new_client(app):
    """Return a browser of its own, in English (the UI strings asserted below are English)."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "en"
    return browser


@pytest.fixture
def client(app):
    return new_client(app)


def text(response) -> str:
    """Return the page as a user reads it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def fetch(model, *where):
    """Read rows straight from the database, across companies, with fresh values."""
    stmt = select(model).where(*where).execution_options(populate_existing=True)
    return db.session.scalars(unscoped(stmt)).unique().all()


def nit_of(base: str) -> str:
    """Return the compact NIT (check digit included) of a 9-digit base."""
    return base + nit.calc_check_digit(base)


def wrong_check_digit(base: str) -> str:
    return base + str((int(nit.calc_check_digit(base)) + 1) % 10)


def section(page: str, testid: str) -> str:
    """Return the HTML of the /network/ section with that data-testid."""
    found = re.search(rf'<section data-testid="{testid}">(.*?)</section>', page, re.S)
    assert found, f"no section {testid!r}"
    return found.group(1)


def field_error(page: str, name: str) -> str:
    """Return the messages shown next to a form field."""
    return " ".join(re.findall(rf'data-field-error="{name}">([^<]*)<', page))


def directory_names(browser, query: str, **headers) -> str:
    return text(browser.get("/network/directory", query_string={"q": query}, headers=headers))


def connect(browser, other: Company, relation: str, **kwargs):
    return browser.post(
        "/network/connect", data={"company_id": other.id, "relation": relation}, **kwargs
    )


def only_partnership() -> Partnership:
    (partnership,) = fetch(Partnership)
    return partnership


def mails_to(outbox, address: str) -> list[dict]:
    return [m for m in outbox() if m["to"] == address]


@pytest.fixture
def us(company, owner, client):
    """The acting side: the company fixture, signed in as its owner."""
    login(client, owner, company)
    return company


@pytest.fixture
def them(app, other_company, outsider):
    """The other company's owner, signed in in a browser of their own."""
    browser = new_client(app)
    login(browser, outsider, other_company)
    return browser


# ---------------------------------------------------------------- the directory


@pytest.mark.parametrize(
    "query", ["ferretería", "FERRETERÍA", "Ñandú", "ñandú", "ÑANDÚ", "tería ñan"]
)
def test_can_i_find_a_company_by_name_in_any_letter_case(client, us, query):
    """Names match whatever the case, with the accents as typed."""
    make_company("Ferretería Ñandú")
    make_company("Panadería Lulo")

    page = directory_names(client, query)

    assert "Ferretería Ñandú" in page
    assert "Panadería Lulo" not in page


@pytest.mark.parametrize(
    "query", ["900.123.456-8", "900123456-8", "9001234568", "900123456", "900.123", " 900 123 456 "]
)
def test_can_i_find_a_company_by_its_tax_id_however_i_type_it(client, us, query):
    """With or without dots, dash or check digit, a tax id (or its start) finds the company."""
    assert nit_of("900123456") == "9001234568"
    make_company("Buscada", tax_id="9001234568")
    make_company("Otra Cosa", tax_id=nit_of("811222333"))

    page = directory_names(client, query)

    assert "Buscada" in page
    assert "Otra Cosa" not in page


def test_does_the_directory_leave_out_my_own_company(client, us):
    """My company is never offered to me; the others are."""
    make_company("Vecina")

    everyone = directory_names(client, "")
    by_my_name = directory_names(client, us.trade_name)
    by_my_tax_id = directory_names(client, us.tax_id)

    assert "Vecina" in everyone
    assert f'data-company="{us.legal_name}"' not in everyone
    assert f'data-company="{us.legal_name}"' not in by_my_name
    assert f'data-company="{us.legal_name}"' not in by_my_tax_id


def test_is_a_percent_sign_taken_literally_in_the_directory(client, us):
    """Typing % or _ does not turn into a wildcard that lists every company."""
    make_company("Vecina")
    assert "Vecina" not in directory_names(client, "%")
    assert "Vecina" not in directory_names(client, "_")


def test_does_an_htmx_search_get_only_the_results(client, us):
    """htmx asks for the results fragment; a plain visit gets the whole page; caches vary."""
    make_company("Vecina")

    fragment = client.get("/network/directory?q=vec", headers={"HX-Request": "true"})
    full = client.get("/network/directory?q=vec")

    assert fragment.status_code == 200
    body = text(fragment)
    assert body.lstrip().startswith('<div id="directory-results">')
    assert "<html" not in body
    assert "Vecina" in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert "<html" in text(full)
    assert 'id="directory-results"' in text(full)
    assert "HX-Request" in full.headers["Vary"]


def test_does_the_directory_show_who_i_am_already_connected_with(client, us, them, other_company):
    """A partner shows as my supplier instead of offering to connect again."""
    connect(client, other_company, "supplier")
    them.post(f"/network/requests/{only_partnership().id}/accept")

    page = directory_names(client, other_company.trade_name)

    assert "Your supplier" in page
    assert f'name="company_id" value="{other_company.id}"' not in page


# ---------------------------------------------------------------- connection requests


@pytest.mark.parametrize(
    ("relation", "mine", "theirs", "they_read"),
    [
        ("supplier", "suppliers", "customers", "wants to be your customer"),
        ("customer", "customers", "suppliers", "wants to be your supplier"),
    ],
)
def test_can_two_companies_connect_as_supplier_and_customer(
    client, us, them, other_company, relation, mine, theirs, they_read
):
    """I ask; they see the request, accept, and each lists the other in the right column."""
    asked = connect(client, other_company, relation)

    assert asked.status_code == 303
    partnership = only_partnership()
    if relation == "supplier":
        assert (partnership.supplier_id, partnership.customer_id) == (other_company.id, us.id)
    else:
        assert (partnership.supplier_id, partnership.customer_id) == (us.id, other_company.id)
    waiting = text(them.get("/network/"))
    assert f'data-request="{us.display_name}"' in waiting
    assert they_read in waiting
    assert "Waiting for their answer" in section(text(client.get("/network/")), mine)

    answered = them.post(f"/network/requests/{partnership.id}/accept")

    assert answered.status_code == 303
    assert only_partnership().status == "active"
    my_page = text(client.get("/network/"))
    their_page = text(them.get("/network/"))
    assert other_company.display_name in section(my_page, mine)
    assert other_company.display_name not in section(my_page, theirs)
    assert "Connected" in section(my_page, mine)
    assert us.display_name in section(their_page, theirs)
    assert us.display_name not in section(their_page, mine)
    assert f'data-request="{us.display_name}"' not in their_page


def test_can_the_company_that_asked_answer_its_own_request(client, us, them, other_company):
    """Only the receiving side may accept or decline; the requester is refused."""
    connect(client, other_company, "supplier")
    partnership = only_partnership()

    plain = client.post(f"/network/requests/{partnership.id}/accept", follow_redirects=True)
    with_htmx = client.post(
        f"/network/requests/{partnership.id}/accept", headers={"HX-Request": "true"}
    )
    declined = client.post(
        f"/network/requests/{partnership.id}/decline", headers={"HX-Request": "true"}
    )

    assert "This request is not waiting for your answer." in text(plain)
    assert with_htmx.status_code == 409
    assert declined.status_code == 409
    assert only_partnership().status == "pending"
    assert f'action="/network/requests/{partnership.id}/accept"' not in text(
        client.get("/network/")
    )


def test_can_a_declined_company_ask_again(client, us, them, other_company):
    """After a decline neither side lists the other, and a new request can be sent."""
    connect(client, other_company, "customer")
    them.post(f"/network/requests/{only_partnership().id}/decline")

    assert only_partnership().status == "declined"
    assert other_company.display_name not in text(client.get("/network/")).split("<main")[1]
    assert us.display_name not in section(text(them.get("/network/")), "suppliers")

    again = connect(client, other_company, "customer")

    assert again.status_code == 303
    assert only_partnership().status == "pending"
    assert f'data-request="{us.display_name}"' in text(them.get("/network/"))


def test_is_a_second_request_to_the_same_company_refused(client, us, them, other_company):
    """Asking twice, or asking back while their request waits, is refused with a message."""
    connect(client, other_company, "supplier")

    twice = connect(client, other_company, "supplier", follow_redirects=True)
    back = connect(them, us, "customer", follow_redirects=True)

    assert (
        f"You are already connected with {other_company.display_name}, or a request is waiting."
    ) in text(twice)
    assert f"{us.display_name} already asked you to connect: accept their request." in text(back)
    assert len(fetch(Partnership)) == 1


def test_is_asking_again_once_connected_refused(client, us, them, other_company):
    connect(client, other_company, "supplier")
    them.post(f"/network/requests/{only_partnership().id}/accept")

    again = connect(client, other_company, "supplier", follow_redirects=True)

    assert "You are already connected with" in text(again)
    assert only_partnership().status == "active"


def test_can_a_company_connect_with_itself(client, us):
    response = connect(client, us, "supplier", follow_redirects=True)
    assert "A company cannot connect with itself." in text(response)
    assert fetch(Partnership) == []


def test_are_the_other_companys_administrators_told_by_email(
    client, us, other_company, outsider, outbox
):
    """The owner and admins of the company asked get an e-mail; other roles do not."""
    admin = make_user(other_company, role="admin")
    viewer = make_user(other_company, role="viewer")
    make_user(us, role="admin")  # my own admins are not told

    connect(client, other_company, "supplier")

    assert sorted(m["to"] for m in outbox()) == sorted([outsider.email, admin.email])
    mail = mails_to(outbox, admin.email)[0]
    assert us.display_name in mail["subject"]
    assert "/network/" in mail["body"]
    assert mails_to(outbox, viewer.email) == []


def test_can_an_unconfirmed_user_send_a_connection_request(client, company, other_company):
    """Connecting needs a confirmed e-mail address; the refusal says so."""
    unconfirmed = make_user(company, role="owner", confirmed=False)
    login(client, unconfirmed, company)

    response = connect(client, other_company, "supplier")

    assert response.status_code == 403
    assert "Confirm your e-mail address first" in text(response)
    assert fetch(Partnership) == []


# ---------------------------------------------------------------- tenancy


def test_can_a_third_company_see_or_answer_a_request_between_two_others(
    app, client, us, other_company
):
    """Another pair's partnership is invisible to me and answers 404."""
    connect(client, other_company, "supplier")
    partnership = only_partnership()
    third = make_company("Tercera")
    stranger = new_client(app)
    login(stranger, make_user(third, role="owner"), third)

    accepted = stranger.post(f"/network/requests/{partnership.id}/accept")
    declined = stranger.post(f"/network/requests/{partnership.id}/decline")
    page = text(stranger.get("/network/"))

    assert accepted.status_code == 404
    assert declined.status_code == 404
    assert only_partnership().status == "pending"
    assert us.display_name not in page.split("<main")[1]
    assert other_company.display_name not in page.split("<main")[1]


# ---------------------------------------------------------------- inviting one partner


def invite(browser, **fields):
    data = {
        "name": "Distribuidora Nueva",
        "country": "CO",
        "tax_id": "900.123.456-8",
        "email": "compras@nueva.example.com",
        "relation": "supplier",
        **fields,
    }
    return browser.post("/network/invite", data=data)


def test_can_i_invite_a_partner_that_is_not_on_the_network(client, us, outbox):
    """The invitation is e-mailed and shows among my suppliers as not on the network yet."""
    response = invite(client)

    assert response.status_code == 303
    partnership = only_partnership()
    assert partnership.invited_tax_id == "9001234568"
    assert partnership.invited_email == "compras@nueva.example.com"
    assert (partnership.supplier_id, partnership.customer_id) == (None, us.id)
    (mail,) = mails_to(outbox, "compras@nueva.example.com")
    assert us.display_name in mail["subject"]
    assert "/auth/register" in mail["body"]
    suppliers = section(text(client.get("/network/")), "suppliers")
    assert "Distribuidora Nueva" in suppliers
    assert "Invited, not on the network yet" in suppliers


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"tax_id": wrong_check_digit("900123456")},
            "tax_id",
            "The check digit of this tax id is wrong.",
        ),
        ({"tax_id": "12"}, "tax_id", "This tax id has the wrong number of digits."),
        ({"email": "compras-at-nueva"}, "email", "Enter a valid e-mail address."),
    ],
    ids=["wrong check digit", "too short", "bad e-mail"],
)
def test_is_a_wrong_invitation_refused_next_to_the_field(
    client, us, outbox, fields, field, message
):
    response = invite(client, **fields)

    assert response.status_code == 422
    assert message in field_error(text(response), field)
    assert fetch(Partnership) == []
    assert outbox() == []


def test_can_i_invite_my_own_company(client, us, outbox):
    response = invite(client, tax_id=us.tax_id)

    assert response.status_code == 422
    assert "That is your own company's tax id." in field_error(text(response), "tax_id")
    assert fetch(Partnership) == []
    assert outbox() == []


def test_can_i_invite_the_same_company_twice(client, us, outbox):
    """A second invitation for a tax id still waiting is refused, however it is typed."""
    invite(client)

    response = invite(client, tax_id="9001234568", email="otra@nueva.example.com")

    assert response.status_code == 422
    assert "You already invited this company." in field_error(text(response), "tax_id")
    assert len(fetch(Partnership)) == 1
    assert len(outbox()) == 1


def test_does_inviting_a_registered_company_send_it_a_connection_request(
    client, us, other_company, outsider, outbox
):
    """A tax id already on the network becomes a connection request to that company."""
    response = invite(
        client, tax_id=other_company.tax_id, relation="customer", email="alguien@otra.example.com"
    )

    assert response.status_code == 303
    partnership = only_partnership()
    assert (partnership.supplier_id, partnership.customer_id) == (us.id, other_company.id)
    assert partnership.status == "pending"
    assert partnership.invited_tax_id is None
    assert [m["to"] for m in outbox()] == [outsider.email]
    page = text(client.get("/network/"))
    assert "is already on the network" in page


@pytest.mark.parametrize(
    ("relation", "inviter_side", "joiner_side"),
    [
        ("supplier", "suppliers", "customers"),
        ("customer", "customers", "suppliers"),
    ],
)
def test_does_an_invited_company_that_registers_start_connected(
    app, client, us, owner, outbox, relation, inviter_side, joiner_side
):
    """Registering with the invited tax id makes the relationship active on both sides."""
    invite(client, relation=relation, tax_id="9001234568")
    newcomer = new_client(app)

    registered = newcomer.post(
        "/auth/register",
        data={
            "legal_name": "Distribuidora Nueva S.A.S.",
            "trade_name": "Nueva",
            "country": "CO",
            "tax_id": "900.123.456-8",
            "contact_email": "info@nueva.example.com",
            "user_name": "Nelly Nueva",
            "user_email": "nelly@nueva.example.com",
            "password": PASSWORD,
        },
    )

    assert registered.status_code == 303
    joined = fetch(Company, Company.tax_id == "9001234568")[0]
    partnership = only_partnership()
    assert partnership.status == "active"
    assert joined.id in (partnership.supplier_id, partnership.customer_id)
    assert us.id in (partnership.supplier_id, partnership.customer_id)
    assert "Nueva" in section(text(client.get("/network/")), inviter_side)
    assert "Connected" in section(text(client.get("/network/")), inviter_side)
    assert us.display_name in section(text(newcomer.get("/network/")), joiner_side)
    (told,) = mails_to(outbox, owner.email)
    assert "Nueva" in told["subject"]


# ---------------------------------------------------------------- inviting from a CSV file


def upload(browser, content: bytes, filename: str = "socios.csv", **headers):
    return browser.post(
        "/network/invite/csv",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def report_rows(page: str) -> dict[int, tuple[str, str]]:
    """Map each reported line number to (row-ok|row-refused, the row's text)."""
    rows = re.findall(r'<tr class="(row-ok|row-refused)" data-line="(\d+)">(.*?)</tr>', page, re.S)
    return {
        int(line): (status, re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", body)))
        for status, line, body in rows
    }


def invited_tax_ids() -> set[str]:
    return {p.invited_tax_id for p in fetch(Partnership) if p.invited_tax_id}


def test_does_a_mixed_csv_report_each_row_and_create_only_the_good_ones(
    client, us, other_company, outsider, outbox
):
    """Good rows become invitations; each refused row says why; nothing refused is created."""
    good_supplier, good_customer = nit_of("900111222"), nit_of("900333444")
    content = "\n".join(
        [
            "name,tax_id,email,relation",
            f"Proveedora Buena,{good_supplier},ventas@buena.example.com,supplier",  # 2 ok
            f"Digito Malo,{wrong_check_digit('900555666')},a@malo.example.com,supplier",  # 3
            f"Correo Malo,{nit_of('900777888')},no-es-correo,customer",  # 4
            f"Relacion Mala,{nit_of('900999000')},b@mala.example.com,partner",  # 5
            f"Repetida,{good_supplier[:3]}.{good_supplier[3:6]}.{good_supplier[6:9]}-"
            f"{good_supplier[9]},c@rep.example.com,customer",  # 6
            f"Ya Registrada,{other_company.tax_id},d@otra.example.com,customer",  # 7 ok
            f"Nosotros,{us.tax_id},e@nos.example.com,supplier",  # 8
            "Sin Columnas,900123456",  # 9
            f"Cliente Bueno,{good_customer},f@buena.example.com,customer",  # 10 ok
        ]
    ).encode()

    response = upload(client, content)

    assert response.status_code == 200
    rows = report_rows(text(response))
    assert sorted(rows) == list(range(2, 11))
    assert {line for line, (status, _) in rows.items() if status == "row-ok"} == {2, 7, 10}
    assert "Invitation e-mailed." in rows[2][1]
    assert "check digit" in rows[3][1]
    assert "The e-mail is not a valid address." in rows[4][1]
    assert "Relation must be supplier or customer" in rows[5][1]
    assert "appears earlier in the file" in rows[6][1]
    assert "Already on the network: a connection request was sent." in rows[7][1]
    assert "That is your own company's tax id." in rows[8][1]
    assert "Missing: e-mail, relation." in rows[9][1]
    assert "3 accepted, 6 refused." in text(response)
    assert invited_tax_ids() == {good_supplier, good_customer}
    by_tax_id = {p.invited_tax_id: p for p in fetch(Partnership)}
    assert by_tax_id[good_supplier].customer_id == us.id
    assert by_tax_id[good_customer].supplier_id == us.id
    requested = [p for p in fetch(Partnership) if p.invited_tax_id is None]
    assert [(p.supplier_id, p.customer_id) for p in requested] == [(us.id, other_company.id)]
    assert sorted(m["to"] for m in outbox()) == sorted(
        ["ventas@buena.example.com", "f@buena.example.com", outsider.email]
    )


def test_does_a_semicolon_csv_with_spanish_relations_work(client, us):
    """Spreadsheets in Spanish save ';'-separated files and write proveedor / cliente."""
    supplier, customer = nit_of("900111222"), nit_of("900333444")
    content = (
        f"name;tax_id;email;relation\n"
        f"Proveedora;{supplier};a@prov.example.com;Proveedor\n"
        f"Clienta;{customer};b@cli.example.com;cliente\n"
    ).encode()

    rows = report_rows(text(upload(client, content)))

    assert [status for status, _ in rows.values()] == ["row-ok", "row-ok"]
    by_tax_id = {p.invited_tax_id: p for p in fetch(Partnership)}
    assert by_tax_id[supplier].customer_id == us.id
    assert by_tax_id[customer].supplier_id == us.id


def test_does_a_csv_saved_with_a_byte_order_mark_work(client, us):
    """Excel's 'CSV UTF-8' starts with a BOM; the header is still recognised."""
    content = (
        "name,tax_id,email,relation\n"
        f"Compañía Ñandú,{nit_of('900111222')},a@n.example.com,supplier\n"
    )
    rows = report_rows(text(upload(client, content.encode("utf-8-sig"))))

    assert list(rows) == [2]
    assert rows[2][0] == "row-ok"
    assert "Compañía Ñandú" in rows[2][1]
    assert fetch(Partnership)[0].invited_name == "Compañía Ñandú"


def test_does_a_csv_saved_in_windows_encoding_keep_its_accents(client, us):
    """A cp1252 file (older Excel) keeps ñ and accents in the names."""
    content = (
        "name;tax_id;email;relation\n"
        f"Panadería Ñapa;{nit_of('900111222')};a@n.example.com;cliente\n"
    )

    response = upload(client, content.encode("cp1252"))

    assert report_rows(text(response))[2][0] == "row-ok"
    assert "Panadería Ñapa" in text(response)
    assert fetch(Partnership)[0].invited_name == "Panadería Ñapa"


def test_does_the_report_name_the_line_of_my_file_when_it_has_blank_lines(client, us):
    """Line numbers are those of the file, so a refused row can be found and fixed."""
    content = (
        "name,tax_id,email,relation\n"
        "\n"
        f"Buena,{nit_of('900111222')},a@b.example.com,supplier\n"
        "\n"
        f"Mala,{nit_of('900333444')},no-es-correo,supplier\n"
    ).encode()

    rows = report_rows(text(upload(client, content)))

    assert rows == {3: ("row-ok", rows[3][1]), 5: ("row-refused", rows[5][1])}
    assert "Mala" in rows[5][1]


def test_is_an_empty_csv_refused_with_a_message(client, us):
    for content in (b"", b"\n\n  \n"):
        response = upload(client, content)
        assert response.status_code == 422
        assert "The file is empty." in text(response)
    assert fetch(Partnership) == []


def test_is_a_csv_with_too_many_rows_refused_whole(app, client, us, monkeypatch, outbox):
    """Over the limit, nothing is invited and the message gives the limit."""
    monkeypatch.setitem(app.config, "PARTNER_CSV_MAX_ROWS", 2)
    content = "name,tax_id,email,relation\n" + "".join(
        f"Socia {i},{nit_of(f'90011122{i}')},s{i}@example.com,supplier\n" for i in range(3)
    )

    response = upload(client, content.encode())

    assert response.status_code == 422
    assert "The file has 3 rows; send at most 2 at a time." in text(response)
    assert fetch(Partnership) == []
    assert outbox() == []


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" * 50)
        archive.writestr("xl/worksheets/sheet1.xml", "<row><c>Socia</c></row>" * 200)
    return buffer.getvalue()


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a4f20000000049454e44ae426082"
)


@pytest.mark.parametrize(
    "content", [_xlsx(), PNG, bytes(range(256)) * 8], ids=["xlsx", "png", "all bytes"]
)
def test_is_a_binary_file_refused_with_a_clear_message(client, us, content):
    """An Excel workbook or an image is not a CSV: a clear message, not a server error."""
    response = upload(client, content, filename="socios.xlsx")

    assert response.status_code == 422
    assert "The file is not a text CSV file." in text(response)
    assert fetch(Partnership) == []


def test_is_an_upload_without_a_file_refused(client, us):
    response = client.post("/network/invite/csv", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert fetch(Partnership) == []


def test_does_an_htmx_upload_get_only_the_report(client, us):
    content = f"Socia,{nit_of('900111222')},a@b.example.com,supplier\n".encode()

    response = upload(client, content, **{"HX-Request": "true"})

    body = text(response)
    assert body.lstrip().startswith('<div id="csv-report">')
    assert "<html" not in body
    assert report_rows(body)[1][0] == "row-ok"  # no header: the first line is a partner


def test_can_a_viewer_upload_partners(client, company):
    viewer = make_user(company, role="viewer")
    login(client, viewer, company)

    response = upload(client, f"Socia,{nit_of('900111222')},a@b.example.com,supplier".encode())

    assert response.status_code == 403
    assert fetch(Partnership) == []


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["windows", "old mac"])
def test_does_a_csv_with_windows_or_old_mac_line_ends_work(client, us, newline):
    """However the spreadsheet ended its lines, every row is read and reported."""
    content = newline.join(
        [
            "name,tax_id,email,relation",
            f"Una,{nit_of('900111222')},a@una.example.com,supplier",
            f"Dos,{nit_of('900333444')},b@dos.example.com,customer",
        ]
    ).encode()

    response = upload(client, content)

    assert response.status_code == 200
    assert {line: status for line, (status, _) in report_rows(text(response)).items()} == {
        2: "row-ok",
        3: "row-ok",
    }
    assert len(fetch(Partnership)) == 2


def test_does_the_report_say_what_is_wrong_and_which_lines_were_not_partners(client, us):
    """An empty e-mail says so (not "four columns are needed"); header and blank lines are named."""
    content = (
        "nombre;nit;correo;relación\n"
        "\n"
        f"Sin Correo;{nit_of('900111222')};;cliente\n"
        f"Con Correo;{nit_of('900333444')};ok@con.example.com;cliente\n"
    ).encode("cp1252")

    page = text(upload(client, content))

    rows = report_rows(page)
    assert rows[3] == ("row-refused", rows[3][1]) and "The e-mail is missing." in rows[3][1]
    assert rows[4][0] == "row-ok" and "ok@con.example.com" in rows[4][1]
    skipped = re.search(r'data-testid="csv-skipped">(.*?)</p>', page, re.S).group(1)
    assert "line 1, the header row" in skipped and "line 2, a blank line" in skipped
