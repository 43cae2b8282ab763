"""``Grid``: a feeder with its solver, base load, limits and cost rules, built from a
:class:`~evprice.grid.config.GridConfig`.

It knows nothing of stations or markets: it takes bus loads, runs the power flow and
judges the result. Scenarios in ``evprice.envs`` add the stations' loads to the buses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from evprice.grid.carbon import CarbonFlow
from evprice.grid.config import GridConfig
from evprice.grid.costs import (
    GridCosts,
    carbon_excess_kg,
    combine_costs,
    line_overload,
    supply_carbon_intensity_g_per_kwh,
    voltage_violation_pu,
)
from evprice.grid.features import LOADING_MAX, VM_BOUNDS_PU, feeder_stress
from evprice.grid.powerflow import PowerFlowResult, make_solver


@dataclass(frozen=True)
class GridAssessment:
    """A power flow of ``B`` scenarios and how it is judged.

    ``result`` holds the solver's numbers (NaN where a scenario did not converge). The
    judged arrays replace a failed scenario's unknowns by the worst state the grid's
    observations can show (the substation keeps its set voltage; every other bus at
    ``VM_BOUNDS_PU[0]``, every line at ``LOADING_MAX``, every bus and the supply at the
    highest emission factor); costs and features use them.
    """

    result: PowerFlowResult
    costs: GridCosts
    vm_pu: np.ndarray  # (B, n_bus) judged bus voltages
    line_loading: np.ndarray  # (B, n_line) judged line loadings
    carbon_intensity_g_per_kwh: np.ndarray  # (B,) judged intensity of the feeder's supply
    nodal_carbon_g_per_kwh: np.ndarray  # (B, n_bus) judged intensity of the power at each bus
    feeder_stress: np.ndarray  # (B,) from the judged values, unclipped

    def take(self, rows: np.ndarray) -> GridAssessment:
        """The assessment of the scenarios ``rows``."""
        return GridAssessment(
            result=self.result.take(rows),
            costs=GridCosts(*(getattr(self.costs, f.name)[rows] for f in fields(GridCosts))),
            **{name: getattr(self, name)[rows] for name in _JUDGED},
        )


_JUDGED = ("vm_pu", "line_loading", "carbon_intensity_g_per_kwh", "nodal_carbon_g_per_kwh", "feeder_stress")


class Grid:
    """The feeder of ``config``, ready to assess bus loads.

    Attributes:
        feeder: the network (0-based pandapower bus and line indices).
        solver: the configured power-flow solver.
        monitored_lines: lines whose loading is costed and observed.
    """

    def __init__(self, config: GridConfig) -> None:
        self.config = config
        self.feeder = config.make_feeder()
        self.solver = make_solver(config.solver, self.feeder)
        self.monitored_lines = config.lines_monitored(self.feeder)
        self.weights = config.cost_weights()
        self.emission_bounds_g_per_kwh = config.emission_bounds_g_per_kwh()
        self.carbon_flow = CarbonFlow(self.feeder)
        self._sgen_p_mw = float(self.feeder.sgen_p_mw.sum())
        self._worst_vm_pu = np.full(self.feeder.n_bus, VM_BOUNDS_PU[0])  # a collapsed feeder, as observed
        self._worst_vm_pu[self.feeder.slack_bus] = self.feeder.slack_vm_pu

    def base_load(self, factor: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Bus loads (B, n_bus) MW and Mvar: every bus's published load times ``factor`` (B,) or one number."""
        f = np.atleast_1d(np.asarray(factor, dtype=np.float64))[:, None]
        return f * self.feeder.load_p_mw, f * self.feeder.load_q_mvar

    def assess(
        self,
        p_mw: np.ndarray,
        q_mvar: np.ndarray,
        ext_grid_g_per_kwh: np.ndarray | float,
        metered_kwh: np.ndarray | None = None,
        v_start_pu: np.ndarray | None = None,
    ) -> GridAssessment:
        """Power flow of the bus loads ``p_mw``, ``q_mvar`` (B, n_bus) and its costs.

        Args:
            ext_grid_g_per_kwh: carbon intensity of the external grid, (B,) or one number.
            metered_kwh: (B, n_bus) energy the metered consumers (the stations) drew at each
                bus over the interval the loads stand for; their carbon cost is charged on it.
                None = nothing metered (no carbon cost).
            v_start_pu: (B, n_bus) complex voltages to start from (a hint; see the solver protocol).
        """
        cfg = self.config
        result = self.solver.solve(p_mw, q_mvar, v_start_pu=v_start_pu)
        ok = result.converged[:, None]
        worst_g = self.emission_bounds_g_per_kwh[1]
        vm = np.where(ok, result.vm_pu, self._worst_vm_pu)
        loading = np.where(ok, result.line_loading, LOADING_MAX)
        supply = supply_carbon_intensity_g_per_kwh(
            result.p_slack_mw, self._sgen_p_mw, ext_grid_g_per_kwh, cfg.sgen_emission_g_per_kwh
        )
        nodal = self.carbon_flow.nodal_intensity_g_per_kwh(
            result, ext_grid_g_per_kwh, cfg.sgen_emission_g_per_kwh, load_p_mw=p_mw
        )
        nodal = np.where(ok, nodal, worst_g)
        metered = np.zeros_like(nodal) if metered_kwh is None else metered_kwh
        costs = combine_costs(
            voltage_violation_pu(vm, cfg.vm_min_pu, cfg.vm_max_pu),
            line_overload(loading, cfg.line_loading_limit, self.monitored_lines),
            carbon_excess_kg(nodal, metered, cfg.carbon_cap_g_per_kwh),
            result.converged,
            self.weights,
        )
        stress = feeder_stress(
            vm,
            loading,
            self.monitored_lines,
            cfg.line_loading_limit,
            (cfg.vm_min_pu, cfg.vm_max_pu),
            self.feeder.slack_vm_pu,
        )
        return GridAssessment(
            result=result,
            costs=costs,
            vm_pu=vm,
            line_loading=loading,
            carbon_intensity_g_per_kwh=np.where(ok[:, 0], supply, worst_g),
            nodal_carbon_g_per_kwh=nodal,
            feeder_stress=stress,
        )
