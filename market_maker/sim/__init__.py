"""A Binance-compatible exchange simulator: the project's paper venue and every test's exchange.

Start it in-process (``market_maker.sim.server.SimServer``) or as ``python -m market_maker sim-exchange``.

How it behaves (what a bot sees):

* **Market.** Each symbol follows a seeded random walk (two volatility regimes, Poisson jumps) or a
  replay of kline files (Binance public CSV or 12-field REST arrays; each candle plays as
  open→low→high→close when rising, open→high→low→close when falling), at ``speed`` x wall time, or
  only on ``control.step()`` in step mode. Four hours of history are generated at start so klines work.
* **Book.** Synthetic: best bid = last price, best ask = one tick above, unlimited size. An order that
  crosses it on arrival is a taker and fills at once at the bid/ask (post-only ones are rejected:
  -2010 spot, -5022 futures). A resting order is a maker: it fills *at its own price* when the path
  trades strictly through it (touching is not enough), up to the volume the path printed there, so big
  orders fill in parts. Users' orders never trade with each other.
* **Money.** Decimal / integer ticks throughout. Spot locks quote (buys) or base (sells), fees in the
  asset received, rounded up to 8 decimals. USD-M: one-way positions, leverage, initial margin
  check on orders that add exposure (-2019), reduce-only (-2022), realized PnL and fees in the
  margin asset; no funding, liquidation or isolated-wallet accounting.
* **Wire.** Spot /api/v3 and USD-M /fapi REST with Binance's shapes, signatures, recvWindow rule,
  weights (429 then 418 with Retry-After), order-rate limits and error codes; market streams; spot
  user data through the WebSocket API (``userDataStream.subscribe.signature``); futures user data by
  listenKey (``/ws/<key>`` and ``/private/ws?listenKey=``).
* **Faults and views.** ``sim.control`` (also HTTP under ``/_sim/<op>``) and config fields: dropped or
  stalled streams, latency, 5xx, timeouts after accepting an order, rejects, forced partial fills,
  clock skew, set price, bans, expired listenKeys; read-only open orders, balances and trade log.
"""
