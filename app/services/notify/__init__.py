"""Telling people: notifications in the app and the e-mail outbox.

messages  notifications, booking events, the outbox and its SMTP sender
"""
