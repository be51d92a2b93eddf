"""Network rules checked at the service level: directory, requests, invitations, CSV import."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from stdnum.co import nit

from app import permissions
from app.extensions import db
from app.models import Company, Membership, Partnership
from app.services import accounts, network
from app.services.errors import DomainError
from app.tenancy import acting_as, unscoped
from tests.conftest import PASSWORD, make_company, make_user


def english(message) -> str:
    """Return a (lazy) user-facing message as an English reader sees it."""
    with force_locale("en"):
        return str(message)


def nit_of(base: str) -> str:
    return base + nit.calc_check_digit(base)


def partnerships() -> list[Partnership]:
    stmt = select(Partnership).execution_options(populate_existing=True)
    return db.session.scalars(unscoped(stmt)).unique().all()


def found(query: str, company: Company) -> list[str]:
    with acting_as(company.id):
        stmt = network.directory(query, company_id=company.id)
        return [c.trade_name for c in db.session.scalars(stmt)]


def register(tax_id: str, name: str, email: str, country: str = "CO"):
    user = accounts.register_company(
        accounts.Registration(
            legal_name=f"{name} S.A.S.",
            trade_name=name,
            country=country,
            tax_id=tax_id,
            contact_email=email,
            user_name=f"Dueña de {name}",
            user_email=email,
            password=PASSWORD,
        )
    )
    db.session.commit()
    return user


# ---------------------------------------------------------------- directory


def test_can_a_mexican_company_be_found_by_its_rfc_typed_in_lower_case(company):
    make_company("Tacos", country="MX", tax_id="GODE561231GR8")
    assert found("gode5612", company) == ["Tacos"]


def test_can_a_company_whose_name_has_digits_be_found_by_name(company):
    """A name with digits ("Grupo 8") is found by name; other tax ids starting 8 are not."""
    make_company("Grupo 8")
    make_company("Otra", tax_id=nit_of("811111111"))
    assert found("Grupo 8", company) == ["Grupo 8"]


# ---------------------------------------------------------------- connection requests


def test_does_asking_back_after_a_decline_make_the_other_side_answer(
    company, owner, other_company, outsider
):
    """The same pair reuses its row; whoever asked last waits for the other's answer."""
    with acting_as(company.id, owner.id):
        first = network.request_connection(
            company.id, other_company_id=other_company.id, relation=network.SUPPLIER, actor=owner
        )
        db.session.commit()
    with acting_as(other_company.id, outsider.id):
        network.respond_to_request(
            other_company.id, partnership_id=first.id, accept=False, actor=outsider
        )
        again = network.request_connection(
            other_company.id, other_company_id=company.id, relation=network.CUSTOMER, actor=outsider
        )
        db.session.commit()

    assert again.id == first.id
    assert again.status == "pending"
    assert again.requested_by_id == other_company.id
    assert again.awaits_answer_from(company.id)
    assert not again.awaits_answer_from(other_company.id)


def test_can_a_third_company_answer_a_request_between_two_others(company, owner, other_company):
    third = make_company("Tercera")
    stranger = make_user(third, role="owner")
    with acting_as(company.id, owner.id):
        request = network.request_connection(
            company.id, other_company_id=other_company.id, relation=network.SUPPLIER, actor=owner
        )
        db.session.commit()

    with acting_as(third.id, stranger.id), pytest.raises(DomainError) as refused:
        network.respond_to_request(third.id, partnership_id=request.id, accept=True, actor=stranger)

    assert refused.value.status == 404
    assert partnerships()[0].status == "pending"


def test_does_a_deactivated_admin_still_get_the_request_email(
    company, owner, other_company, outsider, outbox
):
    """Only active owners and admins of the company asked are e-mailed."""
    gone = make_user(other_company, role=permissions.ADMIN)
    with acting_as(other_company.id):
        membership = db.session.scalars(
            select(Membership).where(Membership.user_id == gone.id)
        ).one()
        membership.active = False
        db.session.commit()

    with acting_as(company.id, owner.id):
        network.request_connection(
            company.id, other_company_id=other_company.id, relation=network.CUSTOMER, actor=owner
        )
        db.session.commit()

    assert [m["to"] for m in outbox()] == [outsider.email]


# ---------------------------------------------------------------- invitations and registration


def test_is_an_unknown_relation_refused(company, owner):
    with acting_as(company.id, owner.id), pytest.raises(DomainError) as refused:
        network.invite_partner(
            company.id,
            name="X",
            tax_id=nit_of("900111222"),
            email="x@example.com",
            relation="partner",
            actor=owner,
        )
    assert refused.value.field == "relation"


def test_does_registering_claim_every_invitation_for_that_tax_id(
    company, owner, other_company, outsider, outbox
):
    """Two companies invited the same tax id; registering connects it with both, and tells them."""
    invited = nit_of("900111222")
    with acting_as(company.id, owner.id):
        network.invite_partner(
            company.id,
            name="Nueva",
            tax_id=invited,
            email="a@nueva.example.com",
            relation=network.SUPPLIER,
            actor=owner,
        )
        db.session.commit()
    with acting_as(other_company.id, outsider.id):
        network.invite_partner(
            other_company.id,
            name="Nueva",
            tax_id=invited,
            email="b@nueva.example.com",
            relation=network.CUSTOMER,
            actor=outsider,
        )
        db.session.commit()

    user = register(invited, "Nueva", "duena@nueva.example.com")

    joined = user.last_company_id
    sides = {p.requested_by_id: (p.supplier_id, p.customer_id, p.status) for p in partnerships()}
    assert sides == {
        company.id: (joined, company.id, "active"),
        other_company.id: (other_company.id, joined, "active"),
    }
    subjects = {m["to"]: m["subject"] for m in outbox()}
    assert "Nueva" in subjects[owner.email]
    assert "Nueva" in subjects[outsider.email]


def test_does_an_invitation_for_another_country_stay_unclaimed(company, owner):
    """Only a company of the same country and tax id takes the invitation."""
    with acting_as(company.id, owner.id):
        network.invite_partner(
            company.id,
            name="Tacos",
            tax_id="GODE561231GR8",
            email="t@tacos.example.com",
            relation=network.SUPPLIER,
            country="MX",
            actor=owner,
        )
        db.session.commit()

    register(nit_of("900111222"), "Colombiana", "c@co.example.com")

    (partnership,) = partnerships()
    assert partnership.status == "pending"
    assert partnership.supplier_id is None


# ---------------------------------------------------------------- CSV import


def import_csv(company, actor, content: bytes, **kwargs):
    with acting_as(company.id, actor.id):
        report = network.import_partners_csv(company.id, content=content, actor=actor, **kwargs)
        db.session.commit()
    return report


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"], ids=["windows", "old mac", "unix"])
def test_are_all_line_endings_read(company, owner, newline):
    """Files saved on Windows, old Macs or Linux give the same report."""
    content = newline.join(
        [
            "name,tax_id,email,relation",
            f"Una,{nit_of('900111222')},a@una.example.com,supplier",
            f"Dos,{nit_of('900333444')},b@dos.example.com,customer",
        ]
    ).encode()

    report = import_csv(company, owner, content)

    assert [(row.line, row.accepted) for row in report.rows] == [(2, True), (3, True)]
    assert len(partnerships()) == 2


def test_is_the_first_line_a_partner_when_there_is_no_header(company, owner):
    report = import_csv(
        company, owner, f"Una,{nit_of('900111222')},a@una.example.com,proveedor\n".encode()
    )
    assert [(row.line, row.accepted) for row in report.rows] == [(1, True)]


def test_does_a_refused_row_leave_the_good_ones_in_place(company, owner):
    """A row refused mid-file undoes only itself, not the rows before it."""
    content = "\n".join(
        [
            f"Una,{nit_of('900111222')},a@una.example.com,supplier",
            f"Mala,{nit_of('900333444')},no-es-correo,supplier",
            f"Tres,{nit_of('900555666')},c@tres.example.com,customer",
        ]
    ).encode()

    report = import_csv(company, owner, content)

    assert (report.accepted, report.refused) == (2, 1)
    assert english(report.rows[1].message) == "The e-mail is not a valid address."
    assert {p.invited_name for p in partnerships()} == {"Una", "Tres"}


def test_are_quoted_names_with_commas_kept_whole(company, owner):
    content = f'"Ferretería Ñandú, S.A.S.",{nit_of("900111222")},a@n.example.com,supplier\n'
    report = import_csv(company, owner, content.encode())
    assert report.rows[0].accepted
    assert partnerships()[0].invited_name == "Ferretería Ñandú, S.A.S."


def test_is_a_file_over_the_limit_refused_before_anything_is_created(company, owner):
    content = "".join(
        f"S{i},{nit_of(f'90011122{i}')},s{i}@example.com,supplier\n" for i in range(4)
    ).encode()
    with pytest.raises(DomainError) as refused:
        import_csv(company, owner, content, max_rows=3)
    assert english(refused.value.message) == "The file has 4 rows; send at most 3 at a time."
    db.session.rollback()
    assert partnerships() == []


# ---------------------------------------------------------------- CSV rows: what each says


GOOD_NIT = "9001112221"  # nit_of("900111222")
BAD_NIT = "9001112220"  # the same number with a wrong check digit


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"Acme,{GOOD_NIT},,supplier", "The e-mail is missing."),
        (f"Acme,{GOOD_NIT}, ,cliente", "The e-mail is missing."),
        (f",{GOOD_NIT},a@acme.example.com,supplier", "The company name is missing."),
        ("Acme,,a@acme.example.com,supplier", "The tax id is missing."),
        (f"Acme,{GOOD_NIT},a@acme.example.com,", "The relation is missing: write supplier"),
        (f"Acme,{GOOD_NIT},,", "Missing: e-mail, relation."),
        (f"Acme,{GOOD_NIT},no-es-correo,supplier", "The e-mail is not a valid address."),
        (f"Acme,{GOOD_NIT},a@acme,supplier", "The e-mail is not a valid address."),
        (f"Acme,{BAD_NIT},a@acme.example.com,supplier", "check digit"),
        ("Acme,12,a@acme.example.com,supplier", "wrong number of digits"),
        (f"Acme,{GOOD_NIT},a@acme.example.com,partner", "Relation must be supplier or customer"),
        (
            f"Acme,{GOOD_NIT},supplier",
            "This row has 3 of the four columns (name, tax id, e-mail, relation): e-mail missing.",
        ),
        (
            f"Acme,{GOOD_NIT},a@acme.example.com",
            "This row has 3 of the four columns (name, tax id, e-mail, relation): relation",
        ),
        ("Acme", "This row has 1 of the four columns"),
        (
            f"Ferretería, S.A.S.,{GOOD_NIT},a@acme.example.com,supplier",
            "This row has 5 columns, 4 are expected",
        ),
        (f'"Acme,{GOOD_NIT},a@acme.example.com,supplier', "A quotation mark in this row"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_does_each_refused_row_say_what_is_actually_wrong(company, owner, line, expected):
    report = import_csv(company, owner, (line + "\n").encode())
    (row,) = report.rows
    assert not row.accepted
    assert expected in english(row.message)
    assert "Four columns are needed" not in english(row.message)
    assert partnerships() == []


def test_are_empty_trailing_cells_from_a_spreadsheet_ignored(company, owner):
    """Excel writes a row as Acme;nit;mail;cliente;; when another row had more columns."""
    report = import_csv(
        company, owner, f"Acme;{GOOD_NIT};a@acme.example.com;cliente;;\n".encode("cp1252")
    )
    assert [row.accepted for row in report.rows] == [True]


@pytest.mark.parametrize(
    "header",
    [
        "name,tax_id,email,relation",
        "\ufeffname,tax_id,email,relation",
        "Nombre,NIT,Correo,Relación",
        '"Razón social","NIT","Correo electrónico","Tipo"',
        "NAME , TAX ID , E-MAIL , RELATION",
    ],
)
def test_is_a_header_row_in_english_or_spanish_skipped_and_reported(company, owner, header):
    content = f"{header}\nAcme,{GOOD_NIT},a@acme.example.com,proveedor\n"
    report = import_csv(company, owner, content.encode("utf-8"))
    assert [(row.line, row.accepted) for row in report.rows] == [(2, True)]
    assert [(line, english(why)) for line, why in report.skipped] == [(1, "the header row")]


def test_does_a_header_in_another_order_place_each_column(company, owner):
    content = f"correo;relación;nit;nombre\na@acme.example.com;cliente;{GOOD_NIT};Acme\n"
    report = import_csv(company, owner, content.encode())
    assert report.rows[0].accepted, english(report.rows[0].message)
    (partnership,) = partnerships()
    assert (partnership.invited_name, partnership.invited_email) == ("Acme", "a@acme.example.com")


def test_are_blank_lines_skipped_and_named(company, owner):
    content = f"\nAcme,{GOOD_NIT},a@acme.example.com,supplier\n,,,\n   \n"
    report = import_csv(company, owner, content.encode())
    assert [(row.line, row.accepted) for row in report.rows] == [(2, True)]
    assert [(line, english(why)) for line, why in report.skipped] == [
        (1, "a blank line"),
        (3, "a blank line"),
        (4, "a blank line"),
    ]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (f"Ñandú;{GOOD_NIT};a@n.example.com;cliente\n", "cp1252"),  # Excel in Spanish
        (f"Ñandú;{GOOD_NIT};a@n.example.com;cliente\r\n", "utf-8-sig"),  # "CSV UTF-8"
        (f'"Ñandú; Hijos";{GOOD_NIT};a@n.example.com;cliente\n', "utf-8"),  # ; inside quotes
        (f'"Ñandú, Hijos",{GOOD_NIT},a@n.example.com,cliente\n', "utf-8"),  # , inside quotes
        (f'"Ñandú ""La Buena""",{GOOD_NIT},a@n.example.com,cliente\n', "utf-8"),  # "" inside
        (f"Ñandú\t{GOOD_NIT}\ta@n.example.com\tcliente\r\n", "utf-16"),  # "Unicode text"
    ],
    ids=["semicolon cp1252", "utf-8 bom", "quoted ;", "quoted ,", "doubled quotes", "utf-16 tab"],
)
def test_are_the_files_spreadsheets_write_read_whole(company, owner, content, encoding):
    report = import_csv(company, owner, content.encode(encoding))
    (row,) = report.rows
    assert row.accepted, english(row.message)
    assert partnerships()[0].invited_name.startswith("Ñandú")


def test_is_a_workbook_refused_saying_how_to_save_it_as_csv(company, owner):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(DomainError) as refused:
        import_csv(company, owner, buffer.getvalue())
    assert "CSV UTF-8" in english(refused.value.message)


def test_are_the_missing_columns_named_in_the_readers_language(company, owner):
    report = import_csv(company, owner, f"Acme,{GOOD_NIT},,\n".encode())
    message = report.rows[0].message
    assert english(message) == "Missing: e-mail, relation."
    with force_locale("es"):
        assert str(message) == "Falta: correo electrónico, relación."
