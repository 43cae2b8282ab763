"""Feeders from pandapower networks, pandapower JSON and MATPOWER files, checked against
``pandapower.runpp`` on the original network (issue 20)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.grid.feeder_files import feeder_from_net, feeder_to_dict, load_feeder
from evprice.grid.feeders import case33bw, make_feeder
from evprice.grid.matpower import matpower_text, read_matpower
from evprice.grid.powerflow import FastRadialSolver, make_solver

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _cigre(der="pv_wind"):
    return _quiet(pn.create_cigre_network_mv, with_der=der)


def _agree(net, feeder, scales=(0.5, 1.0, 1.15), tol=1e-8):
    """Solve ``net`` with pandapower at each load scaling and ``feeder`` with the fast solver in
    one batch; compare bus voltages, branch loadings, the external grid's power and the losses."""
    p = np.stack([feeder.load_p_mw * s for s in scales])
    q = np.stack([feeder.load_q_mvar * s for s in scales])
    fast = FastRadialSolver(feeder).solve(p, q)
    assert fast.converged.all()
    base_p, base_q = net.load.p_mw.copy(), net.load.q_mvar.copy()
    for i, s in enumerate(scales):
        net.load["p_mw"], net.load["q_mvar"] = base_p * s, base_q * s
        _quiet(pp.runpp, net, tolerance_mva=1e-11)
        vm = net.res_bus.vm_pu.loc[list(feeder.bus_labels)].to_numpy()
        np.testing.assert_allclose(fast.vm_pu[i], vm, atol=tol)
        rows = {"line": net.res_line.loading_percent, "trafo": net.res_trafo.loading_percent}
        names = _branch_labels(net, feeder)
        expected = np.array([rows[kind][idx] / 100.0 for kind, idx in names])
        np.testing.assert_allclose(fast.line_loading[i], expected, atol=1e-7)
        assert fast.p_slack_mw[i] == pytest.approx(net.res_ext_grid.p_mw.iloc[0], abs=1e-7)
        assert fast.q_slack_mvar[i] == pytest.approx(net.res_ext_grid.q_mvar.iloc[0], abs=1e-7)
        losses = net.res_line.pl_mw.sum() + (net.res_trafo.pl_mw.sum() if len(net.trafo) else 0.0)
        assert fast.p_loss_mw[i] == pytest.approx(losses, abs=1e-6)
    net.load["p_mw"], net.load["q_mvar"] = base_p, base_q


def _branch_labels(net, feeder):
    """(kind, pandapower index) of each feeder branch, from its label (``"trafo 1"``)."""
    return [(kind, int(idx)) for kind, idx in (label.split() for label in feeder.line_labels)]


@pytest.mark.parametrize("der", [False, "pv_wind"])
def test_cigre_mv_agrees_with_pandapower_newton_raphson(der):
    """Two transformers, cables with charging, three open switches (lines open at one end stay
    charged from the other), PV and wind."""
    net = _cigre(der)
    feeder = feeder_from_net(net, "cigre_mv")
    assert (feeder.n_bus, feeder.n_line, feeder.line_kind.count("trafo")) == (15, 14, 2)
    _agree(net, feeder)


def test_the_shipped_cigre_mv_is_the_conversion_of_pandapowers_network():
    shipped = make_feeder("cigre_mv")
    stations = tuple(shipped.bus_labels[k] for k in shipped.station_buses)
    fresh = feeder_from_net(_cigre(), "cigre_mv", station_buses=stations)
    assert json.dumps(feeder_to_dict(shipped)) == json.dumps(feeder_to_dict(fresh))
    both = [FastRadialSolver(f).solve(f.load_p_mw, f.load_q_mvar) for f in (shipped, make_feeder("cigre_mv"))]
    np.testing.assert_array_equal(both[0].vm_pu, both[1].vm_pu)
    # the pandapower solver on the converted feeder agrees with the fast one too
    ref = make_solver("pandapower", shipped).solve(shipped.load_p_mw, shipped.load_q_mvar)
    np.testing.assert_allclose(both[0].vm_pu, ref.vm_pu, atol=1e-9)
    np.testing.assert_allclose(both[0].line_current_ka, ref.line_current_ka, atol=1e-9)


def test_a_pandapower_json_file_round_trips_case33bw(tmp_path):
    net = _quiet(pn.case33bw)
    path = tmp_path / "feeder.json"
    _quiet(pp.to_json, net, str(path))
    feeder = load_feeder(path)
    assert feeder.name == "feeder" and feeder.n_bus == 33 and feeder.n_line == 32  # the tie lines are out of service
    built_in = case33bw()
    np.testing.assert_allclose(feeder.r_ohm, built_in.r_ohm, rtol=1e-12)
    np.testing.assert_allclose(feeder.x_ohm, built_in.x_ohm, rtol=1e-12)
    np.testing.assert_allclose(feeder.load_p_mw, built_in.load_p_mw, rtol=1e-12)
    _agree(_quiet(pp.from_json, str(path)), feeder)


def test_a_matpower_case_round_trips(tmp_path):
    """A 5-bus radial case written as MATPOWER text: impedances in p.u. on 100 MVA and 12.66 kV."""
    z_base = 12.66**2 / 100.0
    bus = [[1, 3, 0, 0, 0, 0, 1, 1, 0, 12.66, 1, 1.1, 0.9]]
    loads = [(0.1, 0.06), (0.09, 0.04), (0.12, 0.08), (0.06, 0.03)]
    bus += [[k + 2, 1, p, q, 0, 0, 1, 1, 0, 12.66, 1, 1.1, 0.9] for k, (p, q) in enumerate(loads)]
    gen = [[1, 0, 0, 10, -10, 1, 100, 1, 10, 0] + [0] * 11]
    ohms = [(1, 2, 0.0922, 0.047), (2, 3, 0.493, 0.2511), (3, 4, 0.366, 0.1864), (2, 5, 0.164, 0.1565)]
    branch = [[a, b, r / z_base, x / z_base, 0, 0, 0, 0, 0, 0, 1, -360, 360] for a, b, r, x in ohms]
    path = tmp_path / "case5r.m"
    path.write_text(matpower_text("case5r", 100.0, np.array(bus), np.array(gen), np.array(branch)))
    ppc = read_matpower(path)
    assert ppc["baseMVA"] == 100.0 and ppc["bus"].shape == (5, 13) and ppc["branch"].shape == (4, 13)
    feeder = load_feeder(path)
    np.testing.assert_allclose(feeder.r_ohm, [o[2] for o in ohms], rtol=1e-9)
    np.testing.assert_allclose(feeder.x_ohm, [o[3] for o in ohms], rtol=1e-9)
    np.testing.assert_allclose(feeder.load_p_mw[1:], [p for p, _ in loads], rtol=1e-12)
    from pandapower.converter.pypower import from_ppc

    net = _quiet(from_ppc, read_matpower(path), f_hz=50.0, validate_conversion=False)
    _agree(net, feeder_from_net(net, "case5r"))


def test_bus_switches_join_buses_and_shunts_and_unfed_buses_are_handled():
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_line_from_parameters(net, b[0], b[1], 3.0, 0.3, 0.35, 200.0, 0.3)
    pp.create_switch(net, b[1], b[2], et="b", closed=True)  # 1 and 2 are one bus
    pp.create_line_from_parameters(net, b[2], b[3], 2.0, 0.4, 0.35, 10.0, 0.2)
    pp.create_load(net, b[3], p_mw=2.0, q_mvar=0.5)
    pp.create_load(net, b[2], p_mw=1.0, q_mvar=0.1)
    pp.create_shunt(net, b[3], q_mvar=-0.4, p_mw=0.01)  # a capacitor bank
    pp.create_load(net, b[4], p_mw=5.0, q_mvar=0.0)  # bus 4 is connected to nothing: unsupplied
    feeder = feeder_from_net(net, "small")
    assert feeder.n_bus == 3 and feeder.bus_labels == (0, 1, 3)
    assert feeder.load_p_mw.tolist() == [0.0, 1.0, 2.0]
    _agree(net, feeder, scales=(1.0,))


def _meshed_cigre():
    net = _cigre(False)
    net.switch.loc[net.switch.name == "S1", "closed"] = True
    return net


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            _meshed_cigre,
            r"is meshed: trafo 1 closes the loop through buses 12, 13, 14, 8, 3, 2, 1, 0; .* open a switch on the loop",
        ),
        (
            lambda: _with(_cigre(False), lambda n: pp.create_gen(n, 5, p_mw=1.0, vm_pu=1.0)),
            r"1 voltage-controlled generators \(net.gen",
        ),
        (
            lambda: _with(_cigre(False), lambda n: pp.create_ext_grid(n, 12, vm_pu=1.0)),
            "has 2 external grids in service",
        ),
        (
            lambda: _with(_cigre(False), lambda n: setattr(n, "load", n.load.assign(const_z_p_percent=50.0))),
            r"load 0 depends on the voltage \(const_z_p_percent",
        ),
        (
            lambda: _with(_cigre(False), lambda n: setattr(n, "trafo", n.trafo.assign(vn_lv_kv=21.0))),
            "transformer 0 has an off-nominal ratio",
        ),
    ],
)
def test_what_the_radial_solver_cannot_represent_is_refused_by_name(make, message):
    with pytest.raises(ConfigError, match=message):
        feeder_from_net(make(), "cigre_mv")


def _with(net, change):
    change(net)
    return net


def test_bad_files_are_refused_with_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_feeder(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match=r"expected a pandapower .json or a MATPOWER .m file"):
        load_feeder(tmp_path / "feeder.csv")
    bad = tmp_path / "bad.m"
    bad.write_text("mpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0;\n2 1 x 0;\n];\nmpc.gen = [1 0];\nmpc.branch = [1 2];\n")
    with pytest.raises(ConfigError, match=r"bad.m', line 4: mpc.bus holds 'x', not a number"):
        read_matpower(bad)
    bad.write_text("mpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0;\n2 1 0;\n];\n")
    with pytest.raises(ConfigError, match=r"line 4: a row of mpc.bus has 3 columns, the rows before it 4"):
        read_matpower(bad)
    bad.write_text("mpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0;\n")
    with pytest.raises(ConfigError, match=r"mpc.bus opened on line 2 is never closed"):
        read_matpower(bad)
    bad.write_text("mpc.baseMVA = 100;\nmpc.bus = [1 3];\nmpc.gen = [1 0];\nmpc.branch = [1 2];\nmpc.branch(:, 3) = 1;")
    with pytest.raises(ConfigError, match=r"line 5: .* changes the case with MATLAB code"):
        read_matpower(bad)
    bad.write_text("mpc.baseMVA = 100;\n")
    with pytest.raises(ConfigError, match=r"defines no mpc.bus, mpc.gen, mpc.branch"):
        read_matpower(bad)
    junk = tmp_path / "junk.json"
    junk.write_text('{"a": 1}')
    with pytest.raises(ConfigError, match="is not a pandapower network"):
        load_feeder(junk)
    net = _cigre(False)
    with pytest.raises(ConfigError, match="station bus 0 is not a bus fed by the substation"):
        feeder_from_net(net, "cigre_mv", station_buses=(0,))
