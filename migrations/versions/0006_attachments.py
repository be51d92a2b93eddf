"""document attachments

Revision ID: 0006_attachments
Revises: 0005_saved_filters
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0006_attachments'
down_revision = '0005_saved_filters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('sender_company_id', sa.Integer(), nullable=False),
    sa.Column('receiver_company_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_document_attachments_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_attachments_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiver_company_id'], ['companies.id'], name=op.f('fk_document_attachments_receiver_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_company_id'], ['companies.id'], name=op.f('fk_document_attachments_sender_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['users.id'], name=op.f('fk_document_attachments_uploaded_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_attachments'))
    )
    with op.batch_alter_table('document_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_attachments_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_attachments_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_attachments_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_attachments_company_id'))

    op.drop_table('document_attachments')
