"""Do the migrations build exactly the schema the models describe?"""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from app.cli import alembic_config, upgrade_database
from app.db import migration_compare_type, migration_include_name
from app.models import Base


def test_is_there_a_single_migration_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.fixture
def empty_database(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"migr_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_do_models_and_migrations_agree(empty_database):
    upgrade_database(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": migration_compare_type,
                                                         "include_name": migration_include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations: {diff}"


def test_does_the_migrated_catalog_search_match_the_models(empty_database):
    """The search DDL is not in the metadata: the migration must write what create_all does."""
    from app.models.catalog import FTS_TABLE

    upgrade_database(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = set(conn.scalars(text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'catalog_items_fts%'")))
            assert {FTS_TABLE, "catalog_items_fts_insert", "catalog_items_fts_delete",
                    "catalog_items_fts_update"} <= found
        else:
            index = conn.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_catalog_items_search'"))
            assert index is not None and "search_vector" in index
            column = conn.scalar(text(
                "SELECT generation_expression FROM information_schema.columns "
                "WHERE table_name = 'catalog_items' AND column_name = 'search_vector'"))
            assert column is not None and "catalog_fold(description)" in column
    engine.dispose()


def test_can_every_migration_be_undone(empty_database):
    from alembic import command

    upgrade_database(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        tables = set(engine.dialect.get_table_names(conn))
    engine.dispose()
    assert tables <= {"alembic_version"}


def _migration(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / f"migrations/versions/{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_do_migrations_0023_and_0025_write_the_models_search_ddl():
    """create_all (the tests) and the migrations (every real database) build the same search:
    0023's statements, on PostgreSQL its index replaced by 0026's keys and index."""
    from app.models import catalog

    first, keys = _migration("0023_catalog_search"), _migration("0026_catalog_search_keys")

    def words(statements):
        return [" ".join(s.split()) for s in statements]

    assert words(first.SQLITE) == words(catalog.SQLITE_SEARCH_DDL)
    assert words(first.POSTGRESQL[-1:]) == words([keys.PREVIOUS_INDEX])
    assert words(first.POSTGRESQL[:-1] + keys.POSTGRESQL) == words(
        catalog.POSTGRESQL_SEARCH_DDL)
