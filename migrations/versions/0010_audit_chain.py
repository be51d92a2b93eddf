"""audit trail as a hash chain per company (seq, prev_hash, hash, token), chain heads, filter indexes

Revision ID: 0010_audit_chain
Revises: 0009_numbering
Create Date: 2026-11-22

Existing events are chained in id order, per company, so `audit verify` holds from the start.
The actor's user id stops being a foreign key: SET NULL would rewrite a hashed field.
seq, prev_hash and hash stay nullable: an event is flushed before its transaction commits,
and chained just before it does.
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0010_audit_chain'
down_revision = '0009_numbering'
branch_labels = None
depends_on = None

OLD_INDEXES = ('action', 'actor_user_id', 'company_id', 'created_at')


def upgrade() -> None:
    op.create_table('audit_chain_heads',
    sa.Column('chain_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_audit_chain_heads_company_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chain_key', name=op.f('pk_audit_chain_heads')),
    sa.UniqueConstraint('company_id', name=op.f('uq_audit_chain_heads_company_id'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.drop_constraint('fk_audit_events_actor_user_id_users', type_='foreignkey')
        for column in OLD_INDEXES:
            batch_op.drop_index(f'ix_audit_events_{column}')

    _chain_existing_events()

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_company_id_seq'), ['company_id', 'seq'])
        batch_op.create_index('ix_audit_events_company_action', ['company_id', 'action'], unique=False)
        batch_op.create_index('ix_audit_events_company_actor', ['company_id', 'actor_user_id'], unique=False)
        batch_op.create_index('ix_audit_events_company_created', ['company_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_events_target', ['target_type', 'target_id'], unique=False)


def _chain_existing_events() -> None:
    from app.models.audit import GENESIS_HASH, AuditEvent, chain_key

    bind = op.get_bind()
    events = sa.table(
        'audit_events',
        *(sa.column(c.name, c.type) for c in AuditEvent.__table__.columns),
    )
    heads = sa.table(
        'audit_chain_heads',
        sa.column('chain_key', sa.Integer()), sa.column('company_id', sa.Integer()),
        sa.column('last_seq', sa.Integer()), sa.column('last_hash', sa.String()),
    )
    names = [c.name for c in AuditEvent.__table__.columns if c.name not in ('seq', 'prev_hash', 'hash')]
    last: dict[int, tuple[int | None, int, str]] = {}
    for row in bind.execute(sa.select(*(events.c[n] for n in names)).order_by(events.c.id)).mappings():
        key = chain_key(row['company_id'])
        _company, seq, prev = last.get(key, (row['company_id'], 0, GENESIS_HASH))
        event = AuditEvent(**{n: row[n] for n in names if n != 'id'}, seq=seq + 1, prev_hash=prev)
        digest = event.compute_hash()
        bind.execute(
            events.update().where(events.c.id == row['id'])
            .values(seq=seq + 1, prev_hash=prev, hash=digest)
        )
        last[key] = (row['company_id'], seq + 1, digest)
    if last:
        bind.execute(heads.insert(), [
            {'chain_key': key, 'company_id': company, 'last_seq': seq, 'last_hash': digest}
            for key, (company, seq, digest) in last.items()
        ])


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_target')
        batch_op.drop_index('ix_audit_events_company_created')
        batch_op.drop_index('ix_audit_events_company_actor')
        batch_op.drop_index('ix_audit_events_company_action')
        batch_op.drop_constraint(batch_op.f('uq_audit_events_company_id_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
        batch_op.drop_column('actor_token_id')
        for column in OLD_INDEXES:
            batch_op.create_index(f'ix_audit_events_{column}', [column], unique=False)
        batch_op.create_foreign_key('fk_audit_events_actor_user_id_users', 'users', ['actor_user_id'], ['id'], ondelete='SET NULL')

    op.drop_table('audit_chain_heads')
