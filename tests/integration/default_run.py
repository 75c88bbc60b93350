"""The README's run command as a user types it: ``python -m market_maker run`` with no configuration
(paper trading on the built-in simulator, config/default.yaml), in its own working directory.

    with DefaultRun(tmp_path) as bot:               # started; its log goes to bot.log_path
        bot.wait_status(lambda doc: doc["orders"]["open_own"] > 0)
        bot.cli("status")                            # any verb, same environment, same directory
        bot.url()                                    # the ops address the bot recorded in its store
    bot.code                                         # after a Ctrl-C (SIGINT) stop

Only ``MM_ENGINE__DATABASE`` / ``MM_BOT__ID`` are set (to keep two runs apart), so every verb finds the
bot the way a user's would: through config/default.yaml and the store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 120.0  # generous: a busy 2-core box


class DefaultRun:
    """One default ``run`` process; see the module docstring."""

    def __init__(
        self,
        tmp_path: Path,
        bot_id: str = "paper1",
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.dir = tmp_path / bot_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
        self.env.update(
            MM_ENGINE__DATABASE=str(self.dir / "paper.sqlite"), MM_BOT__ID=bot_id, PYTHONPATH=str(REPO)
        )
        self.env.update(env or {})
        self.args = args
        self.log_path = self.dir / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.code: int | None = None

    def __enter__(self) -> DefaultRun:
        self._log = self.log_path.open("wb")  # a file, not a pipe: nothing can block the bot's output
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "market_maker", "run", *self.args],
            cwd=self.dir,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_terminal_sigint,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; the exit code."""
        if self.proc is not None and self.code is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.code = self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.code = self.proc.wait()
            self._log.close()
        return self.code if self.code is not None else -1

    def wait(self) -> int:
        """Wait for the run to end by itself (``--for``); the exit code."""
        assert self.proc is not None
        self.proc.wait(timeout=WAIT_S)
        return self.stop()

    def log(self) -> str:
        """Everything the run wrote so far."""
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Another verb in the same directory and environment."""
        return subprocess.run(
            [sys.executable, "-m", "market_maker", *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def wait_status(self, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Poll ``status --json`` until ``ready(doc)`` holds; the document."""
        deadline = time.monotonic() + WAIT_S
        last = ""
        while True:
            assert self.proc is not None and self.proc.poll() is None, "run exited:\n" + self.log()[-3000:]
            r = self.cli("status", "--json")
            if r.returncode == 0:
                doc: dict[str, Any] = json.loads(r.stdout)
                if ready(doc):
                    return doc
                last = r.stdout[-500:]
            else:
                last = r.stderr
            assert time.monotonic() < deadline, f"status never got ready; last answer: {last}"
            time.sleep(0.5)

    def url(self) -> str:
        """The ops address the bot recorded in its store."""
        from market_maker.config import config_from_mapping
        from market_maker.ops.address import recorded

        config = config_from_mapping(
            {"bot": {"id": self.env["MM_BOT__ID"]}, "engine": {"database": self.env["MM_ENGINE__DATABASE"]}}
        )
        found = recorded(config)
        assert found is not None, "no ops address recorded"
        return found


def _terminal_sigint() -> None:
    """In the child: Ctrl-C as in a terminal (a test run started in the background ignores SIGINT, and
    an ignored signal is inherited across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
