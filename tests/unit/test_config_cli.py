"""`python -m market_maker check-config FILE`: exit codes and what the user sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from market_maker.cli import main

REPO = Path(__file__).resolve().parents[2]
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MM_"):
            monkeypatch.delenv(name)


def check(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-config", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_yaml_exits_0_as_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "market_maker", "check-config", "config/default.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "symbol: BTCUSDT" in proc.stdout and "venue: sim" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("trading:\n  price_interval: 10\n  surprise: 1\n", "trading.surprise"),
        ("trading:\n  price_interval: -10\n", "trading.price_interval"),
        ("trading:\n  order_quantity: one\n", "trading.order_quantity"),
        ("trading:\n  buy_window_size: 0\n", "trading.buy_window_size"),
    ],
)
def test_bad_config_exits_2_with_a_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, key: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    code, out, err = check(path, capsys)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and f": {key}: " in lines[0] and str(path) in lines[0]


def test_every_error_is_printed_one_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("trading:\n  price_interval: 0\n  buy_window_size: 0\nrisk:\n  atr_period: x\n", "utf-8")
    code, _, err = check(path, capsys)
    assert code == 2
    assert [line.split(": ")[2] for line in err.splitlines()] == [
        "trading.price_interval",
        "trading.buy_window_size",
        "risk.atr_period",
    ]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.yaml", "cannot read"),
        (lambda p: p, "cannot read"),  # a directory
        (lambda p: (p / "x.yaml").write_text("a: [\n") and p / "x.yaml", "invalid YAML"),
        (lambda p: (p / "b.yaml").write_bytes(b"\xff\xfe\x00bad") and p / "b.yaml", "not UTF-8"),
    ],
)
def test_unusable_file_is_one_line_exit_2_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, expected: str
) -> None:
    code, out, err = check(make(tmp_path), capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and expected in err and "Traceback" not in err


def test_env_override_shows_in_the_merged_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM_TRADING__PRICE_INTERVAL", "20")
    code, out, _ = check(REPO / "config" / "default.yaml", capsys)
    assert code == 0 and "price_interval: 20\n" in out
    monkeypatch.setenv("MM_TRADING__PRICE_INTERVAL", "twenty")
    code, _, err = check(REPO / "config" / "default.yaml", capsys)
    assert code == 2 and "MM_TRADING__PRICE_INTERVAL" in err and "trading.price_interval" in err


def test_secret_never_appears_in_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM_API_KEY", "k" + SECRET[:20])
    monkeypatch.setenv("MM_API_SECRET", SECRET)
    code, out, err = check(REPO / "config" / "binance-spot.example.yaml", capsys)
    assert code == 0
    assert SECRET not in out + err and SECRET[:20] not in out + err
    assert "**********" in out and err == ""
    # ...nor when the secret sits in the YAML by mistake.
    path = tmp_path / "leaky.yaml"
    path.write_text(f"exchange:\n  api_secret: {SECRET}\n", encoding="utf-8")
    code, out, err = check(path, capsys)
    assert code == 2 and SECRET not in out + err and "MM_API_SECRET" in err


def test_live_config_without_keys_passes_with_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(REPO / "config" / "binance-usdm.example.yaml", capsys)
    assert code == 0 and "market: usdm" in out
    assert err.splitlines() == [
        "warning: exchange: API key not set: a run needs env MM_API_KEY or exchange.secrets_file",
        "warning: exchange: API secret not set: a run needs env MM_API_SECRET or exchange.secrets_file"
        " (or, for an Ed25519 key, env MM_API_PRIVATE_KEY or exchange.private_key_file)",
    ]


def test_insecure_secrets_file_exits_2_naming_file_and_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "s.yaml"
    secrets.write_text(f"api_key: abc\napi_secret: {SECRET}\n", encoding="utf-8")
    secrets.chmod(0o644)
    path = tmp_path / "c.yaml"
    path.write_text(f"exchange:\n  secrets_file: {secrets}\n", encoding="utf-8")
    code, out, err = check(path, capsys)
    assert code == 2 and str(secrets) in err and "0644" in err and SECRET not in out + err
