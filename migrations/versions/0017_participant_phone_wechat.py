"""participant contact: phone and WeChat ID on the profile

Adds participant_profiles.phone and participant_profiles.wechat (both optional); the operators of
bases where the participant has a session see them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participant_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("wechat", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("participant_profiles", schema=None) as batch_op:
        batch_op.drop_column("wechat")
        batch_op.drop_column("phone")
