"""domain events

What committed changes others react to (feedback received, consent changed), in commit order, and how far each
consumer in the worker has read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domain_event_consumers',
    sa.Column('consumer', sa.String(length=80), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_domain_event_consumers'))
    )
    op.create_table('domain_events',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recorded_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_domain_events')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index('ix_domain_events_customer', ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_events_customer')

    op.drop_table('domain_events')
    op.drop_table('domain_event_consumers')
