"""Helper for the PostgreSQL tests that prove one transaction waits on another's lock."""

from __future__ import annotations

import threading
from collections.abc import Callable


def waits_until_commit(conn, work: Callable[[], None], why: str, *, timeout: float = 60) -> None:
    """Run ``work`` in a thread while ``conn`` holds its locks uncommitted: after 1.5 s it must
    still be waiting (``why`` says for what); then ``conn`` commits and ``work`` finishes."""
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=1.5)
    assert thread.is_alive(), why
    conn.commit()
    thread.join(timeout=timeout)
    assert not thread.is_alive(), f"still waiting after the commit: {why}"
