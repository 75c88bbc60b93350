"""Security gaps not covered by tests/integration/test_sim_rest_spot.py (unsigned, mis-signed and expired
requests refused), test_ops_secrets_run.py (no secret in logs or database rows) and
tests/unit/test_ops_http.py (the status token):

- a replayed signed request never makes a second order, and once its recvWindow has passed it is refused;
- a whole trading run of the real bot (``python -m market_maker run``) sends no request that the
  simulator's signature or timestamp check refuses;
- the running bot's status endpoint binds to loopback, demands its token, and neither it, the metrics,
  the log nor the raw database files (WAL included) hold the API key, the secret or the token;
- the database, its WAL and shared-memory files and the log are created 0600, their directories 0700.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from test_crash_simple_support import ACCESSES, KEY, SECRET, Access, CrashRig, finish, start_bot

from market_maker.sim import rest as sim_rest
from market_maker.sim.auth import sign
from market_maker.sim.server import SimConfig, SimServer
from market_maker.store import open_store

TOKEN = "relOpsToken-9f8e7d6c5b4a"


def _signed(query: str) -> str:
    return f"{query}&signature={sign(SECRET, query)}"


def test_a_replayed_order_request_never_makes_a_second_order() -> None:
    with SimServer(SimConfig(step_mode=True)) as sim:
        sim.create_account(KEY, SECRET, {"USDT": "10000", "BTC": "0"})
        now = int(time.time() * 1000)
        query = _signed(
            "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=99000"
            f"&newClientOrderId=replay1&recvWindow=1500&timestamp={now}"
        )
        headers = {"X-MBX-APIKEY": KEY}
        first = requests.post(f"{sim.rest_url}/api/v3/order?{query}", headers=headers, timeout=10)
        assert first.status_code == 200, first.text
        again = requests.post(f"{sim.rest_url}/api/v3/order?{query}", headers=headers, timeout=10)
        assert again.status_code == 400 and again.json()["code"] == -2010  # duplicate order id
        requests.delete(
            f"{sim.rest_url}/api/v3/order?"
            + _signed(f"symbol=BTCUSDT&origClientOrderId=replay1&timestamp={int(time.time() * 1000)}"),
            headers=headers,
            timeout=10,
        ).raise_for_status()
        time.sleep(1.6)  # the replay's recvWindow is over: now refused as expired, not re-placed
        late = requests.post(f"{sim.rest_url}/api/v3/order?{query}", headers=headers, timeout=10)
        assert late.status_code == 400 and late.json()["code"] == -1021
        assert sim.control.open_orders(KEY) == []
        assert sim.control.trades(KEY) == []


def _counting(fn: Callable[..., None], refused: list[str], what: str) -> Callable[..., None]:
    def wrapped(*args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            refused.append(f"{what}: {exc}")
            raise

    return wrapped


def _outbound_address() -> str | None:
    """This host's non-loopback IPv4 address (a UDP "connect" sends nothing), None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
        except OSError:
            return None
        addr = str(s.getsockname()[0])
    return None if addr.startswith("127.") else addr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("access", sorted(ACCESSES))
def test_the_bot_sends_only_signed_fresh_requests_and_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, access: str
) -> None:
    refused: list[str] = []
    monkeypatch.setattr(
        sim_rest, "check_signature", _counting(sim_rest.check_signature, refused, "signature")
    )
    monkeypatch.setattr(
        sim_rest, "check_timestamp", _counting(sim_rest.check_timestamp, refused, "timestamp")
    )
    rig = CrashRig(tmp_path, seed=5, access=ACCESSES[access])
    port = _free_port()
    text = rig.config.read_text() + f"ops:\n  port: {port}\n  log_file: {tmp_path / 'bot.file.log'}\n"
    rig.config.write_text(text)
    url = f"http://127.0.0.1:{port}"
    try:
        rig.proc = start_bot(rig.config, rig.log, {"MM_OPS_TOKEN": TOKEN})
        rig.wait(lambda: "reconciled with the exchange" in rig.log.read_text(errors="replace"), 90, "start")
        rig.trade(4.0)
        rig.check("while trading")
        answers = {}
        for path in ("/status", "/metrics", "/healthz"):
            assert requests.get(url + path, timeout=10).status_code == 401, path
            bad = requests.get(url + path, headers={"Authorization": "Bearer nope"}, timeout=10)
            assert bad.status_code == 401, path
            good = requests.get(url + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert good.status_code in (200, 503), path
            answers[path] = good.text
        # the endpoint listens on loopback only: the host's other addresses do not answer
        addr = _outbound_address()
        if addr is not None:
            with pytest.raises(OSError), socket.create_connection((addr, port), timeout=2):
                pass
        finish(rig, "at the end")
    finally:
        rig.close()
    assert rig.tally.violations == [], rig.tally.violations[:10]
    assert refused == [], f"the simulator refused requests of the bot: {refused[:5]}"
    leaks = {
        **answers,
        "log": rig.log.read_text(errors="replace"),
        "log file": (tmp_path / "bot.file.log").read_text(errors="replace"),
        **{p.name: p.read_bytes().decode("latin-1") for p in tmp_path.glob("bot.sqlite*")},
    }
    assert "price" in answers["/status"] and "mm_" in answers["/metrics"]
    for where, content in leaks.items():
        for secret in (KEY, SECRET, TOKEN, *_private_key_lines(tmp_path, ACCESSES[access])):
            assert secret not in content, f"a secret ({secret[:4]}...) is in the {where}"


def _private_key_lines(tmp: Path, access: Access) -> list[str]:
    """The body lines of the rig's Ed25519 private key (none for an HMAC rig)."""
    if access.key_type == "hmac":
        return []
    pem = Access.key_file(tmp).read_text()
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_the_bot_creates_its_database_wal_and_log_for_its_user_alone(tmp_path: Path) -> None:
    """``pause`` and ``resume`` act through the database: its file mode is the only guard."""
    root = tmp_path / "new"  # none of it exists: the bot makes every directory
    config = tmp_path / "bot.yaml"
    database, log_file = root / "db" / "bot.sqlite", root / "logs" / "day" / "bot.log"
    config.write_text(
        yaml.safe_dump({"engine": {"database": str(database)}, "ops": {"log_file": str(log_file)}})
    )
    old = os.umask(0o022)  # the usual umask: left alone, SQLite and logging make 0644 files
    try:
        done = subprocess.run(
            [sys.executable, "-m", "market_maker", "run", "--config", str(config), "--for", "2"],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr[-3000:]
    store = open_store(str(database), "paper1", "BTCUSDT")  # the WAL and shm exist while it is open
    try:
        files = [database, log_file, *database.parent.glob("bot.sqlite-*")]
        assert {p.name for p in files} >= {"bot.sqlite", "bot.log", "bot.sqlite-wal", "bot.sqlite-shm"}
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    finally:
        store.close()
    dirs = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (root, database.parent, log_file.parent)}
    assert set(modes.values()) == {0o600}, {k: oct(v) for k, v in modes.items()}
    assert set(dirs.values()) == {0o700}, {k: oct(v) for k, v in dirs.items()}
