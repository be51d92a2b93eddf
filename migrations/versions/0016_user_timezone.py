"""users.timezone: the IANA time zone a user reads dates and times in

Revision ID: 0016_user_timezone
Revises: 0015_pdf_uploads
Create Date: 2026-12-06 22:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0016_user_timezone"
down_revision = "0015_pdf_uploads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "timezone",
                sa.String(length=64),
                nullable=False,
                server_default="America/Bogota",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
