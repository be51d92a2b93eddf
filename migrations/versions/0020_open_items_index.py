"""open items indexes: a matching run reads each side's open invoices from an index alone

Revision ID: 0020_open_items_index
Revises: 0019_reconciliation
Create Date: 2026-12-07 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_open_items_index"
down_revision = "0019_reconciliation"
branch_labels = None
depends_on = None

_OPEN = sa.text("open_balance > held_amount")


def _columns(side: str, partner: str) -> list[str]:
    return [f"{side}_company_id", "document_type", "currency", f"{partner}_tax_id", "due_date",
            "issue_date", "number", "open_balance", "held_amount", f"{partner}_name"]


def upgrade() -> None:
    for side, partner in (("sender", "customer"), ("receiver", "supplier")):
        op.create_index(f"ix_documents_{side}_open_items", "documents", _columns(side, partner),
                        sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    for side in ("sender", "receiver"):
        op.drop_index(f"ix_documents_{side}_open_items", table_name="documents")
