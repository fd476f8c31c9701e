"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with STARTTLS or implicit TLS under
a test certificate authority (trustme), AUTH LOGIN/PLAIN, and answers a test can script
(refuse the next N messages, then accept)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session

USER, PASSWORD = "chunlei-mailer", "s3cret-mail-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Session(Session):
    """aiosmtpd 1.4 sets the deprecated ``login_data`` on every successful AUTH (a
    DeprecationWarning, an error under the suite's warning filter): keep it without warning."""

    @property
    def login_data(self):
        return self._login_data

    @login_data.setter
    def login_data(self, value) -> None:
        self._login_data = value


class _SMTP(SMTP):
    def _create_session(self) -> Session:
        return _Session(self.loop)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._auth_require_tls = False  # implicit TLS: the connection is already encrypted


class _Controller(Controller):
    def factory(self):
        return _SMTP(self.handler, **self.SMTP_kwargs)


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, _server, session, envelope) -> str:
        with self.server.lock:
            if self.server.refuse > 0:
                self.server.refuse -= 1
                self.server.refused += 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.server.messages.append(message)
            self.server.logins.append(session.authenticated)
        return "250 2.0.0 queued"


class MailServer:
    """One aiosmtpd server; ``tls`` is None (plain), "starttls" (required) or "ssl" (implicit).

    With ``auth`` the server requires AUTH (over TLS) with ``USER``/``PASSWORD``.
    """

    def __init__(
        self, tmp: Path, *, tls: str | None = "starttls", auth: bool = True, port: int | None = None
    ) -> None:
        self.tls, self.auth = tls, auth
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.logins: list[bool] = []
        self.refuse = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.ca = trustme.CA()
        self.ca_file = tmp / f"mail-ca-{self.port}.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        kwargs: dict = {"hostname": "127.0.0.1", "port": self.port}
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif tls == "ssl":
            kwargs.update(ssl_context=context)
        if auth:
            kwargs.update(auth_required=True, authenticator=self._authenticate)
        self.controller = _Controller(_Handler(self), **kwargs)

    @staticmethod
    def _authenticate(_server, _session, _envelope, mechanism, auth_data) -> AuthResult:
        good = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=good, handled=False)

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self) -> dict:
        """The app settings that send through this server."""
        cfg = {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": self.tls == "starttls",
            "MAIL_USE_SSL": self.tls == "ssl",
            "MAIL_CA_FILE": str(self.ca_file),
            "MAIL_TIMEOUT": 5.0,
            "MAIL_USERNAME": USER if self.auth else None,
            "MAIL_PASSWORD": PASSWORD if self.auth else None,
        }
        return cfg

    def env(self) -> dict[str, str]:
        """The same settings as environment variables (for a worker process)."""
        out = {}
        for key, value in self.config().items():
            if value is None:
                continue
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.05)
        return list(self.messages)
