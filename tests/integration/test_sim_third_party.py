"""A well-known third-party client (PyPI ``binance-connector``) trades against the simulator."""

from __future__ import annotations

from decimal import Decimal

from binance.spot import Spot
from test_sim_support import SIM_KEY, SIM_SECRET

from market_maker.sim.server import SimServer


def test_binance_connector_reads_places_lists_and_cancels(sim: SimServer) -> None:
    client = Spot(api_key=SIM_KEY, api_secret=SIM_SECRET, base_url=sim.rest_url)
    info = client.exchange_info(symbol="BTCUSDT")
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    tick = Decimal(filters["PRICE_FILTER"]["tickSize"])
    price = Decimal(client.ticker_price("BTCUSDT")["price"])
    limit = ((price * Decimal("0.98")) / tick).to_integral_value() * tick
    placed = client.new_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price=f"{limit:f}",
        newClientOrderId="tp_B1_0",
    )
    assert placed["status"] == "NEW"
    open_orders = client.get_open_orders(symbol="BTCUSDT")
    assert [o["clientOrderId"] for o in open_orders] == ["tp_B1_0"]
    cancelled = client.cancel_order(symbol="BTCUSDT", origClientOrderId="tp_B1_0")
    assert cancelled["status"] == "CANCELED"
    assert client.get_open_orders(symbol="BTCUSDT") == []
    assert sim.control.open_orders(SIM_KEY) == []
