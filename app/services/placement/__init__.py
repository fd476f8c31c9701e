"""Instant placement and the live waiting list.

neighbourhood  the small part of the live week a placement reads, as an instance
fingerprint    what a neighbourhood depends on, read when built and again under apply's locks
apply          write a placement's changes in one transaction, under the week's apply lock
place          the jobs' bodies: place queued requests, refill freed capacity, expire proposals
waitlist       the line of waiting requests (priority, waiting time, fit), per week and per base
trigger        enqueue the jobs after the write that motivates them has committed
"""
