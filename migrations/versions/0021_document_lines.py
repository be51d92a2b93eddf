"""document lines: each document's lines in a table, and the order it names

Schema only: the lines of documents stored before this revision are filled by
``flask --app wsgi documents backfill-lines`` (it reads the XML; a migration does not).

Revision ID: 0021_document_lines
Revises: 0020_open_items_index
Create Date: 2026-12-08 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_document_lines"
down_revision = "0020_open_items_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sender_company_id", sa.Integer(), nullable=False),
        sa.Column("receiver_company_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=60), nullable=False),
        sa.Column("seller_item_id", sa.String(length=100), nullable=False),
        sa.Column("buyer_item_id", sa.String(length=100), nullable=False),
        sa.Column("standard_item_id", sa.String(length=100), nullable=False),
        sa.Column("standard_item_scheme", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("unit_code", sa.String(length=10), nullable=False),
        sa.Column("price", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("base_quantity", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("line_extension", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("tax_percent", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("tax_category", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_lines_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_company_id"],
            ["companies.id"],
            name=op.f("fk_document_lines_sender_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receiver_company_id"],
            ["companies.id"],
            name=op.f("fk_document_lines_receiver_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_lines")),
        sa.UniqueConstraint(
            "document_id", "position", name=op.f("uq_document_lines_document_id_position")
        ),
    )
    op.create_index(
        "ix_document_lines_sender_item", "document_lines", ["sender_company_id", "seller_item_id"]
    )
    op.create_index(
        "ix_document_lines_receiver_document",
        "document_lines",
        ["receiver_company_id", "document_id"],
    )
    # Plain ALTER TABLE on both databases (SQLite ≥ 3.35): no table copy, triggers kept.
    op.add_column("documents", sa.Column("order_reference", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_documents_receiver_order", "documents", ["receiver_company_id", "order_reference"]
    )
    op.create_index(
        "ix_documents_sender_order", "documents", ["sender_company_id", "order_reference"]
    )


def downgrade() -> None:
    op.drop_index("ix_documents_sender_order", table_name="documents")
    op.drop_index("ix_documents_receiver_order", table_name="documents")
    op.drop_column("documents", "order_reference")
    op.drop_index("ix_document_lines_receiver_document", table_name="document_lines")
    op.drop_index("ix_document_lines_sender_item", table_name="document_lines")
    op.drop_table("document_lines")
