"""X usage per day and kind, and the budget notices given (SPEC §11)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

import sqlmodel
import store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'xusage',
        sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'kind'),
    )
    op.create_table(
        'xnotice',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('xnotice')
    op.drop_table('xusage')
