"""pdf_layouts: per supplier, where a company's reviewed PDF invoices keep their fields

Revision ID: 0014_pdf_layouts
Revises: 0013_profiles
Create Date: 2026-11-24 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import app.models.base


revision = '0014_pdf_layouts'
down_revision = '0013_profiles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pdf_layouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_key', sa.String(length=80), nullable=False),
        sa.Column('hints', sa.JSON(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                                name=op.f('fk_pdf_layouts_company_id_companies'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_layouts')),
        sa.UniqueConstraint('company_id', 'supplier_key',
                            name=op.f('uq_pdf_layouts_company_id_supplier_key')),
    )
    with op.batch_alter_table('pdf_layouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_layouts_company_id'), ['company_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pdf_layouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_layouts_company_id'))
    op.drop_table('pdf_layouts')
