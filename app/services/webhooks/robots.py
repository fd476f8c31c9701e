"""Group robots: an event as a Chinese text or markdown message for WeCom or DingTalk.

WeCom (企业微信群机器人, developer.work.weixin.qq.com/document/path/91770):
``{"msgtype": "text", "text": {"content": ...}}`` (at most 2,048 bytes) or
``{"msgtype": "markdown", "markdown": {"content": ...}}`` (at most 4,096 bytes).
DingTalk (钉钉自定义机器人, open.dingtalk.com): ``{"msgtype": "text", "text": {"content": ...}}``
or ``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}``. Both answer HTTP 200
with ``{"errcode": 0, "errmsg": "ok"}``; any other ``errcode`` is a refusal.
"""

from __future__ import annotations

import json
from datetime import datetime

from app.localtime import local_zone
from app.models.vocabulary import EndpointKind, MessageFormat

#: The title of each event in the group (Chinese: the groups are Chinese teams).
TITLES = {
    "booking.created": "新预订",
    "booking.confirmed": "预订已确认",
    "booking.cancelled": "预订已取消",
    "booking.proposed": "系统安排了待确认场次",
    "request.placed": "排期需求已安排",
    "run.applied": "重新排期已生效",
    "run.failed": "重新排期失败",
    "slot.blocked": "时段已封锁",
    "webhook.test": "测试消息",
}
STATUSES = {"tentative": "待确认", "confirmed": "已确认", "locked": "已锁定", "cancelled": "已取消"}
ROLES = {"participant": "参与方", "operator": "基地运营", "admin": "管理员"}
TRIGGERS = {"nightly": "夜间", "manual": "手动", "import": "导入"}
LIMITS = {MessageFormat.TEXT: 2048, MessageFormat.MARKDOWN: 4096}


def _when(start: str | None, end: str | None) -> str | None:
    if not start:
        return None
    zone = local_zone()
    a = datetime.fromisoformat(start).astimezone(zone)
    text = f"{a:%Y-%m-%d %H:%M}"
    if end:
        b = datetime.fromisoformat(end).astimezone(zone)
        text += f"–{b:%H:%M}" if b.date() == a.date() else f" – {b:%Y-%m-%d %H:%M}"
    return text


def _base(data: dict) -> str | None:
    if not data.get("base"):
        return None
    return f"{data['base']} {data.get('base_name') or ''}".strip()


def lines_of(event_type: str, data: dict) -> list[tuple[str, str]]:
    """The event's facts as (label, value) pairs, in Chinese, in reading order."""
    facts: list[tuple[str, str | None]] = []
    if event_type.startswith("booking."):
        facts += [
            ("预订", data.get("booking")),
            ("状态", STATUSES.get(data.get("status") or "", data.get("status"))),
            ("基地", _base(data)),
            ("直播间", data.get("studio")),
            ("时间", _when(data.get("start"), data.get("end"))),
            ("参与方", data.get("participant")),
            ("需求", data.get("request")),
            ("操作方", ROLES.get(data.get("by") or "", data.get("by"))),
            ("原因", "参与方拒绝了待确认场次" if data.get("declined") else data.get("reason")),
        ]
    elif event_type == "request.placed":
        facts += [("需求", data.get("request")), ("参与方", data.get("participant"))]
        for base in data.get("bases") or []:
            for s in base.get("sessions") or []:
                facts.append(
                    (
                        f"{base.get('base')} 场次",
                        f"{s.get('booking')} {_when(s.get('start'), s.get('end'))}",
                    )
                )
    elif event_type.startswith("run."):
        facts += [
            ("运行", f"#{data.get('run')}"),
            ("周", data.get("week")),
            ("触发", TRIGGERS.get(data.get("trigger") or "", data.get("trigger"))),
            ("原因", data.get("error")),
        ]
        for base in data.get("bases") or []:
            facts.append(
                (
                    f"{base.get('base')}",
                    f"新增 {base.get('added', 0)}，调整 {base.get('moved', 0)}，"
                    f"取消 {base.get('dropped', 0)}",
                )
            )
    elif event_type == "slot.blocked":
        facts += [
            ("时段", data.get("slot")),
            ("基地", _base(data)),
            ("直播间", data.get("studio")),
            ("时间", _when(data.get("start"), data.get("end"))),
            ("原因", data.get("reason")),
        ]
    else:
        facts += [("说明", data.get("message")), ("端点", data.get("endpoint"))]
    return [(k, str(v)) for k, v in facts if v not in (None, "")]


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes (the robots count bytes), cut on a character."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


def message_text(event_type: str, data: dict, fmt: MessageFormat) -> tuple[str, str]:
    """The title and the message (text or markdown) of an event."""
    title = "春雷 · " + TITLES.get(event_type, event_type)
    facts = lines_of(event_type, data)
    if fmt == MessageFormat.MARKDOWN:
        body = f"### {title}\n" + "\n".join(f"> **{k}**：{v}  " for k, v in facts)
    else:
        body = f"【{title}】\n" + "\n".join(f"{k}：{v}" for k, v in facts)
    return title, _cut(body, LIMITS[fmt])


def robot_body(kind: EndpointKind, fmt: MessageFormat, body: str) -> str:
    """The JSON a robot of ``kind`` takes for a message whose webhook body is ``body``."""
    event = json.loads(body)
    title, text = message_text(event["type"], event.get("data") or {}, fmt)
    if fmt == MessageFormat.TEXT:
        payload: dict = {"msgtype": "text", "text": {"content": text}}
    elif kind == EndpointKind.WECOM:
        payload = {"msgtype": "markdown", "markdown": {"content": text}}
    else:
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return json.dumps(payload, ensure_ascii=False)


def robot_refusal(answer: bytes) -> str | None:
    """Why a robot refused (its ``errcode``/``errmsg``), or None when it took the message."""
    try:
        parsed = json.loads(answer.decode("utf-8", errors="replace") or "null")
    except ValueError:
        return "the robot's answer is not JSON"
    if not isinstance(parsed, dict) or "errcode" not in parsed:
        return "the robot's answer has no errcode"
    if parsed.get("errcode") != 0:
        return f"errcode {parsed.get('errcode')}: {parsed.get('errmsg')}"
    return None
