"""catalog search keys: on PostgreSQL the search's GIN index holds each access token joined to
each word of the item (catalog_search_keys), not the words and the access tokens side by side,
so a buyer's search reads only the entries of the items it may see; on both, an index of the
items by name (a search without words lists them by name)

Revision ID: 0026_catalog_search_keys
Revises: 0025_order_cancel_reason
Create Date: 2026-12-07 14:50:00

The statements are ``app.models.catalog``'s search DDL as of this revision (its last two),
written out here so the migration stays what it was when the models change.
"""

from alembic import op

revision = '0026_catalog_search_keys'
down_revision = '0025_order_cancel_reason'
branch_labels = None
depends_on = None

POSTGRESQL = (
    """CREATE OR REPLACE FUNCTION catalog_search_keys(tsvector, tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
    DECLARE
        words text[] := tsvector_to_array($1);
        token text;
        keys text[] := '{}';
    BEGIN
        FOREACH token IN ARRAY tsvector_to_array($2) LOOP
            keys := keys || ARRAY(SELECT token || '_' || w
                                  FROM unnest(words) AS w);
        END LOOP;
        RETURN array_to_tsvector(keys);
    END $f$""",
    """CREATE INDEX IF NOT EXISTS ix_catalog_items_search ON catalog_items USING gin (catalog_search_keys(search_vector, search_access))""",
)
# 0023's index: the words and the access tokens side by side.
PREVIOUS_INDEX = """CREATE INDEX IF NOT EXISTS ix_catalog_items_search ON catalog_items USING gin ((search_vector || search_access))"""


def upgrade() -> None:
    op.create_index("ix_catalog_items_name", "catalog_items", ["name", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalog_items_search")
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalog_items_search")
        op.execute("DROP FUNCTION IF EXISTS catalog_search_keys(tsvector, tsvector)")
        op.execute(PREVIOUS_INDEX)
    op.drop_index("ix_catalog_items_name", table_name="catalog_items")
