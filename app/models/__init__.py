"""Every model, re-exported: ``from app.models import Hub, Slot, Booking``.

Naming: a livestream *base* is the class ``Hub`` (table ``hubs``) so it never clashes with
SQLAlchemy's declarative ``Base``; its ``code`` is the base id users see ("B017"). Every entity
users see has such a ``code`` (studio "B017-S1", slot "SL004211", participant "P00042",
request "R000381", booking "K000123"); integer ``id`` columns are private surrogate keys.

Modules, one per aggregate:
  users         User, Role, operator_hubs (accounts; operators scoped to their bases),
                LoginSession (one signed-in browser, ended by logout),
                PasswordReset (a one-time, time-limited reset link sent by e-mail)
  hubs          Hub, Studio (bases and studios with features)
  timetable     PlanningWeek (a week and its policy), TimetableTemplate, TemplateBlock,
                TimetableWeek (a base's week, draft → published), Slot (open / blocked),
                TimetableVersion (bumped by triggers: what slot search's caches are keyed by)
  participants  Participant (producer or merchant, priority 1–3, category)
  harvest       HarvestLot (a producer's perishable lot), PrimeRecent (imported prime history)
  profiles      ParticipantProfile (city, product categories beyond the exchange format)
  requests      BookingRequest, PreferredHub, request_allowed_hubs
  bookings      Booking, BookingSlot (history), SlotHold (live, unique per slot)
  runs          OptimizationRun, RunChange, RunFile
  jobs          Job (the background job queue's ledger), ProcessHeartbeat (the clock's sign of life)
  audit         AuditEvent
  notification  Notification, OutboxEmail (in-app messages, e-mail outbox)
  webhooks      WebhookEndpoint, WebhookMessage, WebhookAttempt (outgoing webhooks, group robots)
  vocabulary    the StrEnums of every stored status, state and kind (Role, BookingStatus, ...)
Instants are ``types.UTCDateTime``: stored in UTC, returned time-zone aware.
"""

from app.models.audit import AuditEvent
from app.models.bookings import Booking, BookingSlot, SlotHold, booking_code
from app.models.harvest import HarvestLot, PrimeRecent
from app.models.hubs import Hub, Studio
from app.models.jobs import Job, ProcessHeartbeat
from app.models.notification import Notification, OutboxEmail
from app.models.participants import Participant
from app.models.profiles import CATEGORIES, ParticipantProfile
from app.models.requests import BookingRequest, PreferredHub, request_allowed_hubs
from app.models.runs import OptimizationRun, RunChange, RunFile, changes_per_base
from app.models.timetable import (
    PlanningWeek,
    Slot,
    TemplateBlock,
    TimetableTemplate,
    TimetableVersion,
    TimetableWeek,
)
from app.models.types import UTCDateTime, utcnow
from app.models.users import LoginSession, PasswordReset, User, operator_hubs
from app.models.vocabulary import (
    ACTIVE_STATUSES,
    FEATURES,
    KINDS,
    REGIONS,
    ROLES,
    ActorKind,
    BookingStatus,
    ChangeKind,
    EndpointKind,
    Feature,
    JobStatus,
    MessageFormat,
    MessageStatus,
    Origin,
    ParticipantKind,
    Region,
    RequestStatus,
    Role,
    RunKind,
    RunState,
    SlotState,
    WeekState,
)
from app.models.webhooks import (
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    webhook_endpoint_hubs,
)

__all__ = [
    "ActorKind",
    "booking_code",
    "BookingStatus",
    "ChangeKind",
    "EndpointKind",
    "Feature",
    "Job",
    "JobStatus",
    "MessageFormat",
    "MessageStatus",
    "Origin",
    "ParticipantKind",
    "Region",
    "RequestStatus",
    "RunKind",
    "RunState",
    "SlotState",
    "WeekState",
    "ACTIVE_STATUSES",
    "AuditEvent",
    "Booking",
    "BookingRequest",
    "BookingSlot",
    "FEATURES",
    "HarvestLot",
    "Hub",
    "KINDS",
    "LoginSession",
    "Notification",
    "OptimizationRun",
    "PasswordReset",
    "OutboxEmail",
    "CATEGORIES",
    "Participant",
    "ParticipantProfile",
    "PlanningWeek",
    "PreferredHub",
    "PrimeRecent",
    "ProcessHeartbeat",
    "REGIONS",
    "ROLES",
    "Role",
    "RunChange",
    "RunFile",
    "Slot",
    "SlotHold",
    "Studio",
    "TemplateBlock",
    "TimetableTemplate",
    "TimetableVersion",
    "TimetableWeek",
    "UTCDateTime",
    "User",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "changes_per_base",
    "webhook_endpoint_hubs",
    "operator_hubs",
    "request_allowed_hubs",
    "utcnow",
]
