"""planning week: the daily cap may be absent (no limit), as the exchange format allows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("planning_weeks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_planning_weeks_max_sessions_per_day"), type_="check")
        batch_op.alter_column("max_sessions_per_day", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            "max_sessions_per_day",
            "max_sessions_per_day IS NULL OR max_sessions_per_day >= 1",
        )


def downgrade():
    op.execute("UPDATE planning_weeks SET max_sessions_per_day = 2 WHERE max_sessions_per_day IS NULL")
    with op.batch_alter_table("planning_weeks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_planning_weeks_max_sessions_per_day"), type_="check")
        batch_op.alter_column("max_sessions_per_day", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint("max_sessions_per_day", "max_sessions_per_day >= 1")
