"""catalog search: the full-text index of catalog items (FTS5 on SQLite, a 'spanish' tsvector
GIN index over a stored generated column on PostgreSQL), with who may see each item as access
tokens in the same index (kept by triggers on catalog_items and catalog_audiences)

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
    "ALTER TABLE catalog_items ADD COLUMN search_access TEXT",
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_items_fts USING fts5(
        name, description, seller_item_id, standard_item_id, categories, search_access,
        content='catalog_items', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2", prefix='2 3')""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_insert AFTER INSERT ON catalog_items
    BEGIN
        UPDATE catalog_items SET search_access = CASE WHEN new.published THEN 'zvs' || new.company_id || ' ' || CASE new.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || new.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = new.id) ELSE '' END ELSE '' END WHERE id = new.id;
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access)
        SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_delete AFTER DELETE ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories, old.search_access);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_items_fts_update AFTER UPDATE OF name, description,
        seller_item_id, standard_item_id, categories, company_id, published, visibility
        ON catalog_items
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access)
        VALUES ('delete', old.id, old.name, old.description, old.seller_item_id,
                old.standard_item_id, old.categories, old.search_access);
        UPDATE catalog_items SET search_access = CASE WHEN new.published THEN 'zvs' || new.company_id || ' ' || CASE new.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || new.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = new.id) ELSE '' END ELSE '' END WHERE id = new.id;
        INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access)
        SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_insert AFTER INSERT
        ON catalog_audiences
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT 'delete', id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.item_id AND visibility = 'chosen' AND published; UPDATE catalog_items SET search_access = CASE WHEN catalog_items.published THEN 'zvs' || catalog_items.company_id || ' ' || CASE catalog_items.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || catalog_items.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = catalog_items.id) ELSE '' END ELSE '' END WHERE id = new.item_id AND visibility = 'chosen' AND published; INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.item_id AND visibility = 'chosen' AND published;
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_delete AFTER DELETE
        ON catalog_audiences
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT 'delete', id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = old.item_id AND visibility = 'chosen' AND published; UPDATE catalog_items SET search_access = CASE WHEN catalog_items.published THEN 'zvs' || catalog_items.company_id || ' ' || CASE catalog_items.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || catalog_items.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = catalog_items.id) ELSE '' END ELSE '' END WHERE id = old.item_id AND visibility = 'chosen' AND published; INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = old.item_id AND visibility = 'chosen' AND published;
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_audiences_fts_update AFTER UPDATE OF item_id,
        customer_company_id ON catalog_audiences
    BEGIN
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT 'delete', id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = old.item_id AND visibility = 'chosen' AND published; UPDATE catalog_items SET search_access = CASE WHEN catalog_items.published THEN 'zvs' || catalog_items.company_id || ' ' || CASE catalog_items.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || catalog_items.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = catalog_items.id) ELSE '' END ELSE '' END WHERE id = old.item_id AND visibility = 'chosen' AND published; INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = old.item_id AND visibility = 'chosen' AND published;
        INSERT INTO catalog_items_fts(catalog_items_fts, rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT 'delete', id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.item_id AND visibility = 'chosen' AND published; UPDATE catalog_items SET search_access = CASE WHEN catalog_items.published THEN 'zvs' || catalog_items.company_id || ' ' || CASE catalog_items.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || catalog_items.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = catalog_items.id) ELSE '' END ELSE '' END WHERE id = new.item_id AND visibility = 'chosen' AND published; INSERT INTO catalog_items_fts(rowid, name, description, seller_item_id, standard_item_id, categories, search_access) SELECT id, name, description, seller_item_id, standard_item_id, categories, search_access FROM catalog_items WHERE id = new.item_id AND visibility = 'chosen' AND published;
    END""",
    """UPDATE catalog_items SET search_access = CASE WHEN catalog_items.published THEN 'zvs' || catalog_items.company_id || ' ' || CASE catalog_items.visibility WHEN 'network' THEN 'zvnet' WHEN 'connected' THEN 'zvc' || catalog_items.company_id WHEN 'chosen' THEN (SELECT coalesce(group_concat('zvh' || a.customer_company_id, ' '), '') FROM catalog_audiences AS a WHERE a.item_id = catalog_items.id) ELSE '' END ELSE '' END""",
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
    """ALTER TABLE catalog_items ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS ((setweight(to_tsvector('spanish'::regconfig, catalog_fold(name)), 'A') || setweight(to_tsvector('simple'::regconfig, catalog_fold(seller_item_id || ' ' || standard_item_id)), 'A') || setweight(to_tsvector('spanish'::regconfig, catalog_fold(categories)), 'B') || setweight(to_tsvector('spanish'::regconfig, catalog_fold(description)), 'C'))) STORED""",
    """CREATE OR REPLACE FUNCTION catalog_access(integer, integer, boolean, text)
    RETURNS tsvector LANGUAGE sql STABLE AS $f$
        SELECT CASE WHEN $3 THEN array_to_tsvector(ARRAY['zvs' || $2] || CASE $4
            WHEN 'network' THEN ARRAY['zvnet']
            WHEN 'connected' THEN ARRAY['zvc' || $2]
            WHEN 'chosen' THEN ARRAY(SELECT 'zvh' || a.customer_company_id
                                     FROM catalog_audiences AS a WHERE a.item_id = $1)
            ELSE ARRAY[]::text[] END) ELSE ''::tsvector END $f$""",
    """ALTER TABLE catalog_items ADD COLUMN IF NOT EXISTS search_access tsvector NOT NULL DEFAULT ''""",
    """CREATE OR REPLACE FUNCTION catalog_items_access() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        NEW.search_access := catalog_access(NEW.id, NEW.company_id, NEW.published,
                                            NEW.visibility);
        RETURN NEW;
    END $f$""",
    """CREATE TRIGGER catalog_items_access BEFORE INSERT OR UPDATE OF company_id, published,
        visibility ON catalog_items FOR EACH ROW EXECUTE FUNCTION catalog_items_access()""",
    """CREATE OR REPLACE FUNCTION catalog_audiences_access() RETURNS trigger LANGUAGE plpgsql
    AS $f$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE catalog_items AS i SET search_access = catalog_access(i.id, i.company_id,
                                                                         i.published, i.visibility)
            WHERE i.id = OLD.item_id AND i.visibility = 'chosen' AND i.published;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE catalog_items AS i SET search_access = catalog_access(i.id, i.company_id,
                                                                         i.published, i.visibility)
            WHERE i.id = NEW.item_id AND i.visibility = 'chosen' AND i.published;
        END IF;
        RETURN NULL;
    END $f$""",
    """CREATE TRIGGER catalog_audiences_access AFTER INSERT OR DELETE
        OR UPDATE OF item_id, customer_company_id ON catalog_audiences
        FOR EACH ROW EXECUTE FUNCTION catalog_audiences_access()""",
    """UPDATE catalog_items SET search_access = catalog_access(id, company_id, published, visibility)""",
    """CREATE INDEX IF NOT EXISTS ix_catalog_items_search ON catalog_items USING gin ((search_vector || search_access))""",
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
            op.execute(f"DROP TRIGGER IF EXISTS catalog_audiences_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_items_fts")
        op.execute("ALTER TABLE catalog_items DROP COLUMN search_access")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalog_items_search")
        op.execute("DROP TRIGGER IF EXISTS catalog_audiences_access ON catalog_audiences")
        op.execute("DROP TRIGGER IF EXISTS catalog_items_access ON catalog_items")
        op.execute("DROP FUNCTION IF EXISTS catalog_audiences_access()")
        op.execute("DROP FUNCTION IF EXISTS catalog_items_access()")
        op.execute("DROP FUNCTION IF EXISTS catalog_access(integer, integer, boolean, text)")
        op.execute("ALTER TABLE catalog_items DROP COLUMN IF EXISTS search_access")
        op.execute("ALTER TABLE catalog_items DROP COLUMN IF EXISTS search_vector")
        # unaccent stays: other schemas may use it, and dropping it needs rights creating it
        # did not.
        op.execute("DROP FUNCTION IF EXISTS catalog_fold(text)")
