"""outbox and worker jobs

Webhook endpoints, outgoing messages written in the transaction that causes them with each delivery attempt, and
the worker's scheduled jobs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('worker_jobs',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('schedule', sa.String(length=120), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('running_until', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('last_started_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('last_finished_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('last_status', sa.String(length=20), nullable=True),
    sa.Column('last_note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_jobs'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('endpoint_id', sa.String(length=40), nullable=True),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('leased_until', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_outbox_messages_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_messages_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_endpoint', ['endpoint_id'], unique=False)

    op.create_table('outbox_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_outbox_attempts_message_id_outbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attempts'))
    )
    with op.batch_alter_table('outbox_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_attempts_message', ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_attempts_message')

    op.drop_table('outbox_attempts')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_endpoint')
        batch_op.drop_index('ix_outbox_messages_due')
        batch_op.drop_index('ix_outbox_messages_customer')

    op.drop_table('outbox_messages')
    op.drop_table('worker_jobs')
    op.drop_table('webhook_endpoints')
