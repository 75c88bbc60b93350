"""The Durable engine's order gateway: each placement and cancellation runs as a DBOS workflow,
synchronously in the caller's thread (DBOS runs a directly called workflow inline), so the exchange
actor's message protocol is the same for both engines."""

from __future__ import annotations

import logging

from dbos import DBOS, SetWorkflowID

from market_maker.core.model import Side
from market_maker.durable import workflows as wf
from market_maker.durable.ids import cancel_workflow_id, place_workflow_id
from market_maker.durable.outcomes import CancelOutcome, PlaceOutcome, why

log = logging.getLogger("market_maker.durable")

ENDED_WITHOUT_RESULT = frozenset({"ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})
MAX_CANCEL_ATTEMPTS = 1000  # cancel workflows per client id (each new one only after a failed one)


class DurableGateway:
    """The Durable engine: each placement and cancellation is a workflow (DBOS must be launched)."""

    def __init__(self, bot_id: str, symbol: str) -> None:
        self.bot_id = bot_id
        self.symbol = symbol

    def place(
        self, side: Side, price: int, qty: int, client_id: str, *, reduce_only: bool = False
    ) -> PlaceOutcome:
        """Run (or, for a known client id, read back) the placement workflow of ``client_id``."""
        wid = place_workflow_id(self.symbol, client_id)
        try:
            with SetWorkflowID(wid):
                return wf.place_workflow(
                    self.bot_id, self.symbol, Side(side).value, price, qty, client_id, reduce_only
                )
        except Exception as exc:  # DBOS itself failed: the order may have gone out, so: unknown
            log.error("placement workflow %s failed: %s", wid, why(exc))
            return PlaceOutcome(client_id, "unknown", reason=f"workflow {wid} failed: {why(exc)}")

    def cancel(self, client_id: str) -> CancelOutcome:
        """Run a cancel workflow; one that ended without a definite answer is followed by a new attempt
        (``...-r1``, ``-r2``, ...) so a later cancel request is not answered by an old failure."""
        for attempt in range(MAX_CANCEL_ATTEMPTS):
            wid = cancel_workflow_id(self.symbol, client_id, attempt)
            try:
                status = DBOS.get_workflow_status(wid)
                if status is not None and status.status in ENDED_WITHOUT_RESULT:
                    continue
                ran_before = status is not None
                with SetWorkflowID(wid):
                    out = wf.cancel_workflow(self.bot_id, self.symbol, client_id)
            except Exception as exc:
                log.error("cancel workflow %s failed: %s", wid, why(exc))
                return CancelOutcome(client_id, "failed", reason=f"workflow {wid} failed: {why(exc)}")
            if out.definite or not ran_before:
                return out
        return CancelOutcome(client_id, "failed", reason=f"{MAX_CANCEL_ATTEMPTS} cancel attempts failed")
