"""The long reliability run (issue 9): many SIGKILLs of the Simple-engine bot, then the fault matrix.

    python bench/reliability_long.py --kills 500 --minutes 20 [--seed 1] [--market spot]

Phase 1 kills the bot (a subprocess against a simulator in this process) ``--kills`` times at random
moments while the market moves every 50 ms, restarting it each time; phase 2 cycles the fault matrix
of tests/reliability (one fault at a time, then a kill and a restart) until ``--minutes`` have passed
in total. After each restart, each fault and at the end, the invariants are checked against the
simulator's record (tests/reliability/test_crash_simple_support.py: one working order per slot, every
fill stored once, store position == exchange position, no untracked own order, realized PnL recomputed
from the venue's trade log). Figures go to bench/results/reliability_long.{json,md}; exit 1 when any
invariant was violated.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from test_crash_simple_support import FAULTS, CrashRig, Tally, finish, run_fault  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def run(
    kills: int, minutes: float, seed: int, market: str, fault_seconds: float
) -> tuple[Tally, dict[str, float]]:
    """Both phases in one simulator and one database; the tally and phase durations (s)."""
    started = time.monotonic()
    timing: dict[str, float] = {}
    tmp = tempfile.mkdtemp(prefix="mm-reliability-")
    # the directory stays for a post-mortem (the bot's log and database)
    rig = CrashRig(Path(tmp), market=market, seed=seed, generous_limits=True)
    try:
        for n in range(kills):
            rig.kill_cycle(n)
            if n % 50 == 49:
                print(f"{n + 1} kills, {len(rig.tally.violations)} violations", flush=True)
        timing["kills_s"] = time.monotonic() - started
        names = sorted(FAULTS)
        rounds = 0
        while time.monotonic() - started < minutes * 60 or rounds == 0:
            name = names[rounds % len(names)]
            rig.start()
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
        rig.start()
        rig.check("after the last restart")
        finish(rig, "at the end")
        timing["fills"] = len(rig.own_trades())
    except AssertionError as exc:  # a bot that could not restart or settle is a violation too
        rig.tally.violations.append(f"run stopped: ...{str(exc)[-2500:]}")  # the end names the cause
        print(f"stopped; the bot's files are kept in {tmp}", flush=True)
    finally:
        rig.close()
    timing["total_s"] = time.monotonic() - started
    return rig.tally, timing


def write(tally: Tally, timing: dict[str, float], args: argparse.Namespace) -> None:
    """bench/results/reliability_long.json and .md."""
    doc = {
        "command": f"python bench/reliability_long.py --kills {args.kills} --minutes {args.minutes} "
        f"--seed {args.seed} --market {args.market} --fault-seconds {args.fault_seconds}",
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **tally.as_dict(),
        **{k: round(v, 1) for k, v in timing.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reliability_long.json").write_text(json.dumps(doc, indent=2) + "\n")
    faults = "\n".join(f"| {k} | {v} |" for k, v in sorted(tally.faults.items()))
    md = f"""# Reliability, long run (issue 9)

`{doc["command"]}` on {doc["machine"]}, {doc["date_utc"]}.

| figure | value |
|---|---|
| kills survived (SIGKILL, then restart and reconcile) | {doc["kills_survived"]} |
| restarts | {doc["restarts"]} |
| fault rounds (each: one fault for {args.fault_seconds:g} s, then a kill) | {doc.get("fault_rounds", 0)} |
| faults injected | {doc["faults_injected_total"]} |
| invariant checks | {doc["invariant_checks"]} |
| fills compared with the venue (summed over checks) | {doc["fills_checked"]} |
| open orders compared (summed over checks and in-trade samples) | {doc["open_orders_checked"]} |
| fills over the run | {doc.get("fills", "-")} |
| **invariant violations** | **{doc["invariant_violations"]}** |
| wall time | {doc["total_s"]} s (kills {doc.get("kills_s", "-")} s, faults {doc.get("faults_s", "-")} s) |

Faults injected, by kind:

| fault | times |
|---|---|
{faults}

Invariants (checked against the simulator's own record after every restart, after each fault and at
the end; one order per slot also right after each kill and every 5th market step): no slot has two
working orders; every own fill is stored exactly once; the store's position equals the exchange's; no
own open order is untracked; realized PnL recomputed from the venue's trade log equals the store's,
slot by slot.
"""
    if tally.violations:
        md += "\nViolations (first 50):\n\n" + "\n".join(f"- {v}" for v in tally.violations[:50]) + "\n"
    (RESULTS / "reliability_long.md").write_text(md)


def main() -> int:
    """Parse the options, run, write the results; exit 1 on any violation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=500, help="SIGKILLs in phase 1 (default 500)")
    parser.add_argument("--minutes", type=float, default=30.0, help="total run time incl. the fault phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--market", choices=["spot", "usdm"], default="spot")
    parser.add_argument("--fault-seconds", type=float, default=8.0, help="how long each fault lasts")
    args = parser.parse_args()
    if args.kills < 0 or args.minutes < 0 or args.fault_seconds <= 0:
        parser.error("--kills and --minutes must be >= 0, --fault-seconds > 0")
    tally, timing = run(args.kills, args.minutes, args.seed, args.market, args.fault_seconds)
    write(tally, timing, args)
    print(json.dumps(tally.as_dict(), indent=2))
    return 1 if tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
