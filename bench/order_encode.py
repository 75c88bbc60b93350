"""Benchmark: an order lane's own work, from the lane job's start to the request handed to the socket.

How it is measured: the simulator runs in its own process (``live_support.SimProcess``, step mode: the
price stays at 100 000, so a buy at 90 000 rests). One spot connector (``make_exchange``, started:
rules, rate limits and clock offset loaded) and the exchange actor's own lane jobs
(``ExchangeActor._submit`` / ``_cancel``: probe, gateway, connector, limiter, clock, encoding, HMAC,
HTTP) run on this thread, as an order lane runs them: a place, then its cancel, ``--calls`` times each
per run after a warm-up. Each call is timed from the job's start to the first ``socket.sendall`` of its
request (an instrument wrapped around the socket's write, the same for both ways below); the
production probe's own figure (the REST connection's send hook, ``actors/send_probe.py``) is given
too. The old way is the same jobs with the REST client sending through ``requests.Session.request``,
as it did before it used urllib3 directly. Runs alternate between the two ways; each figure is the
median over runs of that run's p50 or p99.

    python bench/order_encode.py                  # 3 runs x 5 000 places and cancels per way
    python bench/order_encode.py --quick          # 1 run x 1 000, results not written
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import requests

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from live_support import RESULTS, SimProcess, command_line, machine, machine_line, percentiles  # noqa: E402

from actors import wiring as w  # noqa: E402
from actors.exchange_actor import ExchangeActor  # noqa: E402
from actors.messages import Accepted, Cancelled, CancelOrder, Submit  # noqa: E402
from actors.observer import Observer  # noqa: E402
from actors.wiring import Wiring  # noqa: E402
from market_maker.core.model import Side  # noqa: E402
from market_maker.exchange.factory import make_exchange  # noqa: E402
from market_maker.exchange.rest import RestClient  # noqa: E402
from market_maker.exchange.transport import USER_AGENT, SendHook  # noqa: E402

KEY, SECRET = "order-encode-key", "order-encode-secret"
BUY_TICKS, QTY_STEPS = 9_000_000, 100  # 90 000.00 BTCUSDT, 0.00100 BTC: rests under a price of 100 000
WAYS = ("urllib3", "requests")
PROBED = ("place_probe", "cancel_probe")
METHOD = " ".join((__doc__ or "").split("\n\n")[1].split())  # the "How it is measured" paragraph


class _FirstWrite:
    """Wraps ``socket.socket.sendall``: the time of the first write since :meth:`reset`."""

    def __init__(self) -> None:
        self.at = 0
        self._orig = socket.socket.sendall

        def sendall(sock: socket.socket, data: Any, *args: Any) -> None:
            if not self.at:
                self.at = time.perf_counter_ns()
            self._orig(sock, data, *args)

        socket.socket.sendall = sendall  # type: ignore[method-assign,assignment]

    def reset(self) -> None:
        self.at = 0


class _Sent(Observer):
    """The production probe's report: when the order request reached the socket."""

    def __init__(self) -> None:
        self.at = 0

    def order_sent(self, kind: str, origin_ns: int, sent_ns: int) -> None:
        self.at = sent_ns


class _Replies:
    """Stands where the slot manager is: keeps the lane job's last reply."""

    def __init__(self) -> None:
        self.last: Any = None

    def tell(self, message: Any) -> None:
        self.last = message


class RequestsTransport:
    """The old way: the REST client's requests through ``requests.Session.request``."""

    def __init__(self, base_url: str, api_key: str, timeout_s: tuple[float, float]) -> None:
        self.base_url = base_url
        self.hook = SendHook()  # requests gives no place to call it at the write
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._keyed = {"X-MBX-APIKEY": api_key}
        self._timeout = timeout_s

    def send(
        self, method: str, target: str, keyed: bool, endpoint: str
    ) -> tuple[int, Mapping[str, str], Any]:
        """One request, as RestClient sent it before."""
        resp = self._session.request(
            method, self.base_url + target, headers=self._keyed if keyed else {}, timeout=self._timeout
        )
        return resp.status_code, resp.headers, resp.json()

    def close(self) -> None:
        """Close the session."""
        self._session.close()


def _lane(sim: SimProcess, way: str) -> tuple[ExchangeActor, _Replies, _Sent]:
    """A started connector and an exchange actor whose lane jobs we call ourselves."""
    exchange = make_exchange("spot", sim.rest_url, sim.ws_url, KEY, SECRET, symbol="BTCUSDT")
    if way == "requests":
        rest = exchange.rest  # type: ignore[attr-defined]
        assert isinstance(rest, RestClient)
        rest._transport = RequestsTransport(rest.base_url, KEY, (3.05, 10.0))  # type: ignore[assignment]
    exchange.start()
    wiring, replies, sent = Wiring(), _Replies(), _Sent()
    wiring.set(w.SLOTS, replies)
    actor = ExchangeActor(wiring, exchange, user_stream=False, observer=sent)
    actor._hook_rest()  # the probe at the socket write, as on_start does
    return actor, replies, sent


def run_once(
    sim: SimProcess, way: str, tag: str, calls: int, warmup: int, write: _FirstWrite
) -> dict[str, Any]:
    """``warmup`` + ``calls`` places and cancels through one fresh connector; their spans in us."""
    actor, replies, sent = _lane(sim, way)
    spans: dict[str, list[float]] = {"place": [], "cancel": [], "place_probe": [], "cancel_probe": []}
    try:
        for i in range(warmup + calls):
            cid = f"{tag}_B{i:x}_0"
            place = partial(actor._submit, Submit(cid, Side.BUY, BUY_TICKS, QTY_STEPS, origin_ns=1))
            cancel = partial(actor._cancel, CancelOrder(cid, "bench", origin_ns=1))
            for kind, job, reply in (("place", place, Accepted), ("cancel", cancel, Cancelled)):
                write.reset()
                sent.at = 0
                t0 = time.perf_counter_ns()
                job()
                if not isinstance(replies.last, reply):
                    raise RuntimeError(f"{way} {kind} {cid}: {replies.last!r}")
                if i >= warmup:
                    spans[kind].append((write.at - t0) / 1000)
                    if sent.at:
                        spans[f"{kind}_probe"].append((sent.at - t0) / 1000)
    finally:
        actor.exchange.close()
    return {name: percentiles(values) for name, values in spans.items() if values}


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per figure: the median over runs of p50 and of p99."""
    return {
        name: {q: statistics.median(r[name][q] for r in runs) for q in ("p50_us", "p99_us")}
        for name in runs[0]
    }


def write_md(doc: dict[str, Any], path: Path) -> None:
    """The results as a Markdown table."""
    new, old = doc["median"]["urllib3"], doc["median"]["requests"]
    lines = [
        "# Order lane: job start -> request bytes handed to the socket",
        "",
        f"`{doc['command']}`, {doc['date_utc']}; {doc['runs']} runs x {doc['calls']} places and cancels per "
        "way, median over runs of each run's p50 / p99.",
        "",
        "| request | urllib3 (now) p50 / p99 us | requests.Session (old) p50 / p99 us | ratio of p50 |",
        "|---|---|---|---|",
    ]
    for kind in ("place", "cancel"):
        lines.append(
            f"| {kind} | {new[kind]['p50_us']:.0f} / {new[kind]['p99_us']:.0f} "
            f"| {old[kind]['p50_us']:.0f} / {old[kind]['p99_us']:.0f} "
            f"| {old[kind]['p50_us'] / new[kind]['p50_us']:.1f}x |"
        )
    lines += [
        "",
        "The production probe (the REST connection's send hook) on the urllib3 way, p50 / p99: "
        + ", ".join(
            f"{kind} {new[kind + '_probe']['p50_us']:.0f} / {new[kind + '_probe']['p99_us']:.0f} us"
            for kind in ("place", "cancel")
        )
        + ".",
        "",
        machine_line(doc["machine"]),
        "",
        doc["method"],
        "",
    ]
    path.write_text("\n".join(lines))


def save(doc: dict[str, Any], out: Path) -> None:
    """``out`` (JSON) and the same name with ``.md``."""
    out.write_text(json.dumps(doc, indent=2) + "\n")
    write_md(doc, out.with_suffix(".md"))


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--calls", type=int, default=5_000, help="places and cancels measured per run and way")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="1 run of 1 000 calls, results not written")
    ap.add_argument("--out", default=str(RESULTS / "order_encode.json"))
    args = ap.parse_args()
    if args.quick:
        args.runs, args.calls, args.warmup = 1, 1_000, 100
    write = _FirstWrite()
    sim = SimProcess([(KEY, SECRET, {"USDT": "1000000000", "BTC": "1000"})])
    runs: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
    try:
        sim.call("set_price", "BTCUSDT", "100000")
        for i in range(args.runs):
            for way in WAYS:  # alternating, so both ways see the same load over time
                r = run_once(sim, way, f"oe{i}{way[0]}", args.calls, args.warmup, write)
                runs[way].append(r)
                pl, ca = r["place"], r["cancel"]
                print(
                    f"run {i + 1} {way:8}: place p50 {pl['p50_us']:.0f} us p99 {pl['p99_us']:.0f} us, "
                    f"cancel p50 {ca['p50_us']:.0f} us p99 {ca['p99_us']:.0f} us",
                    flush=True,
                )
    finally:
        sim.stop()
    med = {way: summary(runs[way]) for way in WAYS}
    for kind in ("place", "cancel"):
        new, old = med["urllib3"][kind], med["requests"][kind]
        print(
            f"{kind}: urllib3 p50 {new['p50_us']:.0f} us p99 {new['p99_us']:.0f} us; requests p50 "
            f"{old['p50_us']:.0f} us p99 {old['p99_us']:.0f} us; {old['p50_us'] / new['p50_us']:.1f}x at p50"
        )
    probe = med["urllib3"]
    print(
        "production probe (urllib3 way): "
        + ", ".join(f"{k} p50 {probe[k]['p50_us']:.0f} us p99 {probe[k]['p99_us']:.0f} us" for k in PROBED)
    )
    mach = machine()
    print(machine_line(mach))
    if args.quick:
        return 0
    doc = {
        "benchmark": "order lane job start -> request bytes handed to the socket, place and cancel",
        "command": command_line(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": args.runs,
        "calls": args.calls,
        "median": med,
        "per_run": runs,
        "machine": mach,
        "method": METHOD,
    }
    save(doc, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
