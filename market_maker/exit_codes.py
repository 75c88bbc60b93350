"""The process exit codes of every command (stable, documented in the README): one table.

A leaf module, so the command line, the actor system and the control verbs all name the same codes
without importing each other.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1  # an error at run time (exchange, store, I/O, a bug)
EXIT_USAGE = 2  # bad configuration or command-line usage
EXIT_NOT_RUNNING = 3  # no bot is running (status, pause, resume)
EXIT_UNSAFE = 4  # unsafe to trade (account checks, streams that do not connect, doctor)
