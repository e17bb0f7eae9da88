"""roster, canned answers, replies to X, ticket events

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent',
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('initials', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('slack_user_id')
    )
    op.create_table('canned',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('author_slack_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('in_reply_to_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('recipient_x_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('canned_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticketevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticketevent_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticketevent_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', store.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('edited_at')

    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticketevent_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticketevent_at'))

    op.drop_table('ticketevent')
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_reply_state'))
        batch_op.drop_index(batch_op.f('ix_reply_created_at'))

    op.drop_table('reply')
    op.drop_table('canned')
    op.drop_table('agent')
