"""Shared fixtures for integration tests: a running exchange simulator with a funded test account.

    def test_something(sim, sim_api):            # sim: a started SimServer (step mode, one account)
        sim_api.call("POST", "/api/v3/order", symbol="BTCUSDT", ...)   # signed with SIM_KEY/SIM_SECRET
        sim.control.set_price("BTCUSDT", "99000")

Override ``sim_config`` in a test module to change the simulator (e.g. clock-driven streams). The
account and the signed client live in ``test_sim_support`` (import them from there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_sim_support import SIM_BALANCES, SIM_KEY, SIM_SECRET, SignedApi

from market_maker.sim.server import SimConfig, SimServer


@pytest.fixture
def sim_config() -> SimConfig:
    """Step mode: the price moves only when a test says so (control.step / control.set_price)."""
    return SimConfig(step_mode=True)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[SimServer]:
    """A started simulator on a free loopback port with the account SIM_KEY / SIM_SECRET."""
    with SimServer(sim_config) as server:
        server.create_account(SIM_KEY, SIM_SECRET, dict(SIM_BALANCES))
        yield server


@pytest.fixture
def sim_api(sim: SimServer) -> Iterator[SignedApi]:
    """A signed REST client for the test account."""
    api = SignedApi(sim.rest_url)
    yield api
    api.session.close()
