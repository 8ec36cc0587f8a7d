"""login throttle and session epochs

Failed logins are counted in the store (per account and per address) so that every server process throttles
together; a user's session epoch lets logging out and a new password end sessions held in signed cookies.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import cherish.db.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failed_at', cherish.db.base.UTCDateTime(), nullable=False),
        sa.Column('blocked_until', cherish.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_failures')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
    op.drop_table('login_failures')
