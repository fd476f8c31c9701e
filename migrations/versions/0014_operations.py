"""operations: the request id a job was enqueued under; the clock's heartbeat

Adds jobs.request_id (the web request that enqueued the job, so its logs can be followed into
the worker) and process_heartbeats (one row per singleton process, the scheduler's clock, whose
age ``/readyz`` checks).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    op.create_table(
        "process_heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=120), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_process_heartbeats")),
    )


def downgrade():
    op.drop_table("process_heartbeats")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("request_id")
