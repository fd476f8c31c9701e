"""request list indexes: requests by filing time, a base's allowed requests

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 07:15:00

"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        op.f("ix_booking_requests_created_at"), "booking_requests", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_request_allowed_hubs_hub_id"), "request_allowed_hubs", ["hub_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_request_allowed_hubs_hub_id"), table_name="request_allowed_hubs")
    op.drop_index(op.f("ix_booking_requests_created_at"), table_name="booking_requests")
