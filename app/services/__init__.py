"""The use cases, one module each; web pages, the JSON API, the CLI and the nightly job share them.

week_export   the database's week as ``scheduler.domain`` data (export-week, export-plan)
week_import   a ``livehub-instance/1`` week into an empty database (import-week)
plan_apply    validate a plan, then replace the movable bookings in one transaction
accounts      create accounts (admin, operator bound to bases, participant account)
weeks         planning weeks, their bounds and the site's time zone
booking*      book, cancel, confirm, lock, with the hard rules; requests
timetable     templates, generating and publishing a base's week, blocking slots
reoptimize    the nightly re-optimization around ``plan_apply`` (run_* : its guard, diff, report)
audit, notify the audit trail and notifications
"""
