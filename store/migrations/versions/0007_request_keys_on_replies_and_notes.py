"""request keys on replies and notes

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_message_request_key', ['request_key'])

    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_reply_request_key', ['request_key'])


def downgrade() -> None:
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reply_request_key', type_='unique')
        batch_op.drop_column('request_key')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_request_key', type_='unique')
        batch_op.drop_column('request_key')
