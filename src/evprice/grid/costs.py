"""Constraint costs of a power-flow result, kept apart from any reward.

Every term is 0 inside the limits and grows linearly with the violation:

``voltage``
    ``sum over buses of max(0, vm_min - vm) + max(0, vm - vm_max)``, p.u. (every bus of the
    feeder, not only the stations' buses).
``line``
    ``sum over the monitored lines of max(0, loading - limit)``, loading and limit as
    fractions of each line's rating: every overloaded line counts (document 2's code
    counted only the first).
``carbon``
    ``sum over metered buses of E_k max(0, w_k - cap) / 1000``, kg CO2: the emissions of
    the energy ``E_k`` (kWh) the stations draw at bus ``k`` in excess of what it would emit
    at the cap's intensity, where ``w_k`` is the carbon intensity of the power at that bus
    (:mod:`evprice.grid.carbon`). It is 0 when the stations draw only power cleaner than
    the cap, and grows with every kWh drawn above it.

The total is ``w_v voltage + w_l line + w_c carbon + w_f failed``, where ``failed`` is the
share of the power flows that did not converge. A power flow that did not converge is
judged at the worst state the grid's observations can show (:mod:`evprice.grid.model`):
every bus but the substation at the lowest observable voltage, every monitored line at the
highest observable loading, every bus at the highest emission factor. Its terms are
therefore at least as large as those of any solution within the observable range (on the
shipped feeders every converged solution up to collapse is: the tests sweep the load to
it), and a learner cannot lower its cost by driving the feeder past collapse.

Over a pricing period with several power flows (one per internal step), voltage, line
and failed are averaged (time shares of violation), carbon is summed (each flow's excess
emissions on the energy of its own step): :func:`period_costs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def voltage_violation_pu(vm_pu: np.ndarray, vm_min_pu: float, vm_max_pu: float) -> np.ndarray:
    """(B,) summed violation of the band ``[vm_min_pu, vm_max_pu]`` over all buses of ``vm_pu`` (B, n_bus)."""
    return (np.maximum(vm_min_pu - vm_pu, 0.0) + np.maximum(vm_pu - vm_max_pu, 0.0)).sum(axis=-1)


def line_overload(line_loading: np.ndarray, limit: float, lines: Sequence[int]) -> np.ndarray:
    """(B,) summed loading above ``limit`` of every line in ``lines``; ``line_loading`` (B, n_line)
    is each line's current as a fraction of its rating."""
    return np.maximum(line_loading[..., list(lines)] - limit, 0.0).sum(axis=-1)


def supply_carbon_intensity_g_per_kwh(
    p_slack_mw: np.ndarray, sgen_p_mw: float, ext_grid_g_per_kwh: np.ndarray | float, sgen_g_per_kwh: float
) -> np.ndarray:
    """(B,) average carbon intensity of the power supplied to the feeder, g/kWh.

    The supply is the import from the external grid (``max(p_slack, 0)``; an export
    carries no emissions into the feeder) and the static generation ``sgen_p_mw``:
    ``I = (import e_grid + sgen e_sgen) / (import + sgen)``, so ``I`` lies between the two
    factors. With no supply at all (an empty feeder) it is the grid's factor.
    """
    imported = np.maximum(np.asarray(p_slack_mw, dtype=np.float64), 0.0)
    supply = imported + sgen_p_mw
    grid = np.broadcast_to(ext_grid_g_per_kwh, imported.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        mixed = (imported * grid + sgen_p_mw * sgen_g_per_kwh) / supply
    return np.where(supply > 0.0, mixed, grid)


def carbon_excess_kg(nodal_g_per_kwh: np.ndarray, metered_kwh: np.ndarray, cap_g_per_kwh: float | None) -> np.ndarray:
    """(B,) emissions above the cap of the metered energy, kg CO2; 0 when there is no cap.

    Args:
        nodal_g_per_kwh: (B, n_bus) carbon intensity of the power at each bus.
        metered_kwh: (B, n_bus) energy the metered consumers (the stations) drew at each bus.
    """
    if cap_g_per_kwh is None:
        return np.zeros(np.shape(metered_kwh)[0])
    excess = np.where(metered_kwh > 0.0, np.maximum(nodal_g_per_kwh - cap_g_per_kwh, 0.0), 0.0)
    return (metered_kwh * excess).sum(axis=-1) / 1000.0


@dataclass(frozen=True)
class CostWeights:
    """Weights of the terms in the total cost."""

    voltage: float  # per p.u.
    line: float  # per unit of loading (fraction of rating)
    carbon: float  # per kg CO2
    nonconvergence: float  # per power flow that did not converge (a share, over a period)


@dataclass(frozen=True)
class GridCosts:
    """The cost terms of ``B`` scenarios (or periods), each (B,)."""

    voltage: np.ndarray  # p.u.
    line: np.ndarray  # 1
    carbon: np.ndarray  # kg CO2
    failed: np.ndarray  # share of the power flows that did not converge
    total: np.ndarray


def _total(voltage: np.ndarray, line: np.ndarray, carbon: np.ndarray, failed: np.ndarray, w: CostWeights) -> np.ndarray:
    return w.voltage * voltage + w.line * line + w.carbon * carbon + w.nonconvergence * failed


def combine_costs(
    voltage: np.ndarray, line: np.ndarray, carbon: np.ndarray, converged: np.ndarray, weights: CostWeights
) -> GridCosts:
    """The costs of single power flows, from terms already judged at the worst case where a
    flow did not converge."""
    failed = 1.0 - np.asarray(converged, dtype=np.float64)
    return GridCosts(voltage, line, carbon, failed, _total(voltage, line, carbon, failed, weights))


COST_FORMS = ("weighted", "indicator")
"""How a period's terms become its cost (see the module docstring)."""


def violation_indicator(total: np.ndarray) -> np.ndarray:
    """(B,) 1.0 where the weighted ``total`` (B,) is above 0 (a violation), else 0.0."""
    return (np.asarray(total) > 0.0).astype(np.float64)


def period_costs(per_flow: GridCosts, flows: int, weights: CostWeights, form: str = "weighted") -> GridCosts:
    """The costs of periods of ``flows`` consecutive power flows each (rows ordered period by
    period): voltage, line and failed averaged, carbon summed; the total in cost ``form``
    (``"weighted"`` or ``"indicator"``, one of :data:`COST_FORMS`)."""
    if form not in COST_FORMS:
        raise ValueError(f"cost form {form!r} is not one of {COST_FORMS}")
    if flows == 1:
        costs = per_flow
    else:
        rows = lambda x: x.reshape(-1, flows)  # noqa: E731
        voltage, line = rows(per_flow.voltage).mean(axis=1), rows(per_flow.line).mean(axis=1)
        carbon, failed = rows(per_flow.carbon).sum(axis=1), rows(per_flow.failed).mean(axis=1)
        costs = GridCosts(voltage, line, carbon, failed, _total(voltage, line, carbon, failed, weights))
    if form == "weighted":
        return costs
    return GridCosts(costs.voltage, costs.line, costs.carbon, costs.failed, violation_indicator(costs.total))
