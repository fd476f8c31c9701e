"""Telling people: notifications in the app and the e-mail outbox.

messages  notifications, booking events, the e-mails they put in the outbox
mailer    delivering the outbox from the job queue (claim, send, retry with back-off, fail)
smtp      the SMTP connection: Flask-Mailman's, verifying the server on STARTTLS and TLS
"""
