"""A number per company that every change to what its trays show raises, kept by the database.

The Inbox's trays put this number in their ETags (``app.web.conditional``): a page rendered after
reading version V holds at least every change V counts, so answering a browser that holds it
"304 Not Modified" while the number is still V is exact. Triggers (SQLite and PostgreSQL) raise
it in the same transaction as the change, for every writer — the ORM, bulk ``UPDATE``\\s, the
demo loader, a hand-written SQL fix — so no code path can forget to.

What a tray page shows, and the trigger that covers it:
  documents (rows, statuses, payments, disputes, waiting)   → both companies of the document
  partnerships (the counterparty filter's list)             → both companies
  companies' names (that list)                              → the company and its partners
  saved filters (the user's links above the tray)           → the filter's company
The counter row is locked from the changing statement until commit (PostgreSQL), which serialises
writers of one company's documents for that time, as the audit chain head already does.

A migration that makes SQLite copy one of these tables (dropping a column, batch mode) calls
drop_triggers before and create_triggers after: SQLite refuses to rename a table while a
trigger names a table that is gone for the moment, and the copy has no triggers.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, event, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class TrayVersion(Base):
    """How many times what a company's trays show has changed (no row: never, 0)."""

    __tablename__ = "tray_versions"

    company_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def _bump(ids: str) -> str:
    """SQL raising the version of each registered company whose id is in ids (SQL)."""
    # ids is one of this module's constant SQL lists, never input.
    return (
        "INSERT INTO tray_versions (company_id, version) "  # noqa: S608
        f"SELECT id, 1 FROM companies WHERE id IN ({ids}) ORDER BY id "
        "ON CONFLICT (company_id) DO UPDATE SET version = tray_versions.version + 1"
    )


_PARTNERS = (
    "SELECT {row}.id UNION SELECT supplier_id FROM partnerships WHERE customer_id = {row}.id "
    "UNION SELECT customer_id FROM partnerships WHERE supplier_id = {row}.id"
)
# (table, event, SQL list of the companies a changed row touches, with {row} for NEW/OLD)
_ROW_TRIGGERS = (
    ("partnerships", "INSERT", "NEW.supplier_id, NEW.customer_id"),
    ("partnerships", "UPDATE",
     "NEW.supplier_id, NEW.customer_id, OLD.supplier_id, OLD.customer_id"),
    ("partnerships", "DELETE", "OLD.supplier_id, OLD.customer_id"),
    ("companies", "UPDATE OF legal_name, trade_name", _PARTNERS.format(row="NEW")),
    ("saved_filters", "INSERT", "NEW.company_id"),
    ("saved_filters", "UPDATE", "NEW.company_id, OLD.company_id"),
    ("saved_filters", "DELETE", "OLD.company_id"),
)
_DOCUMENT_ROWS = (
    ("INSERT", "NEW.sender_company_id, NEW.receiver_company_id"),
    ("UPDATE", "NEW.sender_company_id, NEW.receiver_company_id, "
               "OLD.sender_company_id, OLD.receiver_company_id"),
    ("DELETE", "OLD.sender_company_id, OLD.receiver_company_id"),
)


def _name(table: str, when: str) -> str:
    return f"tray_version_{table}_{when.split()[0].lower()}"


def _sqlite_statements() -> list[str]:
    rows = list(_ROW_TRIGGERS) + [("documents", when, ids) for when, ids in _DOCUMENT_ROWS]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {_name(table, when)} AFTER {when} ON {table} "
        f"FOR EACH ROW BEGIN {_bump(ids)}; END"
        for table, when, ids in rows
    ]


def _postgres_statements() -> list[str]:
    statements = []
    for table, when, ids in _ROW_TRIGGERS:
        name = _name(table, when)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_bump(ids)}; RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {when} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    # Documents change by the thousand in one statement (bulk loads, bulk events): once per
    # statement, over its transition tables, in company order.
    sides = "SELECT sender_company_id FROM {t} UNION SELECT receiver_company_id FROM {t}"
    for when, tables in (
        ("INSERT", {"NEW": "new_rows"}),
        ("UPDATE", {"OLD": "old_rows", "NEW": "new_rows"}),
        ("DELETE", {"OLD": "old_rows"}),
    ):
        name = _name("documents", when)
        ids = " UNION ".join(sides.format(t=t) for t in tables.values())
        referencing = " ".join(f"{kind} TABLE AS {t}" for kind, t in tables.items())
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_bump(ids)}; RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS {name} ON documents",
            f"CREATE TRIGGER {name} AFTER {when} ON documents REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def create_triggers(connection: Connection) -> None:
    """Create (or replace) the triggers that keep tray_versions (migrations and create_all)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        statements = _sqlite_statements()
    elif dialect == "postgresql":
        statements = _postgres_statements()
    else:  # pragma: no cover - the portal runs on SQLite or PostgreSQL
        raise RuntimeError(f"tray version triggers: no SQL for {dialect}")
    for statement in statements:
        connection.execute(text(statement))


def drop_triggers(connection: Connection) -> None:
    """Drop the triggers and their functions (the migration's downgrade)."""
    names = [(table, _name(table, when)) for table, when, _ids in _ROW_TRIGGERS] + [
        ("documents", _name("documents", when)) for when, _ids in _DOCUMENT_ROWS
    ]
    for table, name in names:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}" + (
            f" ON {table}" if connection.dialect.name == "postgresql" else ""
        )))
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))


@event.listens_for(Base.metadata, "after_create")
def _after_create(_metadata: object, connection: Connection, **_kw: object) -> None:
    create_triggers(connection)
