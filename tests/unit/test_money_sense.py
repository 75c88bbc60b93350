"""Money sense at the door: ``check-config`` warns, with the numbers, when the interval cannot beat the
round-trip fees or the order size is near the exchange's minimums."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from market_maker.cli import main
from market_maker.settings.money_sense import break_even_interval

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MM_"):
            monkeypatch.delenv(name)


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str) -> tuple[int, str]:
    text = (REPO / "config" / "default.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bot.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    code = main(["check-config", str(path)])
    return code, capsys.readouterr().err


def test_interval_of_50_warns_and_names_the_break_even_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, capsys, "price_interval: 250", "price_interval: 50")
    assert code == 0
    # 2 x 0.1% x 100000 = 200 per unit of BTC; exactly 2 m P / (1 - m) = 200.2002.. rounded up to the tick
    assert (
        "warning: trading.price_interval 50 cannot beat the round-trip fees: 2 x maker fee 0.001 x price"
        " 100000 = 200 USDT per unit; the break-even interval is 200.21 USDT" in err
    ), err


def test_the_shipped_default_gives_no_money_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, capsys, "price_interval: 250", "price_interval: 250")
    assert code == 0 and err == ""


def test_an_order_near_the_min_notional_warns_with_the_fall_that_gets_it_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, capsys, "order_quantity: 0.001 ", "order_quantity: 0.00006 ")
    # lowest buy level 100000 - 5 x 250 = 98750; 0.00006 x 98750 = 5.925 against min notional 5
    assert code == 0
    assert "trading.order_quantity 0.00006 BTC is 5.92 USDT at the lowest buy level 98750" in err, err
    assert "min notional 5 USDT: a price fall of 16% gets the buys rejected" in err


def test_futures_fees_move_the_break_even(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = check(tmp_path, capsys, "market: spot", "market: usdm")
    assert code == 0 and err == ""  # 0.02% maker: break-even 40.01, the 250 interval is clear of it
    assert break_even_interval(Decimal(100000), Decimal("0.0002"), Decimal("0.01")) == Decimal("40.01")


def test_break_even_is_the_round_trip_that_does_not_lose() -> None:
    price, fee, tick = Decimal("2500"), Decimal("0.00075"), Decimal("0.01")
    need = break_even_interval(price, fee, tick)

    def net(interval: Decimal) -> Decimal:
        return interval - fee * price - fee * (price + interval)

    assert net(need) >= 0 > net(need - tick)
