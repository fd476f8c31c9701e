"""A base's timetable: templates, weeks, slots, and what operators see of them.

weeks     planning weeks, their bounds and the site's time zone
service   templates, generating and publishing a base's week, blocking slots, studios
grid      the week grid (studios x days x hours) and the live holds
reports   the dashboard figures and the bookings CSV
calendar  iCalendar feeds of timetables and sessions
"""
