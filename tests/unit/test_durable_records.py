"""Outcomes recorded by DBOS in an existing system database still load after the code moves.

DBOS pickles each step's output (base64 in the system database); a pickle names its class by module
path. A workflow recovered, or read back for a known client id, after an upgrade must still find
``market_maker.durable.outcomes``: these records were written by the code as it stood before the
engines were split from the Durable engine's package.
"""

from __future__ import annotations

import base64
import pickle

from market_maker.durable.outcomes import CancelOutcome, PlaceOutcome

# step outputs as the release before the package split stored them (DBOS's default serializer:
# base64 of pickle.dumps)
RECORDED_PLACE = (
    "gASVawAAAAAAAACMHW1hcmtldF9tYWtlci5kdXJhYmxlLm91dGNvbWVzlIwMUGxhY2VPdXRjb21llJOUKYGUXZQojAptbTFfQjJu"
    "OV8xlIwIcmVqZWN0ZWSUTowVcG9zdC1vbmx5IHdvdWxkIGNyb3NzlGViLg=="
)
RECORDED_CANCEL = (
    "gASVZQAAAAAAAACMHW1hcmtldF9tYWtlci5kdXJhYmxlLm91dGNvbWVzlIwNQ2FuY2VsT3V0Y29tZZSTlCmBlF2UKIwKbW0xX0Iy"
    "bjlfMZSMCW5vdF9mb3VuZJROjA11bmtub3duIG9yZGVylGViLg=="
)


def _load(recorded: str) -> object:
    return pickle.loads(base64.b64decode(recorded))


def test_recorded_outcomes_load() -> None:
    assert _load(RECORDED_PLACE) == PlaceOutcome("mm1_B2n9_1", "rejected", reason="post-only would cross")
    cancel = _load(RECORDED_CANCEL)
    assert cancel == CancelOutcome("mm1_B2n9_1", "not_found", reason="unknown order")
    assert isinstance(cancel, CancelOutcome) and cancel.definite


def test_new_records_name_the_same_module() -> None:
    """What this code records loads in a release that keeps the module where it is."""
    out = PlaceOutcome("mm1_B2n9_1", "unknown", reason="timeout")
    assert b"market_maker.durable.outcomes" in pickle.dumps(out)
    assert pickle.loads(pickle.dumps(out)) == out
