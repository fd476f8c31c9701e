"""participant_profiles.contact: how to reach a participant (phone or WeChat), free text

Filled by the participants' spreadsheet import; empty for existing participants.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participant_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("participant_profiles", schema=None) as batch_op:
        batch_op.drop_column("contact")
