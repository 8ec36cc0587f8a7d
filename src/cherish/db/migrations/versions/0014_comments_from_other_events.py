"""comments from other events

Reviews, chat transcripts, emails and social mentions become feedback items beside survey answers: the score may
be empty, and ``origin`` says what the item came as.

On SQLite a column becomes nullable by copying the table; dropping the old copy would cascade to what text
analytics read in each comment (foreign keys are on, and cannot be turned off inside the migration's
transaction), so those rows are kept aside and put back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _keeping_analyses(change: Callable[[], None]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE kept_comment_analyses AS SELECT * FROM feedback_comment_analyses")
    change()
    if sqlite:
        op.execute("INSERT INTO feedback_comment_analyses SELECT * FROM kept_comment_analyses")
        op.execute("DROP TABLE kept_comment_analyses")


def upgrade() -> None:
    def change() -> None:
        with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
            batch_op.add_column(sa.Column('origin', sa.String(length=20), nullable=True))
            batch_op.alter_column('score', existing_type=sa.FLOAT(), nullable=True)

    _keeping_analyses(change)


def downgrade() -> None:
    op.execute("DELETE FROM feedback_answers WHERE score IS NULL")  # (comments without a score go)

    def change() -> None:
        with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
            batch_op.alter_column('score', existing_type=sa.FLOAT(), nullable=False)
            batch_op.drop_column('origin')

    _keeping_analyses(change)
