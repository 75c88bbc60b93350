"""The web dashboard in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright)
loads ``/`` from a default paper run and sees what a person would: the grid ladder, a PnL figure that
changes, a chart, no console errors. The screenshot is kept as a test artifact
(``test-artifacts/dashboard.png``, or under ``$MM_TEST_ARTIFACTS``)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from default_run import REPO, WAIT_S, DefaultRun

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("MM_TEST_ARTIFACTS") or REPO / "test-artifacts")

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip("no chromium here (.ci/run installs Debian's chromium)", allow_module_level=True)


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, headless=True)


def _watch_console(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    return errors


def _history(url: str) -> list[dict[str, str]]:
    """``GET /history``'s PnL samples once there is one: the bot samples every 5 s from its start, and
    the page may have seen its PnL change before the first sample was taken."""
    deadline = time.monotonic() + WAIT_S
    while True:
        pnl: list[dict[str, str]] = requests.get(url + "/history", timeout=10).json()["pnl"]
        if pnl or time.monotonic() > deadline:
            return pnl
        time.sleep(0.2)


def _wait_text_change(page: Any, selector: str, first: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while (now := page.locator(selector).inner_text()) in (first, "-"):
        assert time.monotonic() < deadline, f"{selector} stayed {first!r}"
        page.wait_for_timeout(500)
    return str(now)


def test_dashboard_shows_the_ladder_and_a_live_pnl_read_only(tmp_path: Path) -> None:
    with DefaultRun(tmp_path) as bot:
        bot.wait_status(lambda d: d["orders"]["open_own"] > 0 and d["market"]["price"] is not None)
        url = bot.url()
        with playwright.sync_playwright() as p:
            browser = _browser(p)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors = _watch_console(page)
                page.goto(url + "/")
                page.locator("#ladder tbody tr.level").first.wait_for(timeout=WAIT_S * 1000)
                assert page.locator("#title").inner_text() == "paper1 | BTCUSDT spot | sim"
                rows = page.locator("#ladder tbody tr.level").all_inner_texts()
                assert any(re.search(r"LOCKED\s+BUY", r) for r in rows), rows
                assert re.match(r"price \d+\.\d+", page.locator("#ladder tr.marker").inner_text())
                # the net PnL moves with the price once a buy filled (paper speed: within seconds)
                page.locator("#net").wait_for()
                first = page.locator("#net").inner_text()
                changed = _wait_text_change(page, "#net", first)
                assert re.fullmatch(r"-?\d+(\.\d+)?", changed), changed
                points = page.locator("#chart polyline.net").get_attribute("points") or ""
                assert len(points.split()) >= 2  # a line over time, not a dot
                assert page.locator("#health").inner_text() == "healthy"
                assert page.locator("#controls").is_hidden()  # read-only: no ops token set
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
                assert errors == []
            finally:
                browser.close()
        history = _history(url)  # what seeds a late page's chart
        assert history and {"time_ms", "realized", "unrealized", "net"} == set(history[0])
        refused = requests.post(url + "/pause", timeout=10)
        assert refused.status_code == 403 and "read-only" in refused.text
        assert bot.stop() == 0


def test_with_an_ops_token_the_page_asks_for_it_and_can_pause(tmp_path: Path) -> None:
    token = "dash-token-5f4e3d2c1b"
    with DefaultRun(tmp_path, "paper3", env={"MM_OPS_TOKEN": token}) as bot:
        bot.wait_status(lambda d: d["orders"]["open_own"] > 0)
        with playwright.sync_playwright() as p:
            browser = _browser(p)
            try:
                page = browser.new_page()
                errors = _watch_console(page)
                page.goto(bot.url() + "/")
                page.locator("#login").wait_for(state="visible", timeout=WAIT_S * 1000)
                assert page.locator("#ladder tbody tr").count() == 0  # nothing shown without the token
                page.fill("#token", token)
                page.click("#login button")
                page.locator("#ladder tbody tr.level").first.wait_for(timeout=WAIT_S * 1000)
                page.locator("#controls").wait_for(state="visible")
                page.click("#pause")
                page.locator("#paused").wait_for(state="visible", timeout=WAIT_S * 1000)
                # the 401 of the first poll is the page asking for the token, not an error
                assert [e for e in errors if "401" not in e] == []
            finally:
                browser.close()
        assert bot.wait_status(lambda d: d["bot"]["paused"])["bot"]["paused"]
        assert bot.stop() == 0
