"""collector_paused: no cyclic collection inside, the collector as it was found afterwards."""

import gc
import threading

import pytest

from scheduler.heap import collector_paused
from scheduler.io import load_instance
from tests.scheduler.builders import req, week_doc


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_paused_inside_and_running_again_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_nested_blocks_resume_at_the_last_end():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_an_error_inside_still_resumes_it():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad week")
    assert gc.isenabled()


def test_overlapping_blocks_in_two_threads_resume_when_both_end():
    inside, leave = threading.Event(), threading.Event()

    def other():
        with collector_paused():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=other)
    with collector_paused():
        t.start()
        inside.wait(5)
    assert not gc.isenabled(), "the other thread's block is still open"
    leave.set()
    t.join(5)
    assert gc.isenabled()


def test_reading_a_week_leaves_the_collector_running():
    load_instance(week_doc(requests=[req("R1", "P1")]))
    assert gc.isenabled()
