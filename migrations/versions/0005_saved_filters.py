"""saved filters

Revision ID: 0005_saved_filters
Revises: 0004_api_tokens
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0005_saved_filters'
down_revision = '0004_api_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('tray', sa.String(length=10), nullable=False),
    sa.Column('query', sa.String(length=2000), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_saved_filters_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_filters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters'))
    )
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_filters_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_saved_filters_user_tray', ['user_id', 'company_id', 'tray'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_filters_user_tray')
        batch_op.drop_index(batch_op.f('ix_saved_filters_company_id'))

    op.drop_table('saved_filters')
