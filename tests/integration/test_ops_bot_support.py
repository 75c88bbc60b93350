"""A real bot process (`python -m market_maker run`) on a simulator in the test process, with its ops
endpoint on: the ops tests scrape it, ask `status` about it, stall its market stream and read its logs.

    with SimServer(SimConfig(step_mode=True)) as sim:
        sim.create_account(KEY, SECRET, {...})
        with OpsBot(sim, tmp_path) as bot:      # started, reconciled and healthy
            bot.metrics()                        # {(name, ((label, value), ...)): value}
            bot.status_cli("--json")
        bot.result.returncode                    # after a graceful SIGTERM stop

The bot reaches the simulator as venue ``binance`` over loopback with a known key and secret, so a test
can search everything the run produced for them. In step mode a ticker thread keeps the market moving
(the ops endpoint is only healthy while market data flows).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from market_maker.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "runKeyA1b2C3d4E5f6G7h8I9j0KkLlMmNnOoPp"
SECRET = "runSecretZ9y8X7w6V5u4T3s2R1q0PpOoNnMmLl"
TOKEN = "runOpsToken-0a1b2c3d4e5f"
WAIT_S = 60.0  # generous: a noisy 2-core box

MetricKey = tuple[str, tuple[tuple[str, str], ...]]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def parse_metrics(page: str) -> dict[MetricKey, float]:
    """Every sample of a Prometheus text page, parsed by prometheus-client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }


def every_db_row(path: Path) -> str:
    """Every row of every table of a SQLite database, as text."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables, "the run created no tables"
        return "\n".join(repr(row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"'))
    finally:
        con.close()


def bot_config(sim: SimServer, tmp_path: Path, port: int, **over: dict[str, Any]) -> dict[str, Any]:
    """A calm test bot on ``sim`` (3 buys, 3 sells, 10 apart) with the ops endpoint on ``port``."""
    data: dict[str, Any] = {
        "trading": {
            "symbol": "BTCUSDT",
            "price_interval": "10",
            "order_quantity": "0.001",
            "buy_window_size": 3,
            "sell_window_size": 3,
        },
        "bot": {"id": "ops1"},
        "exchange": {
            "venue": "binance",
            "market": "spot",
            "rest_url": sim.rest_url,
            "ws_url": sim.ws_url,
            "ws_api_url": sim.ws_url,
        },
        "engine": {"database": str(tmp_path / "bot.sqlite")},
        "risk": {
            "stale_price_seconds": 3,
            "atr_spike_multiple": 1000,
            "volume_spike_multiple": 1000,
            "max_consecutive_losses": 0,
            "max_drawdown_pct": 100,
            "baseline_atr": 100,
        },
        "reconcile": {"interval_seconds": 1},
        "ops": {
            "port": port,
            "log_level": "DEBUG",
            "log_file": str(tmp_path / "logs" / "bot.log"),
            "log_max_bytes": 20000,
            "log_backups": 3,
        },
    }
    for section, values in over.items():
        data[section] = {**data.get(section, {}), **values}
    return data


class OpsBot:
    """The bot process, its config file and its ops endpoint; see the module docstring."""

    def __init__(
        self,
        sim: SimServer,
        tmp_path: Path,
        tick_s: float | None = 0.2,
        env: dict[str, str] | None = None,
        **over: dict[str, Any],
    ):
        self.sim = sim
        self.tmp_path = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / "bot.yaml"
        self.config.write_text(yaml.safe_dump(bot_config(sim, tmp_path, self.port, **over)))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
        self.env.update(MM_API_KEY=KEY, MM_API_SECRET=SECRET, MM_OPS_TOKEN=TOKEN, **(env or {}))
        self.tick_s = tick_s
        self._stop_ticks = threading.Event()
        self._ticker: threading.Thread | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.result: subprocess.CompletedProcess[str] | None = None

    def __enter__(self) -> OpsBot:
        if self.tick_s:
            self._ticker = threading.Thread(target=self._tick, name="ticker", daemon=True)
            self._ticker.start()
        # Output to files, not pipes: a DEBUG log would fill an undrained pipe and freeze the bot.
        self._out = (self.tmp_path / "stdout.txt").open("w")
        self._err = (self.tmp_path / "stderr.txt").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "market_maker", "run", "--config", str(self.config), "--heartbeat", "1"],
            stdout=self._out,
            stderr=self._err,
            text=True,
            env=self.env,
            cwd=ROOT,
        )
        try:
            wait_until("the bot to be healthy", self._healthy)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stop_ticks.wait(self.tick_s):
            self.sim.control.step(1)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            err = (self.tmp_path / "stderr.txt").read_text()
            raise AssertionError(f"the bot exited with {self.proc.returncode}: {err[-3000:]}")
        try:
            return self.get("/healthz").status_code == 200
        except requests.ConnectionError:
            return False

    def get(self, path: str, token: str | None = TOKEN) -> requests.Response:
        """GET ``path`` from the bot's ops endpoint (with the bearer token unless None)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=10)

    def metrics(self) -> dict[MetricKey, float]:
        """The parsed /metrics page."""
        return parse_metrics(self.get("/metrics").text)

    def status_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m market_maker status` against this bot."""
        return subprocess.run(
            [sys.executable, "-m", "market_maker", "status", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            cwd=ROOT,
        )

    def stop(self) -> subprocess.CompletedProcess[str]:
        """SIGTERM (the graceful stop) and wait; the output is kept in :attr:`result`."""
        self._stop_ticks.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self.result is None and self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self._out.close()
            self._err.close()
            out, err = ((self.tmp_path / f"{n}.txt").read_text() for n in ("stdout", "stderr"))
            self.result = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)
        assert self.result is not None
        return self.result

    def logs(self) -> str:
        """Every log file the run wrote (the rotated ones too)."""
        return "\n".join(p.read_text() for p in sorted((self.tmp_path / "logs").iterdir()))


class Receiver(ThreadingHTTPServer):
    """Collects JSON POSTs; ``gate`` can hold requests, ``status`` sets the answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        self.gate = threading.Event()
        self.gate.set()
        self.got = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/T000/SECRETPATH"

    def wait_for(self, n: int, timeout: float = 20) -> list[dict[str, Any]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.bodies) >= n, timeout), self.bodies
            return list(self.bodies)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.gate.wait(30)
        with self.server.got:
            self.server.bodies.append(body)
            self.server.paths.append(self.path)
            self.server.got.notify_all()
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback, collecting the JSON bodies POSTed to it, until the block ends."""
    r = Receiver()
    t = threading.Thread(target=r.serve_forever, daemon=True)
    t.start()
    try:
        yield r
    finally:
        r.gate.set()
        r.shutdown()
        r.server_close()
