"""The SMTP connection Chunlei sends through: Flask-Mailman's, with the server always verified.

Flask-Mailman's STARTTLS upgrade uses Python's unverified default context (any certificate is
accepted, so a man in the middle reads the mail and the login). Here both STARTTLS and implicit
TLS use one verifying context: the system's certificate authorities plus ``MAIL_CA_FILE`` (a
private CA), with the host name checked. The login (AUTH) is only sent when a user name is set.
"""

from __future__ import annotations

import smtplib
import ssl

from flask_mailman.backends.smtp import EmailBackend as MailmanSMTPBackend
from flask_mailman.utils import DNS_NAME


class EmailBackend(MailmanSMTPBackend):
    """An SMTP backend verifying the server's certificate on STARTTLS and on implicit TLS."""

    #: the open connection, set by the base class (Flask-Mailman ships no type information)
    connection: smtplib.SMTP | None

    def __init__(self, *args, ca_file: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ca_file = ca_file

    @property
    def verifying_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.ca_file:
            context.load_default_certs()  # the private CA besides the system's
        return context

    def open(self) -> bool | None:
        """Connect, upgrade (STARTTLS) or wrap (TLS) with verification, log in; as the base."""
        if self.connection:
            return False
        params: dict = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        if self.use_ssl:
            params["context"] = self.verifying_context
        try:
            self.connection = self.connection_class(self.host, self.port, **params)
            if self.use_tls and not self.use_ssl:
                self.connection.starttls(context=self.verifying_context)
            if self.username:
                self.connection.login(self.username, self.password or "")
            return True
        except OSError:
            self.close_quietly()
            if not self.fail_silently:
                raise
            return None

    def close_quietly(self) -> None:
        """Drop a half-open connection (a refused STARTTLS or login) without raising."""
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None
