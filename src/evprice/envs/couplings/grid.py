"""The distribution feeder as a coupling: a power flow every pricing period.

Each station draws its power from a bus of the feeder (``config.buses(feeder)``). Every
period the stations' grid draw (energy delivered / charging efficiency) is added to the
buses' base load (the feeder's published loads times a daily profile, with noise drawn per
episode from the coupling's own stream), a power flow is run (one at the period's average
loads, or one per internal step with ``powerflow_every="substep"``), and the grid's
constraint costs are reported apart from the reward: ``cost`` (B, N), the same for every
station, and the ``info["grid"]`` group that :mod:`evprice.envs.grid_charging` documents.
Each station owns a ``StationGrid`` feature, and the public ``GridSignal`` is declared
after the market's features (:mod:`evprice.grid.features`); they hold the latest power
flow (at reset, the base load of the first hour with idle stations).

Its state: the base-load stream, each episode hour's load factor (B, H), the features'
values (B, G) and the last complex bus voltages (B, n_bus), the next power flow's start.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evprice.core.features import Feature
from evprice.core.rng import spawn_streams
from evprice.core.timing import HOURS_PER_DAY, SECONDS_PER_HOUR
from evprice.envs.coupling import Coupling, CouplingStep, PeriodResult
from evprice.grid.costs import period_costs
from evprice.grid.features import STATION_GRID, declare_grid_features, grid_feature_values
from evprice.grid.model import Grid, GridAssessment
from evprice.grid.profiles import base_load_factors

GRID_STREAM = "grid"
"""Named random stream of the base-load noise (independent of the market's streams)."""
NOISE_CLIP_STD = 3.0
"""The relative base-load noise is normal, clipped at this many standard deviations."""


class GridCoupling(Coupling):
    """The feeder under the stations (see the module docstring). The config must be a
    :class:`~evprice.envs.grid_charging.GridChargingConfig` (or carry its fields)."""

    name = "grid"
    station_features = (STATION_GRID,)

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        config, params = env.config, env.params
        self.grid = Grid(config)
        self.station_buses: tuple[int, ...] = config.buses(self.grid.feeder)
        self._q_per_p = math.tan(math.acos(config.charger_power_factor))
        hours = (params.first_hour + np.arange(params.n_hours)) % HOURS_PER_DAY  # hour of day, per episode hour
        self._profile = config.base_load_profile_factors()[hours]  # (H,)
        self._ext_grid_g_per_kwh = config.ext_grid_emission_profile_g_per_kwh()[hours]  # (H,)
        self._rng: np.random.Generator | None = None
        self._load_factor: np.ndarray | None = None  # (B, H) base-load factor of each episode hour
        self._values: np.ndarray | None = None  # (B, G) grid feature values
        self._v_last_pu: np.ndarray | None = None  # (B, n_bus) complex voltages of the latest power flow

    # -- the protocol ----------------------------------------------------------------------
    def features(self) -> tuple[Feature, ...]:
        return declare_grid_features(
            self.env.config.agent_ids,
            self.grid.monitored_lines,
            self.grid.emission_bounds_g_per_kwh,
            self.env.config.grid_observability,
        )

    def values(self) -> np.ndarray:
        return self._values

    def reset(self, seed: int | None) -> None:
        env, cfg = self.env, self.env.config
        if seed is not None or self._rng is None:
            self._rng = spawn_streams(seed, (GRID_STREAM,))[GRID_STREAM]
        z = self._rng.standard_normal((env.world.n_scenarios, env.params.n_hours))
        noise = env.world.tile(cfg.base_load_noise_std * np.clip(z, -NOISE_CLIP_STD, NOISE_CLIP_STD))
        self._load_factor = base_load_factors(self._profile, cfg.base_load_scale, noise)
        hour = int(env.params.hour_index(0.0))
        idle = np.zeros((env.num_envs, len(self.station_buses)))
        self._v_last_pu = None  # a new episode starts flat: its trajectory must not depend on the last one
        self._values = self._feature_values(
            self._assess(self._load_factor[:, hour], idle, idle, self._ext_grid_g_per_kwh[hour])
        )

    def after_period(self, period: PeriodResult) -> CouplingStep:
        env, p = self.env, self.env.params
        grid_kwh = period.grid_kwh_per_substep  # (B, N, S) drawn from the grid
        b, n, s = grid_kwh.shape
        k = env.period - 1  # the period just run
        hours = p.substep_hour[k * s : (k + 1) * s]  # (S,) episode hour of each sub-step
        draw_mw = grid_kwh / (p.dt_s / SECONDS_PER_HOUR) / 1e3  # average draw in each sub-step
        factor = self._load_factor[:, hours]  # (B, S)
        ext_g = self._ext_grid_g_per_kwh[hours]  # (S,)
        if env.config.powerflow_every == "period":  # one power flow at the period's average loads
            a = self._assess(
                factor.mean(axis=1), draw_mw.mean(axis=2), grid_kwh.sum(axis=2), float(ext_g.mean()), self._v_last_pu
            )
            flows, last = 1, a
        else:  # one per sub-step, rows ordered (member, sub-step)
            rows = lambda x: x.transpose(0, 2, 1).reshape(b * s, n)  # noqa: E731  (B, N, S) -> (B S, N)
            v_start = None if self._v_last_pu is None else np.repeat(self._v_last_pu, s, axis=0)
            a = self._assess(factor.reshape(b * s), rows(draw_mw), rows(grid_kwh), np.tile(ext_g, b), v_start)
            flows, last = s, a.take(np.arange(b) * s + (s - 1))
        self._values = self._feature_values(last)
        costs = period_costs(a.costs, flows, self.grid.weights, env.config.cost_form)
        per = lambda x: x.reshape((b, flows) + x.shape[1:])  # noqa: E731  (B F, ...) -> (B, F, ...)
        r = a.result
        ok = per(r.converged)  # (B, F)
        buses, lines = list(self.station_buses), list(self.grid.monitored_lines)
        station_g = per(a.nodal_carbon_g_per_kwh[:, buses])  # (B, F, N) judged: the worst case where failed
        info = {
            "cost_voltage": costs.voltage,
            "cost_line": costs.line,
            "cost_carbon": costs.carbon,
            "cost": costs.total,
            "converged": ok.all(axis=1),
            # measurements: over the period's power flows that converged (NaN if none did)
            "vm_min_pu": _over_converged(per(r.vm_pu.min(axis=1)), ok, np.min),
            "max_line_loading": _over_converged(per(r.line_loading[:, lines].max(axis=1)), ok, np.max),
            "feeder_stress": per(a.feeder_stress).max(axis=1),
            "p_loss_mw": _over_converged(per(r.p_loss_mw), ok, np.mean),
            "p_slack_mw": _over_converged(per(r.p_slack_mw), ok, np.mean),
            "bus_vm_pu": _over_converged(per(r.vm_pu[:, buses]), ok, np.min),
            # carbon: judged like the carbon cost (a failed flow's energy at the highest factor)
            "carbon_intensity_g_per_kwh": per(a.carbon_intensity_g_per_kwh).mean(axis=1),
            "station_p_mw": draw_mw.mean(axis=2),
            "station_carbon_g_per_kwh": station_g.mean(axis=1),
            "station_emissions_kg": _emissions_kg(grid_kwh, station_g, flows),
        }
        return CouplingStep(np.repeat(costs.total[:, None], n, axis=1), {"grid": info})

    def frame(self, member: int, info: dict[str, Any] | None) -> dict[str, Any]:
        cfg = self.env.config
        grid = None if info is None else info.get("grid")
        if grid is not None:
            bus_vm = np.asarray(grid["bus_vm_pu"][member], dtype=np.float64)
            vm_min = float(grid["vm_min_pu"][member])
            cost = float(np.max(info["cost"][member]))
        else:  # after reset: the base-load power flow the grid features hold
            names = self.env.layout.state_names
            columns = [names.index((f"{a}.{STATION_GRID}", "bus_vm")) for a in self.env.agent_ids]
            bus_vm, vm_min, cost = self.env.global_state()[member, columns].astype(np.float64), None, None
        return {
            "bus_vm_pu": bus_vm,
            "station_buses": tuple(int(b) for b in self.station_buses),
            "vm_min_pu": vm_min,
            "vm_band_pu": (float(cfg.vm_min_pu), float(cfg.vm_max_pu)),
            "cost": cost,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "stream": None if self._rng is None else self._rng.bit_generator.state,
            "load_factor": self._load_factor,
            "values": self._values,
            "v_last_pu": self._v_last_pu,
        }

    def restore(self, parts: dict[str, Any]) -> None:
        if parts["stream"] is None:
            self._rng = None
        else:
            if self._rng is None:
                self._rng = spawn_streams(0, (GRID_STREAM,))[GRID_STREAM]
            self._rng.bit_generator.state = parts["stream"]
        self._load_factor, self._values, self._v_last_pu = parts["load_factor"], parts["values"], parts["v_last_pu"]

    # -- the power flow --------------------------------------------------------------------
    def _assess(
        self,
        factor: np.ndarray,
        station_mw: np.ndarray,
        station_kwh: np.ndarray,
        ext_g_per_kwh: np.ndarray | float,
        v_start_pu: np.ndarray | None = None,
    ) -> GridAssessment:
        """Power flow with base-load ``factor`` (M,) and the stations drawing ``station_mw`` (M, N)
        on average, ``station_kwh`` (M, N) over the interval (metered for the carbon cost);
        remembers the voltages of its last rows' members as the next start."""
        p_mw, q_mvar = self.grid.base_load(factor)
        p_mw = p_mw + self._at_buses(station_mw)
        if self._q_per_p:
            q_mvar = q_mvar + self._at_buses(self._q_per_p * station_mw)
        a = self.grid.assess(
            p_mw, q_mvar, ext_g_per_kwh, metered_kwh=self._at_buses(station_kwh), v_start_pu=v_start_pu
        )
        per_member = len(factor) // self.env.num_envs
        self._v_last_pu = a.result.v_pu[per_member - 1 :: per_member]
        return a

    def _at_buses(self, per_station: np.ndarray) -> np.ndarray:
        """(M, N) station quantities summed at their buses: (M, n_bus). A scatter, not a product
        with an incidence matrix: a BLAS call's idle threads would slow numba's down."""
        out = np.zeros((per_station.shape[0], self.grid.feeder.n_bus))
        for i, bus in enumerate(self.station_buses):
            out[:, bus] += per_station[:, i]
        return out

    def _feature_values(self, a: GridAssessment) -> np.ndarray:
        return grid_feature_values(
            a.carbon_intensity_g_per_kwh,
            a.feeder_stress,
            a.vm_pu,
            a.nodal_carbon_g_per_kwh,
            a.line_loading,
            self.station_buses,
            self.grid.monitored_lines,
            self.grid.emission_bounds_g_per_kwh,
        )


def _over_converged(x: np.ndarray, ok: np.ndarray, reduce) -> np.ndarray:
    """``reduce`` (np.min, np.max or np.mean) of ``x`` (B, F, ...) over axis 1, the power flows,
    keeping only those that converged (``ok`` (B, F)); NaN where none did."""
    mask = ok.reshape(ok.shape + (1,) * (x.ndim - 2))
    if x.shape[1] == 1:  # one power flow a period: its value, or NaN (the same numbers, fewer passes)
        return np.where(mask[:, 0], x[:, 0], np.nan)
    fill = {np.min: np.inf, np.max: -np.inf, np.mean: 0.0}[reduce]
    kept = np.where(mask, x, fill)
    count = mask.sum(axis=1)
    out = kept.sum(axis=1) / np.maximum(count, 1) if reduce is np.mean else reduce(kept, axis=1)
    return np.where(count > 0, out, np.nan)


def _emissions_kg(grid_kwh: np.ndarray, station_g_per_kwh: np.ndarray, flows: int) -> np.ndarray:
    """(B, N) emissions of each station's grid energy over the period, kg.

    Args:
        grid_kwh: (B, N, S) energy drawn in each sub-step.
        station_g_per_kwh: (B, F, N) intensity at each station's bus in each of the F power flows
            (F = 1: one for the whole period; F = S: one per sub-step).
    """
    if flows == 1:
        return grid_kwh.sum(axis=2) * station_g_per_kwh[:, 0] / 1e3
    return (grid_kwh * station_g_per_kwh.transpose(0, 2, 1)).sum(axis=2) / 1e3
