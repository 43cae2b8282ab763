"""An on-site battery at each station that shaves its grid draw: the worked example of
``docs/architecture.md`` (a new coupling in under 100 lines).

In each internal step a station's draw above ``shave_above_kw`` comes from its battery (up to
``power_kw`` and the energy stored); below it the battery recharges from the grid up to the
threshold, storing ``efficiency`` of what it takes. The market is unchanged (drivers, sessions
and the station's bill); what the feeder and the tariff see is the shaved draw. Each station
owns a ``StationBattery`` feature (its state of charge, seen by itself and its coordinator);
``info["battery"]`` holds ``soc_kwh`` and ``shaved_kwh`` (B, N) of the period. Batteries start
every episode full.

    env = MarketEnv(config, 8, "GridCharging-v0",
                    couplings=(GridCoupling, partial(Battery, capacity_kwh=200.0, power_kw=100.0)))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.features import Feature, Field, Visibility
from evprice.envs.coupling import Coupling, CouplingStep, PeriodResult

STATION_BATTERY = "StationBattery"


def shave(draw_kwh, soc_kwh, capacity_kwh, power_kwh, limit_kwh, efficiency):
    """Battery dispatch over S steps. ``draw_kwh`` (B, N, S) the stations' draw in each step;
    ``soc_kwh`` (B, N) stored at the start; ``power_kwh`` and ``limit_kwh`` the most the battery
    moves and the draw threshold in one step. Returns ``(grid draw (B, N, S), soc after (B, N))``."""
    grid, soc = np.empty_like(draw_kwh), soc_kwh.copy()
    for s in range(draw_kwh.shape[2]):
        d = draw_kwh[..., s]
        out = np.minimum(np.minimum(np.maximum(d - limit_kwh, 0.0), power_kwh), soc)
        into = np.minimum(np.minimum(np.maximum(limit_kwh - d, 0.0), power_kwh), (capacity_kwh - soc) / efficiency)
        soc = np.minimum(soc - out + efficiency * into, capacity_kwh)  # never above it by a rounding
        grid[..., s] = d - out + into
    return grid, soc


class Battery(Coupling):
    """A battery of ``capacity_kwh`` and ``power_kw`` at every station, shaving its draw above
    ``shave_above_kw``; ``efficiency`` of the energy charged is stored."""

    name = "battery"
    station_features = (STATION_BATTERY,)

    def __init__(
        self, env: Any, capacity_kwh: float, power_kw: float, shave_above_kw: float = 0.0, efficiency: float = 0.95
    ) -> None:
        super().__init__(env)
        for key, value, low in (("capacity_kwh", capacity_kwh, 0.0), ("power_kw", power_kw, 0.0)):
            if not np.isfinite(value) or value < low:
                raise ValueError(f"{key}={value!r} is invalid: expected a finite number >= {low}")
        if not np.isfinite(shave_above_kw) or shave_above_kw < 0.0:
            raise ValueError(f"shave_above_kw={shave_above_kw!r} is invalid: expected a finite number >= 0")
        if not 0.0 < efficiency <= 1.0:
            raise ValueError(f"efficiency={efficiency!r} is invalid: expected a number in (0, 1]")
        step_h = env.params.dt_s / 3600.0
        self.capacity_kwh, self.efficiency = float(capacity_kwh), float(efficiency)
        self.power_kwh, self.limit_kwh = power_kw * step_h, shave_above_kw * step_h  # per internal step
        self.soc_kwh = np.full((env.num_envs, env.config.n_stations), self.capacity_kwh)
        self._shaved_kwh = np.zeros_like(self.soc_kwh)

    def features(self) -> tuple[Feature, ...]:
        return tuple(
            Feature(
                STATION_BATTERY,
                (Field("soc", "1", 0.0, 1.0, "energy stored over the battery's capacity"),),
                frozenset({Visibility.OWNER, Visibility.UPPER_LEVEL}),
                owner=agent_id,
            )
            for agent_id in self.env.config.agent_ids
        )

    def values(self) -> np.ndarray:
        return self.soc_kwh / self.capacity_kwh if self.capacity_kwh > 0 else np.zeros_like(self.soc_kwh)

    def reset(self, seed: int | None) -> None:
        self.soc_kwh = np.full_like(self.soc_kwh, self.capacity_kwh)

    def grid_draw(self, outcome: Any, grid_kwh_per_substep: np.ndarray) -> np.ndarray:
        args = (self.capacity_kwh, self.power_kwh, self.limit_kwh, self.efficiency)
        grid, self.soc_kwh = shave(grid_kwh_per_substep, self.soc_kwh, *args)
        self._shaved_kwh = (grid_kwh_per_substep - grid).sum(axis=2)
        return grid

    def after_period(self, period: PeriodResult) -> CouplingStep:
        return CouplingStep(None, {"battery": {"soc_kwh": self.soc_kwh.copy(), "shaved_kwh": self._shaved_kwh}})

    def snapshot(self) -> dict[str, Any]:
        return {"soc_kwh": self.soc_kwh}

    def restore(self, parts: dict[str, Any]) -> None:
        self.soc_kwh = parts["soc_kwh"]
