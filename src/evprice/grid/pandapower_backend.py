"""The pandapower reference solver (with :mod:`evprice.grid.feeder_files`, which reads
pandapower files, the only modules of evprice that import pandapower).

``PandapowerSolver.solve`` runs Newton-Raphson (``pandapower.runpp``) on each scenario of a
batch in turn, on a pandapower network built from a :class:`~evprice.grid.feeders.Feeder`.
It is slow (about 20 ms a scenario) and is meant for validation; simulations use the fast
solver. pandapower is an optional dependency: ``pip install evprice[pandapower]``.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import numpy as np

from evprice.grid.feeders import Feeder
from evprice.grid.powerflow import PowerFlowResult, check_bus_loads

try:
    import pandapower as pp
    import pandapower.networks as pn
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("the pandapower solver needs pandapower: pip install 'evprice[pandapower]'") from err

NUMBA = importlib.util.find_spec("numba") is not None


def build_net(feeder: Feeder) -> Any:
    """A pandapower network of ``feeder``: one load and one static generator per bus, every bus
    at the feeder's reference voltage with the impedances referred to it (so a transformer is
    a line of its impedance, and each line's rating is referred too). A line's shunt is its
    ``c_nf_per_km`` and ``g_us_per_km``; a transformer's magnetising admittance and the bus
    shunts are shunt elements."""
    net = pp.create_empty_network(name=feeder.name, sn_mva=1.0)
    for k in range(feeder.n_bus):
        pp.create_bus(net, vn_kv=feeder.vn_kv, name=f"bus {k}")
    pp.create_ext_grid(net, bus=feeder.slack_bus, vm_pu=feeder.slack_vm_pu, va_degree=0.0)
    z_base_ohm = feeder.vn_kv**2 / 1.0
    shunts = np.array(feeder.bus_y_shunt_pu, dtype=np.complex128)
    for m in range(feeder.n_line):
        a, b = int(feeder.from_bus[m]), int(feeder.to_bus[m])
        y = complex(feeder.line_y_half_pu[m])
        is_line = feeder.line_kind[m] == "line"
        if not is_line:
            shunts[a] += y
            shunts[b] += y
        b_total_s = 2.0 * y.imag / z_base_ohm if is_line else 0.0
        g_total_s = 2.0 * y.real / z_base_ohm if is_line else 0.0
        pp.create_line_from_parameters(
            net, a, b, length_km=1.0, r_ohm_per_km=float(feeder.r_ohm[m]), x_ohm_per_km=float(feeder.x_ohm[m]),
            c_nf_per_km=b_total_s / (2.0 * np.pi * net.f_hz) * 1e9, g_us_per_km=g_total_s * 1e6,
            max_i_ka=float(feeder.max_i_ka[m] * feeder.line_vn_kv[m] / feeder.vn_kv),
        )  # fmt: skip
    for k in range(feeder.n_bus):
        pp.create_load(net, k, p_mw=float(feeder.load_p_mw[k]), q_mvar=float(feeder.load_q_mvar[k]))
        pp.create_sgen(net, k, p_mw=float(feeder.sgen_p_mw[k]), q_mvar=float(feeder.sgen_q_mvar[k]))
    for k in np.flatnonzero(shunts != 0):
        pp.create_shunt(net, int(k), q_mvar=float(-shunts[k].imag), p_mw=float(shunts[k].real))
    return net


class PandapowerSolver:
    """Reference power flow by ``pandapower.runpp`` (Newton-Raphson), scenario by scenario."""

    name = "pandapower"

    def __init__(self, feeder: Feeder, tolerance_mva: float = 1e-10) -> None:
        self.feeder = feeder
        self.tolerance_mva = tolerance_mva
        self.net = build_net(feeder)
        self._to_own_level = feeder.vn_kv / np.asarray(feeder.line_vn_kv)  # referred current -> each line's own kA

    def solve(self, p_mw: np.ndarray, q_mvar: np.ndarray, v_start_pu: np.ndarray | None = None) -> PowerFlowResult:
        """Solve ``B`` scenarios one after the other (``v_start_pu`` is ignored: every run starts
        from pandapower's default initialisation, so results do not depend on the batch)."""
        f = self.feeder
        p, q = check_bus_loads(f, p_mw, q_mvar)
        b = len(p)
        out = {k: np.full((b, f.n_bus), np.nan) for k in ("vm", "va")}
        out.update({k: np.full((b, f.n_line), np.nan) for k in ("i", "loading", "p_from", "p_to")})
        scalars = {k: np.full(b, np.nan) for k in ("loss", "p_slack", "q_slack")}
        converged = np.zeros(b, dtype=bool)
        iterations = np.zeros(b, dtype=np.int64)
        for i in range(b):
            self.net.load["p_mw"] = p[i]
            self.net.load["q_mvar"] = q[i]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pp.runpp(self.net, algorithm="nr", tolerance_mva=self.tolerance_mva, numba=NUMBA, max_iteration=50)
            except pp.LoadflowNotConverged:
                continue
            converged[i] = True
            iterations[i] = int(self.net._ppc.get("iterations", 0))
            out["vm"][i] = self.net.res_bus.vm_pu.to_numpy()
            out["va"][i] = self.net.res_bus.va_degree.to_numpy()
            out["i"][i] = self.net.res_line.i_ka.to_numpy() * self._to_own_level
            out["loading"][i] = self.net.res_line.loading_percent.to_numpy() / 100.0
            out["p_from"][i] = self.net.res_line.p_from_mw.to_numpy()
            out["p_to"][i] = self.net.res_line.p_to_mw.to_numpy()
            scalars["loss"][i] = self.net.res_line.pl_mw.sum()
            scalars["p_slack"][i] = self.net.res_ext_grid.p_mw.iloc[0]
            scalars["q_slack"][i] = self.net.res_ext_grid.q_mvar.iloc[0]
        return PowerFlowResult(
            v_pu=out["vm"] * np.exp(1j * np.radians(out["va"])),
            vm_pu=out["vm"],
            line_current_ka=out["i"],
            line_loading=out["loading"],
            p_from_mw=out["p_from"],
            p_to_mw=out["p_to"],
            p_loss_mw=scalars["loss"],
            p_slack_mw=scalars["p_slack"],
            q_slack_mvar=scalars["q_slack"],
            converged=converged,
            iterations=iterations,
        )


def pandapower_case33bw() -> dict[str, np.ndarray]:
    """pandapower's own ``case33bw`` data (in-service lines and loads), to check the shipped copy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.case33bw()
    lines = net.line[net.line.in_service]
    return {
        "from_bus": lines.from_bus.to_numpy(),
        "to_bus": lines.to_bus.to_numpy(),
        "r_ohm": (lines.r_ohm_per_km * lines.length_km).to_numpy(),
        "x_ohm": (lines.x_ohm_per_km * lines.length_km).to_numpy(),
        "load_bus": net.load.bus.to_numpy(),
        "load_p_mw": net.load.p_mw.to_numpy(),
        "load_q_mvar": net.load.q_mvar.to_numpy(),
        "vn_kv": net.bus.vn_kv.to_numpy(),
    }
