"""recovery cases

Recovery cases (one open per customer and reason), what happened on them, the rules that open them, service-level
policies, teams and agents, promises, incidents with their affected customers, and the contact policy's holds
(no survey or marketing while a case is open).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cherish.db.base

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_rules',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('condition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('snoozed_until', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_case_rules'))
    )
    op.create_table('case_teams',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('manager', sa.String(length=200), nullable=True),
    sa.Column('escalate_to', sa.String(length=80), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_case_teams'))
    )
    op.create_table('contact_holds',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('since', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_contact_holds'))
    )
    with op.batch_alter_table('contact_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_holds_customer_id'), ['customer_id'], unique=False)

    op.create_table('promises',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=True),
    sa.Column('what', sa.String(length=300), nullable=False),
    sa.Column('due_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('minor', sa.Boolean(), nullable=False),
    sa.Column('settled_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises')),
    sa.UniqueConstraint('order_id', name=op.f('uq_promises_order_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.create_index('ix_promises_customer', ['customer_id', 'due_at'], unique=False)
        batch_op.create_index('ix_promises_open_due', ['status', 'due_at'], unique=False)

    op.create_table('recovery_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('priority_why', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('branch', sa.String(length=200), nullable=True),
    sa.Column('team', sa.String(length=80), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('sla_policy', sa.String(length=80), nullable=True),
    sa.Column('first_response_due', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('resolution_due', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('first_response_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('breached', sa.String(length=40), nullable=True),
    sa.Column('escalated_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('signals', sa.Integer(), nullable=False),
    sa.Column('resolution_code', sa.String(length=40), nullable=True),
    sa.Column('opened_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('follow_up_key', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_cases')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.create_index('ix_recovery_cases_customer', ['customer_id', 'opened_at'], unique=False)
        batch_op.create_index('ix_recovery_cases_status', ['status', 'priority', 'id'], unique=False)
        batch_op.create_index('ux_recovery_cases_open', ['customer_id', 'reason'], unique=True, sqlite_where=sa.text("status IN ('new', 'contacted', 'waiting')"), postgresql_where=sa.text("status IN ('new', 'contacted', 'waiting')"))

    op.create_table('sla_policies',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('priorities', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolution_minutes', sa.Integer(), nullable=False),
    sa.Column('around_the_clock', sa.Boolean(), nullable=False),
    sa.Column('escalate_to', sa.String(length=80), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sla_policies'))
    )
    op.create_table('case_activities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['recovery_cases.id'], name=op.f('fk_case_activities_case_id_recovery_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_activities')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('case_activities', schema=None) as batch_op:
        batch_op.create_index('ix_case_activities_case', ['case_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_activities_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ux_case_activities_key', ['case_id', 'key'], unique=True)

    op.create_table('case_agents',
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('team', sa.String(length=80), nullable=False),
    sa.Column('branch', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_assigned_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team'], ['case_teams.name'], name=op.f('fk_case_agents_team_case_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_case_agents'))
    )
    with op.batch_alter_table('case_agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_agents_team'), ['team'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('started_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.Column('affected', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('apology_subject', sa.String(length=200), nullable=False),
    sa.Column('apology_text', sa.Text(), nullable=False),
    sa.Column('codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('open_cases', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('declared_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', cherish.db.base.UTCDateTime(), nullable=False),
    sa.Column('apologised_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sqlite_autoincrement=True
    )
    op.create_table('incident_customers',
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('why', sa.String(length=300), nullable=True),
    sa.Column('contact_key', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('code', sa.String(length=100), nullable=True),
    sa.Column('apologised_at', cherish.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_customers_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'customer_id', name=op.f('pk_incident_customers'))
    )
    with op.batch_alter_table('incident_customers', schema=None) as batch_op:
        batch_op.create_index('ix_incident_customers_customer', ['customer_id'], unique=False)

    # the case rules read the answers given from now on, and the cases job the events stored from now on: a
    # store's history opens no cases, makes no promises and apologises for nothing
    op.execute("INSERT INTO domain_event_consumers (consumer, position, updated_at) SELECT 'cases', "
               "COALESCE(MAX(position), 0), CURRENT_TIMESTAMP FROM domain_events")
    op.execute("INSERT INTO instance_settings (name, value) SELECT 'cases_seen_event_id', CAST(MAX(id) AS VARCHAR(20)) "
               "FROM events HAVING MAX(id) IS NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM domain_event_consumers WHERE consumer = 'cases'")
    op.execute("DELETE FROM instance_settings WHERE name = 'cases_seen_event_id'")
    with op.batch_alter_table('incident_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_customers_customer')

    op.drop_table('incident_customers')
    op.drop_table('incidents')
    with op.batch_alter_table('case_agents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_agents_team'))

    op.drop_table('case_agents')
    with op.batch_alter_table('case_activities', schema=None) as batch_op:
        batch_op.drop_index('ux_case_activities_key')
        batch_op.drop_index(batch_op.f('ix_case_activities_customer_id'))
        batch_op.drop_index('ix_case_activities_case')

    op.drop_table('case_activities')
    op.drop_table('sla_policies')
    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.drop_index('ux_recovery_cases_open', sqlite_where=sa.text("status IN ('new', 'contacted', 'waiting')"), postgresql_where=sa.text("status IN ('new', 'contacted', 'waiting')"))
        batch_op.drop_index('ix_recovery_cases_status')
        batch_op.drop_index('ix_recovery_cases_customer')

    op.drop_table('recovery_cases')
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_index('ix_promises_open_due')
        batch_op.drop_index('ix_promises_customer')

    op.drop_table('promises')
    with op.batch_alter_table('contact_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_holds_customer_id'))

    op.drop_table('contact_holds')
    op.drop_table('case_teams')
    op.drop_table('case_rules')
