"""the job queue's ledger; runs can be queued and name the job carrying them out

Adds the jobs table (one row per piece of background work: kind, payload, status, attempts,
heartbeat, error, result; a unique dedupe lock while queued), the run state queued, and
optimization_runs.job_id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('running', 'applied', 'no_change', 'rejected', 'failed', 'skipped')"
NEW_STATES = (
    "state IN ('queued', 'running', 'applied', 'no_change', 'rejected', 'failed', 'skipped')"
)


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("dedupe_lock", sa.String(length=120), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "attempts >= 0 AND max_attempts >= 1", name=op.f("ck_jobs_attempts")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_lock", name=op.f("uq_jobs_dedupe_lock")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_dedupe_key"), ["dedupe_key"], unique=False)
        batch_op.create_index("ix_jobs_status_heartbeat_at", ["status", "heartbeat_at"], unique=False)

    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_optimization_runs_job_id"), ["job_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_optimization_runs_job_id_jobs"),
            "jobs",
            ["job_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_optimization_runs_state"), type_="check")
        batch_op.create_check_constraint("state", NEW_STATES)


def downgrade():
    op.execute(
        "UPDATE optimization_runs SET state = 'skipped', lock_key = NULL WHERE state = 'queued'"
    )
    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_optimization_runs_state"), type_="check")
        batch_op.create_check_constraint("state", OLD_STATES)
        batch_op.drop_constraint(
            batch_op.f("fk_optimization_runs_job_id_jobs"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_optimization_runs_job_id"))
        batch_op.drop_column("job_id")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_heartbeat_at")
        batch_op.drop_index(batch_op.f("ix_jobs_dedupe_key"))
    op.drop_table("jobs")
