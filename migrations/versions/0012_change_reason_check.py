"""run_changes.reason: the database refuses a reason outside the vocabulary (ChangeReason).

Every other stored status, state and kind already had its CHECK constraint; the models now
declare them through one StrEnum each (app.models.vocabulary) with the same names and the same
IN lists, so those constraints stand as they are. Existing reasons are all in the list (the
run service only ever wrote these); NULL stays allowed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:10:00

"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REASONS = (
    "placed",
    "preferred_base",
    "prime_time",
    "closer",
    "rebalanced",
    "withdrawn",
    "displaced",
)


def upgrade():
    listed = ", ".join(f"'{r}'" for r in REASONS)
    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_run_changes_reason"), f"reason IN ({listed})")


def downgrade():
    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_run_changes_reason"), type_="check")
