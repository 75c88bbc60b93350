"""Logging: text and JSON lines, rotating file, structured events, and no secret ever in the output."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from market_maker.config import config_from_mapping
from market_maker.ops.logs import (
    MASK,
    add_secrets,
    event,
    flush_logs,
    heartbeat,
    install_logging,
    order_event,
    secrets_of,
)
from market_maker.settings.models import OpsConfig

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
TOKEN = "ops+tok/en=with&chars"


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in before:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def leak_everything(log: logging.Logger) -> None:
    """Every way a secret slips into a log call by accident."""
    log.info("key is %s", KEY)
    log.warning(f"secret in an f-string: {SECRET}")
    log.info("token %r inside a repr, url-encoded %s", TOKEN, "ops%2Btok%2Fen%3Dwith%26chars")
    log.info("extra field", extra={"request": {"apiKey": KEY, "nested": [SECRET]}})
    try:
        try:
            raise ConnectionError(f"signing failed for {KEY}:{SECRET}")
        except ConnectionError as inner:
            raise RuntimeError("order failed") from inner
    except RuntimeError:
        log.exception("placing an order with secret %s", SECRET)
    log.error("with stack", stack_info=True, extra={"note": TOKEN})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_stream_or_file(tmp_path: Path, fmt: str) -> None:
    out = io.StringIO()
    ops = OpsConfig(log_format=fmt, log_file=tmp_path / "logs" / "bot.log")
    install_logging(ops, [KEY, SECRET, TOKEN], stream=out)
    leak_everything(logging.getLogger("market_maker.exchange.rest"))
    flush_logs()
    for text in (out.getvalue(), (tmp_path / "logs" / "bot.log").read_text()):
        assert MASK in text
        assert "order failed" in text and "signing failed for" in text  # the exception is still shown
        for secret in (KEY, SECRET, TOKEN, "ops%2Btok%2Fen%3Dwith%26chars"):
            assert secret not in text
        if fmt == "json":
            lines = [json.loads(line) for line in text.splitlines()]
            assert len(lines) == 6 and "exc" in lines[4]


def test_secrets_come_from_the_config() -> None:
    env = {"MM_API_KEY": KEY, "MM_API_SECRET": SECRET, "MM_OPS_TOKEN": TOKEN}
    assert sorted(secrets_of(config_from_mapping({}, env))) == sorted([KEY, SECRET, TOKEN])


def test_json_lines_carry_structured_events() -> None:
    out = io.StringIO()
    install_logging(OpsConfig(log_format="json"), [], stream=out)
    log = logging.getLogger("market_maker.bot")
    heartbeat(log, price=Decimal("100000.10"), slots_locked=9, position=Decimal("0.00200"))
    order_event(log, "placed", client_id="paper1_B255t_3", side="BUY", price=Decimal("99990.00"), qty="0.001")
    event(log, "custom", name="clash", msg="x")
    flush_logs()
    hb, placed, custom = (json.loads(line) for line in out.getvalue().splitlines())
    assert hb["event"] == "heartbeat" and hb["price"] == "100000.10" and hb["slots_locked"] == 9
    assert hb["level"] == "INFO" and hb["logger"] == "market_maker.bot" and hb["ts"].endswith("Z")
    assert placed["event"] == "order_placed" and placed["client_id"] == "paper1_B255t_3"
    assert placed["price"] == "99990.00"
    assert custom["name_"] == "clash" and custom["msg_"] == "x"


def test_text_is_one_readable_line_per_event() -> None:
    out = io.StringIO()
    install_logging(OpsConfig(), [], stream=out)
    order_event(
        logging.getLogger("mm"),
        "rejected",
        client_id="b_B1_1",
        side="BUY",
        price="1",
        qty="2",
        reason="post-only would cross",
    )
    flush_logs()
    (line,) = out.getvalue().splitlines()
    assert line.endswith(
        'mm: order_rejected client_id=b_B1_1 side=BUY price=1 qty=2 reason="post-only would cross"'
    )
    assert " INFO " in line


def test_level_and_reinstall_do_not_duplicate() -> None:
    out = io.StringIO()
    install_logging(OpsConfig(log_level="WARNING"), [], stream=out)
    install_logging(OpsConfig(log_level="WARNING"), [], stream=out)
    log = logging.getLogger("mm")
    log.info("hidden")
    log.warning("shown")
    flush_logs()
    assert out.getvalue().count("shown") == 1 and "hidden" not in out.getvalue()


def test_rotating_file_keeps_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "bot.log"
    install_logging(OpsConfig(log_file=path, log_max_bytes=2048, log_backups=2), [], stream=io.StringIO())
    log = logging.getLogger("mm")
    for i in range(200):
        log.info("line %d %s", i, "x" * 50)
    flush_logs()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["bot.log", "bot.log.1", "bot.log.2"]
    assert all(p.stat().st_size <= 2048 for p in tmp_path.iterdir())
    assert "line 199" in path.read_text()


def test_secrets_added_later_are_masked_too() -> None:
    out = io.StringIO()
    install_logging(OpsConfig(log_format="json"), [KEY], stream=out)
    log = logging.getLogger("market_maker.run")
    generated = "d41d8cd98f00b204e9800998ecf8427e"
    log.info("before: %s", generated)
    flush_logs()  # written before the secret is known
    add_secrets(generated)
    log.info("after: %s and %s", generated, KEY)
    flush_logs()
    before, after = out.getvalue().splitlines()
    assert generated in before  # masking starts when the secret is known
    assert (
        generated not in after
        and KEY not in after
        and json.loads(after)["msg"] == f"after: {MASK} and {MASK}"
    )


def test_lines_are_written_off_the_caller_thread_in_order_and_none_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "bot.log"
    handlers = install_logging(OpsConfig(log_file=path), [SECRET], stream=io.StringIO())
    writers: set[str] = set()

    class Seen(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            writers.add(threading.current_thread().name)
            return True

    for handler in handlers:
        handler.addFilter(Seen())
    log = logging.getLogger("mm")
    changing = ["as logged"]
    for i in range(5_000):
        log.info("line %d %s", i, SECRET)
    log.info("list %s", changing)
    changing[0] = "changed after the call"
    install_logging(OpsConfig(), [], stream=io.StringIO())  # a reinstall drains the earlier writer first
    text = path.read_text()
    lines = text.splitlines()
    assert len(lines) == 5_001 and SECRET not in text
    assert [int(x.split("line ")[1].split()[0]) for x in lines[:-1]] == list(range(5_000))
    assert "as logged" in lines[-1]
    assert writers and threading.current_thread().name not in writers


def test_a_warning_is_written_when_the_call_returns_after_the_lines_before_it() -> None:
    out = io.StringIO()
    install_logging(OpsConfig(), [], stream=out)
    log = logging.getLogger("mm")
    for i in range(1_000):
        log.info("info %d", i)
    log.warning("the last words")
    lines = out.getvalue().splitlines()  # no flush: the warning call itself waited for the writer
    assert len(lines) == 1_001 and lines[-1].endswith("mm: the last words")
