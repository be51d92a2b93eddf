"""tray versions (a per-company counter kept by triggers, for the Inbox page cache)

Revision ID: 0012_tray_versions
Revises: 0011_disputes
Create Date: 2026-11-22 21:27:24.233274

The triggers' SQL lives in app/models/tray_version.py (create_all needs it too); a later change
to them comes with its own migration calling create_triggers again.
"""

from alembic import op
import sqlalchemy as sa

from app.models.tray_version import create_triggers, drop_triggers


revision = '0012_tray_versions'
down_revision = '0011_disputes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tray_versions',
    sa.Column('company_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('company_id', name=op.f('pk_tray_versions'))
    )
    create_triggers(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_table('tray_versions')
