"""The use cases, one package per capability; web pages, the JSON API, the CLI and the jobs share them.

accounts    who may do what: accounts, access rules, the audit trail
booking     free slots, direct bookings with the hard rules, requests for the optimizer
timetable   templates, a base's week (draft, publish, block), the grid, dashboards, calendars
exchange    the week and its plans as ``livehub-instance/1`` / ``livehub-plan/1`` files
runs        re-optimization: claim a week, solve in a child, apply, diff, report, notify
notify      notifications in the app and the e-mail outbox
spreadsheet CSV files safe to open in a spreadsheet (no formula cells)
errors      ServiceError: the one family of refusals (HTTP status, stable code, message, detail)
"""
