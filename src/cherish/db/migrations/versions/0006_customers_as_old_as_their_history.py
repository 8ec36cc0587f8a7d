"""customers as old as their history

A customer's creation now moves back with older events, as its identifiers' first sightings always did. Stores
written before that may hold customers created after their oldest identifier was first seen (history imported
after live events): their creation is moved back once here.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLDEST = "(SELECT MIN(i.first_seen) FROM identifiers i WHERE i.customer_id = customers.id)"


def upgrade() -> None:
    op.execute(f"UPDATE customers SET created_at = {OLDEST} WHERE created_at > {OLDEST}")


def downgrade() -> None:
    pass  # the earlier creation times are the right ones under either revision
