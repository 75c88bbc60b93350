"""The Durable engine's DBOS parts: the order workflows and their ids, where DBOS keeps its state, the
listing of a bot's workflows, the crash hook of the reliability tests, and the workflow gateway.

Starting either engine and the Simple engine's gateway are in :mod:`market_maker.engines`.
:mod:`.outcomes` (what became of a placement or cancellation, and the direct connector calls both
engines make) stays here: DBOS pickles step outputs by module path, so workflows recorded in an
existing system database name ``market_maker.durable.outcomes``.
"""
