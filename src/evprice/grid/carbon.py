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
and substituting back from the root gives every ``w``: two passes over the tree's
depth levels, vectorised over the batch. Its cost is a few numpy calls per level whatever
the batch; a batched dense solve costs ``O(B n^3)``. Small batches (at most
``DENSE_MAX_BATCH`` scenarios, such as a single environment) therefore take the dense
solve of the same equations and large ones the elimination; the tests check that both
agree. A bus that no power enters (no load, no source) takes its parent's intensity.
"""

from __future__ import annotations

import numpy as np

from evprice.grid.feeders import Feeder
from evprice.grid.powerflow import PowerFlowResult, feeder_tree

DENSE_MAX_BATCH = 64
"""Batches up to this size are solved densely (measured faster there on a 33-bus feeder)."""


class CarbonFlow:
    """Nodal carbon intensities of a feeder's power-flow results (see the module docstring)."""

    def __init__(self, feeder: Feeder, dense_max_batch: int = DENSE_MAX_BATCH) -> None:
        tree = feeder_tree(feeder)
        self.dense_max_batch = dense_max_batch  # larger batches take the tree elimination
        self.feeder = feeder
        self._parent_is_from = tree.line_parent == feeder.from_bus
        self._line_parent = tree.line_parent  # (L,)
        self._line_child = tree.line_child  # (L,)
        self._parent_bus = tree.parent_bus  # (n,)
        self._parent_line = tree.parent_line  # (n,)
        n = feeder.n_bus
        # scatter of line quantities onto their child / parent bus: (L, n)
        self._to_child = np.zeros((feeder.n_line, n))
        self._to_child[np.arange(feeder.n_line), tree.line_child] = 1.0
        self._to_parent = np.zeros((feeder.n_line, n))
        self._to_parent[np.arange(feeder.n_line), tree.line_parent] = 1.0
        self._levels = [np.flatnonzero(tree.depth == d) for d in range(1, int(tree.depth.max()) + 1)]
        self._slack = feeder.slack_bus
        self._sgen_p_mw = np.maximum(feeder.sgen_p_mw, 0.0)

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
        ok = result.converged[:, None]
        p_from, p_to = np.where(ok, result.p_from_mw, 0.0), np.where(ok, result.p_to_mw, 0.0)  # no NaN below
        p_parent = np.where(self._parent_is_from, p_from, p_to)  # into the line, upstream
        p_child = np.where(self._parent_is_from, p_to, p_from)  # into the line, downstream
        down = np.maximum(-p_child, 0.0)  # (B, L) delivered to the child (flow downstream)
        up = np.maximum(-p_parent, 0.0)  # (B, L) delivered to the parent (flow upstream)
        ext = np.broadcast_to(np.asarray(ext_grid_g_per_kwh, dtype=np.float64), (b,))
        injected = np.maximum(-np.asarray(load_p_mw, dtype=np.float64).reshape(b, -1), 0.0)  # negative loads
        gen = self._sgen_p_mw + injected  # (B, n) power entering each bus from local sources
        emission = gen * sgen_g_per_kwh  # (B, n) MW x g/kWh injected at each bus
        imported = np.maximum(np.where(ok[:, 0], result.p_slack_mw, 0.0), 0.0)
        gen[:, self._slack] += imported
        emission[:, self._slack] += imported * ext
        total_in = gen + down @ self._to_child + up @ self._to_parent  # (B, n) everything entering each bus
        if b <= self.dense_max_batch:
            w = self._solve_dense(total_in, emission, down, up, ext)
        else:
            w = self._solve_tree(total_in, emission, down, up, ext)
        return np.where(ok, w, np.nan)

    def _solve_dense(
        self, total_in: np.ndarray, emission: np.ndarray, down: np.ndarray, up: np.ndarray, ext: np.ndarray
    ) -> np.ndarray:
        """The equations as one (n, n) system per scenario; a bus nothing enters gets the row
        ``w_k - w_parent = 0`` (the slack: ``w = ext``)."""
        b, n = total_in.shape
        empty = total_in <= 0.0
        m = np.zeros((b, n, n))
        diagonal = np.arange(n)
        m[:, diagonal, diagonal] = np.where(empty, 1.0, total_in)
        m[:, self._line_child, self._line_parent] = np.where(empty[:, self._line_child], -1.0, -down)
        m[:, self._line_parent, self._line_child] = -up  # 0 in an empty parent's row: nothing enters it
        rhs = np.where(empty, 0.0, emission)
        rhs[:, self._slack] = np.where(empty[:, self._slack], ext, rhs[:, self._slack])
        return np.linalg.solve(m, rhs[..., None])[..., 0]

    def _solve_tree(
        self, total_in: np.ndarray, emission: np.ndarray, down: np.ndarray, up: np.ndarray, ext: np.ndarray
    ) -> np.ndarray:
        """Leaf-to-root elimination, then root-to-leaf substitution (see the module docstring)."""
        b = total_in.shape[0]
        alpha = np.zeros((b, self.feeder.n_bus))
        beta = np.zeros((b, self.feeder.n_bus))
        acc = emission.copy()  # emissions entering each bus from its sources and (as eliminated) its children
        with np.errstate(invalid="ignore", divide="ignore"):
            for level in reversed(self._levels):  # leaves first
                lines = self._parent_line[level]
                t = total_in[:, level]
                empty = t <= 0.0
                alpha_l = np.where(empty, 0.0, acc[:, level] / t)
                beta_l = np.where(empty, 1.0, down[:, lines] / t)
                alpha[:, level], beta[:, level] = alpha_l, beta_l
                # a child feeding its parent passes alpha_c (its beta is 0: its parent does not feed it)
                np.add.at(acc.T, self._parent_bus[level], (up[:, lines] * alpha_l).T)
            w = np.empty((b, self.feeder.n_bus))
            t0 = total_in[:, self._slack]
            w[:, self._slack] = np.where(t0 > 0.0, acc[:, self._slack] / t0, ext)
            for level in self._levels:  # root first
                w[:, level] = alpha[:, level] + beta[:, level] * w[:, self._parent_bus[level]]
        return w
