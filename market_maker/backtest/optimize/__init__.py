"""The optimizer behind ``python -m market_maker optimize``: Optuna searches over configuration keys,
walk-forward validated, evaluated by a pure function of (parameters, candles) on local processes or a
Dask cluster. See docs/optimizing.md."""
