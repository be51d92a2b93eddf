"""pdf_uploads: uploaded PDF invoices and the state of their extraction job

Revision ID: 0015_pdf_uploads
Revises: 0014_pdf_layouts
Create Date: 2026-12-01 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import app.models.base


revision = '0015_pdf_uploads'
down_revision = '0014_pdf_layouts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pdf_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                                name=op.f('fk_pdf_uploads_company_id_companies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_pdf_uploads_uploaded_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_uploads')),
        sa.UniqueConstraint('token', name=op.f('uq_pdf_uploads_token')),
    )
    with op.batch_alter_table('pdf_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_uploads_company_id'), ['company_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_pdf_uploads_digest'), ['digest'], unique=False)
        batch_op.create_index('ix_pdf_uploads_state_started_at', ['state', 'started_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pdf_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_pdf_uploads_state_started_at')
        batch_op.drop_index(batch_op.f('ix_pdf_uploads_digest'))
        batch_op.drop_index(batch_op.f('ix_pdf_uploads_company_id'))
    op.drop_table('pdf_uploads')
