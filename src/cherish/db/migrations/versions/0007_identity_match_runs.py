"""identity match runs

`cherish identity match` keeps the model it trained (with its parameters and training date) and reuses it; every
run is recorded with the merges it made, so that a run can be undone as a whole.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('identity_match_models',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trained_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('settings', JSON, nullable=False),
    sa.Column('evaluation', JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_match_models'))
    )
    op.create_table('identity_match_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('retrained', sa.Boolean(), nullable=False),
    sa.Column('candidates', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.Column('reviews', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('undone_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['identity_match_models.id'],
                            name=op.f('fk_identity_match_runs_model_id_identity_match_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_match_runs'))
    )
    op.create_table('identity_match_run_merges',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('survivor_id', sa.String(length=40), nullable=False),
    sa.Column('merged_id', sa.String(length=40), nullable=False),
    sa.Column('probability', sa.Double(), nullable=False),
    sa.Column('identifiers', JSON, nullable=False),
    sa.Column('family', JSON, nullable=False),
    sa.Column('evidence', JSON, nullable=False),
    sa.Column('undone_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('undo_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['identity_match_runs.id'],
                            name=op.f('fk_identity_match_run_merges_run_id_identity_match_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_match_run_merges'))
    )
    with op.batch_alter_table('identity_match_run_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_match_run_merges_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_match_run_merges_survivor_id'), ['survivor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_match_run_merges_merged_id'), ['merged_id'], unique=False)


def downgrade() -> None:
    op.drop_table('identity_match_run_merges')
    op.drop_table('identity_match_runs')
    op.drop_table('identity_match_models')
