"""follow-ups, escalations, on-call, out-of-hours answers, SLA stages

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oncallshift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('set_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('oncallshift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oncallshift_set_at'), ['set_at'], unique=False)

    op.create_table('autoanswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('period_start', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'period_start', name='uq_autoanswer_period')
    )
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cause', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('oncall_slack_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cause')
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('owner_slack_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('due_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('warned_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_fired_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.create_index('ix_followup_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_fail', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.add_column(sa.Column('automatic', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unclaimed_alerted_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_warned_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_missed_at', store.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('is_fail')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('sla_missed_at')
        batch_op.drop_column('sla_warned_at')
        batch_op.drop_column('unclaimed_alerted_at')

    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_column('automatic')

    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_ticket_id'))
        batch_op.drop_index('ix_followup_state_due')

    op.drop_table('followup')
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_created_at'))

    op.drop_table('escalation')
    op.drop_table('autoanswer')
    with op.batch_alter_table('oncallshift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oncallshift_set_at'))

    op.drop_table('oncallshift')
