"""catalog search: the full-text index of catalog items (FTS5 on SQLite, a 'spanish' tsvector
GIN index over a stored
generated column on PostgreSQL)

Revision ID: 0023_catalog_search
Revises: 0022_catalogs
Create Date: 2026-12-07 11:10:00

The statements are ``app.models.catalog``'s search DDL as of this revision, written out here so
the migration stays what it was when the models change.
"""

from alembic import op

revision = '0023_catalog_search'
down_revision = '0022_catalogs'
branch_labels = None
depends_on = None

SQLITE = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_items_fts USING fts5(
        name, description, seller_item_id, standard_item_id, categories,
        content='catalog_items', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2", prefix='2 3')""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_insert AFTER INSERT ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id,
                                      standard_item_id, categories)
        VALUES (new.id, new.name, new.description, new.seller_item_id, new.standard_item_id,
                new.categories);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_delete AFTER DELETE ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description,
                                      seller_item_id, standard_item_id, categories)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_update AFTER UPDATE OF name, description,
        seller_item_id, standard_item_id, categories ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description,
                                      seller_item_id, standard_item_id, categories)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories);
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id,
                                      standard_item_id, categories)
        VALUES (new.id, new.name, new.description, new.seller_item_id, new.standard_item_id,
                new.categories);
    END""",
    "INSERT INTO catalog_items_fts(catalog_items_fts) VALUES ('rebuild')",
)

POSTGRESQL = (
    """DO $do$
    BEGIN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
            EXECUTE $f$CREATE OR REPLACE FUNCTION catalog_fold(text) RETURNS text
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $b$ SELECT regexp_replace(
                    lower(public.unaccent('public.unaccent'::regdictionary, $1)),
                    '[^[:alnum:]]+', ' ', 'g') $b$$f$;
        ELSE
            EXECUTE $f$CREATE OR REPLACE FUNCTION catalog_fold(text) RETURNS text
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $b$ SELECT regexp_replace(translate(lower($1), 'áàâäãåéèêëíìîïóòôöõúùûüñçý',
                                                                   'aaaaaaeeeeiiiiooooouuuuncy'),
                                           '[^[:alnum:]]+', ' ', 'g') $b$$f$;
        END IF;
    END
    $do$""",
    "ALTER TABLE catalog_items ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS ((setweight(to_tsvector('spanish'::regconfig, catalog_fold(name)), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, catalog_fold(seller_item_id || ' ' || "
    "standard_item_id)), 'A') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(categories)), 'B') || "
    "setweight(to_tsvector('spanish'::regconfig, catalog_fold(description)), 'C'))) STORED",
    "CREATE INDEX IF NOT EXISTS ix_catalog_items_search ON catalog_items USING gin "
    "(search_vector)",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS catalog_items_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_items_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalog_items_search")
        op.execute("ALTER TABLE catalog_items DROP COLUMN IF EXISTS search_vector")
        # unaccent stays: other schemas may use it, and dropping it needs rights creating it
        # did not.
        op.execute("DROP FUNCTION IF EXISTS catalog_fold(text)")
