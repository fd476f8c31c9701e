"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``. Starts no scheduler."""

import gc

from app import create_app

app = create_app()

# Everything built so far (modules, the app, its mappers and schemas) lives as long as the
# process. Freezing it keeps the collector from scanning it again: without this, each full
# collection in a loaded worker walked ~135,000 objects and held every thread for 80–170 ms.
gc.freeze()
