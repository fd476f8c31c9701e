"""run_changes: the base a changed session leaves and the base it goes to

The run report counts a run's changes per base and per region, filters them by base and
region, and shows an operator only the changes at their bases. With the bases stored on each
change it reads a few narrow columns instead of every change's slots (tens of thousands of slot
codes on a whole-programme run). Existing changes are filled from their slots' studios.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

#: run changes filled per statement
CHUNK = 2000


def upgrade():
    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before_base", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("after_base", sa.String(length=16), nullable=True))
    _fill()


def _fill():
    """Each existing change's bases, from the first slot before and after (a session's slots
    are consecutive in one studio). A slot no longer in the database leaves its side empty."""
    conn = op.get_bind()
    changes = sa.table(
        "run_changes",
        sa.column("id", sa.Integer),
        sa.column("before_slots", sa.JSON),
        sa.column("after_slots", sa.JSON),
        sa.column("before_base", sa.String),
        sa.column("after_base", sa.String),
    )
    slots = sa.table("slots", sa.column("code", sa.String), sa.column("studio_id", sa.Integer))
    studios = sa.table("studios", sa.column("id", sa.Integer), sa.column("hub_id", sa.Integer))
    hubs = sa.table("hubs", sa.column("id", sa.Integer), sa.column("code", sa.String))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(changes.c.id, changes.c.before_slots, changes.c.after_slots)
            .where(changes.c.id > last)
            .order_by(changes.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        firsts = {s[0] for _, before, after in rows for s in (before, after) if s}
        base_of = dict(
            conn.execute(
                sa.select(slots.c.code, hubs.c.code)
                .join(studios, studios.c.id == slots.c.studio_id)
                .join(hubs, hubs.c.id == studios.c.hub_id)
                .where(slots.c.code.in_(sorted(firsts)))
            ).all()
        )
        filled = [
            {
                "change_id": change_id,
                "before": base_of.get(before[0]) if before else None,
                "after": base_of.get(after[0]) if after else None,
            }
            for change_id, before, after in rows
        ]
        conn.execute(
            changes.update()
            .where(changes.c.id == sa.bindparam("change_id"))
            .values(before_base=sa.bindparam("before"), after_base=sa.bindparam("after")),
            filled,
        )


def downgrade():
    with op.batch_alter_table("run_changes", schema=None) as batch_op:
        batch_op.drop_column("after_base")
        batch_op.drop_column("before_base")
