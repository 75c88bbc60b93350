"""The webhook notifier against a real HTTP receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from test_ops_bot_support import Receiver, running_receiver

from market_maker.ops.alerts import AlertKind, ReconnectStormDetector, WebhookNotifier


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def test_alerts_are_posted_as_json(receiver: Receiver) -> None:
    n = WebhookNotifier(receiver.url, bot_id="paper1", symbol="BTCUSDT", min_interval_s=60).start()
    try:
        assert n.notify(AlertKind.START, "bot started", venue="sim")
        assert n.notify(AlertKind.BREAKER_TRIP, "3 losing round trips", losses=3, drawdown=Decimal("4.50"))
        start, trip = receiver.wait_for(2)
    finally:
        n.stop()
    assert receiver.paths[0] == "/hooks/T000/SECRETPATH"
    assert start["kind"] == "start" and start["bot"] == "paper1" and start["symbol"] == "BTCUSDT"
    assert start["details"] == {"venue": "sim"} and start["time"].endswith("Z")
    assert trip["kind"] == "breaker_trip" and trip["details"] == {"losses": 3, "drawdown": "4.50"}
    assert n.sent == 2


def test_rate_limited_per_kind_and_suppressed_count_reported(receiver: Receiver) -> None:
    now = [0.0]
    n = WebhookNotifier(receiver.url, bot_id="b1", symbol="BTCUSDT", min_interval_s=60, clock=lambda: now[0])
    n.start()
    try:
        assert n.notify(AlertKind.RISK_TRIGGER, "atr spike")
        assert not n.notify(AlertKind.RISK_TRIGGER, "atr spike again")
        assert not n.notify(AlertKind.RISK_TRIGGER, "and again")
        assert n.notify(AlertKind.RECONNECT_STORM, "5 reconnects in 60s")  # another kind is not limited
        now[0] = 61.0
        assert n.notify(AlertKind.RISK_TRIGGER, "atr spike later")
        bodies = receiver.wait_for(3)
    finally:
        n.stop()
    risk = [b for b in bodies if b["kind"] == "risk_trigger"]
    assert [b["suppressed"] for b in risk] == [0, 2]
    assert n.suppressed_total == 2


def test_never_blocks_or_raises_when_the_receiver_hangs_or_fails(receiver: Receiver) -> None:
    receiver.gate.clear()  # the receiver holds every request until released
    n = WebhookNotifier(
        receiver.url, bot_id="b1", symbol="X1", min_interval_s=0, queue_size=3, timeout_s=30, retry_delay_s=0
    ).start()
    try:
        results = [n.notify(AlertKind.STOP, f"stop {i}") for i in range(10)]
        # one in flight, three queued, the rest dropped: the caller got an answer for every one
        assert results.count(True) in (3, 4) and n.dropped == results.count(False)
        receiver.status = 500
        receiver.gate.set()
    finally:
        n.stop()
    assert n.failed >= 1 and n.sent == 0


def test_unreachable_webhook_is_logged_without_its_path(caplog: pytest.LogCaptureFixture) -> None:
    n = WebhookNotifier(
        "http://127.0.0.1:9/hooks/SECRETPATH", bot_id="b1", symbol="X1", timeout_s=2, retry_delay_s=0
    ).start()
    assert n.notify("start", "bot started")
    n.stop()
    assert n.failed == 1
    assert "not delivered to webhook 127.0.0.1:9" in caplog.text and "SECRETPATH" not in caplog.text
    assert "SECRETPATH" not in repr(n)


def test_reconnect_storm_detector() -> None:
    now = [0.0]
    d = ReconnectStormDetector(threshold=3, window_s=60, clock=lambda: now[0])
    assert not d.reconnected()
    now[0] = 30
    assert not d.reconnected()
    now[0] = 100  # both earlier ones fell out of the window
    assert not d.reconnected()
    now[0] = 110
    assert not d.reconnected()
    now[0] = 115
    assert d.reconnected()
    assert not d.reconnected()  # quiet again after a storm is reported


def test_ops_service_from_config_wires_alerts_and_storms(receiver: Receiver) -> None:
    from market_maker.config import config_from_mapping
    from market_maker.ops.service import OpsService
    from market_maker.ops.status_doc import StatusInput

    config = config_from_mapping(
        {"bot": {"id": "svc1"}, "ops": {"webhook_url": receiver.url, "enabled": False}}
    )
    ops = OpsService.from_config(config, lambda: StatusInput("svc1", "BTCUSDT", "spot", "sim", 0))
    assert ops.server is None  # ops.enabled false: no endpoint
    ops.start()
    try:
        assert ops.alert(AlertKind.START, "bot started")
        for _ in range(5):
            ops.stream_reconnected("user")
        start, storm = receiver.wait_for(2)
    finally:
        ops.stop()
    assert start["bot"] == "svc1" and storm["kind"] == "reconnect_storm"
    assert storm["details"] == {"stream": "user"}
    quiet = OpsService.from_config(
        config_from_mapping({}), lambda: StatusInput("mm1", "X1", "spot", "sim", 0)
    )
    assert quiet.alerts is None and not quiet.alert(AlertKind.STOP, "no webhook, nothing sent")
