"""Forgot password in the browser, end to end: the login page's link, the e-mail sent by a real
``flask --app wsgi worker`` (Huey on a SQLite file, as in the demo) through a real SMTP server
(aiosmtpd, STARTTLS, AUTH), the link read from the delivered mail, the new password under the
policy, the old password refused and the new one accepted; in Chinese and in English."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.app.services.world import PASSWORD, build_world
from tests.browser.helpers import DESKTOP, PHONE
from tests.mail_server import MailServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
NEW = "春雷-reset-Passphrase-7"


@pytest.fixture
def mailing_site(tmp_path) -> Iterator[tuple[str, MailServer]]:
    """The live site and one worker on a SQLite database and queue, sending through aiosmtpd."""
    server = MailServer(tmp_path).start()
    database = f"sqlite:///{tmp_path / 'site.sqlite'}"
    queue = f"sqlite:///{tmp_path / 'queue.sqlite'}"
    name = f"reset-{uuid.uuid4().hex[:8]}"

    class Site(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database
        WTF_CSRF_ENABLED = True
        QUEUE_URL = queue
        QUEUE_NAME = name

    for key, value in server.config().items():
        setattr(Site, key, value)
    app = create_app(Site)
    with app.app_context():
        db.create_all()
        build_world()
        db.session.remove()
    env = {
        **os.environ,
        **server.env(),
        "DATABASE_URL": database,
        "QUEUE_URL": queue,
        "QUEUE_NAME": name,
        "SECRET_KEY": "worker-of-the-reset-test",
        "JOB_HEARTBEAT_S": "0.5",
        "JOB_REAP_S": "1",
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    web = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{web.server_port}", server
    finally:
        web.shutdown()
        thread.join(timeout=10)
        web.server_close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        server.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(("lang", "viewport"), [("zh_CN", DESKTOP), ("en", PHONE)])
def test_forgotten_password_reset_through_the_delivered_mail(browser, mailing_site, lang, viewport):
    base_url, mail = mailing_site
    zh = lang == "zh_CN"
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{base_url}/auth/login?lang={lang}")
    page.get_by_role("link", name="忘记密码？" if zh else "Forgot password?").click()
    page.fill("#email", "p2@example.test")
    page.get_by_role("button", name="发送重置链接" if zh else "Send me a reset link").click()
    page.wait_for_url(re.compile(r"/auth/login"))
    assert ("如果有账户使用这个地址" if zh else "If an account uses this address") in page.content()

    [message] = mail.wait_for(1, timeout=30)  # sent by the worker, not by the web request
    assert message["To"] == "p2@example.test" and mail.logins == [True]
    link = re.search(r"(http://127\.0\.0\.1:\d+/auth/reset/\S+)", message.get_content()).group(1)

    page.goto(link)
    page.fill("#new_password", "password1")
    page.fill("#confirm", "password1")
    page.locator("form button[type=submit]").click()
    assert ("密码太常见" if zh else "too common") in page.content()  # the policy holds
    page.fill("#new_password", NEW)
    page.fill("#confirm", NEW)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/auth/login"))
    assert ("密码已更改" if zh else "Your password is changed") in page.content()

    page.fill("#username", "p2")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    assert ("用户名或密码错误" if zh else "Wrong username or password") in page.content()
    page.fill("#username", "p2")
    page.fill("#password", NEW)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto(link)
    assert ("这个链接已失效" if zh else "This link does not work any more") in page.content()
    context.close()
