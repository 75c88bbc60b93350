"""The alerts webhook is a secret (a chat webhook's path is its key): it may come from MM_OPS_WEBHOOK_URL
or the secrets file, `check-config` never prints it, and a bad one is named in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from market_maker.config import config_from_mapping
from market_maker.ops.logs import secrets_of
from market_maker.ops.service import OpsService
from market_maker.ops.status_doc import StatusInput

ROOT = Path(__file__).resolve().parents[2]
HOOK = "https://hooks.example.com/services/T000/B111/XyZsecretPart123"


def check_config(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    return subprocess.run(
        [sys.executable, "-m", "market_maker", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
        cwd=ROOT,
    )


def test_webhook_from_the_environment_is_used_and_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("bot:\n  id: hook1\n")
    result = check_config(path, MM_OPS_WEBHOOK_URL=HOOK)
    assert result.returncode == 0, result.stderr
    assert "# credentials.webhook_url: ********** (env MM_OPS_WEBHOOK_URL)" in result.stdout
    assert "XyZsecretPart123" not in result.stdout + result.stderr
    config = config_from_mapping({}, {"MM_OPS_WEBHOOK_URL": HOOK})
    ops = OpsService.from_config(config, lambda: StatusInput("mm1", "BTCUSDT", "spot", "sim", 0))
    assert ops.alerts is not None and "XyZsecretPart123" not in repr(ops.alerts)
    assert "/services/T000/B111/XyZsecretPart123" in secrets_of(config)  # masked in every log line


def test_webhook_in_the_yaml_shows_only_scheme_and_host(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(f"ops:\n  webhook_url: {HOOK}\n")
    result = check_config(path)
    assert result.returncode == 0, result.stderr
    assert "webhook_url: https://hooks.example.com/**********" in result.stdout
    assert "XyZsecretPart123" not in result.stdout + result.stderr


def test_a_bad_webhook_in_the_environment_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("bot:\n  id: hook1\n")
    result = check_config(path, MM_OPS_WEBHOOK_URL="ftp://hooks.example.com/XyZsecretPart123")
    assert result.returncode == 2
    expected = "error: env MM_OPS_WEBHOOK_URL: must start with https:// or http:// and name a host"
    assert result.stderr.strip() == expected
