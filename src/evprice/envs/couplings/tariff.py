"""The stations' supply tariff as a coupling: document 2's tiered cost of the power they draw.

The stations' total grid draw (energy delivered / charging efficiency) in each internal
step costs ``supply_cost_low_per_kwh`` up to ``supply_threshold_kw`` and
``supply_cost_high_per_kwh`` above (:func:`evprice.market.economics.tiered_supply_cost`).
It adds ``info["network"]``: ``supply_cost`` and ``revenue_minus_supply_cost`` (B,), the
latter document 2's "social welfare" (the ``revenue_minus_supply_cost`` reward of
:mod:`evprice.envs.rewards` reads it), and ``waiting_h`` (B, N), the total time the EVs
admitted at each station wait for a charger. It adds no cost: the tariff is an economic
term, not a constraint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.timing import SECONDS_PER_HOUR
from evprice.envs.coupling import Coupling, CouplingStep, PeriodResult
from evprice.market.economics import tiered_supply_cost


class SupplyTariff(Coupling):
    """The tiered supply cost of ``config.supply_threshold_kw`` and its two prices."""

    name = "tariff"

    def supply_cost(self, grid_kwh_per_substep: np.ndarray) -> np.ndarray:
        """(B,) what supplying the stations' draw (B, N, S) kWh over the period costs, currency."""
        cfg = self.env.config
        return tiered_supply_cost(
            grid_kwh_per_substep.sum(axis=1),  # (B, S) the stations' total
            self.env.params.dt_s / SECONDS_PER_HOUR,
            cfg.supply_threshold_kw,
            cfg.supply_cost_low_per_kwh,
            cfg.supply_cost_high_per_kwh,
        )

    def after_period(self, period: PeriodResult) -> CouplingStep:
        outcome = period.outcome
        supply = self.supply_cost(period.grid_kwh_per_substep)
        info: dict[str, Any] = {
            "network": {
                "supply_cost": supply,
                "revenue_minus_supply_cost": outcome.revenue.sum(axis=1) - supply,
                "waiting_h": outcome.waiting_h,
            }
        }
        return CouplingStep(None, info)
