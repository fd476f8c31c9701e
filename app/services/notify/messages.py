"""Telling people what happened: in-app notifications plus an e-mail outbox.

``notify_user`` adds rows to the caller's transaction (they commit with the change they
report). An e-mail is an outbox row in the recipient's language first (Chinese unless they
chose English), the other language below; ``app.services.notify.mailer`` sends it from the job
queue once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from app.extensions import db, rowcount
from app.localtime import local_zone
from app.models import Booking, Notification, OutboxEmail, User, utcnow

#: Every notification kind in both languages; parameters are filled with str.format.
MESSAGES: dict[str, dict[str, str]] = {
    "booking_cancelled": {
        "zh_CN": "您的直播场次 {booking}（{when}，{base}）已被基地取消。原因：{reason}",
        "en": "Your session {booking} ({when}, {base}) was cancelled by the base. Reason: {reason}",
    },
    "booking_confirmed": {
        "zh_CN": "您的直播场次 {booking}（{when}，{base}）已由基地确认。",
        "en": "Your session {booking} ({when}, {base}) was confirmed by the base.",
    },
    "booking_proposed": {
        "zh_CN": "系统为您安排了待确认场次 {booking}（{when}，{base}），请接受或拒绝。",
        "en": "A tentative session {booking} ({when}, {base}) was proposed; accept or decline it.",
    },
    "booking_moved": {
        "zh_CN": "您的待确认场次 {booking} 已调整到 {when}（{base}）。",
        "en": "Your tentative session {booking} was moved to {when} ({base}).",
    },
    "booking_dropped": {
        "zh_CN": "您的待确认场次 {booking} 已被取消（重新排期）。",
        "en": "Your tentative session {booking} was withdrawn by re-planning.",
    },
    "run_base_changes": {
        "zh_CN": "重新排期（第 {run} 次运行）调整了 {base} 的待确认场次：新增 {added}，调整 {moved}，取消 {dropped}。",
        "en": "Re-planning (run #{run}) changed tentative sessions at {base}: "
        "{added} added, {moved} moved, {dropped} dropped.",
    },
    "webhook_disabled": {
        "zh_CN": "您的集成端点 {endpoint}（{url}）已连续失败超过一天，现已停用。最后的错误：{reason}。修复后请在集成页面重新启用。",
        "en": "Your integration endpoint {endpoint} ({url}) failed for over a day and was "
        "disabled. Last error: {reason}. Enable it again on the integrations page once fixed.",
    },
}
SUBJECTS = {"zh_CN": "春雷直播排期通知", "en": "Chunlei scheduling notice"}


def render(kind: str, params: dict, locale: str = "zh_CN") -> str:
    """The sentence for a notification in ``locale`` (zh_CN or en); unknown kinds say so."""
    texts = MESSAGES.get(kind)
    if texts is None:
        return kind
    template = texts.get(locale) or texts["zh_CN"]

    class _Blank(dict):
        def __missing__(self, key: str) -> str:
            return "—"

    return template.format_map(_Blank({k: v for k, v in params.items() if v is not None}))


def notify_user(
    user: User, kind: str, params: dict, *, booking: Booking | None = None
) -> Notification:
    """Add an in-app notification (and an outbox e-mail if the user has an address)."""
    note = Notification(
        user_id=user.id,
        kind=kind,
        booking_id=booking.id if booking is not None else None,
        params=params,
    )
    db.session.add(note)
    if user.email:
        first = user.locale or "zh_CN"
        second = "en" if first != "en" else "zh_CN"
        db.session.add(
            OutboxEmail(
                to_address=user.email,
                subject=f"{SUBJECTS[first]} / {SUBJECTS[second]}",
                body=f"{render(kind, params, first)}\n\n{render(kind, params, second)}\n",
            )
        )
    return note


def booking_params(booking: Booking, **extra) -> dict:
    """What a booking notification shows: code, local start time, base name."""
    slots = booking.current_slots
    params: dict = {"booking": booking.code}
    if slots:
        tz = local_zone()
        params["when"] = slots[0].start.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        params["base"] = slots[0].studio.hub.name
    params.update(extra)
    return params


def booking_event(
    kind: str, booking: Booking, *, users: Sequence[User] | None = None, **extra
) -> list[Notification]:
    """Notify every account of the booking's participant about ``kind`` (``users``: those
    accounts, when the caller already read them for many bookings at once)."""
    if users is None:
        users = db.session.scalars(
            select(User).where(User.participant_id == booking.participant_id, User.active.is_(True))
        ).all()
    params = booking_params(booking, **extra)
    return [notify_user(u, kind, params, booking=booking) for u in users]


def unread(user: User, limit: int = 50) -> list[Notification]:
    """The user's unread notifications, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all, or ``ids``) read; commits; returns how many."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    count = rowcount(db.session.execute(stmt.values(read_at=utcnow())))
    db.session.commit()
    return count
