"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``. Starts no scheduler."""

from app import create_app

app = create_app()
