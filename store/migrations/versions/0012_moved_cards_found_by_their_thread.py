"""the cards tickets were moved away from, found by their thread (notes typed there)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

MOVED_CARD = "dedup_key LIKE 'moved:%'"


def upgrade() -> None:
    with op.batch_alter_table('slackoutbox', schema=None) as batch_op:
        batch_op.create_index(
            'ix_slackoutbox_moved_card',
            ['channel', 'result_ts'],
            unique=False,
            sqlite_where=sa.text(MOVED_CARD),
            postgresql_where=sa.text(MOVED_CARD),
        )


def downgrade() -> None:
    with op.batch_alter_table('slackoutbox', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_slackoutbox_moved_card',
            sqlite_where=sa.text(MOVED_CARD),
            postgresql_where=sa.text(MOVED_CARD),
        )
