"""Logging off the trading threads: the caller enqueues the record, one writer thread formats and writes.

A log call on the order path (the slot manager logs every order) used to format the line, mask secrets
and write it to the stream and the rotating file in the actor's own thread. Now the root logger's only
handler of ours is a :class:`HandOff` (a ``QueueHandler``) and a ``QueueListener`` thread runs the real
handlers, their masking filters and formatters. Nothing is dropped: the queue is unbounded, and
:func:`stop_handoff` (at exit, or when logging is installed again) drains it before returning.
"""

from __future__ import annotations

import atexit
import enum
import logging
import logging.handlers
import queue
import threading
from decimal import Decimal
from fractions import Fraction

# Arguments of these types cannot change between the log call and the writer thread formatting them.
_IMMUTABLE = (str, int, float, Decimal, Fraction, bytes, type(None), enum.Enum)

_listener: logging.handlers.QueueListener | None = None
_queue: queue.Queue[logging.LogRecord] | None = None


class HandOff(logging.handlers.QueueHandler):
    """Puts each record on the writer thread's queue, formatted there (not in the calling thread).

    A warning or an error returns only once it is written (with every line before it, in order): they
    are rare, off the order path, and often the last words before an exit or a crash.
    """

    def __init__(self, q: queue.Queue[logging.LogRecord], writer: threading.Thread | None) -> None:
        super().__init__(q)
        self._pending = q
        self._writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        """Enqueue; for WARNING and above, wait until the writer has written it."""
        super().emit(record)
        if record.levelno >= logging.WARNING and threading.current_thread() is not self._writer:
            self._pending.join()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Keep the record as it is (the writer formats it), unless an argument may change meanwhile
        (a list, a dict, an object): then its message is rendered now, as the caller saw it."""
        args = record.args
        if args and not all(
            isinstance(a, _IMMUTABLE) for a in (args.values() if isinstance(args, dict) else args)
        ):
            record.msg, record.args = record.getMessage(), None
        return record


def start_handoff(handlers: list[logging.Handler]) -> HandOff:
    """Stop any earlier writer (draining it), start one running ``handlers``; the handler for the root."""
    global _listener, _queue
    stop_handoff()
    _queue = queue.Queue()
    _listener = logging.handlers.QueueListener(_queue, *handlers, respect_handler_level=True)
    _listener.start()
    return HandOff(_queue, _listener._thread)


def flush_handoff() -> None:
    """Wait until every record logged so far is written by the writer thread."""
    if _queue is not None:
        _queue.join()
    for h in _listener.handlers if _listener is not None else ():
        h.flush()


def stop_handoff() -> None:
    """Write what is queued, stop the writer thread and close its handlers (nothing when none runs)."""
    global _listener, _queue
    listener, _listener, _queue = _listener, None, None
    if listener is not None:
        listener.stop()  # enqueues a sentinel and joins: every record before it is handled first
        for h in listener.handlers:
            h.close()  # flushes; closing again at logging.shutdown() is harmless


atexit.register(stop_handoff)  # registered after logging's own shutdown hook, so it runs before it
