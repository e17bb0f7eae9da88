"""first-response figures and indexes for statistics

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('first_response_minutes', sa.Float(), nullable=True))
        batch_op.create_index('ix_ticket_owner_state', ['owner_slack_id', 'state'], unique=False)

    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.create_index('ix_ticketevent_kind_at', ['kind', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.drop_index('ix_ticketevent_kind_at')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_owner_state')
        batch_op.drop_column('first_response_minutes')
        batch_op.drop_column('first_response_by')

    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_sent_at'))

