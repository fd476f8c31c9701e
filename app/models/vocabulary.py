"""The product's vocabulary: every status, state and kind the database stores, defined once.

Each is a ``StrEnum`` whose values are the stable English codes kept in the database (and in
the exchange format); a member compares equal to its code, so ``booking.status == "locked"``
and ``BookingStatus.LOCKED`` are the same test. Regions, studio features and participant kinds
belong to the exchange format and come from ``scheduler.domain`` (the app may import the
solver's data, never the reverse). People see translated labels (``app.main.labels``).

:func:`enum_type` maps one of these to a column: a ``VARCHAR`` plus a ``CHECK`` constraint
named after the column, so the stored strings and constraint names are those of the schema
before the enums existed.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

from scheduler.domain import FEATURES, KINDS, REGIONS, Feature, ParticipantKind, Region

__all__ = [
    "ACTIVE_STATUSES",
    "FEATURES",
    "KINDS",
    "REGIONS",
    "ROLES",
    "ActorKind",
    "BookingStatus",
    "ChangeKind",
    "ChangeReason",
    "EndpointKind",
    "Feature",
    "JobStatus",
    "MailStatus",
    "MessageFormat",
    "MessageStatus",
    "Origin",
    "ParticipantKind",
    "Region",
    "RequestStatus",
    "Role",
    "RunKind",
    "RunState",
    "SlotState",
    "WeekState",
    "enum_type",
]


class Role(StrEnum):
    """What an account may do: everything, run its bases, or book for its participant."""

    ADMIN = "admin"
    OPERATOR = "operator"
    PARTICIPANT = "participant"


#: The role codes, plain strings (a ``click.Choice`` of enum members would offer their names).
ROLES = tuple(r.value for r in Role)


class BookingStatus(StrEnum):
    """A booking's life: the optimizer proposes (tentative), people confirm, a base locks."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOCKED = "locked"
    CANCELLED = "cancelled"


#: The statuses of a booking that holds its slots.
ACTIVE_STATUSES = (BookingStatus.TENTATIVE, BookingStatus.CONFIRMED, BookingStatus.LOCKED)


class Origin(StrEnum):
    """Who made a booking: a participant directly, an operator, the optimizer, or a file import."""

    PARTICIPANT = "participant"
    OPERATOR = "operator"
    OPTIMIZER = "optimizer"
    IMPORT = "import"


class RequestStatus(StrEnum):
    """A booking request is open until its participant withdraws it."""

    OPEN = "open"
    WITHDRAWN = "withdrawn"


class WeekState(StrEnum):
    """A base's timetable week: drafted by its operators, then published for booking."""

    DRAFT = "draft"
    PUBLISHED = "published"


class SlotState(StrEnum):
    """A published slot is open for booking or blocked by its base."""

    OPEN = "open"
    BLOCKED = "blocked"


class RunKind(StrEnum):
    """What started an optimization run."""

    NIGHTLY = "nightly"
    MANUAL = "manual"
    IMPORT = "import"


class RunState(StrEnum):
    """Where a run is: running, or how it ended."""

    QUEUED = "queued"
    RUNNING = "running"
    APPLIED = "applied"
    NO_CHANGE = "no_change"
    REJECTED = "rejected"
    FAILED = "failed"
    SKIPPED = "skipped"


class ChangeKind(StrEnum):
    """What a run did to one tentative session."""

    ADDED = "added"
    MOVED = "moved"
    DROPPED = "dropped"


class ChangeReason(StrEnum):
    """Why a run made a change; the run report translates it."""

    PLACED = "placed"  # added: the request still had sessions to place
    PREFERRED_BASE = "preferred_base"  # moved to a base the participant prefers more
    PRIME_TIME = "prime_time"  # moved into the prime time the request asked for
    CLOSER = "closer"  # moved to a base nearer the participant
    REBALANCED = "rebalanced"  # moved to make room for other sessions / balance the bases
    WITHDRAWN = "withdrawn"  # dropped: the request is no longer open
    DISPLACED = "displaced"  # dropped: its slots serve sessions that weigh more


class ActorKind(StrEnum):
    """Who made an audited change: a person, the optimizer, or a CLI/system task."""

    USER = "user"
    OPTIMIZER = "optimizer"
    SYSTEM = "system"


class JobStatus(StrEnum):
    """A background job: waiting, claimed by a worker, or ended."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailStatus(StrEnum):
    """An outbox e-mail: waiting (first try or a retry), being sent, delivered, or given up."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class EndpointKind(StrEnum):
    """Where an integration endpoint sends events: a signed webhook or a group robot."""

    WEBHOOK = "webhook"  # JSON, signed as the Standard Webhooks specification says
    WECOM = "wecom"  # a WeCom (企业微信) group robot
    DINGTALK = "dingtalk"  # a DingTalk (钉钉) group robot


class MessageFormat(StrEnum):
    """How a group robot shows an event: plain text or markdown."""

    TEXT = "text"
    MARKDOWN = "markdown"


class MessageStatus(StrEnum):
    """One event for one endpoint: waiting (or between tries), delivered, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _values(enum_class: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


def enum_type(enum_class: type[StrEnum], name: str, length: int = 16) -> Enum:
    """A ``VARCHAR(length)`` column of ``enum_class``'s codes with a ``CHECK`` named ``name``.

    Not a native PostgreSQL enum (adding a member is then a constraint change, not a type
    migration). Strings outside the enum are not refused in Python: the database's ``CHECK``
    refuses them, as it did before, so callers see the same ``IntegrityError``.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_values,
        validate_strings=False,
    )
