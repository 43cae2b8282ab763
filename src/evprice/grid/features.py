"""The grid's features, and their values from a power flow.

Declared order (appended after the market's features, so also the order of the global
state vector):

1. ``GridSignal`` (world-owned, ``public``): what a distribution operator publishes,
   ``carbon_intensity`` of the power supplied to the feeder (g/kWh) and
   ``feeder_stress``, the largest of the monitored lines' loading over their limit and the
   voltage drop (or rise) over the allowed one, so that 1 means a limit is reached:

       stress = max( max_l loading_l / limit,
                     (V0 - min_k vm_k) / (V0 - vm_min),
                     (max_k vm_k - V0) / (vm_max - V0), 0 ),

   with ``V0`` the substation voltage;
2. for each station, ``StationGridStatus`` (owned by the station): ``bus_vm``, the voltage
   of its bus (p.u.), and ``carbon_intensity``, that of the power at its bus (g/kWh,
   :mod:`evprice.grid.carbon`);
3. ``FeederLineLoading`` (world-owned): ``line_<l>``, the loading of each monitored line
   ``l`` (fraction of its rating).

Items 2 and 3 are visible at the ``upper_level`` (a coordinator or an operator agent) and to
the ``system`` (global state, logs); ``grid_visibility="full"`` makes them ``public`` too.

Values are clipped into the fields' bounds (only beyond-physical states are affected;
costs use the unclipped values). Where a power flow did not converge, the values are
those of the worst case it is judged at (:class:`evprice.grid.model.GridAssessment`):
voltages at their lower bound, loadings at their upper bound, carbon intensities at the
highest emission factor, and so stress at its upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evprice.core.features import Feature, Field, Visibility

GRID_SIGNAL = "GridSignal"
STATION_GRID = "StationGridStatus"
LINE_LOADING = "FeederLineLoading"
GRID_VISIBILITY = ("published", "full")

STRESS_MAX = 10.0
"""Upper bound of ``feeder_stress`` (10 times a limit)."""
VM_BOUNDS_PU = (0.0, 1.5)
"""Bounds of an observed bus voltage (0: a collapsed feeder, the worst case of a failed power
flow; converged voltages on the shipped feeders stay above 0.47 p.u. up to collapse)."""
LOADING_MAX = 10.0
"""Upper bound of an observed line loading (10 times the rating)."""


def declare_grid_features(
    station_ids: Sequence[str],
    monitored_lines: Sequence[int],
    emission_bounds_g_per_kwh: tuple[float, float],
    visibility: str = "published",
) -> tuple[Feature, ...]:
    """The grid's feature instances, in declared order (see the module docstring)."""
    if visibility not in GRID_VISIBILITY:
        raise ValueError(f"grid visibility={visibility!r} is invalid: expected one of {GRID_VISIBILITY}")
    inner = {Visibility.UPPER_LEVEL, Visibility.SYSTEM}
    if visibility == "full":
        inner.add(Visibility.PUBLIC)
    lo, hi = emission_bounds_g_per_kwh
    features = [
        Feature(
            GRID_SIGNAL,
            (
                Field(
                    "carbon_intensity", "g/kWh", lo, hi, "average carbon intensity of the power supplied to the feeder"
                ),
                Field("feeder_stress", "1", 0.0, STRESS_MAX, "largest use of a voltage or line limit (1 = at a limit)"),
            ),
            frozenset({Visibility.PUBLIC}),
        )
    ]
    features += [
        Feature(
            STATION_GRID,
            (
                Field("bus_vm", "p.u.", *VM_BOUNDS_PU, "voltage magnitude at the station's bus"),
                Field("carbon_intensity", "g/kWh", lo, hi, "carbon intensity of the power at the station's bus"),
            ),
            frozenset(inner),
            owner=station,
        )
        for station in station_ids
    ]
    features.append(
        Feature(
            LINE_LOADING,
            tuple(
                Field(f"line_{line}", "1", 0.0, LOADING_MAX, f"current of line {line} as a fraction of its rating")
                for line in monitored_lines
            ),
            frozenset(inner),
        )
    )
    return tuple(features)


def feeder_stress(
    vm_pu: np.ndarray,
    line_loading: np.ndarray,
    monitored_lines: Sequence[int],
    line_loading_limit: float,
    vm_band_pu: tuple[float, float],
    slack_vm_pu: float,
) -> np.ndarray:
    """(B,) the ``feeder_stress`` of bus voltages ``vm_pu`` (B, n_bus) and line loadings
    ``line_loading`` (B, n_line), unclipped."""
    vm_min, vm_max = vm_band_pu
    lines = line_loading[:, list(monitored_lines)].max(axis=1) / line_loading_limit
    under = (slack_vm_pu - vm_pu.min(axis=1)) / (slack_vm_pu - vm_min)
    over = (vm_pu.max(axis=1) - slack_vm_pu) / (vm_max - slack_vm_pu)
    return np.maximum(np.maximum(lines, under), np.maximum(over, 0.0))


def grid_feature_values(
    carbon_intensity_g_per_kwh: np.ndarray,
    stress: np.ndarray,
    vm_pu: np.ndarray,
    nodal_carbon_g_per_kwh: np.ndarray,
    line_loading: np.ndarray,
    station_buses: Sequence[int],
    monitored_lines: Sequence[int],
    emission_bounds_g_per_kwh: tuple[float, float],
) -> np.ndarray:
    """Values of the grid's features in declared order, (B, 2 + 2 N + L) float64, clipped to their bounds.

    Args:
        carbon_intensity_g_per_kwh: (B,) of the feeder's supply.
        stress: (B,) :func:`feeder_stress`.
        vm_pu: (B, n_bus) bus voltages.
        nodal_carbon_g_per_kwh: (B, n_bus) intensity of the power at each bus.
        line_loading: (B, n_line) line loadings.

    Every input must be finite: a power flow that did not converge is judged at the worst
    case first (:class:`evprice.grid.model.GridAssessment`).
    """
    lo, hi = emission_bounds_g_per_kwh
    buses = list(station_buses)
    n, n_lines = len(buses), len(monitored_lines)
    signal = np.stack([carbon_intensity_g_per_kwh, stress], axis=1)
    station = np.stack([vm_pu[:, buses], nodal_carbon_g_per_kwh[:, buses]], axis=2).reshape(len(vm_pu), 2 * n)
    values = np.concatenate([signal, station, line_loading[:, list(monitored_lines)]], axis=1)
    low = np.concatenate([[lo, 0.0], np.tile([VM_BOUNDS_PU[0], lo], n), np.zeros(n_lines)])
    high = np.concatenate([[hi, STRESS_MAX], np.tile([VM_BOUNDS_PU[1], hi], n), np.full(n_lines, LOADING_MAX)])
    return np.clip(values, low, high)
