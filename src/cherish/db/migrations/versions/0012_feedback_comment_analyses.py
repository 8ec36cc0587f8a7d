"""comment analyses

What text analytics found in each answer's comment (language, sentiment, aspects, urgency), and by which model.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_comment_analyses',
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('sentiment', sa.Float(), nullable=True),
    sa.Column('label', sa.String(length=10), nullable=True),
    sa.Column('aspects', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('urgency', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('analyzed_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['feedback_answers.id'], name=op.f('fk_feedback_comment_analyses_answer_id_feedback_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_feedback_comment_analyses'))
    )


def downgrade() -> None:
    op.drop_table('feedback_comment_analyses')
