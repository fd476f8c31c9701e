"""Participants as a list: the programme's producers and merchants managed in bulk.

sheet   import participants from an ``.xlsx`` sheet (every row checked first), and its template
"""
