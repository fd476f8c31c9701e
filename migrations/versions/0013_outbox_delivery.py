"""outbox e-mails carry their delivery: status, when the next try is due, when it was claimed

``outbox_emails`` gains ``status`` (pending, sending, sent, failed), ``next_attempt_at`` and
``claimed_at``. Rows already sent become ``sent``; the others stay ``pending`` and are sent by
the job queue's workers once a mail server is configured.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(
            sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_emails_status"), ["status"])
        batch_op.create_check_constraint(
            "status", "status IN ('pending', 'sending', 'sent', 'failed')"
        )
    op.execute("UPDATE outbox_emails SET status = 'sent' WHERE sent_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_emails_status"), type_="check")
        batch_op.drop_index(batch_op.f("ix_outbox_emails_status"))
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("status")
