"""Background work: the clock (APScheduler, one process) that starts the periodic jobs.

clock   the job list as data and the ``flask --app wsgi scheduler`` process
"""
