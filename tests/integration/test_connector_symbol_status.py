"""Symbol status: in CANCEL_ONLY, BREAK or HALT the connector places nothing (refused before sending) and
still cancels, over either order transport; it notices the status from exchangeInfo or from a
"Market is closed." answer, and trades again once the symbol is TRADING. Every order carries the
configured ``selfTradePreventionMode``."""

from __future__ import annotations

from typing import Any

import pytest
from test_connector_support import KEY, SECRET, fund, market, price_off_market

from market_maker.core.model import Side
from market_maker.exchange import make_exchange
from market_maker.exchange.binance import BinanceExchange
from market_maker.exchange.errors import RejectedError, SymbolNotTradingError
from market_maker.exchange.usdm import UsdmExchange
from market_maker.sim.server import SimServer

__all__ = ["market"]  # the fixture, parametrized over spot and usdm
QTY = 100  # steps: 0.001 BTC


def connector(sim: SimServer, market: str, transport: str, **kw: Any) -> BinanceExchange:
    fund(sim)
    ex = make_exchange(
        market, sim.rest_url, sim.ws_url, KEY, SECRET, symbol="BTCUSDT", order_transport=transport, **kw
    )
    assert isinstance(ex, BinanceExchange)
    ex.start()
    if isinstance(ex, UsdmExchange):
        ex.position_mode()
    return ex


@pytest.mark.parametrize("status", ["CANCEL_ONLY", "BREAK", "HALT"])
@pytest.mark.parametrize("transport", ["rest", "websocket"])
def test_not_trading_stops_placing_and_keeps_cancelling(
    sim: SimServer, market: str, transport: str, status: str
) -> None:
    ex = connector(sim, market, transport)
    try:
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        ex.place(Side.BUY, price, QTY, "mm1-st-1")
        sim.control.set_symbol_status("BTCUSDT", status)
        ex.symbol_rules(refresh=True)  # what a start or a periodic refresh reads
        assert (ex.symbol_status, ex.placing) == (status, False)
        sent = ex.rest.sent
        with pytest.raises(SymbolNotTradingError, match=f"BTCUSDT is {status}"):
            ex.place(Side.BUY, price - 10, QTY, "mm1-st-2")
        assert ex.rest.sent == sent  # refused before sending
        assert ex.cancel("mm1-st-1").status.value == "CANCELED"
        assert sim.control.open_orders(KEY) == []
    finally:
        ex.close()


@pytest.mark.parametrize("transport", ["rest", "websocket"])
def test_a_market_closed_answer_is_noticed_and_trading_resumes(
    sim: SimServer, market: str, transport: str
) -> None:
    ex = connector(sim, market, transport)
    try:
        ex.status_recheck_s = 0.0  # re-read the status on every refused place (10 s by default)
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        sim.control.set_symbol_status("BTCUSDT", "CANCEL_ONLY")  # the connector has not read it yet
        with pytest.raises(RejectedError) as closed:
            ex.place(Side.BUY, price, QTY, "mm1-mc-1")
        # Binance's answers: spot -2010 "Market is closed.", USD-M -1122 "Invalid symbol status."
        assert closed.value.code == (-2010 if market == "spot" else -1122)
        assert not isinstance(closed.value, SymbolNotTradingError)
        with pytest.raises(SymbolNotTradingError):
            ex.place(Side.BUY, price, QTY, "mm1-mc-2")
        assert ex.symbol_status == "CANCEL_ONLY"
        sim.control.set_symbol_status("BTCUSDT", "TRADING")
        assert ex.place(Side.BUY, price, QTY, "mm1-mc-3").client_id == "mm1-mc-3"
        assert ex.placing
    finally:
        ex.close()


@pytest.mark.parametrize("mode", ["EXPIRE_TAKER", "EXPIRE_BOTH"])
def test_every_order_names_its_self_trade_prevention_mode(sim: SimServer, market: str, mode: str) -> None:
    ex = connector(sim, market, "rest", stp_mode=mode)
    sent: list[dict[str, Any]] = []
    request = ex.rest.request

    def recording(method: str, path: str, params: Any = None, **kw: Any) -> Any:
        if method == "POST" and path == ex.api.order.path:
            sent.append(dict(params))
        return request(method, path, params, **kw)

    ex.rest.request = recording  # type: ignore[method-assign]
    try:
        price = price_off_market(sim, ex, Side.BUY, "-0.02")
        ex.place(Side.BUY, price, QTY, "mm1-stp-1")
        ex.place(Side.SELL, price_off_market(sim, ex, Side.SELL, "0.02"), QTY, "mm1-stp-2")
        assert [p["selfTradePreventionMode"] for p in sent] == [mode, mode]
    finally:
        ex.close()
