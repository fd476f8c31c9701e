"""Timetables: weekly templates, a base's timetable week (draft → published), published slots,
the planning week that carries the week's policy, and the version slot search's caches follow."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.vocabulary import SlotState, WeekState, enum_type

if TYPE_CHECKING:
    from app.models.hubs import Hub, Studio


class PlanningWeek(Model):
    """One scheduling week (Monday 00:00 Asia/Shanghai, 7 days) and its policy."""

    __tablename__ = "planning_weeks"
    __table_args__ = (
        CheckConstraint(
            "max_sessions_per_day IS NULL OR max_sessions_per_day >= 1",
            name="max_sessions_per_day",
        ),
        CheckConstraint("target_utilization > 0 AND target_utilization <= 1", name="target"),
        CheckConstraint("days >= 1", name="days"),
        CheckConstraint(
            "category_separation IS NULL OR category_separation = 'base'",
            name="category_separation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, unique=True)
    days: Mapped[int] = mapped_column(Integer, default=7)
    # The instance name used in exchange files (e.g. "week-2026-12-07").
    name: Mapped[str] = mapped_column(String(120))
    # None: no daily cap (the exchange format allows leaving it out).
    max_sessions_per_day: Mapped[int | None] = mapped_column(Integer, default=2)
    same_day_same_base: Mapped[bool] = mapped_column(Boolean, default=True)
    target_utilization: Mapped[float] = mapped_column(Float, default=0.85)
    #: "base": same-category sessions of different participants never overlap at one base
    category_separation: Mapped[str | None] = mapped_column(String(16))

    def __repr__(self) -> str:
        return f"<PlanningWeek {self.week_start}>"


class TimetableTemplate(Model):
    """A base's reusable weekly timetable: which blocks each weekday offers."""

    __tablename__ = "timetable_templates"
    __table_args__ = (UniqueConstraint("hub_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)

    hub: Mapped[Hub] = relationship(back_populates="templates")
    blocks: Mapped[list[TemplateBlock]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="(TemplateBlock.weekday, TemplateBlock.start_minute)",
    )


class TemplateBlock(Model):
    """One block of a template: a weekday (0 = Monday) and local minutes from midnight."""

    __tablename__ = "template_blocks"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute > start_minute AND end_minute <= 1440", name="span"
        ),
        UniqueConstraint("template_id", "weekday", "start_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("timetable_templates.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    prime: Mapped[bool] = mapped_column(Boolean, default=False)

    template: Mapped[TimetableTemplate] = relationship(back_populates="blocks")


class TimetableWeek(Model):
    """A base's timetable for one week: drafted by its operators, then published."""

    __tablename__ = "timetable_weeks"
    __table_args__ = (UniqueConstraint("hub_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[WeekState] = mapped_column(enum_type(WeekState, "state"), default=WeekState.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    hub: Mapped[Hub] = relationship(back_populates="weeks")
    slots: Mapped[list[Slot]] = relationship(back_populates="timetable_week", order_by="Slot.start")


class Slot(Model):
    """One block of one studio. Slots of a studio never overlap (a studio has one per start)."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("studio_id", "start"),
        CheckConstraint('"end" > start', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    studio_id: Mapped[int] = mapped_column(ForeignKey("studios.id", ondelete="CASCADE"))
    timetable_week_id: Mapped[int] = mapped_column(
        ForeignKey("timetable_weeks.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    prime: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[SlotState] = mapped_column(enum_type(SlotState, "state"), default=SlotState.OPEN)

    studio: Mapped[Studio] = relationship()
    timetable_week: Mapped[TimetableWeek] = relationship(back_populates="slots")

    def __repr__(self) -> str:
        return f"<Slot {self.code} {self.start:%Y-%m-%d %H:%M}Z>"


class TimetableVersion(Model):
    """The version of what slot search caches (open slots of published weeks, their studios and
    bases): one row, bumped by the database's own triggers (``VERSION_TRIGGERS``) in the very
    transaction that changes a slot, a timetable week, a studio or a base, so no writer can
    forget it and no process reads a new version before the change is committed. ``epoch`` is
    drawn when the row is made: a database rebuilt or restored never repeats a version."""

    __tablename__ = "timetable_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column(BigInteger)


#: The tables whose changes bump ``timetable_version``.
VERSIONED_TABLES = ("hubs", "studios", "timetable_weeks", "slots")
_SQLITE_BUMP = """CREATE TRIGGER timetable_version_{table}_{name} AFTER {op} ON {table}
BEGIN
    INSERT INTO timetable_version (id, epoch, n) VALUES (1, abs(random()), 1)
    ON CONFLICT (id) DO UPDATE SET n = n + 1;
END"""
_POSTGRES_BUMP = """CREATE OR REPLACE FUNCTION timetable_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO timetable_version (id, epoch, n) VALUES (1, floor(random() * 1e15)::bigint, 1)
    ON CONFLICT (id) DO UPDATE SET n = timetable_version.n + 1;
    RETURN NULL;
END $$"""
_POSTGRES_TRIGGER = """CREATE TRIGGER timetable_version_bump
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION timetable_version_bump()"""


def version_triggers(dialect: str) -> list[str]:
    """The statements that make the version row and its triggers (migration 0022 has the same):
    one trigger per statement on PostgreSQL, per row on SQLite (which has no other kind)."""
    if dialect == "postgresql":
        made = [_POSTGRES_BUMP] + [_POSTGRES_TRIGGER.format(table=t) for t in VERSIONED_TABLES]
        epoch = "floor(random() * 1e15)::bigint"
    else:
        made = [
            _SQLITE_BUMP.format(table=t, op=op, name=op.lower())
            for t in VERSIONED_TABLES
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
        epoch = "abs(random())"
    return [*made, f"INSERT INTO timetable_version (id, epoch, n) VALUES (1, {epoch}, 0)"]


@event.listens_for(Model.metadata, "after_create")
def _add_version_triggers(target: MetaData, connection: Connection, **kw: Any) -> None:
    """``create_all`` (tests, a new SQLite file) gets the triggers the migration makes."""
    made = {t.name for t in kw.get("tables", target.sorted_tables)}
    if made.issuperset((TimetableVersion.__tablename__, *VERSIONED_TABLES)):
        for statement in version_triggers(connection.dialect.name):
            connection.exec_driver_sql(statement)
