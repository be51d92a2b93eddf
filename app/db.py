"""The database engine and the scoped ORM session the whole app shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker


class PortalSession(Session):
    """The session class; app.tenancy hooks its queries."""


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended durability: a commit survives the app crashing; only a power loss may
    # lose the last commits. It saves an fsync per commit (every document view records one).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Reads through the memory map (up to 1 GiB of the file, shared with the OS's page cache)
    # and a 64 MiB page cache per connection, not the default 2 MB: a catalog search ranks
    # thousands of matches, reading the full-text index and its row sizes all over the file.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # SQLite's own lower() folds only ASCII: "ÑANDÚ" would never match "ñandú".
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def make_engine(url: str) -> Engine:
    """Create an engine for the URL with the settings this app needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Holds the engine and a thread-scoped session, bound to an app by init_app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        # Objects stay readable after commit: routes render what they just saved.
        self.session = scoped_session(sessionmaker(class_=PortalSession, expire_on_commit=False))

    def init_app(self, app: Any) -> None:
        self.session.remove()
        if self.engine is not None:
            self.engine.dispose()
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.configure(bind=self.engine)
        app.extensions["database"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    @contextmanager
    def own_session(self) -> Iterator[None]:
        """Run the block with a session of its own, the caller's put back after it.

        A job run at once (tests run jobs eagerly, inside the commit that asked for them)
        must not touch the caller's session, which is still finishing its commit.
        """
        registry = self.session.registry
        outer = registry() if registry.has() else None
        registry.clear()
        try:
            yield
        finally:
            self.session.remove()
            if outer is not None:
                registry.set(outer)


def begin_nested(session: Session) -> Any:
    """Open a savepoint inside the session's transaction (use this, not session.begin_nested).

    pysqlite starts no transaction before the first write: a SAVEPOINT issued before one becomes
    the transaction itself, and releasing it commits everything so far. Begin first.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN")
    return session.begin_nested()


_PENDING = "after_commit_callbacks"


def after_commit(session: Session, callback: Any) -> None:
    """Run callback once the session's current transaction has committed (never on rollback)."""
    session.info.setdefault(_PENDING, []).append(callback)


def pending_callbacks(session: Session) -> int:
    """Return how many after-commit callbacks are queued (a mark for forget_callbacks_after)."""
    return len(session.info.get(_PENDING, []))


def forget_callbacks_after(session: Session, mark: int) -> None:
    """Drop the callbacks queued since mark (their savepoint was rolled back)."""
    del session.info.get(_PENDING, [])[mark:]


@event.listens_for(PortalSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    # SQLAlchemy sends after_commit for a released savepoint too: only the real commit counts.
    if session.in_nested_transaction():
        return
    callbacks = session.info.pop(_PENDING, [])
    for callback in callbacks:
        callback()


@event.listens_for(PortalSession, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_PENDING, None)


_SHARED = "shared_lookups"
T = TypeVar("T")


@contextmanager
def shared_lookups(session: Session) -> Iterator[None]:
    """Within the block, let ``lookup_once`` read each look-up once (a batch of documents)."""
    session.info[_SHARED] = {}
    try:
        yield
    finally:
        session.info.pop(_SHARED, None)


def lookup_once(session: Session, key: tuple[Any, ...], load: Callable[[], T]) -> T:
    """Return load(), read once per key inside ``shared_lookups`` and every time outside it.

    Only for look-ups the block itself does not change (a receiver's webhook endpoints, its
    members): the rows are kept for the block, not re-read.
    """
    memo = session.info.get(_SHARED)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]  # type: ignore[no-any-return]


def migration_compare_type(
    context, inspected_column, metadata_column, inspected_type, metadata_type
):  # type: ignore[no-untyped-def]
    """Alembic's type comparison, except VARCHAR lengths on SQLite, which SQLite ignores.

    Widening a column there would rebuild the table (and drop its triggers) for nothing.
    """
    from sqlalchemy import String

    if (
        context.dialect.name == "sqlite"
        and isinstance(inspected_type, String)
        and isinstance(metadata_type, String)
        and type(inspected_type.as_generic()) is type(metadata_type.as_generic())
    ):
        return False
    return None


def migration_include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """What Alembic compares: not the tables the catalog search DDL makes outside the models
    (the FTS5 table and its shadow tables on SQLite, the tsvector columns and their index on
    PostgreSQL, the access tokens' column on both), which autogenerate would otherwise drop."""
    from app.models.catalog import SEARCH_COLUMNS, SEARCH_INDEX, SEARCH_TABLES

    return not ((type_ == "table" and name in SEARCH_TABLES)
                or (type_ == "index" and name == SEARCH_INDEX)
                or (type_ == "column" and name in SEARCH_COLUMNS
                    and parent_names.get("table_name") == "catalog_items"))
