"""Account queries beyond the trading core: every order (``allOrders``, spot and USD-M), USD-M leverage
brackets, the wallet's coin list and margin pairs (the ``/sapi`` calls ccxt makes in ``load_markets``),
and COIN-M's exchangeInfo, which lists no contract (the simulator has no COIN-M market)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from market_maker.sim import wire
from market_maker.sim.engine import SPOT, USDM, Order
from market_maker.sim.rest import KEY, NONE, SIGNED, Params, Route, err, int_param, symbol_rules
from market_maker.sim.venue import Venue

# Binance's BTCUSDT tiers (initial leverage, notional cap, maintenance margin ratio); every simulated
# symbol gets them.
_TIERS = (
    (125, 50_000, "0.004"),
    (100, 600_000, "0.005"),
    (75, 3_000_000, "0.0065"),
    (50, 12_000_000, "0.01"),
    (25, 70_000_000, "0.02"),
    (20, 100_000_000, "0.025"),
    (10, 230_000_000, "0.05"),
    (5, 480_000_000, "0.1"),
    (4, 600_000_000, "0.125"),
    (3, 800_000_000, "0.15"),
    (2, 1_200_000_000, "0.25"),
    (1, 1_800_000_000, "0.5"),
)


def _brackets() -> list[dict[str, Any]]:
    out, floor, cum, prev_mmr = [], 0, Decimal(0), Decimal(0)
    for i, (lev, cap, mmr_s) in enumerate(_TIERS, start=1):
        mmr = Decimal(mmr_s)
        cum += floor * (mmr - prev_mmr)  # Binance's "cum": maintenance amount carried from lower tiers
        # JSON numbers, as Binance writes them here (short decimals: exact as floats' shortest repr)
        out.append(
            {
                "bracket": i,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(mmr),
                "cum": float(cum),
            }
        )
        floor, prev_mmr = cap, mmr
    return out


BRACKETS = _brackets()


def _leverage_bracket(v: Venue, key: str, p: Params, now: int) -> Any:
    if p.get("symbol"):
        return {"symbol": symbol_rules(v, p).symbol, "brackets": BRACKETS}
    return [{"symbol": s, "brackets": BRACKETS} for s in v.rules]


def _orders_of(v: Venue, venue: str, key: str, symbol: str | None) -> list[Order]:
    return [
        o
        for (ven, _), o in v.engine.orders.items()
        if ven == venue and o.account == key and (symbol is None or o.symbol == symbol)
    ]


def _select(orders: list[Order], p: Params, max_span_ms: int, span_text: str) -> list[Order]:
    """allOrders' selection: ``orderId`` and up, or within [startTime, endTime], else the latest."""
    limit = int_param(p, "limit") or 500
    if not 1 <= limit <= 1000:
        raise err(-1130, "Invalid data sent for a parameter.")
    oid, start, end = int_param(p, "orderId"), int_param(p, "startTime"), int_param(p, "endTime")
    if start is not None and end is not None and end - start > max_span_ms:
        raise err(-1127, f"More than {span_text} between startTime and endTime.")
    rows = sorted(
        (
            o
            for o in orders
            if (oid is None or o.order_id >= oid)
            and (start is None or o.time_ms >= start)
            and (end is None or o.time_ms <= end)
        ),
        key=lambda o: o.order_id,
    )
    return rows[:limit] if oid is not None or start is not None else rows[-limit:]


def _spot_all_orders(v: Venue, key: str, p: Params, now: int) -> Any:
    r = symbol_rules(v, p)
    rows = _select(_orders_of(v, SPOT, key, r.symbol), p, 86_400_000, "24 hours")
    return [wire.spot_order(o, r) for o in rows]


def _futures_all_orders(v: Venue, key: str, p: Params, now: int) -> Any:
    symbol = symbol_rules(v, p).symbol if p.get("symbol") else None  # optional since 2026-08
    rows = _select(_orders_of(v, USDM, key, symbol), p, 7 * 86_400_000, "7 days")
    return [wire.futures_order(o, v.rules[o.symbol]) for o in rows]


def _coins(v: Venue, key: str, p: Params, now: int) -> Any:
    """GET /sapi/v1/capital/config/getall: every asset of the listed symbols and the account, with the
    account's spot balance. The simulator has no deposits or withdrawals, so both are disabled."""
    acct = v.engine.accounts[key]
    assets = dict.fromkeys([a for r in v.rules.values() for a in (r.base_asset, r.quote_asset)])
    assets.update(dict.fromkeys(acct.spot))
    out = []
    for a in assets:
        free, locked = acct.spot.get(a, [Decimal(0), Decimal(0)])
        network = {
            "network": a,
            "coin": a,
            "withdrawIntegerMultiple": "0.00000001",
            "isDefault": True,
            "depositEnable": False,
            "withdrawEnable": False,
            "depositDesc": "The simulator has no deposits.",
            "withdrawDesc": "The simulator has no withdrawals.",
            "specialTips": "",
            "name": a,
            "resetAddressStatus": False,
            "addressRegex": "",
            "memoRegex": "",
            "withdrawFee": "0",
            "withdrawMin": "0",
            "withdrawMax": "0",
            "minConfirm": 0,
            "unLockConfirm": 0,
            "sameAddress": False,
            "estimatedArrivalTime": 0,
            "busy": False,
            "contractAddressUrl": "",
            "contractAddress": "",
        }
        out.append(
            {
                "coin": a,
                "depositAllEnable": False,
                "withdrawAllEnable": False,
                "name": a,
                "free": wire.f8(free),
                "locked": wire.f8(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [network],
            }
        )
    return out


def _no_margin_pairs(v: Venue, key: str, p: Params, now: int) -> Any:
    """Margin pairs (cross and isolated): none, the simulator has no margin trading (exchangeInfo says
    ``isMarginTradingAllowed: false``)."""
    return []


def _coinm_exchange_info(v: Venue, key: str, p: Params, now: int) -> Any:
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "symbols": [],
    }


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/allOrders"): Route(SPOT, SIGNED, 20, _spot_all_orders),
    ("GET", "/fapi/v1/allOrders"): Route(USDM, SIGNED, 5, _futures_all_orders),
    ("GET", "/fapi/v1/leverageBracket"): Route(USDM, SIGNED, 1, _leverage_bracket),
    ("GET", "/sapi/v1/capital/config/getall"): Route(SPOT, SIGNED, 10, _coins),
    ("GET", "/sapi/v1/margin/allPairs"): Route(SPOT, KEY, 1, _no_margin_pairs),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Route(SPOT, SIGNED, 10, _no_margin_pairs),
    ("GET", "/dapi/v1/exchangeInfo"): Route(USDM, NONE, 1, _coinm_exchange_info),
}
