"""numbering ranges (resoluciones de facturación) for invoices issued in the portal

Revision ID: 0009_numbering
Revises: 0008_notifications
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0009_numbering'
down_revision = '0008_notifications'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('numbering_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('range_from', sa.Integer(), nullable=False),
    sa.Column('range_to', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.Column('resolution', sa.String(length=40), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('technical_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_numbering_ranges_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_numbering_ranges_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_numbering_ranges'))
    )
    with op.batch_alter_table('numbering_ranges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_numbering_ranges_company_id'), ['company_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('numbering_ranges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_numbering_ranges_company_id'))

    op.drop_table('numbering_ranges')
