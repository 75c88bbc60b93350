"""What the live-path benchmarks share: the simulator in its own process with a price driver, the
machine description, percentiles, and per-process CPU / RSS / thread readings from /proc.

The simulator runs in a child process (``multiprocessing`` spawn) so its CPU never counts against the
bot; the child also drives the market (``control.set_price`` at a fixed rate from its own thread), so
the bot process does nothing but trade. Commands go over a pipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from market_maker.core.ids import encode
from market_maker.core.model import Side, SlotState
from market_maker.core.slots import Slot

SYMBOL = "BTCUSDT"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


# --- the simulator process --------------------------------------------------------------------------


def _ramp(control: Any, start: str, step: str, rate_hz: float, n: int) -> dict[str, float]:
    """Set the price to start, start+step, ... (n prices) at ``rate_hz``; how far the driver kept up."""
    price, inc = Decimal(start), Decimal(step)
    period = 1.0 / rate_hz
    t0 = time.perf_counter()
    late_max = 0.0
    for i in range(n):
        due = t0 + i * period
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        else:
            late_max = max(late_max, now - due)
        control.set_price(SYMBOL, str(price))
        price += inc
    took = time.perf_counter() - t0
    return {"prices": n, "seconds": took, "rate_hz": n / took, "driver_late_max_s": late_max}


Accounts = list[tuple[str, str, dict[str, str]]]  # (api key, secret, balances)


def _sim_main(conn: Any, sim_settings: dict[str, Any], accounts: Accounts) -> None:
    from market_maker.sim.config import SimConfig
    from market_maker.sim.server import SimServer

    sim = SimServer(SimConfig.from_mapping(sim_settings, where="bench sim")).start()
    for key, secret, balances in accounts:
        sim.create_account(key, secret, balances)
    conn.send((sim.rest_url, sim.ws_url))
    ramp: threading.Thread | None = None
    result: dict[str, Any] = {}
    try:
        while True:
            cmd, args = conn.recv()
            if cmd == "stop":
                break
            if cmd == "ramp":  # in the background: answer at once, "ramp_wait" collects the result

                def run(a: tuple[Any, ...] = args) -> None:
                    result["ramp"] = _ramp(sim.control, *a)

                ramp = threading.Thread(target=run, daemon=True)
                ramp.start()
                conn.send(None)
            elif cmd == "ramp_wait":
                if ramp is not None:
                    ramp.join()
                conn.send(result.pop("ramp", None))
            else:  # any control operation: set_price, open_orders, balances, trades, ...
                conn.send(getattr(sim.control, cmd)(*args))
    finally:
        sim.stop()


class SimProcess:
    """The simulator (step mode: the market moves only when driven) in a child process."""

    def __init__(self, accounts: Accounts, **settings: Any) -> None:
        base = {
            "step_mode": True,
            "spot_weight_limit": 1_000_000_000,
            "spot_order_limit_10s": 1_000_000_000,
            "spot_order_limit_1d": 1_000_000_000,
        }
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_sim_main, args=(child, {**base, **settings}, accounts), daemon=True)
        self.proc.start()
        self.rest_url, self.ws_url = self._conn.recv()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        """The simulator's process id."""
        assert self.proc.pid is not None
        return self.proc.pid

    def call(self, op: str, *args: Any) -> Any:
        """Run one control operation in the simulator process and return its answer."""
        with self._lock:
            self._conn.send((op, args))
            return self._conn.recv()

    def ramp(self, start: str, step: str, rate_hz: float, n: int) -> None:
        """Start driving ``n`` prices from ``start`` by ``step`` at ``rate_hz`` (returns at once)."""
        self.call("ramp", start, step, rate_hz, n)

    def ramp_wait(self) -> dict[str, float]:
        """Wait for the drive to end; how fast it really went."""
        out: dict[str, float] = self.call("ramp_wait")
        return out

    def stop(self) -> None:
        """Stop the simulator process."""
        with contextlib.suppress(OSError, EOFError):  # already gone
            self.call("stop")
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(10)


# --- readings ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int | None = None) -> dict[str, float]:
    """RSS now and at peak (MB) and the thread count of a process (Linux /proc)."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[{"VmRSS": "rss_mb", "VmHWM": "rss_peak_mb"}[name]] = int(value.split()[0]) / 1024
        elif name == "Threads":
            out["threads"] = int(value)
    return out


def percentiles(values_us: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of ``values_us`` (microseconds), with the count."""
    v = sorted(values_us)
    if not v:
        return {"n": 0}

    def q(p: float) -> float:
        return v[min(len(v) - 1, int(p * len(v)))]

    return {"n": len(v), "p50_us": q(0.50), "p90_us": q(0.90), "p99_us": q(0.99), "max_us": v[-1]}


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over repeated runs."""
    return float(statistics.median(r[key] for r in runs if key in r))


def machine() -> dict[str, Any]:
    """The box the figures come from: cores, CPU model, Python, load average."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()[:10]
    except (OSError, subprocess.SubprocessError):
        lscpu = []
    return {
        "nproc": os.cpu_count(),
        "lscpu_head": [" ".join(line.split()) for line in lscpu],
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(mach: dict[str, Any]) -> str:
    """The one-line machine description every live benchmark report ends with."""
    return (
        f"Machine: {mach['nproc']} CPUs, Python {mach['python']}, load average at the end "
        f"{mach['load_average_1_5_15']}; " + "; ".join(mach["lscpu_head"][:10])
    )


def command_line() -> str:
    """How the benchmark was run (for the results file)."""
    return "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])


def filled_slots(n: int, qty: int, base: int, bot: str) -> dict[int, Slot]:
    """``n`` FILLED slots of bot ``bot`` holding ``qty`` steps each, 1 000 ticks apart from ``base`` up,
    bought there (above the market they hold): generations 0 .. n-1."""
    out = {}
    for i in range(n):
        level = base + 1000 * i
        out[level] = Slot(
            level,
            SlotState.FILLED,
            Side.BUY,
            order_price=level,
            order_qty=qty,
            order_filled=qty,
            client_id=encode(bot, level, Side.BUY, i),
            generation=i,
            trip_gen=i,
            bought=qty,
            held=qty,
            lots=((qty, level),),
            tp_price=level + 1000,
        )
    return out
