"""optimization_runs.scope_bases: the bases a run may change (NULL = the whole week).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_bases", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.drop_column("scope_bases")
