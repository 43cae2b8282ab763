"""Power flow: one protocol, two solvers.

``solve(p_mw, q_mvar)`` takes the **load** at every bus, (B, n_bus) MW and Mvar (positive =
consumption; the feeder's own static generation is subtracted by the solver), and returns a
:class:`PowerFlowResult` for each of the ``B`` scenarios. A scenario that does not
converge is reported (``converged`` False, its numbers NaN), never raised; only malformed
input (wrong shape, NaN) raises.

* :class:`FastRadialSolver` (``"fast"``, the default for simulation): a batched fixed-point
  power flow for radial feeders (below), its iteration compiled (:mod:`evprice.grid.sweep`).
* ``"pandapower"``: Newton-Raphson through ``pandapower.runpp``, the reference
  (:mod:`evprice.grid.pandapower_backend`, the only module that imports pandapower).

**The fast solver** (the backward/forward sweep in matrix form, Teng 2003). With the slack
bus at ``V0`` and every other bus ``k`` drawing the current ``I_k = conj(S_k / V_k)`` of its
net load, the current of line ``l`` is the sum of the load currents downstream of it,
``I_line = T I`` (``T[l, k] = 1`` when line ``l`` lies on the path from the substation to
bus ``k``), and the voltage of bus ``k`` is ``V0`` minus the drops along its path,
``V = V0 - T^T diag(z) T I``. ``D = T^T diag(z) T`` depends on the network only; the iteration
``V <- V0 - conj(S / V) D`` applies it as a backward sweep (line currents, leaves first)
and a forward sweep (voltage drops, root first), O(n) per scenario, repeated until no
voltage of a scenario moves by more than ``tol`` p.u. Its fixed point satisfies the same power-balance equations as
Newton-Raphson's (the tests check it against pandapower to 1e-6 p.u.; about 1e-11 is
typical); it converges to
the operating (high-voltage) solution unless the feeder is close to voltage collapse,
where it slows down and, past ``max_iter`` iterations, reports the scenario as not
converged.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np

from evprice.core.config import ConfigError
from evprice.core.jit import use_thread_pool
from evprice.grid.feeders import Feeder
from evprice.grid.sweep import PARALLEL_MIN_BATCH as SWEEP_PARALLEL_MIN_BATCH
from evprice.grid.sweep import sweep_parallel, sweep_serial

S_BASE_MVA = 1.0
"""Power base of the per-unit system."""


@dataclass(frozen=True)
class PowerFlowResult:
    """Power-flow results of ``B`` scenarios (NaN where a scenario did not converge).

    Bus and line indices are 0-based pandapower indices.
    """

    v_pu: np.ndarray  # (B, n_bus) complex bus voltage
    vm_pu: np.ndarray  # (B, n_bus) voltage magnitude
    line_current_ka: np.ndarray  # (B, n_line) current magnitude
    line_loading: np.ndarray  # (B, n_line) current as a fraction of the line's rating (1 = at its ampacity)
    p_from_mw: np.ndarray  # (B, n_line) active power into the line at its from-bus end (pandapower's sign)
    p_to_mw: np.ndarray  # (B, n_line) active power into the line at its to-bus end (negative when it delivers)
    p_loss_mw: np.ndarray  # (B,) active losses of all lines
    p_slack_mw: np.ndarray  # (B,) active power drawn from the external grid (negative = export)
    q_slack_mvar: np.ndarray  # (B,) reactive power drawn from the external grid
    converged: np.ndarray  # (B,) bool
    iterations: np.ndarray  # (B,) int, iterations used (each solver's own notion)

    @property
    def batch_size(self) -> int:
        return len(self.converged)

    def take(self, rows: np.ndarray) -> PowerFlowResult:
        """The results of the scenarios ``rows`` (an index array or a mask over the batch)."""
        return PowerFlowResult(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @property
    def va_degree(self) -> np.ndarray:
        """(B, n_bus) voltage angle, degrees (computed on demand: simulations rarely need it)."""
        return np.degrees(np.angle(self.v_pu))


class PowerFlowSolver(Protocol):
    """What every solver provides.

    ``v_start_pu`` (B, n_bus) complex voltages to start from (a previous solution) is a
    hint: a solver may ignore it, and the solution must not depend on it beyond the
    solver's tolerance.
    """

    name: str
    feeder: Feeder

    def solve(self, p_mw: np.ndarray, q_mvar: np.ndarray, v_start_pu: np.ndarray | None = None) -> PowerFlowResult: ...


def check_bus_loads(feeder: Feeder, p_mw: np.ndarray, q_mvar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``p_mw`` and ``q_mvar`` as float64 arrays (B, n_bus); raises ValueError naming the problem.

    A single scenario may be given as (n_bus,).
    """
    p = np.asarray(p_mw, dtype=np.float64)
    q = np.asarray(q_mvar, dtype=np.float64)
    p, q = (p[None] if p.ndim == 1 else p), (q[None] if q.ndim == 1 else q)
    for name, a in (("p_mw", p), ("q_mvar", q)):
        if a.ndim != 2 or a.shape[1] != feeder.n_bus:
            raise ValueError(f"{name} has shape {a.shape}: expected (B, {feeder.n_bus}), one column per bus")
        if not np.isfinite(a).all():
            b, k = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(f"{name}[{b}, {k}] = {float(a[b, k])}: expected finite loads in MW / Mvar")
    if p.shape != q.shape:
        raise ValueError(f"p_mw {p.shape} and q_mvar {q.shape} must have the same shape")
    return p, q


@dataclass(frozen=True)
class Tree:
    """A radial feeder seen from its substation (the slack bus).

    Attributes:
        parent_bus: (n_bus,) the bus upstream of each bus (-1 for the slack).
        parent_line: (n_bus,) the line from a bus to its parent (-1 for the slack).
        depth: (n_bus,) lines between each bus and the slack.
        line_child: (n_line,) the downstream end of each line.
        line_parent: (n_line,) the upstream end of each line.
        path: (n_line, n_bus) ``T``: 1 where line ``l`` is on the path from the slack to bus ``k``.
    """

    parent_bus: np.ndarray
    parent_line: np.ndarray
    depth: np.ndarray
    line_child: np.ndarray
    line_parent: np.ndarray
    path: np.ndarray


def feeder_tree(feeder: Feeder) -> Tree:
    """The feeder's tree; raises ValueError unless the lines form a tree spanning every bus from the slack."""
    n, slack = feeder.n_bus, feeder.slack_bus
    if feeder.n_line != n - 1:
        raise ValueError(f"feeder {feeder.name!r}: {feeder.n_line} lines for {n} buses: a radial feeder has n_bus - 1")
    neighbours: dict[int, list[tuple[int, int]]] = {k: [] for k in range(n)}
    for line, (a, b) in enumerate(zip(feeder.from_bus, feeder.to_bus)):
        neighbours[int(a)].append((int(b), line))
        neighbours[int(b)].append((int(a), line))
    parent_line = np.full(n, -1)
    parent_bus = np.full(n, -1)
    depth = np.zeros(n, dtype=np.intp)
    seen = {slack}
    order = [slack]
    for bus in order:  # breadth-first from the substation
        for other, line in neighbours[bus]:
            if other not in seen:
                seen.add(other)
                parent_bus[other], parent_line[other] = bus, line
                depth[other] = depth[bus] + 1
                order.append(other)
    if len(seen) != n:
        raise ValueError(f"feeder {feeder.name!r}: buses {sorted(set(range(n)) - seen)} are not connected to the slack")
    t = np.zeros((feeder.n_line, n))
    for bus in range(n):
        k = bus
        while k != slack:
            t[parent_line[k], bus] = 1.0
            k = parent_bus[k]
    line_child = np.empty(feeder.n_line, dtype=np.intp)
    children = np.flatnonzero(parent_line >= 0)
    line_child[parent_line[children]] = children
    return Tree(
        parent_bus=parent_bus,
        parent_line=parent_line,
        depth=depth,
        line_child=line_child,
        line_parent=parent_bus[line_child],
        path=t,
    )


class FastRadialSolver:
    """Batched fixed-point power flow of a radial feeder (see the module docstring).

    Args:
        feeder: the network.
        tol_pu: convergence threshold: a scenario has converged when no real or imaginary
            part of a bus voltage changed by more than this in the last iteration, p.u.
        max_iter: iterations after which a scenario that has not converged is reported so.
    """

    name = "fast"

    def __init__(self, feeder: Feeder, tol_pu: float = 1e-9, max_iter: int = 200) -> None:
        if not (np.isfinite(tol_pu) and tol_pu > 0):
            raise ValueError(f"tol_pu={tol_pu!r} is invalid: expected a positive number")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ValueError(f"max_iter={max_iter!r} is invalid: expected a positive integer")
        self.feeder = feeder
        self.tol_pu = float(tol_pu)
        self.max_iter = max_iter
        z_base_ohm = feeder.vn_kv**2 / S_BASE_MVA
        z = (feeder.r_ohm + 1j * feeder.x_ohm) / z_base_ohm  # (n_line,) p.u.
        tree = feeder_tree(feeder)
        order = np.argsort(tree.depth, kind="stable")[1:]  # the non-slack buses, parents first
        y_half = np.asarray(feeder.line_y_half_pu, dtype=np.complex128)
        y_bus = np.array(feeder.bus_y_shunt_pu, dtype=np.complex128)  # the shunt elements, then the lines' halves
        lines_y = y_bus.copy()
        np.add.at(lines_y, feeder.from_bus, y_half)
        np.add.at(lines_y, feeder.to_bus, y_half)
        lines_y[feeder.slack_bus] = y_bus[feeder.slack_bus]  # the slack's line halves are in the end currents
        self._sweep_tree = (
            order.astype(np.int64),
            tree.parent_bus.astype(np.int64),
            tree.parent_line.astype(np.int64),
            int(feeder.slack_bus),
            np.ascontiguousarray(z, dtype=np.complex128),
            np.ascontiguousarray(lines_y),
        )
        from_slack = (feeder.from_bus == feeder.slack_bus) | (feeder.to_bus == feeder.slack_bus)
        self._sweep_lines = (
            tree.line_parent.astype(np.int64),
            tree.line_child.astype(np.int64),
            np.ascontiguousarray(tree.line_parent == feeder.from_bus),  # the line's orientation
            np.ascontiguousarray(feeder.r_ohm / z_base_ohm, dtype=np.float64),
            np.ascontiguousarray(y_half),
            np.ascontiguousarray(feeder.max_i_ka, dtype=np.float64),
            np.ascontiguousarray(from_slack),
        )
        self._i_base_ka = np.ascontiguousarray(S_BASE_MVA / (np.sqrt(3.0) * feeder.line_vn_kv), dtype=np.float64)
        self._sgen_p_mw = np.ascontiguousarray(feeder.sgen_p_mw, dtype=np.float64)
        self._sgen_q_mvar = np.ascontiguousarray(feeder.sgen_q_mvar, dtype=np.float64)
        self._v0 = complex(feeder.slack_vm_pu)

    def solve(self, p_mw: np.ndarray, q_mvar: np.ndarray, v_start_pu: np.ndarray | None = None) -> PowerFlowResult:
        """Solve ``B`` scenarios.

        Args:
            p_mw, q_mvar: (B, n_bus) load at each bus, MW and Mvar (positive = consumption).
            v_start_pu: (B, n_bus) complex voltages to start from (a previous solution,
                :attr:`PowerFlowResult.v_pu`: a simulation's loads change little from one
                period to the next, so it saves iterations); flat start where None or NaN.

        Raises:
            ValueError: on arrays of the wrong shape or with non-finite values (a bad
                input, not a physical outcome: a scenario that does not converge is
                reported in the result instead).
        """
        f = self.feeder
        p, q = check_bus_loads(f, p_mw, q_mvar)
        b = len(p)
        if v_start_pu is None:
            start, has_start = _NO_START, False
        else:
            start = np.ascontiguousarray(v_start_pu, dtype=np.complex128)
            if start.shape != (b, f.n_bus):
                raise ValueError(f"v_start_pu has shape {start.shape}: expected ({b}, {f.n_bus}), like p_mw")
            has_start = True
        sweep = sweep_parallel if use_thread_pool(b, SWEEP_PARALLEL_MIN_BATCH) else sweep_serial
        v_all, iterations, (vm, line_ka, loading, p_from, p_to, loss, p_slack, q_slack, ok) = sweep(
            np.ascontiguousarray(p),
            np.ascontiguousarray(q),
            self._sgen_p_mw,
            self._sgen_q_mvar,
            start,
            has_start,
            self._sweep_tree,
            self._sweep_lines,
            self._v0,
            S_BASE_MVA,
            self._i_base_ka,
            self.tol_pu,
            self.max_iter,
        )
        return PowerFlowResult(
            v_pu=v_all,
            vm_pu=vm,
            line_current_ka=line_ka,
            line_loading=loading,
            p_from_mw=p_from,
            p_to_mw=p_to,
            p_loss_mw=loss,
            p_slack_mw=p_slack,
            q_slack_mvar=q_slack,
            converged=ok,
            iterations=iterations,
        )


_NO_START = np.empty((1, 1), dtype=np.complex128)  # v_start placeholder when there is none

SOLVERS = ("fast", "pandapower")


def powerflow_summary(result: PowerFlowResult) -> dict[str, bool | int | float | None]:
    """The headline numbers of the first scenario of ``result`` (buses and lines 0-based):
    ``converged``, ``losses_kw``, ``vmin_pu``, ``vmin_bus``, ``vmax_pu``, ``vmax_bus``,
    ``max_line_loading`` (fraction of rating), ``max_line_loading_line``, ``p_slack_mw``;
    None for the numbers of a power flow that did not converge."""
    if not result.converged[0]:
        keys = ("losses_kw", "vmin_pu", "vmin_bus", "vmax_pu", "vmax_bus", "max_line_loading", "max_line_loading_line")
        return {"converged": False, **dict.fromkeys(keys), "p_slack_mw": None}
    vm, loading = result.vm_pu[0], result.line_loading[0]
    return {
        "converged": True,
        "losses_kw": float(result.p_loss_mw[0] * 1e3),
        "vmin_pu": float(vm.min()),
        "vmin_bus": int(vm.argmin()),
        "vmax_pu": float(vm.max()),
        "vmax_bus": int(vm.argmax()),
        "max_line_loading": float(loading.max()),
        "max_line_loading_line": int(loading.argmax()),
        "p_slack_mw": float(result.p_slack_mw[0]),
    }


def parse_added_load(text: str, feeder: Feeder) -> tuple[int, float, float]:
    """``"BUS:KW"`` or ``"BUS:KW:KVAR"`` -> (bus index, kW, kvar), ``BUS`` a bus label of the
    feeder (a built-in's 0-based bus, a file's own label); raises ConfigError naming the problem."""
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        bus = int(parts[0])
        kw, kvar = float(parts[1]), float(parts[2]) if len(parts) == 3 else 0.0
    except ValueError:
        raise ConfigError(f"add-load {text!r} is invalid: expected BUS:KW or BUS:KW:KVAR, e.g. 17:500") from None
    labels = feeder.bus_labels
    if bus not in labels:
        where = f"in [0, {feeder.n_bus - 1}]" if labels == tuple(range(feeder.n_bus)) else f"among {list(labels)}"
        raise ConfigError(f"add-load {text!r}: bus {bus} is invalid: expected a bus of {feeder.name} {where}")
    if not (np.isfinite(kw) and np.isfinite(kvar)):
        raise ConfigError(f"add-load {text!r}: expected finite kW and kvar")
    return labels.index(bus), kw, kvar


def make_solver(name: str, feeder: Feeder) -> PowerFlowSolver:
    """``"fast"`` or ``"pandapower"`` (the latter imports pandapower: install ``evprice[pandapower]``)."""
    if name == "fast":
        return FastRadialSolver(feeder)
    if name == "pandapower":
        from evprice.grid.pandapower_backend import PandapowerSolver  # optional dependency, imported on demand

        return PandapowerSolver(feeder)
    raise ValueError(f"solver={name!r} is invalid: expected one of {', '.join(map(repr, SOLVERS))}")
