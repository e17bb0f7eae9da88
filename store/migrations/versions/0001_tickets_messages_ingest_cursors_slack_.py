"""tickets, messages, ingest cursors, slack queue

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('x_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('x_user_id')
    )
    op.create_table('ingestcursor',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('since_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('slackevent',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('slackevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slackevent_received_at'), ['received_at'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_slack_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('keyword_query', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('card_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('has_pii', sa.Boolean(), nullable=False),
    sa.Column('is_fail', sa.Boolean(), nullable=False),
    sa.Column('out_of_hours', sa.Boolean(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('previous_ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['previous_ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_ticket_customer_state', ['customer_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_state'), ['state'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('in_reply_to_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('author_x_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('author_slack_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('mentions_brand', sa.Boolean(), nullable=False),
    sa.Column('slack_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stored_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_message_channel_external_id')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('slackoutbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('dedup_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['slackoutbox.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    with op.batch_alter_table('slackoutbox', schema=None) as batch_op:
        batch_op.create_index('ix_slackoutbox_open', ['channel', 'id'], unique=False, sqlite_where=sa.text("state IN ('pending', 'sending')"), postgresql_where=sa.text("state IN ('pending', 'sending')"))
        batch_op.create_index(batch_op.f('ix_slackoutbox_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('slackoutbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slackoutbox_ticket_id'))
        batch_op.drop_index('ix_slackoutbox_open', sqlite_where=sa.text("state IN ('pending', 'sending')"), postgresql_where=sa.text("state IN ('pending', 'sending')"))

    op.drop_table('slackoutbox')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_message_created_at'))
        batch_op.drop_index(batch_op.f('ix_message_conversation_id'))

    op.drop_table('message')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_state'))
        batch_op.drop_index('ix_ticket_customer_state')
        batch_op.drop_index(batch_op.f('ix_ticket_created_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_conversation_id'))

    op.drop_table('ticket')
    with op.batch_alter_table('slackevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slackevent_received_at'))

    op.drop_table('slackevent')
    op.drop_table('ingestcursor')
    op.drop_table('customer')
