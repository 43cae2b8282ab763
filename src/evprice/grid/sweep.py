"""The fast solver's iteration, compiled: one backward/forward sweep per scenario and iteration.

The fixed point of :class:`evprice.grid.powerflow.FastRadialSolver` is ``V = V0 - D I(V)``
with ``D = T^T diag(z) T`` and the load currents ``I_k = conj(S_k / V_k)``. Applying ``D``
is a sweep over the tree: the backward sweep sums the load currents downstream of each
line (``J = T I``, leaves first), the forward sweep subtracts each line's drop ``z_l J_l``
from its parent's new voltage (root first). That is O(n) per scenario and iteration instead
of the O(n^2) dense product, with the same iterates up to rounding. Each scenario iterates
until no real or imaginary part of a bus voltage moves by more than ``tol``, or diverges (a
non-finite change), or reaches ``max_iter``.

Compiled with numba (``cache=True``): serially for small batches, over the thread pool from
:data:`PARALLEL_MIN_BATCH` scenarios on.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

PARALLEL_MIN_BATCH = 64
"""Batches of at least this many scenarios solve over numba's thread pool."""


@njit(cache=True, inline="always")
def _line_currents(b, s_conj, v, order, parent_bus, parent_line, work, line):
    """``line[b] = T I(v[b])``: the load currents at ``v[b]``, summed downstream of each line."""
    n = order.shape[0]
    for i in range(n):
        k = order[i]
        work[b, k] = s_conj[b, k] / np.conj(v[b, k])  # the load current I = conj(S / V)
    for i in range(n - 1, -1, -1):  # leaves first: each line carries what is downstream of it
        k = order[i]
        line[b, parent_line[k]] = work[b, k]
        work[b, parent_bus[k]] += work[b, k]  # (the slack's entry is never read)


@njit(cache=True, inline="always")
def _solve_one(b, s_conj, v, order, parent_bus, parent_line, slack, z, v0, tol, max_iter, work, line, iterations, done):
    """Iterate scenario ``b`` in place: ``v[b]`` (n_bus,) holds its start and gets its solution,
    ``line[b]`` (n_line,) the line currents at that solution; ``work[b]`` is scratch."""
    n = order.shape[0]  # the non-slack buses, parents before children
    for it in range(1, max_iter + 1):
        _line_currents(b, s_conj, v, order, parent_bus, parent_line, work, line)
        work[b, slack] = v0
        change = 0.0
        finite = True
        for i in range(n):  # root first: each bus is its parent's new voltage minus the line's drop
            k = order[i]
            new = work[b, parent_bus[k]] - z[parent_line[k]] * line[b, parent_line[k]]
            d = new - v[b, k]
            if not (np.isfinite(d.real) and np.isfinite(d.imag)):
                finite = False
            change = max(change, abs(d.real), abs(d.imag))
            work[b, k] = new
        for i in range(n):
            k = order[i]
            v[b, k] = work[b, k]
        if not finite:  # diverged: reported, not iterated further
            break
        if change < tol:
            iterations[b] = it
            done[b] = True
            break
    _line_currents(b, s_conj, v, order, parent_bus, parent_line, work, line)


@njit(cache=True)  # not inlined: numba 0.68 mis-lowers its complex scalars inlined in prange
def _finish_one(b, v, line, own_mva, done, lines, v0, s_base, i_base_ka, out):
    """The results of scenario ``b`` from its voltages and line currents (NaN unless it converged)."""
    line_parent, line_child, parent_is_from, r_pu, max_i_ka, from_slack = lines
    vm, line_ka, loading, p_from, p_to, loss, p_slack, q_slack, ok = out
    n_bus, n_line = v.shape[1], line.shape[1]
    good = done[b]
    for k in range(n_bus):
        vm[b, k] = np.sqrt(v[b, k].real * v[b, k].real + v[b, k].imag * v[b, k].imag)
        if not (vm[b, k] > 0.0 and np.isfinite(vm[b, k])):
            good = False
    ok[b] = good
    if not good:
        for k in range(n_bus):
            v[b, k] = complex(np.nan, 0.0)
            vm[b, k] = np.nan
        for m in range(n_line):
            line_ka[b, m] = loading[b, m] = p_from[b, m] = p_to[b, m] = np.nan
        loss[b] = p_slack[b] = q_slack[b] = np.nan
        return
    # losses, and the current leaving the slack, summed over the lines in the outputs
    loss[b] = 0.0
    p_slack[b] = 0.0
    q_slack[b] = 0.0
    for m in range(n_line):
        current = line[b, m]  # p.u., flowing away from the slack
        i_conj = np.conj(current)
        p_parent = (v[b, line_parent[m]] * i_conj).real  # into the line at its upstream end
        p_child = -(v[b, line_child[m]] * i_conj).real  # into the line at its downstream end
        p_from[b, m] = (p_parent if parent_is_from[m] else p_child) * s_base
        p_to[b, m] = (p_child if parent_is_from[m] else p_parent) * s_base
        i_pu = np.sqrt(current.real * current.real + current.imag * current.imag)
        line_ka[b, m] = i_pu * i_base_ka
        loading[b, m] = line_ka[b, m] / max_i_ka[m]
        loss[b] += i_pu * i_pu * r_pu[m] * s_base
        if from_slack[m]:  # the current leaving the slack, for now
            p_slack[b] += current.real
            q_slack[b] += current.imag
    # the power drawn from the external grid: v0 conj(I) + the slack bus's own load, in reals
    i_re, i_im = p_slack[b], q_slack[b]
    p_slack[b] = (v0.real * i_re + v0.imag * i_im) * s_base + own_mva[b].real
    q_slack[b] = (v0.imag * i_re - v0.real * i_im) * s_base + own_mva[b].imag


@njit(cache=True)
def _outputs_jit(batch, n_bus, n_line):
    return (
        np.empty((batch, n_bus)),
        np.empty((batch, n_line)),
        np.empty((batch, n_line)),
        np.empty((batch, n_line)),
        np.empty((batch, n_line)),
        np.empty(batch),
        np.empty(batch),
        np.empty(batch),
        np.empty(batch, dtype=np.bool_),
    )


@njit(cache=True)
def sweep_serial(s_conj, v, own_mva, tree, lines, v0, s_base, i_base_ka, tol, max_iter):
    """Solve every scenario, one after the other.

    Args:
        s_conj: (B, n_bus) complex conjugate of each bus's net load, p.u. (the slack's unused).
        v: (B, n_bus) complex start voltages, overwritten with the solutions (NaN where a
            scenario did not converge; the slack's is ``v0``).
        own_mva: (B,) complex load at the slack bus itself.
        tree: ``(order, parent_bus, parent_line, slack, z)``: the non-slack buses with every
            parent before its children, each bus's upstream bus and line, the slack bus, and
            the (n_line,) complex line impedances, p.u.
        lines: ``(line_parent, line_child, parent_is_from, r_pu, max_i_ka, from_slack)``, (n_line,) each.

    Returns:
        ``(iterations (B,), (vm_pu, line_current_ka, line_loading, p_from_mw, p_to_mw,
        p_loss_mw, p_slack_mw, q_slack_mvar, converged))``; a scenario that did not converge
        keeps ``max_iter`` iterations and NaN numbers.
    """
    order, parent_bus, parent_line, slack, z = tree
    batch, n_bus = v.shape
    work = np.zeros_like(v)
    line = np.zeros((batch, z.shape[0]), dtype=np.complex128)
    iterations = np.full(batch, max_iter, dtype=np.int64)
    done = np.zeros(batch, dtype=np.bool_)
    out = _outputs_jit(batch, n_bus, z.shape[0])
    for b in range(batch):
        _solve_one(
            b, s_conj, v, order, parent_bus, parent_line, slack, z, v0, tol, max_iter, work, line, iterations, done
        )
        _finish_one(b, v, line, own_mva, done, lines, v0, s_base, i_base_ka, out)
    return iterations, out


# A second function rather than a second compile of sweep_serial: numba keys its disk cache by
# function and signature, not by the parallel option.
@njit(cache=True, parallel=True)
def sweep_parallel(s_conj, v, own_mva, tree, lines, v0, s_base, i_base_ka, tol, max_iter):
    """:func:`sweep_serial` over numba's thread pool (large batches)."""
    order, parent_bus, parent_line, slack, z = tree
    batch, n_bus = v.shape
    work = np.zeros_like(v)
    line = np.zeros((batch, z.shape[0]), dtype=np.complex128)
    its = np.full(batch, max_iter, dtype=np.int64)
    done = np.zeros(batch, dtype=np.bool_)
    out = _outputs_jit(batch, n_bus, z.shape[0])
    for b in prange(batch):
        i = np.int64(b)
        _solve_one(i, s_conj, v, order, parent_bus, parent_line, slack, z, v0, tol, max_iter, work, line, its, done)
        _finish_one(i, v, line, own_mva, done, lines, v0, s_base, i_base_ka, out)
    return its, out
