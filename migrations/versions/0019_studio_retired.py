"""studio retirement: studios.retired_at

A retired studio offers no new slots (search, the week's generation and the solver's input
leave it out); the sessions already booked there are kept.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
