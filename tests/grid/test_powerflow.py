"""The fast solver against closed forms, the published case and pandapower's Newton-Raphson."""

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.grid.feeders import Feeder, case33bw, doc2
from evprice.grid.powerflow import S_BASE_MVA, FastRadialSolver, feeder_tree, make_solver


def two_bus(r_ohm=0.5, x_ohm=0.8, vn_kv=12.66):
    """Slack bus 0, one line, bus 1."""
    return Feeder(
        name="two_bus",
        vn_kv=vn_kv,
        slack_bus=0,
        slack_vm_pu=1.0,
        from_bus=np.array([0]),
        to_bus=np.array([1]),
        r_ohm=np.array([r_ohm]),
        x_ohm=np.array([x_ohm]),
        conductor=("test",),
        max_i_ka=np.array([0.2]),
        load_p_mw=np.zeros(2),
        load_q_mvar=np.zeros(2),
        sgen_p_mw=np.zeros(2),
        sgen_q_mvar=np.zeros(2),
        monitored_lines=(0,),
        station_buses=(1,),
    )


@pytest.mark.parametrize("p_mw, q_mvar", [(1.0, 0.5), (3.0, 1.0), (-2.0, 0.3), (0.0, 0.0)])
def test_two_bus_closed_form(p_mw, q_mvar):
    """|V|^2 solves |V|^4 + (2(PR + QX) - 1)|V|^2 + (P^2 + Q^2)(R^2 + X^2) = 0 (high root), p.u."""
    f = two_bus()
    z_base = f.vn_kv**2 / S_BASE_MVA
    r, x = 0.5 / z_base, 0.8 / z_base
    b = 2 * (p_mw * r + q_mvar * x) - 1
    c = (p_mw**2 + q_mvar**2) * (r**2 + x**2)
    vm = np.sqrt((-b + np.sqrt(b * b - 4 * c)) / 2)
    res = FastRadialSolver(f).solve([0.0, p_mw], [0.0, q_mvar])
    assert res.converged[0]
    assert res.vm_pu[0, 1] == pytest.approx(vm, abs=1e-9)
    current_pu = np.hypot(p_mw, q_mvar) / vm
    assert res.p_loss_mw[0] == pytest.approx(current_pu**2 * r, abs=1e-9)
    assert res.line_current_ka[0, 0] == pytest.approx(current_pu / (np.sqrt(3) * f.vn_kv), rel=1e-8)
    assert res.line_loading[0, 0] == pytest.approx(res.line_current_ka[0, 0] / 0.2)
    assert res.p_from_mw[0, 0] == pytest.approx(p_mw + res.p_loss_mw[0], abs=1e-9)
    assert res.p_to_mw[0, 0] == pytest.approx(-p_mw, abs=1e-9)


def test_published_base_case_with_the_fast_solver():
    """Baran & Wu: losses 202.7 kW, lowest voltage 0.9131 p.u. at the end of the main feeder
    (bus 17, 0-based; MATPOWER's bus 18)."""
    f = case33bw()
    res = FastRadialSolver(f).solve(f.load_p_mw, f.load_q_mvar)
    assert res.converged[0]
    assert res.p_loss_mw[0] * 1e3 == pytest.approx(202.7, abs=0.05)
    assert res.vm_pu[0].min() == pytest.approx(0.9131, abs=5e-5) and res.vm_pu[0].argmin() == 17
    assert res.p_slack_mw[0] == pytest.approx(3.715 + res.p_loss_mw[0], abs=1e-9)


def test_published_base_case_with_pandapower():
    pytest.importorskip("pandapower")
    f = case33bw()
    res = make_solver("pandapower", f).solve(f.load_p_mw, f.load_q_mvar)
    assert res.converged[0]
    assert res.p_loss_mw[0] * 1e3 == pytest.approx(202.7, abs=0.05)
    assert res.vm_pu[0].min() == pytest.approx(0.9131, abs=5e-5) and res.vm_pu[0].argmin() == 17


def random_loads(f: Feeder, seed: int, b: int, heavy: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-bus factors in [0, heavy] on the published loads, with random power factors."""
    rng = np.random.default_rng(seed)
    p = f.load_p_mw * rng.uniform(0.0, heavy, (b, f.n_bus))
    q = f.load_q_mvar * rng.uniform(0.0, heavy, (b, f.n_bus))
    return p, q


@settings(max_examples=int(os.environ.get("EVPRICE_PANDAPOWER_EXAMPLES", "6")), deadline=None)
@given(seed=st.integers(0, 2**32 - 1), heavy=st.floats(0.1, 3.0), feeder=st.sampled_from([case33bw, doc2]))
def test_fast_solver_agrees_with_pandapower(seed, heavy, feeder):
    """Random load scenarios up to three times the published load at every bus: 6 examples
    of three scenarios each in the suite (pandapower's solver takes most of the time),
    ``EVPRICE_PANDAPOWER_EXAMPLES=200`` for a longer search."""
    pytest.importorskip("pandapower")
    f = feeder()
    p, q = random_loads(f, seed, 3, heavy)
    fast = FastRadialSolver(f).solve(p, q)
    ref = make_solver("pandapower", f).solve(p, q)
    np.testing.assert_array_equal(fast.converged, ref.converged)
    assert fast.converged.all()
    np.testing.assert_allclose(fast.vm_pu, ref.vm_pu, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fast.va_degree, ref.va_degree, atol=1e-4, rtol=0)
    np.testing.assert_allclose(fast.line_loading, ref.line_loading, atol=1e-6, rtol=0)
    for name in ("p_loss_mw", "p_slack_mw", "q_slack_mvar"):
        np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), atol=1e-6, rtol=0)
    np.testing.assert_allclose(fast.p_from_mw, ref.p_from_mw, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fast.p_to_mw, ref.p_to_mw, atol=1e-6, rtol=0)


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), heavy=st.floats(0.0, 3.0), feeder=st.sampled_from([case33bw, doc2]))
def test_power_balance(seed, heavy, feeder):
    """Slack power = loads - generation + losses; losses = sum of each line's two end powers."""
    f = feeder()
    p, q = random_loads(f, seed, 8, heavy)
    res = FastRadialSolver(f).solve(p, q)
    assert res.converged.all()
    np.testing.assert_allclose(res.p_slack_mw, p.sum(1) - f.sgen_p_mw.sum() + res.p_loss_mw, atol=1e-8)
    np.testing.assert_allclose(res.p_loss_mw, (res.p_from_mw + res.p_to_mw).sum(1), atol=1e-8)
    assert (res.p_from_mw + res.p_to_mw >= -1e-12).all()  # no line creates power


def test_beyond_voltage_collapse_is_reported_not_raised():
    f = case33bw()
    scale = np.array([1.0, 3.0, 5.0])[:, None]
    res = FastRadialSolver(f).solve(scale * f.load_p_mw, scale * f.load_q_mvar)
    np.testing.assert_array_equal(res.converged, [True, True, False])
    assert res.iterations[2] == FastRadialSolver(f).max_iter
    assert np.isnan(res.vm_pu[2]).all() and np.isnan(res.p_loss_mw[2])
    assert np.isfinite(res.vm_pu[:2]).all()
    try:
        ref = make_solver("pandapower", f).solve(scale * f.load_p_mw, scale * f.load_q_mvar)
    except ImportError:
        return
    np.testing.assert_array_equal(ref.converged, [True, True, False])


def test_warm_start_reaches_the_same_solution_in_fewer_iterations():
    f = doc2()
    solver = FastRadialSolver(f)
    p, q = random_loads(f, 0, 16, 1.5)
    cold = solver.solve(p, q)
    warm = solver.solve(1.01 * p, 1.01 * q, v_start_pu=cold.v_pu)
    again = solver.solve(1.01 * p, 1.01 * q)
    np.testing.assert_allclose(warm.vm_pu, again.vm_pu, atol=1e-8)
    assert (warm.iterations < again.iterations).all()
    nan_start = np.full_like(cold.v_pu, np.nan)  # an unusable start falls back to flat
    np.testing.assert_allclose(solver.solve(p, q, v_start_pu=nan_start).vm_pu, cold.vm_pu, atol=0)


@pytest.mark.parametrize(
    "p, message",
    [
        (np.zeros((2, 32)), r"p_mw has shape \(2, 32\): expected \(B, 33\)"),
        (np.full((1, 33), np.nan), r"p_mw\[0, 0\] = nan: expected finite loads"),
    ],
)
def test_bad_loads_raise_naming_the_array(p, message):
    with pytest.raises(ValueError, match=message):
        FastRadialSolver(case33bw()).solve(p, np.zeros_like(p))


def test_only_radial_feeders_are_accepted():
    f = case33bw()
    meshed = dataclasses.replace(
        f,
        from_bus=np.append(f.from_bus[:-1], 0),
        to_bus=np.append(f.to_bus[:-1], 17),  # bus 32 cut off, a loop through bus 17
    )
    with pytest.raises(ValueError, match=r"buses \[32\] are not connected to the slack"):
        FastRadialSolver(meshed)
    with pytest.raises(ValueError, match="solver='newton' is invalid"):
        make_solver("newton", f)


def test_tree_of_case33bw():
    tree = feeder_tree(case33bw())
    # 0-1-...-17; 0-1-18-19-20-21; 0-1-2-3-4-5-25-26-...-32
    assert tree.depth[17] == 17 and tree.depth[21] == 5 and tree.depth[32] == 13
    assert tree.parent_bus[18] == 1 and tree.parent_bus[25] == 5
    np.testing.assert_array_equal(tree.line_parent, case33bw().from_bus)
    np.testing.assert_array_equal(tree.path.sum(axis=0)[[0, 1, 17, 32]], [0, 1, 17, 13])


def _dense_iteration(feeder: Feeder, p: np.ndarray, q: np.ndarray, tol: float, max_iter: int):
    """The fixed-point iteration as the dense product ``V <- V0 - conj(S / V) T^T diag(z) T``,
    in numpy: what the compiled sweeps must follow. Returns (voltages, iterations, converged)."""
    z_base = feeder.vn_kv**2 / S_BASE_MVA
    z = (feeder.r_ohm + 1j * feeder.x_ohm) / z_base
    keep = np.arange(feeder.n_bus) != feeder.slack_bus
    t = feeder_tree(feeder).path[:, keep]
    drop = t.T @ (z[:, None] * t)
    s_conj = ((p - feeder.sgen_p_mw) - 1j * (q - feeder.sgen_q_mvar))[:, keep] / S_BASE_MVA
    v0 = complex(feeder.slack_vm_pu)
    out, its, ok = [], [], []
    for row in s_conj:
        v, done, used = np.full(keep.sum(), v0), False, max_iter
        for it in range(1, max_iter + 1):
            new = v0 - (row / np.conj(v)) @ drop
            change = np.abs((new - v).view(np.float64)).max()
            v = new
            if not np.isfinite(change):
                break
            if change < tol:
                done, used = True, it
                break
        full = np.full(feeder.n_bus, v0, dtype=complex)
        full[keep] = v
        out.append(full)
        its.append(used)
        ok.append(done)
    return np.array(out), np.array(its), np.array(ok)


@pytest.mark.parametrize("batch", [1, 70])  # serial, and over the thread pool
@pytest.mark.parametrize("feeder", [case33bw, doc2])
def test_the_compiled_sweeps_follow_the_dense_iteration(batch, feeder):
    f = feeder()
    p, q = random_loads(f, 3, batch, 1.5)
    p[0], q[0] = 5.0 * f.load_p_mw, 5.0 * f.load_q_mvar  # beyond voltage collapse: not converged
    solver = FastRadialSolver(f, tol_pu=1e-10, max_iter=60)
    res = solver.solve(p, q)
    v, its, ok = _dense_iteration(f, p, q, 1e-10, 60)
    np.testing.assert_array_equal(res.converged, ok)
    assert not ok[0] and (batch == 1 or ok[1:].all())
    np.testing.assert_allclose(res.v_pu[ok], v[ok], rtol=0, atol=1e-12)
    # rounding may move the stopping test across the tolerance by one iteration, no more
    assert np.abs(res.iterations - its).max() <= 1 and (res.iterations == its).mean() > 0.9


def test_a_scenario_gets_the_same_numbers_alone_and_on_the_thread_pool():
    f = doc2()
    p, q = random_loads(f, 5, 70, 1.5)
    solver = FastRadialSolver(f)
    batch = solver.solve(p, q)
    for row in (0, 33, 69):
        alone = solver.solve(p[row : row + 1], q[row : row + 1])
        for field in dataclasses.fields(batch):
            np.testing.assert_allclose(
                getattr(batch, field.name)[row],
                getattr(alone, field.name)[0],
                rtol=1e-12,
                atol=1e-15,
                err_msg=field.name,
            )
