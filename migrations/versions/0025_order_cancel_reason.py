"""the buyer's reason for cancelling an order

Revision ID: 0025_order_cancel_reason
Revises: 0024_orders
Create Date: 2026-12-08 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0025_order_cancel_reason'
down_revision = '0024_orders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
