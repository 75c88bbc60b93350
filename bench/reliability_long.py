"""The long reliability run (issue 9): many SIGKILLs of the bot, then the fault matrix.

    python bench/reliability_long.py --kills 500 [--fault-rounds 9] [--minutes 0] [--seed 1]
    python bench/reliability_long.py --engine durable --kills 100 --fault-rounds 0

Phase 1 kills the bot (a subprocess against a simulator in this process) ``--kills`` times at random
moments while the market moves every 50 ms, restarting it each time. Each kill is aimed at one phase
of the bot's life: ``--startup-share`` of them at a uniform moment between the launch and the median
launch-to-reconciled time seen so far (interpreter start, store checks, DBOS recovery), ``--reconcile-share``
a uniform 0-80 ms after the bot logs "reconciling with the exchange" (the reconciliation itself lasts
some tens of ms), the rest 0.1-2 s into trading after a reconciled start whose invariants were checked.
Where each kill really landed is read from the bot's own log at the moment of the kill (the phase of
the last of "reconciling with the exchange", "reconciled with the exchange", "trading ... on" written
since the launch; the log thread may lag a few ms, so a kill is never counted in a later phase than it
was). Phase 2 cycles the fault matrix
of tests/reliability (one fault at a time, then a kill and a restart) for ``--fault-rounds`` rounds
(the default covers every fault once) and on until ``--minutes`` have passed in total. After each
restart, each fault and at the end, the invariants are checked against the simulator's record
(tests/reliability/test_crash_simple_support.py: one working order per slot, every fill stored once,
store position == exchange position, no untracked own order, realized PnL recomputed from the venue's
trade log). ``--engine durable`` runs the Durable engine (DBOS on SQLite) the same way and also checks
that every workflow ended SUCCESS. Figures go to bench/results/reliability_long.{json,md} (Simple) or
reliability_long_durable.{json,md}; exit 1 when any invariant was violated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from durable_support import start_bot, workflow_statuses  # noqa: E402
from test_crash_simple_support import (  # noqa: E402
    FAULTS,
    RECONCILED,
    SYMBOL,
    CrashRig,
    Tally,
    finish,
    run_fault,
)

RESULTS = ROOT / "bench" / "results"
RECONCILING = "reconciling with the exchange"
READY = f"trading {SYMBOL} on "
# where a kill landed, by the last start-up line the bot wrote before it (in the order it writes them)
PHASES = ("start-up", "reconciliation", "reconciled, market feed starting", "trading")


def phase_of(log_since_launch: str) -> str:
    """The phase the bot was in, from what it logged since its launch."""
    reached = 0
    for n, mark in enumerate((RECONCILING, RECONCILED, READY), start=1):
        if mark in log_since_launch:
            reached = n
    return PHASES[reached]


class KillLoop:
    """Phase 1: kills aimed at start-up, reconciliation or trading, each classified by the bot's log."""

    def __init__(self, rig: CrashRig, startup_share: float, reconcile_share: float) -> None:
        self.rig = rig
        self.startup_share = startup_share
        self.reconcile_share = reconcile_share
        self.aimed: Counter[str] = Counter()
        self.landed: Counter[str] = Counter()
        self.start_s: list[float] = []  # launch to reconciled, normal starts
        self.survived = 0  # kills followed by a start that reconciled

    def _log_since(self, offset: int) -> str:
        with self.rig.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def _offset(self) -> int:
        return self.rig.log.stat().st_size if self.rig.log.exists() else 0

    def _kill(self, offset: int) -> None:
        self.landed[phase_of(self._log_since(offset))] += 1
        self.rig.kill()

    def start(self) -> None:
        """Start the bot and wait for its first reconciliation (timed: the start-up kills' range)."""
        t0 = time.monotonic()
        self.rig.start()
        self.start_s.append(time.monotonic() - t0)
        self.survived = self.rig.tally.kills

    def cycle(self, n: int) -> None:
        """One kill, aimed at a phase drawn with the configured shares."""
        rig = self.rig
        draw = rig.rng.random()
        if draw < self.startup_share + self.reconcile_share and self.start_s:
            aim = "start-up" if draw < self.startup_share else "reconciliation"
            self.aimed[aim] += 1
            offset = self._offset()
            rig.proc = start_bot(rig.config, rig.log)
            if aim == "start-up":
                typical = statistics.median(self.start_s[-20:])
                rig.trade(rig.rng.uniform(0.0, typical))
            else:
                rig.wait(lambda: RECONCILING in self._log_since(offset), 90.0, "reconciliation to begin")
                time.sleep(rig.rng.uniform(0.0, 0.08))
            self._kill(offset)
            rig.check_slots(f"after {aim} kill {n}")
            return
        self.aimed["trading"] += 1
        offset = self._offset()
        self.start()
        rig.check(f"after restart {n}")
        rig.trade(rig.rng.uniform(0.1, 2.0))
        self._kill(offset)
        rig.check_slots(f"after kill {n}")  # fills in flight may be unstored until the restart

    def figures(self) -> dict[str, Any]:
        """Where the kills were aimed and where they landed."""
        landed = {p: self.landed.get(p, 0) for p in PHASES}
        total = sum(landed.values())
        after = total - landed["start-up"]
        return {
            "kills_aimed": {p: self.aimed.get(p, 0) for p in ("start-up", "reconciliation", "trading")},
            "kills_landed": landed,
            "kills_after_reconciliation_began": after,
            "kills_after_reconciliation_began_share": round(after / total, 3) if total else 0.0,
            "start_to_reconciled_median_s": round(statistics.median(self.start_s), 2) if self.start_s else 0,
        }


def run(args: argparse.Namespace) -> tuple[Tally, dict[str, float], dict[str, Any]]:
    """Both phases in one simulator and one database; the tally, phase durations (s) and kill phases."""
    kills, minutes, fault_seconds = args.kills, args.minutes, args.fault_seconds
    started = time.monotonic()
    timing: dict[str, float] = {}
    tmp = tempfile.mkdtemp(prefix="mm-reliability-")
    # the directory stays for a post-mortem (the bot's log and database)
    rig = CrashRig(Path(tmp), market=args.market, seed=args.seed, generous_limits=True, engine=args.engine)
    loop = KillLoop(rig, args.startup_share, args.reconcile_share)
    stop: list[int] = []  # SIGTERM or SIGINT: finish the cycle, skip the rest, check and write the results
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    try:
        for n in range(kills):
            if stop:
                break
            loop.cycle(n)
            if n % 50 == 49:
                landed = dict(loop.landed)
                print(f"{n + 1} kills, {len(rig.tally.violations)} violations, {landed}", flush=True)
        timing["kills_s"] = time.monotonic() - started
        names = sorted(FAULTS)
        rounds = 0
        while not stop and (rounds < args.fault_rounds or time.monotonic() - started < minutes * 60):
            name = names[rounds % len(names)]
            loop.start()
            rig.check(f"before {name}")
            run_fault(rig, FAULTS[name], fault_seconds)
            rig.trade(rig.rng.uniform(0.1, 1.5))
            rig.kill()
            rig.check_slots(f"after kill following {name}")
            rounds += 1
            if rounds % len(names) == 0:
                print(f"{rounds} fault rounds, {len(rig.tally.violations)} violations", flush=True)
        timing["faults_s"] = time.monotonic() - started - timing["kills_s"]
        timing["fault_rounds"] = rounds
        loop.start()
        rig.check("after the last restart")
        finish(rig, "at the end")
        timing["fills"] = len(rig.own_trades())
        if args.engine == "durable":  # every workflow a kill interrupted was finished by a restart
            statuses = workflow_statuses(str(rig.database), rig.bot_id, SYMBOL)
            rig.tally.checks += 1
            timing["workflows"] = len(statuses)
            left = {w: st for w, st in statuses.items() if st != "SUCCESS"}
            if left:
                rig.tally.violations.append(f"workflows not SUCCESS at the end: {left}")
    except AssertionError as exc:  # a bot that could not restart or settle is a violation too
        rig.tally.violations.append(f"run stopped: ...{str(exc)[-2500:]}")  # the end names the cause
        print(f"stopped; the bot's files are kept in {tmp}", flush=True)
    finally:
        rig.close()
    timing["total_s"] = time.monotonic() - started
    stopped = {"stopped_by_signal": stop[0]} if stop else {}
    return rig.tally, timing, {**loop.figures(), "kills_survived": loop.survived, **stopped}


def _commit() -> str:
    """The commit under test: git's HEAD, or MM_SOURCE_COMMIT for a run from an exported tree."""
    try:
        cmd = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("MM_SOURCE_COMMIT", "unknown")


def write(tally: Tally, timing: dict[str, float], kills: dict[str, Any], args: argparse.Namespace) -> None:
    """bench/results/reliability_long.json and .md."""
    doc = {
        "command": f"python bench/reliability_long.py --engine {args.engine} --kills {args.kills} "
        f"--fault-rounds {args.fault_rounds} --minutes {args.minutes} --seed {args.seed} "
        f"--market {args.market} --fault-seconds {args.fault_seconds} "
        f"--startup-share {args.startup_share} --reconcile-share {args.reconcile_share}",
        "engine": args.engine,
        "commit": _commit(),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **tally.as_dict(),
        **kills,  # kills_survived: counted by the loop (a start-up kill is followed by no check)
        **{k: round(v, 1) for k, v in timing.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "reliability_long" if args.engine == "simple" else f"reliability_long_{args.engine}"
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    faults = "\n".join(f"| {k} | {v} |" for k, v in sorted(tally.faults.items()))
    aimed, landed = doc["kills_aimed"], doc["kills_landed"]
    phases = "\n".join(f"| {p} | {aimed.get(p, '-')} | {landed[p]} |" for p in PHASES)
    md = f"""# Reliability, long run (issue 9), {args.engine} engine

`{doc["command"]}` at commit {doc["commit"]} on {doc["machine"]}, {doc["date_utc"]}; the box was
shared with three other engineers' tests and benchmarks (2 cores): wall times are a loaded machine's.

| figure | value |
|---|---|
| kills survived (SIGKILL, then restart and reconcile) | {doc["kills_survived"]} |
| restarts (starts that reconciled and were checked) | {doc["restarts"]} |
| fault rounds (each: one fault for {args.fault_seconds:g} s, then a kill) | {doc.get("fault_rounds", 0)} |
| faults injected | {doc["faults_injected_total"]} |
| invariant checks | {doc["invariant_checks"]} |
| fills compared with the venue (summed over checks) | {doc["fills_checked"]} |
| open orders compared (summed over checks and in-trade samples) | {doc["open_orders_checked"]} |
| fills over the run | {doc.get("fills", "-")} |
| workflows at the end (durable engine; every one must be SUCCESS) | {doc.get("workflows", "-")} |
| **invariant violations** | **{doc["invariant_violations"]}** |
| wall time | {doc["total_s"]} s (kills {doc.get("kills_s", "-")} s, faults {doc.get("faults_s", "-")} s) |

Where the {sum(landed.values())} kills of phase 1 landed (read from the bot's log at the moment of each kill)
and where they were aimed: {doc["kills_after_reconciliation_began"]} of them \
({doc["kills_after_reconciliation_began_share"]:.0%}) after reconciliation began. Median launch to reconciled:
{doc["start_to_reconciled_median_s"]} s.

| phase at the kill | aimed | landed |
|---|---|---|
{phases}

Start-up kills are aimed at a uniform moment between the launch and the median launch-to-reconciled
time so far; reconciliation kills 0-80 ms after the bot logs "reconciling with the exchange"; trading
kills 0.1-2 s into trading after a reconciled, checked start. A kill's phase is the last start-up line
the bot wrote before it ("reconciling with the exchange", "reconciled with the exchange", "trading ...
on"); the bot's log thread may lag a few ms behind it, so a kill is never counted later than it landed.
The fault rounds' kills (phase 2) are not in this table.

Faults injected, by kind:

| fault | times |
|---|---|
{faults}

Invariants (checked against the simulator's own record after every restart, after each fault and at
the end; one order per slot also right after each kill and every 5th market step): no slot has two
working orders; every own fill is stored exactly once; the store's position equals the exchange's; no
own open order is untracked; realized PnL recomputed from the venue's trade log equals the store's,
slot by slot; every order row has the venue's status, executed quantity and average price.
"""
    if "stopped_by_signal" in doc:
        md += (
            f"\nStopped early by signal {doc['stopped_by_signal']} (the time limit): phase 1 ended after "
            f"{sum(landed.values())} of the {args.kills} kills asked, then the last restart was checked.\n"
        )
    if tally.violations:
        md += "\nViolations (first 50):\n\n" + "\n".join(f"- {v}" for v in tally.violations[:50]) + "\n"
    (RESULTS / f"{name}.md").write_text(md)


def main() -> int:
    """Parse the options, run, write the results; exit 1 on any violation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["simple", "durable"], default="simple")
    parser.add_argument("--kills", type=int, default=500, help="SIGKILLs in phase 1 (default 500)")
    parser.add_argument(
        "--fault-rounds", type=int, default=len(FAULTS), help="fault rounds at least (default: each once)"
    )
    parser.add_argument("--minutes", type=float, default=0.0, help="go on with fault rounds until then")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--market", choices=["spot", "usdm"], default="spot")
    parser.add_argument("--fault-seconds", type=float, default=8.0, help="how long each fault lasts")
    parser.add_argument(
        "--startup-share", type=float, default=0.2, help="share of kills aimed at start-up (default 0.2)"
    )
    parser.add_argument(
        "--reconcile-share",
        type=float,
        default=0.15,
        help="share of kills aimed at reconciliation (default 0.15)",
    )
    args = parser.parse_args()
    if not (
        args.startup_share >= 0
        and args.reconcile_share >= 0
        and args.startup_share + args.reconcile_share <= 1
    ):
        parser.error("--startup-share and --reconcile-share must be >= 0 and add up to at most 1")
    if args.kills < 0 or args.minutes < 0 or args.fault_rounds < 0 or args.fault_seconds <= 0:
        parser.error("--kills, --fault-rounds and --minutes must be >= 0, --fault-seconds > 0")
    tally, timing, kills = run(args)
    write(tally, timing, kills, args)
    print(json.dumps(tally.as_dict(), indent=2))
    return 1 if tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
