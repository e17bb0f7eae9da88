"""topics, the topic of a ticket, agents' skills and presence (SPEC §13)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

from store.types import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'topic',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('keywords', sa.String(length=1000), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_ticket_topic', ['topic'], unique=False)
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('skills', sa.String(length=500), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('away', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('last_assigned_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('away')
        batch_op.drop_column('skills')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_topic')
        batch_op.drop_column('topic')
    op.drop_table('topic')
