"""Actors sharing one thread (actors/dispatch.py): the strategy and the slot manager run this way, so
a decision reaches the slot manager without a thread hop; pykka's guarantees must hold unchanged."""

from __future__ import annotations

import threading
import time
from typing import Any

import pykka
import pytest
from pykka._envelope import Envelope  # the raw message wrapper ask() uses

from actors.dispatch import DispatchedActor, Dispatcher


class Recorder(DispatchedActor):
    """Records (message, thread) pairs; forwards ("fwd", target, payload) to ``target``."""

    def __init__(self, log: list[tuple[str, Any, str]], name: str) -> None:
        super().__init__()
        self.log = log
        self.name = name
        self.started_on = ""

    def on_start(self) -> None:
        self.started_on = threading.current_thread().name

    def on_receive(self, message: Any) -> Any:
        self.log.append((self.name, message if not isinstance(message, tuple) else message[0], _thread()))
        if isinstance(message, tuple) and message[0] == "fwd":
            message[1].tell(message[2])
            self.log.append((self.name, "after-tell", _thread()))
        if message == "boom":
            raise RuntimeError("boom")
        if message == "where":
            return threading.current_thread()
        return None


def _thread() -> str:
    return threading.current_thread().name


def _wait(cond: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.001)


def test_co_located_actors_share_one_thread_and_a_tell_between_them_runs_after_the_sender_returns() -> None:
    d = Dispatcher("shared")
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    try:
        assert a.ask("where") is b.ask("where")
        assert a.ask("where") is not threading.current_thread()
        log.clear()
        a.tell(("fwd", b, "hello"))
        _wait(lambda: len(log) == 3)
        # b's message is handled on a's thread, and only once a's handler has returned (no preemption)
        assert [(n, m) for n, m, _ in log] == [("a", "fwd"), ("a", "after-tell"), ("b", "hello")]
        assert len({t for _, _, t in log}) == 1
    finally:
        a.stop()
        b.stop()


def test_messages_are_handled_in_the_order_they_were_told_across_the_actors_of_one_thread() -> None:
    d = Dispatcher("fifo")
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    try:
        for i in range(200):
            (a if i % 3 else b).tell(i)
        b.ask("where")  # everything told before is handled
        assert [m for _, m, _ in log if isinstance(m, int)] == list(range(200))
    finally:
        a.stop()
        b.stop()


def test_a_failing_actor_stops_alone_and_its_asks_get_actor_dead() -> None:
    d = Dispatcher("failure")
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    try:
        a.tell("boom")
        _wait(lambda: not a.is_alive())
        assert b.ask("where") is not None  # the other actor on the thread goes on
        with pytest.raises(pykka.ActorDeadError):
            a.ask("where", timeout=1)
        # an exception inside an ask goes back to the asker and the actor lives on
        with pytest.raises(RuntimeError):
            b.ask("boom", timeout=1)
        assert b.is_alive()
    finally:
        b.stop()


def test_the_thread_ends_with_the_last_actor_and_a_restarted_actor_gets_a_new_one() -> None:
    d = Dispatcher("lifecycle")
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start_on(d, log, "a")
    first = a.ask("where")
    a.stop()
    _wait(lambda: d.thread is None)
    first.join(2)
    assert not first.is_alive()
    again = Recorder.start_on(d, log, "again")  # as the supervisor restarts a dead actor
    try:
        second = again.ask("where")
        assert second is not first and second.is_alive()
        assert again.proxy().started_on.get() == second.name  # on_start ran on the actor's thread
    finally:
        again.stop()


def test_an_actor_started_without_a_dispatcher_has_a_thread_of_its_own() -> None:
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start(log, "a")
    b = Recorder.start(log, "b")
    try:
        assert a.ask("where") is not b.ask("where")
        assert a.actor_inbox.qsize() == 0
    finally:
        a.stop()
        b.stop()


def test_a_message_told_while_stopping_is_answered_not_lost() -> None:
    d = Dispatcher("stopping")
    log: list[tuple[str, Any, str]] = []
    a = Recorder.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    try:
        stopped = a.stop(block=False)
        late = a.actor_inbox  # an ask that races the stop: queued behind it
        future = pykka.ThreadingFuture[Any]()
        late.put(Envelope("where", reply_to=future))
        stopped.get(timeout=2)
        with pytest.raises(pykka.ActorDeadError):
            future.get(timeout=2)
    finally:
        b.stop()


class Anywhere(Recorder):
    """A Recorder whose messages (strings starting with "any") may run on another thread."""

    inside = 0
    overlaps = 0  # handlers entered while another was running: must stay 0

    def runs_anywhere(self, message: Any) -> bool:
        return isinstance(message, str) and message.startswith("any")

    def on_receive(self, message: Any) -> Any:
        self.inside += 1
        self.overlaps += self.inside > 1
        time.sleep(0.0002)  # long enough for another thread to try to run one at the same time
        try:
            return super().on_receive(message)
        finally:
            self.inside -= 1


def test_run_here_handles_what_may_run_anywhere_on_the_calling_thread_and_the_rest_on_the_dispatcher() -> (
    None
):
    d = Dispatcher("here")
    log: list[tuple[str, Any, str]] = []
    a = Anywhere.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    try:
        home = a.ask("where").name
        me = _thread()
        log.clear()
        d.run_here(lambda: (a.tell("any-1"), a.tell("home-1"), a.tell("any-2"), b.tell("any-3")))
        # any-1 ran here; home-1 may not, so it and everything after it went to the dispatcher, in order
        assert log[0] == ("a", "any-1", me)
        _wait(lambda: len(log) == 4)
        assert [(n, m) for n, m, _ in log] == [
            ("a", "any-1"),
            ("a", "home-1"),
            ("a", "any-2"),
            ("b", "any-3"),
        ]
        assert [t for _, _, t in log[1:]] == [home] * 3
    finally:
        a.stop()
        b.stop()


def test_run_here_only_tells_while_the_dispatcher_is_busy_and_keeps_each_actors_order() -> None:
    d = Dispatcher("busy")
    log: list[tuple[str, Any, str]] = []
    a = Anywhere.start_on(d, log, "a")
    gate = threading.Event()
    b = Gate.start_on(d, log, "b", gate)
    try:
        home = a.ask("where").name
        log.clear()
        b.tell("wait")  # the dispatcher's thread is inside b's handler
        _wait(lambda: len(log) == 1)
        d.run_here(lambda: a.tell("any-1"))
        assert len(log) == 1  # not run here: the dispatcher was busy, so it was only told
        gate.set()
        _wait(lambda: len(log) == 2)
        assert log[1] == ("a", "any-1", home)
        # many callers at once, each actor's messages still in told order and one at a time
        threads = [
            threading.Thread(target=lambda i=i: d.run_here(lambda: a.tell(f"any-{i}"))) for i in range(2, 40)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a.ask("where")
        assert sorted(int(m[4:]) for _, m, _ in log if str(m).startswith("any-")) == list(range(1, 40))
        assert a.proxy().overlaps.get() == 0
    finally:
        a.stop()
        b.stop()


class Gate(Recorder):
    """Waits at ``gate`` inside its handler."""

    def __init__(self, log: list[tuple[str, Any, str]], name: str, gate: threading.Event) -> None:
        super().__init__(log, name)
        self.gate = gate

    def on_receive(self, message: Any) -> Any:
        out = super().on_receive(message)
        if message == "wait":
            assert self.gate.wait(10)
        return out


class ForwardsAnywhere(Anywhere):
    """Also forwards (``("fwd", target, payload)``) on any thread."""

    def runs_anywhere(self, message: Any) -> bool:
        return isinstance(message, tuple) or super().runs_anywhere(message)


def test_tell_here_handles_at_once_when_idle_and_queues_behind_what_was_told_before() -> None:
    d = Dispatcher("tell-here")
    log: list[tuple[str, Any, str]] = []
    a = ForwardsAnywhere.start_on(d, log, "a")
    b = Recorder.start_on(d, log, "b")
    gate = threading.Event()
    g = Gate.start_on(d, log, "g", gate)
    try:
        home = a.ask("where").name
        me = _thread()
        log.clear()
        # idle, nothing queued: handled on this thread; what it tells follows the usual rules
        d.tell_here(a, ("fwd", b, "any-b"))
        assert log[0] == ("a", "fwd", me)
        _wait(lambda: len(log) == 3)
        assert [(n, m) for n, m, _ in log] == [("a", "fwd"), ("a", "after-tell"), ("b", "any-b")]
        assert log[2][2] == home  # b allows nothing elsewhere: its message went to the dispatcher
        # told to an actor that may run it here, from a handler run here: handled here, after that handler
        c = ForwardsAnywhere.start_on(d, log, "c")
        c.ask("where")
        log.clear()
        d.tell_here(a, ("fwd", c, "any-c"))
        assert log == [("a", "fwd", me), ("a", "after-tell", me), ("c", "any-c", me)]
        c.stop()
        # a message the actor may not run elsewhere is only told
        log.clear()
        d.tell_here(a, "home-1")
        _wait(lambda: len(log) == 1)
        assert log[0] == ("a", "home-1", home)
        # busy dispatcher: only told, and handled there after what was told before it
        log.clear()
        g.tell("wait")
        _wait(lambda: len(log) == 1)
        a.tell("any-1")
        d.tell_here(a, "any-2")
        assert len(log) == 1
        gate.set()
        _wait(lambda: len(log) == 3)
        assert [(n, m, t) for n, m, t in log[1:]] == [("a", "any-1", home), ("a", "any-2", home)]
        # a stopped actor: ActorDeadError, as tell gives
        a.stop()
        with pytest.raises(pykka.ActorDeadError):
            d.tell_here(a, "any-3")
    finally:
        for ref in (a, b, g):
            if ref.is_alive():
                ref.stop()
