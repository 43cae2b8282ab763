"""Carbon emission flow: the carbon intensity of the power at every bus of a radial feeder.

Carbon follows the power (the *proportional sharing* principle of carbon emission flow,
Kang et al., "Carbon emission flow in networks", Scientific Reports 2, 2012): the power
leaving a bus carries the intensity of the mix that entered it, so the intensity ``w_k``
of bus ``k`` (g/kWh) solves

    w_k (G_k + sum of inflows_k) = G_k e_k + sum over lines l bringing power into k of
                                   inflow_l w_(bus at the other end of l),

where ``G_k`` is the power injected at ``k`` by a source of intensity ``e_k`` (the import
from the external grid at the slack bus, ``max(p_slack, 0)``; the static generation; and a
negative load, an injection the feeder does not list as generation, which is counted at
the static generation's intensity) and an inflow is the active power a line delivers into
``k`` (after its losses). The emission rate of the sources then equals the emissions of
the loads plus those of the losses.

A station's energy carries the intensity of its bus. On document 2's feeder, for
instance, the buses downstream of the 3 MW generator at bus 5 draw only its 900 g/kWh
power at the published loads, while bus 19, on the lateral from bus 1, draws the external
grid's by day; at night the generator exceeds the feeder's load and back-feeds the whole
feeder, bus 19 included.

**Solution.** On a tree every line carries power one way, so each equation links a bus
to its parent only when the parent feeds it. Eliminating from the leaves up
(``w_c = alpha_c + beta_c w_parent``) creates no fill-in whatever the flow directions,
and substituting back from the root gives every ``w``: two passes over the buses, O(n) per
scenario, compiled with numba (serially for small batches, over the thread pool from
``PARALLEL_MIN_BATCH`` scenarios on). The tests check it against a dense solve of the same
equations. A bus that no power enters (no load, no source) takes its parent's intensity.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from evprice.core.jit import CACHE, use_thread_pool
from evprice.grid.feeders import Feeder
from evprice.grid.powerflow import PowerFlowResult, feeder_tree

PARALLEL_MIN_BATCH = 64
"""Batches of at least this many scenarios are solved over numba's thread pool."""


class CarbonFlow:
    """Nodal carbon intensities of a feeder's power-flow results (see the module docstring)."""

    def __init__(self, feeder: Feeder) -> None:
        tree = feeder_tree(feeder)
        self.feeder = feeder
        self._parent_is_from = np.ascontiguousarray(tree.line_parent == feeder.from_bus)  # (L,)
        self._line_parent = tree.line_parent  # (L,)
        self._line_child = tree.line_child  # (L,)
        self._parent_bus = tree.parent_bus.astype(np.int64)  # (n,)
        self._parent_line = tree.parent_line.astype(np.int64)  # (n,)
        self._order = np.argsort(tree.depth, kind="stable")[1:].astype(np.int64)  # parents before children
        self._slack = int(feeder.slack_bus)
        self._sgen_p_mw = np.ascontiguousarray(np.maximum(feeder.sgen_p_mw, 0.0), dtype=np.float64)

    def nodal_intensity_g_per_kwh(
        self,
        result: PowerFlowResult,
        ext_grid_g_per_kwh: np.ndarray | float,
        sgen_g_per_kwh: float,
        load_p_mw: np.ndarray,
    ) -> np.ndarray:
        """(B, n_bus) carbon intensity of the power at each bus, g/kWh (NaN where not converged).

        Args:
            result: power flow of ``B`` scenarios on this feeder.
            ext_grid_g_per_kwh: intensity of the external grid, (B,) or one number.
            sgen_g_per_kwh: intensity of the static generation (and of negative loads).
            load_p_mw: (B, n_bus) the loads the power flow was solved for.
        """
        b = result.batch_size
        ext = np.broadcast_to(np.asarray(ext_grid_g_per_kwh, dtype=np.float64), (b,))
        solve = _eliminate_parallel if use_thread_pool(b, PARALLEL_MIN_BATCH) else _eliminate_serial
        return solve(
            np.ascontiguousarray(result.p_from_mw, dtype=np.float64),
            np.ascontiguousarray(result.p_to_mw, dtype=np.float64),
            np.ascontiguousarray(result.p_slack_mw, dtype=np.float64),
            np.ascontiguousarray(result.converged, dtype=np.bool_),
            np.ascontiguousarray(np.asarray(load_p_mw, dtype=np.float64).reshape(b, -1)),
            np.ascontiguousarray(ext),
            self._sgen_p_mw,
            float(sgen_g_per_kwh),
            self._parent_is_from,
            self._order,
            self._parent_bus,
            self._parent_line,
            self._slack,
        )


@njit(cache=CACHE, inline="always")
def _positive(x):
    """``np.maximum(x, 0.0)`` of one finite number, the same bits (``-0.0`` stays ``-0.0``)."""
    return x if x >= 0.0 else 0.0


@njit(cache=CACHE)
def _eliminate_one(
    b, p_from, p_to, p_slack, converged, load, ext, sgen_mw, sgen_g, parent_is_from, order, parent_bus, parent_line,
    slack, work, w,
):  # fmt: skip
    """Scenario ``b``: the sources and line inflows, leaf-to-root elimination, then root-to-leaf
    substitution (module docstring); NaN at every bus where the power flow did not converge.

    ``work`` (5, B, max(n, L)) is scratch: ``alpha``, ``beta``, the emissions gathered at
    each bus, everything entering it (sources, and the lines that deliver into it), and the
    power each line delivers to its child (flow downstream)."""
    n_bus = w.shape[1]
    if not converged[b]:
        for k in range(n_bus):
            w[b, k] = np.nan
        return
    alpha, beta, acc, total_in, down = work[0], work[1], work[2], work[3], work[4]
    for line in range(p_from.shape[1]):
        child = p_to[b, line] if parent_is_from[line] else p_from[b, line]  # into the line, downstream
        down[b, line] = _positive(-child)
    for k in range(n_bus):  # the bus's own sources: static generation and a negative load
        gen = sgen_mw[k] + _positive(-load[b, k])
        acc[b, k] = gen * sgen_g  # what enters each bus from its sources and its eliminated children
        total_in[b, k] = gen
    imported = _positive(p_slack[b])
    total_in[b, slack] += imported
    acc[b, slack] += imported * ext[b]
    n = order.shape[0]
    for i in range(n):
        k = order[i]
        line = parent_line[k]
        parent = p_from[b, line] if parent_is_from[line] else p_to[b, line]  # into the line, upstream
        total_in[b, k] += down[b, line]  # from its parent
        total_in[b, parent_bus[k]] += _positive(-parent)  # into its parent
    for i in range(n - 1, -1, -1):  # leaves first
        k = order[i]
        line = parent_line[k]
        t = total_in[b, k]
        if t <= 0.0:  # nothing enters: the parent's intensity
            alpha[b, k], beta[b, k] = 0.0, 1.0
        else:
            alpha[b, k], beta[b, k] = acc[b, k] / t, down[b, line] / t
        # a child feeding its parent passes alpha (its beta is 0: its parent does not feed it)
        parent = p_from[b, line] if parent_is_from[line] else p_to[b, line]
        acc[b, parent_bus[k]] += _positive(-parent) * alpha[b, k]
    t0 = total_in[b, slack]
    w[b, slack] = acc[b, slack] / t0 if t0 > 0.0 else ext[b]
    for i in range(n):  # root first
        k = order[i]
        w[b, k] = alpha[b, k] + beta[b, k] * w[b, parent_bus[k]]


@njit(cache=CACHE)
def _eliminate_serial(p_from, p_to, p_slack, converged, load, ext, sgen_mw, sgen_g, parent_is_from, order, parent_bus,
                      parent_line, slack):  # fmt: skip
    """(B, n) intensities, one scenario after the other."""
    batch, n_bus = load.shape
    work, w = np.empty((5, batch, max(n_bus, p_from.shape[1]))), np.empty((batch, n_bus))
    for b in range(batch):
        _eliminate_one(
            b, p_from, p_to, p_slack, converged, load, ext, sgen_mw, sgen_g, parent_is_from, order, parent_bus,
            parent_line, slack, work, w,
        )  # fmt: skip
    return w


# (a second function: numba keys its disk cache by function and signature, not by the parallel option)
@njit(cache=CACHE, parallel=True)
def _eliminate_parallel(p_from, p_to, p_slack, converged, load, ext, sgen_mw, sgen_g, parent_is_from, order,
                        parent_bus, parent_line, slack):  # fmt: skip
    """(B, n) intensities over numba's thread pool."""
    batch, n_bus = load.shape
    work, w = np.empty((5, batch, max(n_bus, p_from.shape[1]))), np.empty((batch, n_bus))
    for b in prange(batch):
        _eliminate_one(
            np.int64(b), p_from, p_to, p_slack, converged, load, ext, sgen_mw, sgen_g, parent_is_from, order,
            parent_bus, parent_line, slack, work, w,
        )  # fmt: skip
    return w
