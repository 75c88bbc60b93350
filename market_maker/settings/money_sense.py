"""Money sense at the door: does the grid's interval beat the fees, and is the order size clear of the
exchange's minimums? Warnings with the numbers, for ``check-config``, ``doctor`` and ``run``.

A round trip buys ``q`` at ``L`` and sells it at ``L + I``, paying the maker fee ``m`` on both legs:

    gross = I * q        fees = m * L * q + m * (L + I) * q
    net > 0  <=>  I > 2 * m * L / (1 - m)        (~ 2 x maker fee x price)

so the break-even interval at price ``P`` is ``2 m P / (1 - m)``, rounded up to the tick. An interval at
or below it loses money on every round trip. The order size is "near the minimums" when its notional at
the lowest buy level is under :data:`NEAR_MINIMUM` times ``minNotional`` (a modest fall of the price then
makes the buys rejected), or its quantity under that many times ``minQty``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from market_maker.settings.models import Config

NEAR_MINIMUM = Decimal("1.5")


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def break_even_interval(price: Decimal, maker_fee: Decimal, tick: Decimal) -> Decimal:
    """The smallest interval, a multiple of ``tick``, whose round trip at ``price`` does not lose."""
    exact = 2 * maker_fee * price / (1 - maker_fee)
    return (exact / tick).to_integral_value(rounding=ROUND_CEILING) * tick


def interval_warning(
    key: str, interval: Decimal, price: Decimal, maker_fee: Decimal, tick: Decimal, quote: str
) -> str | None:
    """A line when ``interval`` cannot beat the round-trip fees at ``price``; None when it can."""
    need = break_even_interval(price, maker_fee, tick)
    if interval > need:
        return None
    fees = 2 * maker_fee * price
    return (
        f"{key} {_plain(interval)} cannot beat the round-trip fees: 2 x maker fee {_plain(maker_fee)}"
        f" x price {_plain(price)} = {_plain(fees)} {quote} per unit; the break-even interval is"
        f" {_plain(need)} {quote}: a round trip at this interval loses money"
    )


def size_warnings(
    qty: Decimal, lowest_buy: Decimal, min_qty: Decimal, min_notional: Decimal, base: str, quote: str
) -> list[str]:
    """Lines when the order size is within :data:`NEAR_MINIMUM` x the exchange's minimums."""
    out = []
    notional = qty * lowest_buy
    if min_notional > 0 and notional < min_notional * NEAR_MINIMUM:
        drop = (1 - min_notional / notional) * 100 if notional > 0 else Decimal(0)
        cents = notional.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)  # whatever the thread's context
        out.append(
            f"trading.order_quantity {_plain(qty)} {base} is {_plain(cents)}"
            f" {quote} at the lowest buy level {_plain(lowest_buy)}, near the exchange's min notional"
            f" {_plain(min_notional)} {quote}: a price fall of {drop:.0f}% gets the buys rejected"
        )
    if min_qty > 0 and qty < min_qty * NEAR_MINIMUM:
        out.append(
            f"trading.order_quantity {_plain(qty)} {base} is near the exchange's min quantity"
            f" {_plain(min_qty)} {base}: a partial fill below it cannot be sold"
        )
    return out


def grid_interval(cfg: Config) -> tuple[str, Decimal]:
    """(key, value) of the narrowest interval the grid may trade: ``risk.min_interval`` with a dynamic
    interval when it is set, else ``trading.price_interval``."""
    if cfg.trading.dynamic_interval and cfg.risk.min_interval is not None:
        return "risk.min_interval", cfg.risk.min_interval
    return "trading.price_interval", cfg.trading.price_interval


def config_warnings(cfg: Config) -> list[str]:
    """The money warnings a configuration alone can give: on the simulator, whose price, fees and
    filters the config states. For Binance the price and filters are known only to ``doctor``."""
    if cfg.exchange.venue != "sim":
        return []
    s, t = cfg.sim, cfg.trading
    assets = s.assets_for(t.symbol) or ("base", "quote")
    maker, _ = s.fees_for(cfg.exchange.market)
    key, interval = grid_interval(cfg)
    out = []
    line = interval_warning(key, interval, s.start_price, maker, s.tick_size, assets[1])
    if line is not None:
        out.append(line)
    lowest_buy = s.start_price - interval * t.buy_window_size
    if lowest_buy > 0:
        out += size_warnings(t.order_quantity, lowest_buy, s.min_qty, s.min_notional, *assets)
    return out
