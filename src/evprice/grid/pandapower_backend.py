"""The pandapower reference solver (the only module of evprice that imports pandapower).

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
    """A pandapower network of ``feeder``: one load and one static generator per bus."""
    net = pp.create_empty_network(name=feeder.name, sn_mva=1.0)
    for k in range(feeder.n_bus):
        pp.create_bus(net, vn_kv=feeder.vn_kv, name=f"bus {k}")
    pp.create_ext_grid(net, bus=feeder.slack_bus, vm_pu=feeder.slack_vm_pu, va_degree=0.0)
    for a, b, r, x, i_max in zip(feeder.from_bus, feeder.to_bus, feeder.r_ohm, feeder.x_ohm, feeder.max_i_ka):
        pp.create_line_from_parameters(
            net, int(a), int(b), length_km=1.0, r_ohm_per_km=float(r), x_ohm_per_km=float(x), c_nf_per_km=0.0,
            max_i_ka=float(i_max),
        )  # fmt: skip
    for k in range(feeder.n_bus):
        pp.create_load(net, k, p_mw=float(feeder.load_p_mw[k]), q_mvar=float(feeder.load_q_mvar[k]))
        pp.create_sgen(net, k, p_mw=float(feeder.sgen_p_mw[k]), q_mvar=float(feeder.sgen_q_mvar[k]))
    return net


class PandapowerSolver:
    """Reference power flow by ``pandapower.runpp`` (Newton-Raphson), scenario by scenario."""

    name = "pandapower"

    def __init__(self, feeder: Feeder, tolerance_mva: float = 1e-10) -> None:
        self.feeder = feeder
        self.tolerance_mva = tolerance_mva
        self.net = build_net(feeder)

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
            out["i"][i] = self.net.res_line.i_ka.to_numpy()
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
