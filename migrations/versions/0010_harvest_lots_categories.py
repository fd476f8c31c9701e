"""harvest lots, a participant's category, a week's category separation, imported prime history

Adds harvest_lots (a producer's perishable lot: product, quantity, ready .. best-before),
booking_requests.harvest_lot_id, participants.category, planning_weeks.category_separation
('base' or NULL) and prime_recent (a week's prime_recent per participant as a file gave it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "harvest_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=80), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("best_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("best_before > ready_at", name=op.f("ck_harvest_lots_dates")),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity > 0", name=op.f("ck_harvest_lots_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_harvest_lots_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_lots")),
        sa.UniqueConstraint("code", name=op.f("uq_harvest_lots_code")),
    )
    with op.batch_alter_table("harvest_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_harvest_lots_participant_id"), ["participant_id"], unique=False
        )
    op.create_table(
        "prime_recent",
        sa.Column("planning_week_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.CheckConstraint("sessions >= 0", name=op.f("ck_prime_recent_sessions")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_prime_recent_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["planning_week_id"],
            ["planning_weeks.id"],
            name=op.f("fk_prime_recent_planning_week_id_planning_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "planning_week_id", "participant_id", name=op.f("pk_prime_recent")
        ),
    )
    with op.batch_alter_table("booking_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("harvest_lot_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_booking_requests_harvest_lot_id"), ["harvest_lot_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_booking_requests_harvest_lot_id_harvest_lots"),
            "harvest_lots",
            ["harvest_lot_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=40), nullable=True))
    with op.batch_alter_table("planning_weeks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_separation", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_planning_weeks_category_separation"),
            "category_separation IS NULL OR category_separation = 'base'",
        )


def downgrade():
    with op.batch_alter_table("planning_weeks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_planning_weeks_category_separation"), type_="check"
        )
        batch_op.drop_column("category_separation")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("category")
    with op.batch_alter_table("booking_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_booking_requests_harvest_lot_id_harvest_lots"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_booking_requests_harvest_lot_id"))
        batch_op.drop_column("harvest_lot_id")
    op.drop_table("prime_recent")
    with op.batch_alter_table("harvest_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_lots_participant_id"))
    op.drop_table("harvest_lots")
