"""Booking: free slots, direct bookings under the week's hard rules, requests for the optimizer.

slots     the free-slot query shared by the pages, the API and the booking itself
rules     the hard rules a direct booking must keep (daily cap, one base a day, overlaps, freeze)
write     the single-statement booking insert (booking, its slots, its holds, the audit row)
service   book: the direct booking, checked, claimed and recorded in one transaction
lifecycle cancel, confirm, lock, unlock, accept and decline a booking once it is made
requests  file and withdraw requests for the optimizer
shortfall why a request is short of sessions, worked out once per change of its week
"""
