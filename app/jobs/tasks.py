"""Every task module, imported so a worker (and every enqueuing process) knows every job kind.

Add one import line per module of ``@task`` functions.
"""

from app.jobs import (
    mail,  # noqa: F401  (mail.send)
    placement,  # noqa: F401  (placement.requests, .refill, .expire)
    runs,  # noqa: F401  (runs.reoptimize)
    webhooks,  # noqa: F401  (webhooks.deliver)
    whatif,  # noqa: F401  (whatif.run)
)
