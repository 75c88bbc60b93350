"""Benchmark: order place+cancel round trips per second against the simulator over loopback.

How it is measured:
* the simulator runs as its own process (``python -m market_maker sim-exchange``), clock-driven with a
  path step every 10 ms, i.e. the market stream runs at 100 updates/s; one WebSocket client stays
  subscribed to ``btcusdt@trade`` and ``btcusdt@bookTicker`` and reads every message meanwhile;
* ``--procs`` client processes each open ``--conns`` keep-alive HTTP/1.1 connections (a minimal asyncio
  client, so the client's own cost stays small); every connection loops: signed POST /api/v3/order
  (LIMIT_MAKER, rests on the book) then signed DELETE /api/v3/order by origClientOrderId, each
  waiting for its answer; every answer must be HTTP 200 or the run fails;
* one round trip = one place answered + its cancel answered; after a warm-up, round trips completed in
  ``--duration`` seconds are counted; the run is repeated ``--runs`` times and the median reported.

    python bench/sim_orders.py --runs 5 --duration 10 --out bench/results/sim_orders.json
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KEY, SECRET = "bench-key", "bench-secret"
CONFIG = f"""\
tick_interval_ms: 10
spot_weight_limit: 1000000000
spot_order_limit_10s: 1000000000
spot_order_limit_1d: 1000000000
accounts:
  - api_key: {KEY}
    api_secret: {SECRET}
    balances: {{USDT: "100000000", BTC: "1000"}}
"""


async def _connection(
    host: str, port: int, tag: str, stop_at: float, start_at: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    secret = SECRET.encode()
    n = 0

    async def call(method: str, qs: str) -> None:
        sig = hmac.new(secret, qs.encode(), hashlib.sha256).hexdigest()
        writer.write(
            f"{method} /api/v3/order?{qs}&signature={sig} HTTP/1.1\r\nHost: {host}\r\n"
            f"X-MBX-APIKEY: {KEY}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"{method} answered {status}: {body[:200]!r}")

    while True:
        now = time.time()
        if now >= stop_at:
            break
        n += 1
        cid = f"{tag}_{n}"
        ts = int(now * 1000)
        await call(
            "POST",
            f"symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=50000.00"
            f"&newClientOrderId={cid}&recvWindow=60000&timestamp={ts}",
        )
        await call("DELETE", f"symbol=BTCUSDT&origClientOrderId={cid}&recvWindow=60000&timestamp={ts}")
        if now >= start_at:
            counts[0] += 1
    writer.close()


def _client(
    host: str, port: int, proc: int, conns: int, start_at: float, stop_at: float, q: mp.Queue
) -> None:
    counts = [0]

    async def main() -> None:
        await asyncio.gather(
            *(_connection(host, port, f"p{proc}c{c}", stop_at, start_at, counts) for c in range(conns))
        )

    asyncio.run(main())
    q.put(counts[0])


def _stream_reader(ws_url: str, stop: threading.Event, seen: list[int]) -> None:
    import websocket

    ws = websocket.create_connection(ws_url + "/stream?streams=btcusdt@trade/btcusdt@bookTicker", timeout=2)
    while not stop.is_set():
        try:
            ws.recv()
            seen[0] += 1
        except websocket.WebSocketTimeoutException:
            continue
    ws.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(
    rest_url: str, ws_url: str, procs: int, conns: int, duration: float, warmup: float, server_pid: int = 0
) -> dict[str, float]:
    """One measurement: round trips per second over ``duration`` after ``warmup``."""
    host, port = rest_url.split("//")[1].split(":")
    stop, seen = threading.Event(), [0]
    reader = threading.Thread(target=_stream_reader, args=(ws_url, stop, seen), daemon=True)
    reader.start()
    time.sleep(0.5)
    start_at = time.time() + warmup
    stop_at = start_at + duration
    q: mp.Queue = mp.Queue()
    seen_at_start = [0]
    cpu = [0.0, 0.0]

    def mark() -> None:
        time.sleep(max(0.0, start_at - time.time()))
        seen_at_start[0] = seen[0]
        cpu[0] = _cpu_seconds(server_pid)
        time.sleep(max(0.0, stop_at - time.time()))
        cpu[1] = _cpu_seconds(server_pid)

    marker = threading.Thread(target=mark, daemon=True)
    marker.start()
    workers = [
        mp.Process(target=_client, args=(host, int(port), i, conns, start_at, stop_at, q))
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    total = sum(q.get(timeout=duration + warmup + 60) for _ in workers)
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise RuntimeError(f"client process failed with exit code {w.exitcode}")
    marker.join()
    stream_msgs = seen[0] - seen_at_start[0]
    stop.set()
    reader.join()
    return {
        "round_trips_per_s": total / duration,
        "stream_msgs_per_s": stream_msgs / duration,
        "server_cpu_percent": 100 * (cpu[1] - cpu[0]) / duration,
        "server_cpu_us_per_round_trip": 1e6 * (cpu[1] - cpu[0]) / max(1, total),
        "load_average_1m": os.getloadavg()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--conns", type=int, default=8, help="keep-alive connections per client process")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--state", help="the simulator keeps its venue state in this file (journaled)")
    args = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(CONFIG)
    server = subprocess.Popen(
        [sys.executable, "-m", "market_maker", "sim-exchange", "--config", f.name]
        + (["--state", args.state] if args.state else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        rest_url = server.stdout.readline().split()[1]
        ws_url = server.stdout.readline().split()[1]
        runs = []
        for i in range(args.runs):
            r = run_once(rest_url, ws_url, args.procs, args.conns, args.duration, args.warmup, server.pid)
            runs.append(r)
            print(
                f"run {i + 1}: {r['round_trips_per_s']:.0f} place+cancel/s, "
                f"stream {r['stream_msgs_per_s']:.0f} msgs/s, server CPU {r['server_cpu_percent']:.0f}%",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(f.name)
    med = statistics.median(r["round_trips_per_s"] for r in runs)
    cost = statistics.median(r["server_cpu_us_per_round_trip"] for r in runs)
    print(
        f"median: {med:.0f} place+cancel round trips/s over {args.runs} runs; server CPU {cost:.0f} us per "
        f"round trip (~{1e6 / cost:.0f}/s on one free core)",
        flush=True,
    )
    if args.out:
        result = {
            "benchmark": "sim place+cancel round trips, loopback keep-alive, stream at 100 updates/s",
            "command": "python bench/sim_orders.py " + " ".join(sys.argv[1:]),
            "median_round_trips_per_s": round(med, 1),
            "median_server_cpu_us_per_round_trip": round(cost, 1),
            "implied_capacity_one_free_core_per_s": round(1e6 / cost),
            "runs": [{k: round(v, 1) for k, v in r.items()} for r in runs],
            "client": {
                "processes": args.procs,
                "connections_per_process": args.conns,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
