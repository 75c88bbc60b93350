"""Dispatched actors: pykka actors that may share one thread, so a message between them is no thread hop.

A :class:`Dispatcher` is one thread with one run queue. Each actor attached to it keeps its own FIFO
inbox; every message told to it puts the actor once on the run queue, and the thread handles the
messages one at a time in the order they were told, across all its actors. A message from one of its
actors to another is then handled right after the sender's handler returns, with no queue wake-up and
no GIL hand-off between threads: on the tick-to-order path (strategy -> slot manager) that hop cost
about 70 us at the median and most of a millisecond at p99 on a two-core box. Python threads never run
Python code in parallel, so two actors on one thread lose no throughput.

Another thread may also run a dispatcher's messages itself when the dispatcher is idle
(:meth:`Dispatcher.run_here`): the market-data stream's thread decides on a price and sends the
decision's cancels without waking the decisions thread (that wake-up was most of the first ~150 us of
tick-to-order). Only messages an actor allows (:meth:`DispatchedActor.runs_anywhere`: nothing tied to
its thread, such as its store connection or an open transaction) run there; the first one that is not
allowed, and everything after it, goes to the dispatcher's thread, and a handler can leave its rest to
that thread ahead of its other messages (:meth:`DispatchedActor.continue_at_home`). A lock held while
any message is handled keeps one thread at a time per dispatcher, so each actor still sees its messages
one at a time, in told order. Inside run_here a message that is next in told order anyway skips the
queue: :meth:`Dispatcher.tell_here` calls an idle actor's handler at once (the price tick), and a
message told from a handler there to an actor with nothing queued, while nothing else waits, is handled
right after that handler returns without going through the inbox (the decision to the slot manager).

Everything else is pykka's threading actor, unchanged: ``ActorRef.tell`` / ``ask`` / ``stop``,
``on_start`` / ``on_stop`` / ``on_failure`` on the actor's (shared) thread, a failure stops only the
failing actor, and a stopped actor's unhandled asks get ``ActorDeadError``.

The rule that comes with sharing: an actor must never *block* on a co-located actor (``ask(...)`` and
waiting for the answer, from a handler); the answer would wait behind the asker. Actors here only
``tell`` each other; outside callers (the supervisor, the status endpoint) ``ask`` from their own
threads. An actor started with :meth:`DispatchedActor.start` (no dispatcher given) gets a thread of
its own, exactly like ``pykka.ThreadingActor``.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

import pykka
from pykka import ActorDeadError, ActorRegistry
from pykka._envelope import Envelope
from pykka.messages import ProxyCall, ProxyGetAttr, ProxySetAttr, _ActorStop

log = logging.getLogger(__name__)

# pykka's own messages (a stop request, proxy calls): handled by pykka, every other one by on_receive
_PYKKA_MESSAGES = frozenset((_ActorStop, ProxyCall, ProxyGetAttr, ProxySetAttr))
_START_ON: contextvars.ContextVar[Dispatcher | None] = contextvars.ContextVar("start_on", default=None)


class Dispatcher:
    """One thread running the messages of the actors attached to it, one at a time, in told order.

    The thread starts with the first actor attached and ends when no attached actor is alive (a
    restarted actor attached later starts it again).

    Another thread may run a few of its messages itself (:meth:`run_here`), as the market-data stream
    does for a price tick: no thread hop between the frame and the decision. Whoever runs a message
    holds ``_claim``, so an actor still runs on one thread at a time, its messages in told order.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._runs: queue.SimpleQueue[DispatchedActor] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._claim = threading.Lock()  # held while a message is handled, by whichever thread
        self._here: collections.deque[DispatchedActor] = collections.deque()  # run_here's own entries
        self._here_thread = 0  # threading.get_ident() of the thread inside run_here (0: none)
        # inside run_here: the next message to handle, told to an actor with nothing queued while nothing
        # else was waiting here, kept out of its inbox (see _Inbox.put)
        self._next: tuple[DispatchedActor, Envelope[Any]] | None = None
        self._live = 0  # attached actors not stopped yet
        self._thread: threading.Thread | None = None
        self._generation = 0  # threads started (names them)

    @property
    def thread(self) -> threading.Thread | None:
        """The running thread (None before the first actor and after the last one stopped)."""
        return self._thread

    def attach(self, actor: DispatchedActor) -> None:
        """Run ``actor`` here: its ``on_start`` first, then its messages."""
        with self._lock:
            self._live += 1
            if self._thread is None:
                self._generation += 1
                self._thread = threading.Thread(
                    target=self._run, name=f"{self.name}-{self._generation}", daemon=actor.use_daemon_thread
                )
                self._thread.start()
        self._runs.put(actor)  # the start item: handled before any message told after start()

    def post(self, actor: DispatchedActor) -> None:
        """``actor`` has one more message to handle."""
        if self._here_thread == threading.get_ident():
            self._here.append(actor)  # told inside run_here: handled there, or handed on at its end
        else:
            self._runs.put(actor)

    def run_here(self, tell: Callable[[], object]) -> None:
        """Call ``tell`` (which tells actors of this dispatcher), then handle on this thread the messages it
        and they cause, as long as each actor allows it (:meth:`DispatchedActor.runs_anywhere`); the rest
        goes to the dispatcher's thread. When that thread is busy, ``tell`` alone is called."""
        if self._thread is None or not self._claim.acquire(blocking=False):
            tell()
            return
        try:
            self._here_thread = threading.get_ident()
            tell()
            self._run_told()
        finally:
            self._hand_on()

    def tell_here(self, ref: pykka.ActorRef[Any], message: Any) -> None:
        """``ref.tell(message)`` for an actor of this dispatcher, then as :meth:`run_here`. When this thread
        may run it at once (the dispatcher idle, nothing queued for that actor, and it allows the message)
        its handler is called straight away: what the tell and the queue turn would come to, without the
        envelope, the inbox and the turn (~40 us of cold code on the tick-to-order path). Raises
        ``ActorDeadError`` as ``tell`` does."""
        inbox = ref.actor_inbox
        if (
            not isinstance(inbox, _Inbox)
            or (actor := inbox.actor) is None
            or self._thread is None
            or not self._claim.acquire(blocking=False)
        ):
            ref.tell(message)
            return
        try:
            self._here_thread = threading.get_ident()
            # the started/stopped checks, the dispatcher and the inbox read directly: each call is a few us
            # of cold code on every price tick
            stopped = actor.actor_stopped
            if (
                actor._dispatcher is self
                and not inbox._items
                and getattr(actor, "_started", False)
                and not stopped.is_set()
                and actor.runs_anywhere(message)
            ):
                actor._handle(message, None)  # told and taken at once: nothing was queued before it
                if stopped.is_set():
                    self._runs.put(actor)  # its thread does the bookkeeping of a stopped actor
            else:
                ref.tell(message)
            if self._next is not None or self._here:
                self._run_told()
        finally:
            self._hand_on()

    def _run_told(self) -> None:
        """Inside run_here (claim held): handle the queued messages while their actors allow it."""
        here = self._here
        while True:
            nxt = self._next
            if nxt is not None:  # told before anything in ``here``: first
                self._next = None
                actor, envelope = nxt
                if actor.actor_stopped.is_set():
                    _answer_dead(actor, envelope)
                    continue
                actor._handle(envelope.message, envelope.reply_to)
                if actor.actor_stopped.is_set():
                    self._runs.put(actor)
                continue
            if not here:
                return
            actor = here[0]
            if not actor.runs_anywhere_next():
                break
            here.popleft()
            actor._dispatch_one()
            if actor.actor_stopped.is_set():
                self._runs.put(actor)  # its thread does the bookkeeping of a stopped actor

    def _hand_on(self) -> None:
        """End of run_here: what is left goes to the dispatcher's thread; the claim is released."""
        self._here_thread = 0
        nxt, self._next = self._next, None
        if nxt is not None:  # not handled (a failure on the way out): ahead of whatever came after it
            inbox = nxt[0].actor_inbox
            assert isinstance(inbox, _Inbox)
            inbox.put_first(nxt[1])
        here = self._here
        while here:
            self._runs.put(here.popleft())
        self._claim.release()

    def _run(self) -> None:
        claim = self._claim
        while True:
            actor = self._runs.get()
            with claim:
                actor._dispatch_one()
            if actor.finished_here():
                with self._lock:
                    self._live -= 1
                    if self._live == 0:
                        self._thread = None
                        self._drain_dead()
                        return

    def _drain_dead(self) -> None:
        """The last actor stopped: answer whatever is still queued for stopped actors (under the lock)."""
        while True:
            try:
                actor = self._runs.get_nowait()
            except queue.Empty:
                return
            actor._dispatch_one()


class _Inbox:
    """An actor's own FIFO; putting a message also queues the actor on its dispatcher."""

    def __init__(self) -> None:
        self._items: collections.deque[Envelope[Any]] = collections.deque()
        self._lock = threading.Lock()
        self.actor: DispatchedActor | None = None  # set when the actor is attached

    def put(self, envelope: Envelope[Any], /) -> None:
        with self._lock:
            actor = self.actor
            if actor is not None and not self._items and actor.next_here(envelope):
                return  # handled next by the thread inside run_here, without a queue turn
            self._items.append(envelope)
        if actor is not None:
            actor.dispatcher_of().post(actor)

    def get(self) -> Envelope[Any]:
        return self._items.popleft()

    def put_first(self, envelope: Envelope[Any], /) -> None:
        """Put ``envelope`` ahead of every message waiting (the actor's own continuation)."""
        with self._lock:
            self._items.appendleft(envelope)
            actor = self.actor
        if actor is not None:
            actor.dispatcher_of().post(actor)

    def peek(self) -> Any:
        """The next message (None when there is none)."""
        items = self._items
        return items[0].message if items else None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        """Messages waiting (the mailbox size the benchmarks and tests watch)."""
        return len(self._items)

    def bind(self, actor: DispatchedActor) -> int:
        """Attach to ``actor``; how many messages arrived before (each needs its run queue entry)."""
        with self._lock:
            self.actor = actor
            return len(self._items)


class Continue:
    """A handler's rest, to run on the dispatcher's thread (:meth:`DispatchedActor.continue_at_home`)."""

    __slots__ = ("then",)

    def __init__(self, then: Callable[[], None]) -> None:
        self.then = then


class DispatchedActor(pykka.ThreadingActor):
    """A pykka threading actor whose thread may be shared with others (see the module docstring)."""

    _dispatcher: Dispatcher | None = None
    _finished = False

    @classmethod
    def start_on(cls, dispatcher: Dispatcher, *args: Any, **kwargs: Any) -> pykka.ActorRef[Any]:
        """Start an actor of this class on ``dispatcher``'s thread (``args`` go to the constructor)."""
        token = _START_ON.set(dispatcher)
        try:
            return cls.start(*args, **kwargs)
        finally:
            _START_ON.reset(token)

    @staticmethod
    def _create_actor_inbox() -> Any:
        return _Inbox()

    def _start_actor_loop(self) -> None:
        dispatcher = _START_ON.get() or Dispatcher(f"{self.__class__.__name__}")
        self._dispatcher = dispatcher
        inbox = self.actor_inbox
        assert isinstance(inbox, _Inbox)
        early = inbox.bind(self)
        dispatcher.attach(self)
        for _ in range(early):
            dispatcher.post(self)

    def dispatcher_of(self) -> Dispatcher:
        """The dispatcher this actor runs on."""
        assert self._dispatcher is not None
        return self._dispatcher

    def runs_anywhere(self, message: Any) -> bool:
        """Whether ``message`` may be handled on a thread other than the dispatcher's (see
        :meth:`Dispatcher.run_here`): only where the handler uses nothing tied to its thread (a database
        connection, an open transaction). No, unless the actor says so."""
        return False

    def next_here(self, envelope: Envelope[Any]) -> bool:
        """Called by this actor's inbox for a message told while nothing is queued for it: when the thread
        telling it is inside its dispatcher's :meth:`Dispatcher.run_here`, nothing else waits there and
        the message may run on that thread, it becomes the next one handled there (True); its place in
        told order is the same, without the envelope going through the inbox and a queue turn."""
        d = self._dispatcher
        if d is None or d._next is not None or d._here or d._here_thread != threading.get_ident():
            return False
        if not getattr(self, "_started", False) or self.actor_stopped.is_set():
            return False
        if not self.runs_anywhere(envelope.message):
            return False
        d._next = (self, envelope)
        return True

    def runs_anywhere_next(self) -> bool:
        """:meth:`runs_anywhere` for the next message (True when there is none: nothing is handled)."""
        if not getattr(self, "_started", False) or self.actor_stopped.is_set():
            return False
        inbox = self.actor_inbox
        assert isinstance(inbox, _Inbox)
        message = inbox.peek()
        return message is None or self.runs_anywhere(message)

    def on_home_thread(self) -> bool:
        """True on the dispatcher's own thread (False inside another thread's :meth:`Dispatcher.run_here`)."""
        d = self._dispatcher
        return d is None or threading.current_thread() is d.thread  # not started: called directly (tests)

    def continue_at_home(self, then: Callable[[], None]) -> None:
        """Run ``then`` on the dispatcher's thread before any other message of this actor."""
        inbox = self.actor_inbox
        assert isinstance(inbox, _Inbox)
        inbox.put_first(Envelope(Continue(then)))

    def finished_here(self) -> bool:
        """True exactly once: the first time the dispatcher sees this actor stopped."""
        if self._finished or not self.actor_stopped.is_set():
            return False
        self._finished = True
        return True

    def _dispatch_one(self) -> None:
        """Handle one queued item: the start, or one message (pykka's loop body, one turn)."""
        if not getattr(self, "_started", False):
            self._started = True
            self._actor_loop_setup()  # on_start; a failure stops the actor
            return
        inbox = self.actor_inbox
        if inbox.empty():
            return  # its messages were answered when it stopped
        envelope = inbox.get()
        if self.actor_stopped.is_set():
            _answer_dead(self, envelope)
            return
        self._handle(envelope.message, envelope.reply_to)

    def _handle(self, message: Any, reply_to: Any) -> None:
        """Handle one message (pykka's loop body): answer ``reply_to`` (an ask's future) or, for a tell
        that failed, run the failure handling that stops this actor."""
        try:
            kind = type(message)
            if kind is Continue:
                response = message.then()
            elif kind in _PYKKA_MESSAGES:  # stop, proxy calls: pykka's own handling
                response = self._handle_receive(message)
            else:
                response = self.on_receive(message)
            if reply_to is not None:
                reply_to.set(response)
        except Exception:
            if reply_to is not None:
                log.info("exception returned from %s to its caller", self, exc_info=sys.exc_info())
                reply_to.set_exception()
            else:
                self._handle_failure(*sys.exc_info())
                try:
                    self.on_failure(*sys.exc_info())
                except Exception:
                    self._handle_failure(*sys.exc_info())
        except BaseException:
            log.debug("%r in %s: stopping all actors", sys.exc_info()[1], self)
            self._stop()
            ActorRegistry.stop_all(block=False)  # never wait here: co-located actors stop on this thread
        if self.actor_stopped.is_set():
            inbox = self.actor_inbox
            while not inbox.empty():  # as pykka's teardown: nothing more is handled
                _answer_dead(self, inbox.get())


def _answer_dead(actor: DispatchedActor, envelope: Envelope[Any]) -> None:
    """A stopped actor's queued message: a stop request is answered, other asks get ActorDeadError."""
    if envelope.reply_to is None:
        return
    if isinstance(envelope.message, _ActorStop):
        envelope.reply_to.set(None)
    else:
        error = ActorDeadError(f"{actor.actor_ref} stopped before handling the message")
        envelope.reply_to.set_exception(exc_info=(ActorDeadError, error, None))
