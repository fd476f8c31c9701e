"""Booking: free slots, direct bookings under the week's hard rules, requests for the optimizer.

slots     the free-slot query shared by the pages, the API and the booking itself
search    what a participant can book, one offer per time at a base, best first
open_slots  the open slots of published weeks, kept per process until the timetable's version moves
ranking   a search's offers ranked from the kept slots, built only for the page shown
offers    an offer and its score (the participant's fit)
own_week  rule 6 as search asks it: the booking service's check, once per time near a session
rules     the hard rules a direct booking must keep (daily cap, one base a day, overlaps, freeze)
write     the single-statement booking insert (booking, its slots, its holds, the audit row)
service   book: the direct booking, checked, claimed and recorded in one transaction
lifecycle cancel, confirm, lock, unlock, accept and decline a booking once it is made
requests  file and withdraw requests for the optimizer
shortfall why a request is short of sessions, worked out once per change of its week
"""
