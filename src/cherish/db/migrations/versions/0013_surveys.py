"""surveys

Surveys with their versions, invitations (single-use tokens, half-given answers) and reward codes; answers keep the
survey version they answered, the order they were about, where the survey reached them and the custom answers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trigger_event', sa.String(length=200), nullable=True),
    sa.Column('trigger_delay_minutes', sa.Integer(), nullable=True),
    sa.Column('trigger_condition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('sampling', sa.Float(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('expires_days', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=True),
    sa.Column('thank_you', sa.Text(), nullable=False),
    sa.Column('rewards_low_at', sa.Integer(), nullable=False),
    sa.Column('seen_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('trigger_start_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('name', name=op.f('uq_surveys_name'))
    )
    op.create_table('survey_invitations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('cause', sa.String(length=200), nullable=True),
    sa.Column('order_id', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=40), nullable=True),
    sa.Column('branch', sa.String(length=200), nullable=True),
    sa.Column('employee', sa.String(length=200), nullable=True),
    sa.Column('delivered_via', sa.String(length=20), nullable=False),
    sa.Column('contact_key', sa.String(length=200), nullable=True),
    sa.Column('partial', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('due_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('reminded_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('answered_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('answer_source', sa.String(length=200), nullable=True),
    sa.Column('reward_code', sa.String(length=100), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_invitations_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('survey_id', 'cause', name=op.f('uq_survey_invitations_survey_id_cause')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_survey_invitations_customer', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_survey_invitations_due', ['contact_key', 'due_at'], unique=False)
        batch_op.create_index('ix_survey_invitations_opened', ['survey_id', 'opened_by', 'created_at'], unique=False)

    op.create_table('survey_reward_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('invitation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('given_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_reward_codes_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_reward_codes')),
    sa.UniqueConstraint('survey_id', 'code', name=op.f('uq_survey_reward_codes_survey_id_code'))
    )
    with op.batch_alter_table('survey_reward_codes', schema=None) as batch_op:
        batch_op.create_index('ix_survey_reward_codes_free', ['survey_id', 'invitation_id'], unique=False)

    op.create_table('survey_versions',
    sa.Column('survey_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('intro', sa.Text(), nullable=True),
    sa.Column('questions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_versions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'version', name=op.f('pk_survey_versions'))
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('order_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delivered_via', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.drop_column('answers')
        batch_op.drop_column('delivered_via')
        batch_op.drop_column('order_id')
        batch_op.drop_column('survey_version')

    op.drop_table('survey_versions')
    with op.batch_alter_table('survey_reward_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_reward_codes_free')

    op.drop_table('survey_reward_codes')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_invitations_opened')
        batch_op.drop_index('ix_survey_invitations_due')
        batch_op.drop_index('ix_survey_invitations_customer')

    op.drop_table('survey_invitations')
    op.drop_table('surveys')
