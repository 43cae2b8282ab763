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

from evprice.core.jit import CACHE

PARALLEL_MIN_BATCH = 64
"""Batches of at least this many scenarios solve over numba's thread pool."""


@njit(cache=CACHE, inline="always")
def _line_currents(b, s_conj, v, order, parent_bus, parent_line, y_bus, work, line):
    """``line[b] = T I(v[b])``: the load currents at ``v[b]`` (constant power, plus the bus's
    shunt admittance ``y_bus``), summed downstream of each line."""
    n = order.shape[0]
    for i in range(n):
        k = order[i]
        x = v[b, k]  # the load current I = conj(S / V) = conj(S) V / |V|^2, and the shunt's y V
        work[b, k] = s_conj[b, k] * x / (x.real * x.real + x.imag * x.imag) + y_bus[k] * x
    for i in range(n - 1, -1, -1):  # leaves first: each line carries what is downstream of it
        k = order[i]
        line[b, parent_line[k]] = work[b, k]
        work[b, parent_bus[k]] += work[b, k]  # (the slack's entry is never read)


@njit(cache=CACHE, inline="always")
def _solve_one(
    b, s_conj, v, order, parent_bus, parent_line, slack, z, y_bus, v0, tol, max_iter, work, line, iterations, done
):
    """Iterate scenario ``b`` in place: ``v[b]`` (n_bus,) holds its start and gets its solution,
    ``line[b]`` (n_line,) the line currents at that solution; ``work[b]`` is scratch."""
    n = order.shape[0]  # the non-slack buses, parents before children
    for it in range(1, max_iter + 1):
        _line_currents(b, s_conj, v, order, parent_bus, parent_line, y_bus, work, line)
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
    _line_currents(b, s_conj, v, order, parent_bus, parent_line, y_bus, work, line)


@njit(cache=CACHE, inline="always")
def _finish_one(
    b,
    v,
    line,
    own_mva,
    done,
    line_parent,
    line_child,
    parent_is_from,
    r_pu,
    y_half,
    max_i_ka,
    from_slack,
    y_slack,
    v0,
    s_base,
    i_base_ka,
    vm,
    line_ka,
    loading,
    p_from,
    p_to,
    loss,
    p_slack,
    q_slack,
    ok,
):
    """The results of scenario ``b`` from its voltages and line currents (NaN unless it converged).

    A line's current is the larger of its two ends' (the series current plus or minus its
    shunt's ``y_half V`` at that end), its losses the series ``|J|^2 r`` and its shunts'
    conductance; ``i_base_ka`` (n_line,) converts each line's per-unit current at its own
    voltage level.

    Written in real arithmetic, with its sums kept in the outputs and no early return:
    earlier versions, inlined into the ``prange`` loop, came out wrong under numba 0.68 (the
    slack's reactive power with the wrong sign, the losses garbage).
    ``tests/grid/test_powerflow.py`` compares the thread pool with single scenarios.
    """
    n_bus, n_line = v.shape[1], line.shape[1]
    good = done[b]
    for k in range(n_bus):
        vr, vi = v[b, k].real, v[b, k].imag
        vm[b, k] = np.sqrt(vr * vr + vi * vi)
        if not (vm[b, k] > 0.0 and np.isfinite(vm[b, k])):
            good = False
    ok[b] = good
    loss[b] = 0.0
    p_slack[b] = 0.0  # the current leaving the slack, real part, until the end
    q_slack[b] = 0.0  # and imaginary part
    for m in range(n_line):
        ir, ii = line[b, m].real, line[b, m].imag  # p.u., flowing away from the slack
        up, down = v[b, line_parent[m]], v[b, line_child[m]]
        i_up = line[b, m] + y_half[m] * up  # into the line at its upstream end
        i_down = line[b, m] - y_half[m] * down  # out of the line at its downstream end
        p_parent = (up.real * i_up.real + up.imag * i_up.imag) * s_base  # Re(V conj(I)) into the line, upstream end
        p_child = -(down.real * i_down.real + down.imag * i_down.imag) * s_base  # into the line, downstream end
        if parent_is_from[m]:
            p_from[b, m], p_to[b, m] = p_parent, p_child
        else:
            p_from[b, m], p_to[b, m] = p_child, p_parent
        i_pu = np.sqrt(ir * ir + ii * ii)
        i_end = max(
            np.sqrt(i_up.real * i_up.real + i_up.imag * i_up.imag),
            np.sqrt(i_down.real * i_down.real + i_down.imag * i_down.imag),
        )
        line_ka[b, m] = i_end * i_base_ka[m]
        loading[b, m] = line_ka[b, m] / max_i_ka[m]
        g = y_half[m].real
        loss[b] += i_pu * i_pu * r_pu[m] * s_base + g * (up.real * up.real + up.imag * up.imag) * s_base
        loss[b] += g * (down.real * down.real + down.imag * down.imag) * s_base
        if from_slack[m]:
            p_slack[b] += i_up.real
            q_slack[b] += i_up.imag
    # the power drawn from the external grid: v0 conj(I) + the slack bus's own load and shunt
    i_re, i_im = p_slack[b], q_slack[b]
    v0_sq = v0.real * v0.real + v0.imag * v0.imag
    p_slack[b] = (v0.real * i_re + v0.imag * i_im) * s_base + own_mva[b].real + v0_sq * y_slack.real * s_base
    q_slack[b] = (v0.imag * i_re - v0.real * i_im) * s_base + own_mva[b].imag - v0_sq * y_slack.imag * s_base
    if not good:
        for k in range(n_bus):
            v[b, k] = np.nan
            vm[b, k] = np.nan
        for m in range(n_line):
            line_ka[b, m] = np.nan
            loading[b, m] = np.nan
            p_from[b, m] = np.nan
            p_to[b, m] = np.nan
        loss[b] = np.nan
        p_slack[b] = np.nan
        q_slack[b] = np.nan


@njit(cache=CACHE)
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


@njit(cache=CACHE, inline="always")
def _start_one(b, p, q, sgen_p, sgen_q, v_start, has_start, slack, v0, s_base, s_conj, v, own_mva):
    """Scenario ``b``'s net loads (conjugated, p.u.), its start (``v_start[b]`` where every
    non-slack entry is finite and non-zero, else flat) and the load at the slack bus."""
    n_bus = p.shape[1]
    usable = has_start
    if has_start:
        for k in range(n_bus):
            x = v_start[b, k]
            if k != slack and not (np.isfinite(x.real) and np.isfinite(x.imag) and (x.real != 0.0 or x.imag != 0.0)):
                usable = False
    for k in range(n_bus):
        s_conj[b, k] = complex((p[b, k] - sgen_p[k]) / s_base, -(q[b, k] - sgen_q[k]) / s_base)
        v[b, k] = v_start[b, k] if usable and k != slack else v0
    own_mva[b] = complex(p[b, slack] - sgen_p[slack], q[b, slack] - sgen_q[slack])


@njit(cache=CACHE)
def _prepare(p, n_line, max_iter):
    batch, n_bus = p.shape
    return (
        np.empty((batch, n_bus), dtype=np.complex128),  # conj(S)
        np.empty((batch, n_bus), dtype=np.complex128),  # V
        np.empty(batch, dtype=np.complex128),  # the slack bus's own load
        np.empty((batch, n_bus), dtype=np.complex128),  # work (every entry is written before it is read)
        np.empty((batch, n_line), dtype=np.complex128),  # line currents (likewise)
        np.full(batch, max_iter, dtype=np.int64),
        np.zeros(batch, dtype=np.bool_),
        _outputs_jit(batch, n_bus, n_line),
    )


@njit(cache=CACHE)
def sweep_serial(p, q, sgen_p, sgen_q, v_start, has_start, tree, lines, v0, s_base, i_base_ka, tol, max_iter):
    """Solve every scenario, one after the other.

    Args:
        p, q: (B, n_bus) load at each bus, MW and Mvar; sgen_p, sgen_q: (n_bus,) static generation.
        v_start: (B, n_bus) complex voltages to start from, read if ``has_start`` (a
            scenario whose start is not finite and non-zero starts flat).
        tree: ``(order, parent_bus, parent_line, slack, z, y_bus)``: the non-slack buses with
            every parent before its children, each bus's upstream bus and line, the slack bus,
            the (n_line,) complex line impedances and the (n_bus,) complex shunt admittance at
            each bus, p.u.: the lines' halves included, except at the slack, where it is the
            shunt elements' only (the lines' halves there are in their end currents).
        lines: ``(line_parent, line_child, parent_is_from, r_pu, y_half, max_i_ka, from_slack)``,
            (n_line,) each: ``y_half`` the shunt admittance at each end of a line, p.u.
        i_base_ka: (n_line,) the current base of each line's voltage level, kA.

    Returns:
        ``(v_pu (B, n_bus) complex, iterations (B,), (vm_pu, line_current_ka, line_loading,
        p_from_mw, p_to_mw, p_loss_mw, p_slack_mw, q_slack_mvar, converged))``; a scenario that
        did not converge keeps ``max_iter`` iterations and NaN numbers.
    """
    order, parent_bus, parent_line, slack, z, y_bus = tree
    s_conj, v, own, work, line, iterations, done, out = _prepare(p, z.shape[0], max_iter)
    lp, lc, pf, rp, yh, mi, fs = lines  # unpacked once: in the loop body each unpacking counts references
    ys = y_bus[slack]
    vm, ka, ld, p_f, p_t, loss, ps, qs, ok = out
    for b in range(p.shape[0]):
        _start_one(b, p, q, sgen_p, sgen_q, v_start, has_start, slack, v0, s_base, s_conj, v, own)
        _solve_one(
            b, s_conj, v, order, parent_bus, parent_line, slack, z, y_bus, v0, tol, max_iter, work, line,
            iterations, done,
        )  # fmt: skip
        _finish_one(
            b, v, line, own, done, lp, lc, pf, rp, yh, mi, fs, ys, v0, s_base, i_base_ka,
            vm, ka, ld, p_f, p_t, loss, ps, qs, ok,
        )  # fmt: skip
    return v, iterations, out


# A second function rather than a second compile of sweep_serial: numba keys its disk cache by
# function and signature, not by the parallel option.
@njit(cache=CACHE, parallel=True)
def sweep_parallel(p, q, sgen_p, sgen_q, v_start, has_start, tree, lines, v0, s_base, i_base_ka, tol, max_iter):
    """:func:`sweep_serial` over numba's thread pool (large batches)."""
    order, parent_bus, parent_line, slack, z, y_bus = tree
    s_conj, v, own, work, line, its, done, out = _prepare(p, z.shape[0], max_iter)
    lp, lc, pf, rp, yh, mi, fs = lines  # unpacked once: in the loop body each unpacking counts references
    ys = y_bus[slack]
    vm, ka, ld, p_f, p_t, loss, ps, qs, ok = out
    for b in prange(p.shape[0]):
        i = np.int64(b)
        _start_one(i, p, q, sgen_p, sgen_q, v_start, has_start, slack, v0, s_base, s_conj, v, own)
        _solve_one(
            i, s_conj, v, order, parent_bus, parent_line, slack, z, y_bus, v0, tol, max_iter, work, line, its, done
        )
        _finish_one(
            i, v, line, own, done, lp, lc, pf, rp, yh, mi, fs, ys, v0, s_base, i_base_ka,
            vm, ka, ld, p_f, p_t, loss, ps, qs, ok,
        )  # fmt: skip
    return v, its, out
