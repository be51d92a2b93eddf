"""Fixtures: an app on SQLite (or DATABASE_URL), a client, companies, users and a login helper.

Each test builds the data it needs; every table is emptied after each test.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from stdnum.co import nit

from app import create_app, security
from app.config import shared_data_dir
from app.extensions import db, limiter
from app.models import ApiToken, Base, Company, Membership, User, utcnow
from app.models.api import SCOPES

PASSWORD = "Correct-Horse-Battery-9"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
#: ../shared/data, or where SHARED_DATA_DIR says (CI points it nowhere to run as a user's clone).
SHARED_DATA = shared_data_dir()

_counter = itertools.count(1)
_password_hash = None


def unique_nit() -> str:
    """Return a valid Colombian NIT (with check digit) no other test uses."""
    base = f"8{next(_counter) + os.getpid() % 1000 * 1000:08d}"
    return base + nit.calc_check_digit(base)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    if REQUIRE_SERVICES:
        pytest.exit("REQUIRE_SERVICES=1 but DATABASE_URL is not set", returncode=3)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class IsolatedClient(FlaskClient):
    """A test client whose requests run in a context of their own, as real requests do.

    The tests keep an app context pushed; without this, every request would share its ``g``
    (and Flask-Login's cached user) instead of getting a fresh one.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def isolated(func, *args, **kwargs):
    """Run func outside the test's app context (as a socket handler or a job would run)."""
    return contextvars.Context().run(func, *args, **kwargs)


def _compile_catalogs() -> None:
    """Compile the translation catalogs when a .po is newer than its .mo (make setup does too)."""
    from app.cli import compile_translations

    root = Path(__file__).resolve().parents[1] / "app" / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            compile_translations()
            return


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The application, on a fresh schema."""
    _compile_catalogs()
    instance = tmp_path_factory.mktemp("instance")
    os.environ["INSTANCE_PATH"] = str(instance)
    application = create_app(
        "test",
        DATABASE_URL=_database_url(tmp_path_factory),
        MAIL_DIR=instance / "mail",
        SERVER_NAME="portal.test",
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
    yield application
    with application.app_context():
        Base.metadata.drop_all(db.engine)
        db.engine.dispose()


_RESTART_SEQUENCES = (
    "SELECT setval(s.oid, 1, false) FROM pg_class s "
    "JOIN pg_namespace n ON n.oid = s.relnamespace "
    "WHERE s.relkind = 'S' AND n.nspname = current_schema()"
)


@pytest.fixture(autouse=True)
def _clean(app):
    """Give each test empty tables, an empty outbox and fresh rate limits."""
    ctx = app.app_context()
    ctx.push()
    limiter.reset()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        # DELETE, children first: a test leaves a few rows in a few tables, and deleting
        # nothing costs nothing, while TRUNCATE makes new files for every table and index.
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":  # ids start at 1 again, as on a fresh database
            conn.execute(text(_RESTART_SEQUENCES))
    for path in Path(app.config["MAIL_DIR"]).glob("*.eml"):
        path.unlink()
    ctx.pop()


class HeldJobs(list):
    """The tasks the relay would have enqueued after commit, held instead of run."""

    def run(self) -> None:
        """Run the held tasks now, as a worker would, and forget them."""
        held, self[:] = list(self), []
        for task, args in held:
            task(*args)


@pytest.fixture
def held_jobs(monkeypatch):
    """Hold the background tasks committed rows ask for (tests that drive the sweeps by hand:
    without it, tests run each task eagerly right after the commit, as a worker soon would)."""
    from app.jobs import relay

    held = HeldJobs()
    monkeypatch.setattr(relay, "enqueue", lambda task, *args: held.append((task, args)))
    return held


@pytest.fixture
def no_official_rules(app, monkeypatch):
    """Run the engine's own checks only: the official rule sets are tested in tests/einvoice."""
    monkeypatch.setitem(app.config, "EINVOICE_RULES_DIR", "")
    monkeypatch.delenv("EINVOICE_RULES_DIR", raising=False)


@pytest.fixture
def client(app):
    return app.test_client()


def _hash() -> str:
    global _password_hash
    if _password_hash is None:
        _password_hash = security.hash_password(PASSWORD)
    return _password_hash


def make_company(name: str = "Compañía", *, country: str = "CO", tax_id: str | None = None,
                 locale: str = "es") -> Company:
    """Create a registered company."""
    company = Company(legal_name=f"{name} {next(_counter)} S.A.S.", trade_name=name,
                      country=country, tax_id=tax_id or unique_nit(),
                      contact_email="contacto@example.test", locale=locale)
    db.session.add(company)
    db.session.commit()
    return company


def give_fiscal_profile(company: Company, **fields) -> Company:
    """Give a company the fiscal data issuing writes for it (Bogotá, O-13, IVA by default)."""
    values = {
        "person_type": "1",
        "tax_responsibilities": "O-13;O-15",
        "tax_scheme": "01",
        "address_line": "Calle 26 # 68-35",
        "municipality_code": "11001",
        "municipality_name": "Bogotá, D.C.",
        "postal_code": "111321",
        **fields,
    }
    for name, value in values.items():
        setattr(company, name, value)
    db.session.commit()
    return company


def make_user(company: Company | None = None, *, role: str = "owner", email: str | None = None,
              name: str = "Usuario", confirmed: bool = True, locale: str | None = None,
              identity: bool = True) -> User:
    """Create a user with PASSWORD, member of company with role.

    identity: a cédula on file (DIAN's 030 and 032 name the person who records them).
    """
    number = next(_counter)
    user = User(name=name, email=email or f"user{number}@example.test",
                password_hash=_hash(), email_confirmed_at=utcnow() if confirmed else None,
                locale=locale, last_company_id=company.id if company else None,
                id_document_type="13" if identity else None,
                id_document_number=f"{1_020_000_000 + number}" if identity else None)
    db.session.add(user)
    db.session.flush()
    if company is not None:
        db.session.add(Membership(company_id=company.id, user_id=user.id, role=role))
    db.session.commit()
    return user


def make_api_token(company: Company, *, scopes: tuple[str, ...] = SCOPES, name: str = "ERP",
                   revoked: bool = False) -> tuple[ApiToken, str]:
    """Create an API token of company; return it and its plaintext."""
    plaintext, token_hash = security.new_secret_token()
    token = ApiToken(company_id=company.id, name=name, prefix=plaintext[:8],
                     token_hash=token_hash, scopes=list(scopes),
                     revoked_at=utcnow() if revoked else None)
    db.session.add(token)
    db.session.commit()
    return token, plaintext


def bearer(plaintext: str) -> dict[str, str]:
    """Return the Authorization header for an API token."""
    return {"Authorization": f"Bearer {plaintext}"}


def add_member(user: User, company: Company, role: str) -> Membership:
    """Make an existing user a member of another company."""
    membership = Membership(company_id=company.id, user_id=user.id, role=role)
    db.session.add(membership)
    db.session.commit()
    return membership


@pytest.fixture
def company():
    return make_company("Andina")


@pytest.fixture
def other_company():
    return make_company("Otra")


@pytest.fixture
def owner(company):
    return make_user(company, role="owner", name="Olga Dueña")


@pytest.fixture
def outsider(other_company):
    """The owner of another company."""
    return make_user(other_company, role="owner", name="Xavier Ajeno")


def login(client, user: User, company: Company | None = None) -> None:
    """Sign a test client in as user (acting for company, if given), without the form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        if company is not None:
            session["company_id"] = company.id


@pytest.fixture
def outbox(app):
    """Return the e-mails written so far, oldest first, as dicts."""

    def read() -> list[dict]:
        folder = Path(app.config["MAIL_DIR"])
        messages = []
        for path in sorted(folder.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            messages.append({"to": message["To"], "subject": message["Subject"],
                             "body": message.get_body(preferencelist=("plain",)).get_content()})
        return messages

    return read


def link_in(body: str, marker: str) -> str:
    """Return the path of the first link in an e-mail body that contains marker."""
    for word in body.split():
        if marker in word and word.startswith("http"):
            return word.split("portal.test", 1)[-1]
    raise AssertionError(f"no link with {marker!r} in:\n{body}")


def shared_data() -> Path:
    """Return ../shared/data, or skip (fail under REQUIRE_SHARED_DATA=1) when it is absent."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if os.environ.get("REQUIRE_SHARED_DATA") == "1":
        pytest.fail(f"REQUIRE_SHARED_DATA=1 but {SHARED_DATA} is missing")
    pytest.skip(f"{SHARED_DATA} is not here")
from tests.payments_helpers import fake_gateway  # noqa: E402,F401  (a fixture for the payments tests)
