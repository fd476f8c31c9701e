"""slot_holds: drop the index on booking_id alone; the unique (booking_id, slot_id) index serves
lookups by booking, and every booking wrote both.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:35:00

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("slot_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slot_holds_booking_id"))


def downgrade():
    with op.batch_alter_table("slot_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slot_holds_booking_id"), ["booking_id"], unique=False)
