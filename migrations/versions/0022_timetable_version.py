"""timetable version: one row bumped by triggers on slots, timetable weeks, studios and bases

Slot search keeps the open slots of published weeks in each process and reads them again only
when this version moves. The database bumps it itself, in the writing transaction, so every
writer (the services, a plan's apply, an import, a hand-made UPDATE) is covered. The statements
are the same as ``app.models.timetable.version_triggers`` (kept here as they were written).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("hubs", "studios", "timetable_weeks", "slots")
SQLITE_BUMP = """CREATE TRIGGER timetable_version_{table}_{name} AFTER {op} ON {table}
BEGIN
    INSERT INTO timetable_version (id, epoch, n) VALUES (1, abs(random()), 1)
    ON CONFLICT (id) DO UPDATE SET n = n + 1;
END"""
POSTGRES_BUMP = """CREATE OR REPLACE FUNCTION timetable_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO timetable_version (id, epoch, n) VALUES (1, floor(random() * 1e15)::bigint, 1)
    ON CONFLICT (id) DO UPDATE SET n = timetable_version.n + 1;
    RETURN NULL;
END $$"""
POSTGRES_TRIGGER = """CREATE TRIGGER timetable_version_bump
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION timetable_version_bump()"""


def upgrade():
    op.create_table(
        "timetable_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_timetable_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_BUMP)
        for table in TABLES:
            op.execute(POSTGRES_TRIGGER.format(table=table))
        epoch = "floor(random() * 1e15)::bigint"
    else:
        for table in TABLES:
            for kind in ("INSERT", "UPDATE", "DELETE"):
                op.execute(SQLITE_BUMP.format(table=table, op=kind, name=kind.lower()))
        epoch = "abs(random())"
    op.execute(f"INSERT INTO timetable_version (id, epoch, n) VALUES (1, {epoch}, 0)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER timetable_version_bump ON {table}")
        op.execute("DROP FUNCTION timetable_version_bump()")
    else:
        for table in TABLES:
            for kind in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER timetable_version_{table}_{kind}")
    op.drop_table("timetable_version")
