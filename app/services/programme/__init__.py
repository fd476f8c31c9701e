"""The Spring Thunder programme's own concerns, beside booking and timetables.

lots        a producer's harvest lots: record one, list them, lots near their best-before
            with no session (flagged to the operators of the bases that could serve them)
prime       prime-time history: ``prime_recent`` of a week (the four weeks before it), a
            participant's prime sessions per week
categories  same-category sessions at the same time at one base (clashes in the week grid)
"""
