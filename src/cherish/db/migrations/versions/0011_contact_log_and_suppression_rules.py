"""contact log and suppression rules

Every message cherish meant to send a customer, with the contact policy's decision and its reason, and the
suppression rules as data.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_suppression_rules',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('condition', sa.String(length=40), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('purposes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('channels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_contact_suppression_rules'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('decided_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('send_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('expires_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('outbox_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('key', name=op.f('uq_contacts_key'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_customer', ['customer_id', 'decided_at'], unique=False)
        batch_op.create_index('ix_contacts_waiting', ['outcome', 'send_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_waiting')
        batch_op.drop_index('ix_contacts_customer')

    op.drop_table('contacts')
    op.drop_table('contact_suppression_rules')
