"""The exchange format: the database's week as ``scheduler.domain`` data and back.

mapping   rows as the format's participants, bases, requests and policy (one mapping each)
export    the week as ``livehub-instance/1`` and its bookings as ``livehub-plan/1``
importer  a ``livehub-instance/1`` week into an empty database
apply     validate a plan, then replace the movable bookings in one transaction
pairing   the one rule pairing old and new sessions as moves (time order), shared with runs.diff
"""
