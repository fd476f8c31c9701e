"""instant placement: a request's placement state, a proposal's acceptance deadline

booking_requests gain ``placement`` (queued, running, done, failed), its reason and time;
bookings gain ``expires_at``, the deadline of a tentative session proposed by a placement.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placement", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("placement_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("placement_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_booking_requests_placement"), ["placement"])
        batch_op.create_check_constraint(
            "placement",
            "placement IS NULL OR placement IN ('queued', 'running', 'done', 'failed')",
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_bookings_expires_at"), ["expires_at"])


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_expires_at"))
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("booking_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_booking_requests_placement"), type_="check")
        batch_op.drop_index(batch_op.f("ix_booking_requests_placement"))
        batch_op.drop_column("placement_at")
        batch_op.drop_column("placement_reason")
        batch_op.drop_column("placement")
