"""Chunlei's scheduler: the week as plain data, the CP-SAT model, greedy baseline, validator.

Plain Python plus OR-Tools; nothing here imports Flask except ``jobs.py``.
"""
