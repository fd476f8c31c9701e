"""optimization runs for the nightly re-optimization: run key, week lock, progress, files

Adds to optimization_runs the run key (one nightly run per week and night), the week lock (one
run of a week at a time), the actor label, heartbeat and live progress, the KPIs before, the
run's folder, and the states no_change and skipped; run_changes get a participant and a reason.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 20:21:23

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('running', 'applied', 'rejected', 'failed')"
NEW_STATES = "state IN ('running', 'applied', 'no_change', 'rejected', 'failed', 'skipped')"


def upgrade():
    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("lock_key", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("actor_label", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("progress", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("kpis_before", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("files_dir", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_optimization_runs_lock_key"), ["lock_key"])
        batch_op.create_unique_constraint(batch_op.f("uq_optimization_runs_run_key"), ["run_key"])
        batch_op.drop_constraint(op.f("ck_optimization_runs_state"), type_="check")
        batch_op.create_check_constraint("state", NEW_STATES)

    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("participant_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=24), nullable=True))


def downgrade():
    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("participant_code")

    op.execute("UPDATE optimization_runs SET state = 'applied' WHERE state = 'no_change'")
    op.execute("UPDATE optimization_runs SET state = 'failed' WHERE state = 'skipped'")
    with op.batch_alter_table("optimization_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_optimization_runs_state"), type_="check")
        batch_op.create_check_constraint("state", OLD_STATES)
        batch_op.drop_constraint(batch_op.f("uq_optimization_runs_run_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_optimization_runs_lock_key"), type_="unique")
        batch_op.drop_column("files_dir")
        batch_op.drop_column("kpis_before")
        batch_op.drop_column("progress")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("actor_label")
        batch_op.drop_column("lock_key")
        batch_op.drop_column("run_key")
