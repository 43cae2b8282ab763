"""``GridCharging-v0``: the public charging market coupled to a distribution feeder.

Each station draws its power from a bus of the feeder (``station_buses``, 0-based
pandapower indices; by default document 2's buses 31, 13, 19 of its ``case33bw`` variant).
Every pricing period the stations' grid draw (energy delivered / charging efficiency) is
added to the buses' base load (the feeder's published loads times a daily profile, with
noise drawn per episode), a power flow is run, and the grid's constraint costs are
reported apart from the reward:

* ``info["cost"]`` (B, N): the total constraint cost of the period, the same for every
  station (the feeder is shared);
* ``info["grid"]``: each term (``cost_voltage`` p.u., ``cost_line``, ``cost_carbon`` kg CO2)
  and the total (``cost``), whether the power flows ``converged``, ``vm_min_pu``,
  ``max_line_loading`` (monitored lines), ``feeder_stress``,
  ``carbon_intensity_g_per_kwh`` (of the feeder's supply), ``p_loss_mw``, ``p_slack_mw``,
  each (B,), and ``station_p_mw``, ``station_carbon_g_per_kwh`` (at each station's bus),
  ``station_emissions_kg`` and ``bus_vm_pu``, each (B, N);

on every step, the last of an episode included. With ``powerflow_every="period"`` one
power flow runs at the period's average loads; with ``"substep"`` one runs at each internal
step's average loads (all of them in one batched solve) and the period's costs aggregate
them (:func:`evprice.grid.costs.period_costs`: voltage and line averaged, carbon summed);
``vm_min_pu`` / ``bus_vm_pu`` are the lowest, ``max_line_loading`` and ``feeder_stress``
the highest, the others the mean. Voltages, loadings, losses and slack power come from the
power flows that converged (NaN if none did); costs, stress and carbon judge a failed one
at the worst case (:class:`evprice.grid.model.GridAssessment`). The grid features
(:mod:`evprice.grid.features`) hold the latest power flow: at reset, the base load of the
first hour with idle stations.

The reward is the market's (:mod:`evprice.market.reward`): prices are judged on profit,
and the grid's safety is a separate signal for constrained learners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evprice.core.config import ConfigError, check_choice, check_float, check_int, config_field, invalid
from evprice.core.features import Feature
from evprice.core.rng import spawn_streams
from evprice.core.timing import HOURS_PER_DAY, SECONDS_PER_HOUR
from evprice.envs.market_env import MarketEnv, station_agents
from evprice.envs.registry import EnvSpec, register
from evprice.grid.config import GridConfig
from evprice.grid.costs import period_costs
from evprice.grid.features import (
    GRID_VISIBILITY,
    STATION_GRID,
    declare_grid_features,
    grid_feature_values,
)
from evprice.grid.feeders import Feeder
from evprice.grid.model import Grid, GridAssessment
from evprice.grid.profiles import base_load_factors
from evprice.market.config import MarketConfig
from evprice.market.features import declare_features
from evprice.market.state import PeriodOutcome

POWERFLOW_EVERY = ("period", "substep")
GRID_STREAM = "grid"
"""Named random stream of the base-load noise (independent of the market's streams)."""
NOISE_CLIP_STD = 3.0
"""The relative base-load noise is normal, clipped at this many standard deviations."""

_f = config_field

GRID_CHARGING_DEFAULTS = {
    "n_stations": 3,
    "chargers_per_station": 10,
    "charger_power_kw": 60.0,
    "arrivals_per_station_per_day": 120.0,
}
"""``GridCharging-v0``'s defaults over the market's: document 2's three stations, each a hub of
ten 60 kW chargers with 120 EVs a day, so that the stations' draw matters to the feeder
(at the middle price, 1.3 CNY/kWh, it peaks at 0.50 MW on an average day, 0.74 MW at most
over 64 days)."""


@dataclass(frozen=True)
class GridChargingConfig(GridConfig, MarketConfig):
    """Configuration of ``GridCharging-v0``: the market's fields, the grid's, and the coupling."""

    CONFIG_NAME = "GridCharging-v0"

    station_buses: tuple[int, ...] | None = _f(
        None, "-", "feeder bus (0-based) of each station; None = the feeder's station buses (doc2: 31, 13, 19)"
    )
    charger_power_factor: float = _f(1.0, "1", "power factor of the stations' draw (lagging); 1 = no reactive power")
    powerflow_every: str = _f(
        "period",
        "-",
        "'period': a power flow every pricing period at its average loads; 'substep': one every internal step",
    )
    grid_observability: str = _f(
        "published",
        "-",
        "'published': stations see the public GridSignal only; 'full': also bus voltages and line loadings",
    )

    def __post_init__(self) -> None:
        MarketConfig.__post_init__(self)
        GridConfig.__post_init__(self)
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.station_buses is not None:
            feeder = self.make_feeder()
            allowed = (
                f"a list of {self.n_stations} bus indices in [0, {feeder.n_bus - 1}], one per station, "
                f"none of them the substation (bus {feeder.slack_bus})"
            )
            buses = self.station_buses
            if isinstance(buses, (str, bytes)) or not hasattr(buses, "__iter__") or len(list(buses)) != self.n_stations:
                raise invalid("station_buses", buses, allowed)
            checked = tuple(
                check_int(f"station_buses[{i}]", b, low=0, high=feeder.n_bus - 1) for i, b in enumerate(buses)
            )
            if feeder.slack_bus in checked:
                raise invalid("station_buses", buses, allowed)
            s("station_buses", checked)
        s(
            "charger_power_factor",
            check_float("charger_power_factor", self.charger_power_factor, low=0.1, high=1.0),
        )
        check_choice("powerflow_every", self.powerflow_every, POWERFLOW_EVERY)
        check_choice("grid_observability", self.grid_observability, GRID_VISIBILITY)
        self.buses(self.make_feeder())  # a feeder with too few default buses fails now

    def buses(self, feeder: Feeder) -> tuple[int, ...]:
        """The bus of each station: as configured, or the feeder's defaults."""
        if self.station_buses is not None:
            return self.station_buses
        if self.n_stations > len(feeder.station_buses):
            raise ConfigError(
                f"station_buses=None is invalid with n_stations={self.n_stations}: feeder {feeder.name!r} "
                f"has default buses for {len(feeder.station_buses)} stations {list(feeder.station_buses)}; "
                "give one bus per station"
            )
        return feeder.station_buses[: self.n_stations]


class GridChargingEnv(MarketEnv):
    """The batched market with a power flow every period (see the module docstring)."""

    def __init__(
        self,
        config: GridChargingConfig,
        num_envs: int = 1,
        env_id: str = "GridCharging-v0",
        scenarios: int | None = None,
    ) -> None:
        self.grid = Grid(config)  # before the base class, whose hooks read it
        super().__init__(config, num_envs, env_id, scenarios=scenarios)
        feeder = self.grid.feeder
        self.station_buses = config.buses(feeder)
        self._q_per_p = math.tan(math.acos(config.charger_power_factor))
        hours = (
            self.params.first_hour + np.arange(self.params.n_hours)
        ) % HOURS_PER_DAY  # hour of day, per episode hour
        self._profile = config.base_load_profile_factors()[hours]  # (H,)
        self._ext_grid_g_per_kwh = config.ext_grid_emission_profile_g_per_kwh()[hours]  # (H,)
        self._grid_rng: np.random.Generator | None = None
        self._load_factor: np.ndarray | None = None  # (B, H) base-load factor of each episode hour
        self._grid_values: np.ndarray | None = None  # (B, G) grid feature values
        self._v_last_pu: np.ndarray | None = None  # (B, n_bus) complex voltages of the latest power flow

    def replicate(self, num_envs: int, scenarios: int | None = None) -> GridChargingEnv:
        return type(self)(self.config, num_envs, self.env_id, scenarios=scenarios)

    # -- hooks -------------------------------------------------------------------------
    def _agent_specs(self):
        return station_agents(self.config, (STATION_GRID,))

    def _declare_features(self) -> tuple[Feature, ...]:
        return declare_features(self.params) + declare_grid_features(
            self.config.agent_ids,
            self.grid.monitored_lines,
            self.grid.emission_bounds_g_per_kwh,
            self.config.grid_observability,
        )

    def _on_reset(self, seed: int | None) -> None:
        cfg = self.config
        if seed is not None or self._grid_rng is None:
            self._grid_rng = spawn_streams(seed, (GRID_STREAM,))[GRID_STREAM]
        z = self._grid_rng.standard_normal((self.world.n_scenarios, self.params.n_hours))
        noise = self.world.tile(cfg.base_load_noise_std * np.clip(z, -NOISE_CLIP_STD, NOISE_CLIP_STD))
        self._load_factor = base_load_factors(self._profile, cfg.base_load_scale, noise)
        hour = int(self.params.hour_index(0.0))
        idle = np.zeros((self.num_envs, self.n_agents))
        self._v_last_pu = None  # a new episode starts flat: its trajectory must not depend on the last one
        self._grid_values = self._feature_values(
            self._assess(self._load_factor[:, hour], idle, idle, self._ext_grid_g_per_kwh[hour])
        )

    def _snapshot_parts(self) -> dict[str, Any]:
        return {
            **super()._snapshot_parts(),
            "grid_stream": None if self._grid_rng is None else self._grid_rng.bit_generator.state,
            "load_factor": self._load_factor,
            "grid_values": self._grid_values,
            "v_last_pu": self._v_last_pu,
        }

    def _restore_parts(self, parts: dict[str, Any]) -> None:
        super()._restore_parts(parts)
        if parts["grid_stream"] is None:
            self._grid_rng = None
        else:
            if self._grid_rng is None:
                self._grid_rng = spawn_streams(0, (GRID_STREAM,))[GRID_STREAM]
            self._grid_rng.bit_generator.state = parts["grid_stream"]
        self._load_factor, self._grid_values = parts["load_factor"], parts["grid_values"]
        self._v_last_pu = parts["v_last_pu"]

    def _couple(self, outcome: PeriodOutcome) -> tuple[np.ndarray, dict[str, Any]]:
        p = self.params
        b, n, s = outcome.energy_kwh_per_substep.shape
        k = self.world.state.period - 1  # the period just run
        hours = p.substep_hour[k * s : (k + 1) * s]  # (S,) episode hour of each sub-step
        grid_kwh = outcome.energy_kwh_per_substep / self.config.charging_efficiency  # (B, N, S) drawn from the grid
        draw_mw = grid_kwh / (p.dt_s / SECONDS_PER_HOUR) / 1e3  # average draw in each sub-step
        factor = self._load_factor[:, hours]  # (B, S)
        ext_g = self._ext_grid_g_per_kwh[hours]  # (S,)
        if self.config.powerflow_every == "period":  # one power flow at the period's average loads
            a = self._assess(
                factor.mean(axis=1), draw_mw.mean(axis=2), grid_kwh.sum(axis=2), float(ext_g.mean()), self._v_last_pu
            )
            flows, last = 1, a
        else:  # one per sub-step, rows ordered (member, sub-step)
            rows = lambda x: x.transpose(0, 2, 1).reshape(b * s, n)  # noqa: E731  (B, N, S) -> (B S, N)
            v_start = None if self._v_last_pu is None else np.repeat(self._v_last_pu, s, axis=0)
            a = self._assess(factor.reshape(b * s), rows(draw_mw), rows(grid_kwh), np.tile(ext_g, b), v_start)
            flows, last = s, a.take(np.arange(b) * s + (s - 1))
        self._grid_values = self._feature_values(last)
        costs = period_costs(a.costs, flows, self.grid.weights, self.config.cost_form)
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
        return np.repeat(costs.total[:, None], n, axis=1), {"grid": info}

    def _state_values(self) -> np.ndarray:
        return np.concatenate([super()._state_values(), self._grid_values], axis=1)

    # -- grid --------------------------------------------------------------------------
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
        per_member = len(factor) // self.num_envs
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


def make_grid_charging(config: GridChargingConfig, num_envs: int, env_id: str) -> GridChargingEnv:
    return GridChargingEnv(config, num_envs, env_id)


register(
    EnvSpec(
        env_id="GridCharging-v0",
        description="public charging market on a distribution feeder: a power flow every period, grid costs in info",
        config_cls=GridChargingConfig,
        factory=make_grid_charging,
        defaults=GRID_CHARGING_DEFAULTS,
    )
)
