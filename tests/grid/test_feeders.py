"""The shipped feeders against pandapower's own data and the published figures."""

import dataclasses

import numpy as np
import pytest

from evprice.grid.feeders import CONDUCTOR_AMPACITY_A, PLANNING_LOADING, case33bw, doc2, make_feeder


def test_case33bw_published_totals():
    """Baran & Wu (1989): 32 loads totalling 3,715 kW and 2,300 kvar, at 12.66 kV."""
    f = case33bw()
    assert f.n_bus == 33 and f.n_line == 32 and f.vn_kv == 12.66
    assert f.load_p_mw.sum() == pytest.approx(3.715, abs=1e-12)
    assert f.load_q_mvar.sum() == pytest.approx(2.300, abs=1e-12)
    assert f.load_p_mw[0] == 0.0 and (f.load_p_mw[1:] > 0).all()
    assert (f.sgen_p_mw == 0).all()


def test_case33bw_matches_pandapower_data():
    pytest.importorskip("pandapower")
    from evprice.grid.pandapower_backend import pandapower_case33bw

    ref = pandapower_case33bw()
    f = case33bw()
    np.testing.assert_array_equal(ref["from_bus"], f.from_bus)
    np.testing.assert_array_equal(ref["to_bus"], f.to_bus)
    np.testing.assert_allclose(ref["r_ohm"], f.r_ohm, rtol=1e-12)
    np.testing.assert_allclose(ref["x_ohm"], f.x_ohm, rtol=1e-12)
    np.testing.assert_allclose(ref["vn_kv"], f.vn_kv)
    np.testing.assert_allclose(ref["load_p_mw"], f.load_p_mw[ref["load_bus"]], rtol=1e-12)
    np.testing.assert_allclose(ref["load_q_mvar"], f.load_q_mvar[ref["load_bus"]], rtol=1e-12)


def test_line_ratings_follow_the_documented_planning_rule():
    """Each line carries the smallest listed conductor whose ampacity keeps it at or below 60%
    at the published peak load. The currents here come from pandapower (or the fast solver
    when pandapower is absent, which the power-flow tests check against it)."""
    f = case33bw()
    try:
        from evprice.grid.pandapower_backend import PandapowerSolver

        solver = PandapowerSolver(f)
    except ImportError:
        from evprice.grid.powerflow import FastRadialSolver

        solver = FastRadialSolver(f)
    current_a = solver.solve(f.load_p_mw, f.load_q_mvar).line_current_ka[0] * 1e3
    by_size = sorted(CONDUCTOR_AMPACITY_A.items(), key=lambda kv: kv[1])
    for line, (conductor, i_a) in enumerate(zip(f.conductor, current_a)):
        smallest = next(name for name, amp in by_size if i_a <= PLANNING_LOADING * amp)
        assert conductor == smallest, f"line {line}: {i_a:.1f} A"
        assert f.max_i_ka[line] == CONDUCTOR_AMPACITY_A[conductor] / 1e3


def test_doc2_is_the_documented_variant():
    base, f = case33bw(), doc2()
    extra = np.zeros(33)
    extra[[31, 13, 19]] = 0.225
    np.testing.assert_allclose(f.load_p_mw, 0.9 * base.load_p_mw + extra)
    np.testing.assert_allclose(f.load_q_mvar, 0.9 * base.load_q_mvar)
    assert f.sgen_p_mw[5] == 3.0 and f.sgen_p_mw.sum() == 3.0
    assert f.monitored_lines == (9, 17, 27) and f.station_buses == (31, 13, 19)
    np.testing.assert_array_equal(f.max_i_ka, base.max_i_ka)  # real ratings, not document 2's kA values
    # the monitored lines' ends, 0-based: 9 = 9-10, 17 = 1-18, 27 = 27-28
    assert [(f.from_bus[k], f.to_bus[k]) for k in (9, 17, 27)] == [(9, 10), (1, 18), (27, 28)]


def test_feeder_arrays_are_read_only_copies():
    f = doc2()
    with pytest.raises(ValueError, match="read-only"):
        f.load_p_mw[3] = 1.0
    assert case33bw().load_p_mw[3] == 0.12  # a fresh feeder is untouched
    mine = np.zeros(33)
    g = dataclasses.replace(case33bw(), sgen_p_mw=mine)
    mine[3] = 1.0  # the caller's array stays writable, and the feeder does not see the change
    assert g.sgen_p_mw[3] == 0.0


def test_unknown_feeder_is_named():
    with pytest.raises(ValueError, match="feeder='ieee13' is invalid: expected one of 'case33bw', 'doc2'"):
        make_feeder("ieee13")
