"""Timetables: weekly templates, a base's timetable week (draft → published), published slots,
and the planning week that carries the week's policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
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
