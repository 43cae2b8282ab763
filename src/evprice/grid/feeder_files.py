"""Feeders from files: a pandapower network (JSON), a MATPOWER case (``.m``), or evprice's own
feeder JSON (the built-ins it ships).

:func:`feeder_from_net` turns a pandapower network into a :class:`~evprice.grid.feeders.Feeder`
the fast solver runs, with the same physics as ``pandapower.runpp``:

* switches as pandapower applies them: a closed bus-bus switch joins its buses, an open
  transformer switch takes the transformer out, a line open at one end stays charged from
  the other (its shunt and series branch become an admittance at the closed end); buses
  not connected to the external grid (pandapower leaves them unsupplied) are left out,
  out-of-service elements too;
* lines by their pi model (series ``r + jx``, half of the shunt ``g + j 2 pi f c`` at each
  end, ``parallel`` systems, rating ``max_i_ka x df x parallel``); two-winding transformers
  by their short-circuit impedance (``vk_percent``, ``vkr_percent``) and magnetising
  admittance (``pfe_kw``, ``i0_percent``) split over both sides (pandapower's
  ``trafo_model="pi"``; with no magnetising current, as in the CIGRE networks, the same as its
  default ``"t"``), rated at ``sn_mva``; a phase shift (``shift_degree``) turns the angles
  downstream only and is left out;
* every impedance referred to the external grid's voltage level, each branch's current
  reported at its own level;
* loads (times ``scaling``; storage charging counts as load), static generators and shunts
  summed per bus.

What the radial solver cannot represent is refused with the element named: a meshed network
(the loop's buses are listed), several external grids, voltage-controlled generators
(``net.gen``), three-winding transformers, off-nominal transformer ratios or taps,
voltage-dependent loads, and the other element types.

Buses keep their pandapower index as a label (:attr:`Feeder.bus_labels`): a scenario names
buses by it. pandapower is imported only when a pandapower file is read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.grid.feeders import Feeder

S_BASE_MVA = 1.0
"""The per-unit power base (that of :mod:`evprice.grid.powerflow`)."""
DEFAULT_STATION_BUSES = 3
"""A loaded feeder's default station buses: this many of the buses farthest from the substation."""
UNSUPPORTED = (
    "trafo3w", "impedance", "ward", "xward", "dcline", "svc", "tcsc", "ssc", "vsc", "motor", "asymmetric_load",
)  # fmt: skip
"""Element tables whose in-service elements the radial solver has no model for."""


def _table(net: Any, name: str) -> Any:
    """``net[name]``'s in-service rows (an empty frame when the table is missing or empty)."""
    import pandas as pd

    if name not in net or not len(net[name]):
        return pd.DataFrame()
    frame = net[name]
    return frame[frame["in_service"].astype(bool)] if "in_service" in frame else frame


class _Buses:
    """Union-find over pandapower bus labels (closed bus-bus switches join buses)."""

    def __init__(self, labels: list[int]) -> None:
        self.parent = {b: b for b in labels}

    def find(self, b: int) -> int:
        while self.parent[b] != b:
            self.parent[b] = self.parent[self.parent[b]]
            b = self.parent[b]
        return b

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _loop(n: int, edges: list[tuple[int, int]], closing: int) -> list[int]:
    """The buses of the loop that edge ``closing`` closes in the forest of ``edges[:closing]``."""
    adj: dict[int, list[int]] = {k: [] for k in range(n)}
    for a, b in edges[:closing]:
        adj[a].append(b)
        adj[b].append(a)
    start, goal = edges[closing]
    back = {start: start}
    queue = [start]
    for k in queue:
        for other in adj[k]:
            if other not in back:
                back[other] = k
                queue.append(other)
    path = [goal]
    while path[-1] != start:
        path.append(back[path[-1]])
    return path


def feeder_from_net(
    net: Any, name: str, *, station_buses: tuple[int, ...] | None = None, where: str | None = None
) -> Feeder:
    """The feeder of pandapower network ``net`` (see the module docstring).

    Args:
        net: a ``pandapowerNet``.
        name: the feeder's name.
        station_buses: default station buses, as pandapower bus labels; None = the
            :data:`DEFAULT_STATION_BUSES` buses farthest (in lines) from the substation.
        where: how messages name the network (default: ``feeder NAME``).

    Raises:
        ConfigError: the network has an element or topology the solver cannot represent.
    """
    where = where or f"feeder {name!r}"
    ext = _table(net, "ext_grid")
    if len(ext) != 1:
        raise ConfigError(
            f"{where} has {len(ext)} external grids in service: evprice's feeder has exactly one substation "
            "(several feeders in one scenario are separate feeder entries)"
        )
    gens = _table(net, "gen")
    if len(gens):
        raise ConfigError(
            f"{where} has {len(gens)} voltage-controlled generators (net.gen, indices {list(gens.index)[:5]}): "
            "the radial solver holds every bus but the substation at constant power; model them as static "
            "generators (net.sgen)"
        )
    for table in UNSUPPORTED:
        rows = _table(net, table)
        if len(rows):
            raise ConfigError(
                f"{where} has {len(rows)} in-service {table} elements (indices {list(rows.index)[:5]}), "
                "which evprice's radial solver does not model: take them out of service or replace them"
            )
    buses = _table(net, "bus")
    labels = [int(b) for b in buses.index]
    union = _Buses(labels)
    open_lines: dict[int, set[int]] = {}  # line -> the buses at which a switch opens it
    open_trafos: set[int] = set()
    for _, sw in _table(net, "switch").iterrows():
        closed = bool(sw["closed"])
        if sw["et"] == "b" and closed and int(sw["bus"]) in union.parent and int(sw["element"]) in union.parent:
            union.join(int(sw["bus"]), int(sw["element"]))
        elif sw["et"] == "l" and not closed:
            open_lines.setdefault(int(sw["element"]), set()).add(int(sw["bus"]))
        elif sw["et"] == "t" and not closed:
            open_trafos.add(int(sw["element"]))
    slack_label = union.find(int(ext["bus"].iloc[0]))
    vn_of = {b: float(buses.at[b, "vn_kv"]) for b in labels}

    branches: list[dict[str, Any]] = []
    open_ended: list[tuple[int, complex]] = []  # (bus, admittance) of lines switched open at their other end
    for idx, ln in _table(net, "line").iterrows():
        a, b = int(ln["from_bus"]), int(ln["to_bus"])
        if a not in union.parent or b not in union.parent:
            continue
        opened = open_lines.get(idx, set())
        a, b = union.find(a), union.find(b)
        if not math.isclose(vn_of[a], vn_of[b]):
            raise ConfigError(f"{where}: line {idx} joins buses of {vn_of[a]:g} and {vn_of[b]:g} kV: use a transformer")
        vn, length, parallel = vn_of[a], float(ln["length_km"]), float(ln["parallel"])
        z_pu = (float(ln["r_ohm_per_km"]) + 1j * float(ln["x_ohm_per_km"])) * length / parallel / (vn**2 / S_BASE_MVA)
        g_us = float(ln["g_us_per_km"]) if "g_us_per_km" in ln and not np.isnan(ln["g_us_per_km"]) else 0.0
        y_s = (g_us * 1e-6 + 2j * math.pi * float(net.f_hz) * float(ln["c_nf_per_km"]) * 1e-9) * length * parallel
        df = float(ln["df"]) if "df" in ln and not np.isnan(ln["df"]) else 1.0
        y_half = y_s * vn**2 / S_BASE_MVA / 2.0
        if opened:  # pandapower keeps a line open at one end charged from the other
            ends = {int(ln["from_bus"]), int(ln["to_bus"])} - opened
            if len(ends) == 1 and y_half != 0:
                near = union.find(ends.pop())
                open_ended.append((near, y_half + 1.0 / (z_pu + 1.0 / y_half)))
            continue
        branches.append(
            {
                "label": f"line {idx}",
                "a": a,
                "b": b,
                "z_pu": z_pu,
                "y_half_pu": y_half,
                "max_i_ka": float(ln["max_i_ka"]) * df * parallel,
                "vn_kv": vn,
                "kind": "line",
                "type": str(ln["std_type"]) if isinstance(ln.get("std_type"), str) else "line",
            }
        )
    for idx, tr in _table(net, "trafo").iterrows():
        a, b = int(tr["hv_bus"]), int(tr["lv_bus"])
        if idx in open_trafos or a not in union.parent or b not in union.parent:
            continue
        a, b = union.find(a), union.find(b)
        ratio = (float(tr["vn_hv_kv"]) / float(tr["vn_lv_kv"])) / (vn_of[a] / vn_of[b])
        tap = tr.get("tap_pos", np.nan)
        tap_step = tr.get("tap_step_percent", np.nan)
        off_tap = not (tap is None or np.isnan(tap)) and tap != tr.get("tap_neutral", tap) and tap_step
        if not math.isclose(ratio, 1.0, rel_tol=1e-9) or off_tap:
            raise ConfigError(
                f"{where}: transformer {idx} has an off-nominal ratio (rated {tr['vn_hv_kv']:g}/{tr['vn_lv_kv']:g} kV "
                f"on buses of {vn_of[a]:g}/{vn_of[b]:g} kV, tap {tap}): the radial solver models nominal ratios only"
            )
        sn, parallel = float(tr["sn_mva"]), float(tr["parallel"])
        z_abs, r = float(tr["vk_percent"]) / 100.0, float(tr["vkr_percent"]) / 100.0
        z_pu = (r + 1j * math.sqrt(max(z_abs**2 - r**2, 0.0))) * S_BASE_MVA / sn / parallel
        y_abs, g = float(tr["i0_percent"]) / 100.0, float(tr["pfe_kw"]) / 1000.0 / sn
        y_m = (g - 1j * math.sqrt(max(y_abs**2 - g**2, 0.0))) * sn / S_BASE_MVA * parallel
        df = float(tr["df"]) if "df" in tr and not np.isnan(tr["df"]) else 1.0
        branches.append(
            {
                "label": f"trafo {idx}",
                "a": a,
                "b": b,
                "z_pu": z_pu,
                "y_half_pu": y_m / 2.0,
                "max_i_ka": sn * parallel * df / (math.sqrt(3.0) * vn_of[a]),
                "vn_kv": vn_of[a],
                "kind": "trafo",
                "type": f"{sn:g} MVA {tr['vn_hv_kv']:g}/{tr['vn_lv_kv']:g} kV",
            }
        )
    branches = [br for br in branches if br["a"] != br["b"]]  # a closed bus-bus switch may short a branch

    # the buses the external grid reaches; the rest pandapower leaves unsupplied
    reps = sorted({union.find(b) for b in labels})
    adj: dict[int, list[int]] = {r: [] for r in reps}
    for br in branches:
        adj[br["a"]].append(br["b"])
        adj[br["b"]].append(br["a"])
    depth = {slack_label: 0}
    queue = [slack_label]
    for k in queue:
        for other in adj[k]:
            if other not in depth:
                depth[other] = depth[k] + 1
                queue.append(other)
    kept = sorted(depth)
    index = {label: i for i, label in enumerate(kept)}
    branches = [br for br in branches if br["a"] in index]
    edges = [(index[br["a"]], index[br["b"]]) for br in branches]
    forest = _Buses(list(range(len(kept))))
    for m, (a, b) in enumerate(edges):
        if forest.find(a) == forest.find(b):
            loop = [kept[k] for k in _loop(len(kept), edges, m)]
            raise ConfigError(
                f"{where} is meshed: {branches[m]['label']} closes the loop through buses "
                f"{', '.join(map(str, loop))}; the radial solver needs a radial feeder: open a switch on the loop "
                "(net.switch closed=False) or take one of its lines out of service"
            )
        forest.join(a, b)

    n_bus, vn_ref = len(kept), vn_of[slack_label]
    p, q, sp, sq = (np.zeros(n_bus) for _ in range(4))
    y_bus = np.zeros(n_bus, dtype=np.complex128)

    def add(table: str, target: np.ndarray, column: str) -> None:
        for _, row in _table(net, table).iterrows():
            bus = union.find(int(row["bus"])) if int(row["bus"]) in union.parent else None
            if bus in index:
                scaling = float(row["scaling"]) if "scaling" in row else 1.0
                target[index[bus]] += float(row[column]) * scaling

    for _, row in _table(net, "load").iterrows():
        dependent = [c for c in row.index if str(c).startswith("const_") and float(row[c] or 0.0) != 0.0]
        if dependent:
            raise ConfigError(
                f"{where}: load {row.name} depends on the voltage ({', '.join(dependent)}): the radial solver "
                "models constant-power loads only"
            )
    for table, target, column in (
        ("load", p, "p_mw"),
        ("load", q, "q_mvar"),
        ("storage", p, "p_mw"),
        ("storage", q, "q_mvar"),
        ("sgen", sp, "p_mw"),
        ("sgen", sq, "q_mvar"),
    ):
        add(table, target, column)
    for _, row in _table(net, "shunt").iterrows():
        bus = union.find(int(row["bus"]))
        if bus in index:
            scale = float(row.get("step", 1.0)) * (vn_of[bus] / float(row["vn_kv"])) ** 2
            y_bus[index[bus]] += (float(row["p_mw"]) - 1j * float(row["q_mvar"])) * scale / S_BASE_MVA

    for bus, y in open_ended:
        if bus in index:
            y_bus[index[bus]] += y

    if station_buses is None:
        far = sorted((k for k in kept if k != slack_label), key=lambda k: (-depth[k], k))
        station_buses = tuple(far[:DEFAULT_STATION_BUSES])
    for label in station_buses:
        if label not in index or label == slack_label:
            raise ConfigError(f"{where}: station bus {label} is not a bus fed by the substation (not the slack)")
    z = np.array([br["z_pu"] for br in branches]) * vn_ref**2 / S_BASE_MVA
    y_half = np.array([br["y_half_pu"] for br in branches], dtype=np.complex128)
    return Feeder(
        name=name,
        vn_kv=vn_ref,
        slack_bus=index[slack_label],
        slack_vm_pu=float(ext["vm_pu"].iloc[0]),
        from_bus=np.array([a for a, _ in edges], dtype=np.intp),
        to_bus=np.array([b for _, b in edges], dtype=np.intp),
        r_ohm=z.real.copy(),
        x_ohm=z.imag.copy(),
        conductor=tuple(br["type"] for br in branches),
        max_i_ka=np.array([br["max_i_ka"] for br in branches]),
        load_p_mw=p,
        load_q_mvar=q,
        sgen_p_mw=sp,
        sgen_q_mvar=sq,
        monitored_lines=tuple(range(len(branches))),
        station_buses=tuple(index[b] for b in station_buses),
        line_y_half_pu=y_half,  # p.u. of each level's own base: the same on every level (nominal ratios)
        bus_y_shunt_pu=y_bus,
        line_vn_kv=np.array([br["vn_kv"] for br in branches]),
        line_kind=tuple(br["kind"] for br in branches),
        bus_labels=tuple(kept),
        line_labels=tuple(br["label"] for br in branches),
    )


# -- evprice's own feeder JSON (the shipped built-ins) ---------------------------------------------
_COMPLEX = ("line_y_half_pu", "bus_y_shunt_pu")


def feeder_to_dict(feeder: Feeder) -> dict[str, Any]:
    """Plain JSON values of every field (complex arrays as ``[real, imag]`` pairs)."""
    out: dict[str, Any] = {}
    for name in Feeder.__dataclass_fields__:
        value = getattr(feeder, name)
        if name in _COMPLEX:
            value = [[float(x.real), float(x.imag)] for x in value]
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def feeder_from_dict(data: dict[str, Any]) -> Feeder:
    """The feeder :func:`feeder_to_dict` wrote."""
    values = dict(data)
    for name in _COMPLEX:
        values[name] = np.array([complex(re, im) for re, im in values[name]], dtype=np.complex128)
    for name in ("from_bus", "to_bus"):
        values[name] = np.array(values[name], dtype=np.intp)
    for name in ("r_ohm", "x_ohm", "max_i_ka", "load_p_mw", "load_q_mvar", "sgen_p_mw", "sgen_q_mvar", "line_vn_kv"):
        values[name] = np.array(values[name], dtype=np.float64)
    for name in ("conductor", "monitored_lines", "station_buses", "line_kind", "bus_labels", "line_labels"):
        values[name] = tuple(values[name])
    return Feeder(**values)


# -- files ---------------------------------------------------------------------------------------------
FEEDER_SUFFIXES = (".json", ".m")


def load_net(path: str | Path) -> Any:
    """The pandapower network of a pandapower JSON file or a MATPOWER case file."""
    p = Path(path)
    where = f"feeder file {str(p)!r}"
    if p.suffix not in FEEDER_SUFFIXES:
        raise ConfigError(f"{where}: expected a pandapower .json or a MATPOWER .m file")
    if not p.is_file():
        raise ConfigError(f"{where} does not exist")
    try:
        import pandapower as pp
        from pandapower.converter.pypower import from_ppc
    except ImportError:
        raise ConfigError(f"{where}: reading it needs pandapower: pip install 'evprice[pandapower]'") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if p.suffix == ".json":
            try:
                return pp.from_json(str(p))
            except Exception as err:  # pandapower raises many kinds for a file that is not its JSON
                raise ConfigError(f"{where} is not a pandapower network: {err}") from None
        from evprice.grid.matpower import read_matpower

        ppc = read_matpower(p)
        try:
            return from_ppc(ppc, f_hz=50.0, validate_conversion=False)
        except Exception as err:
            raise ConfigError(f"{where}: pandapower cannot convert the case: {err}") from None


def load_feeder(path: str | Path, station_buses: tuple[int, ...] | None = None) -> Feeder:
    """The feeder of a pandapower JSON or MATPOWER file (named after the file), or of evprice's
    own feeder JSON (a mapping with ``"r_ohm"``, as :func:`feeder_to_dict` writes)."""
    p = Path(path)
    if p.suffix == ".json" and p.is_file():
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ConfigError(f"feeder file {str(p)!r} is not JSON: {err}") from None
        if isinstance(data, dict) and "r_ohm" in data:
            feeder = feeder_from_dict(data)
            return feeder if station_buses is None else _with_station_buses(feeder, station_buses, str(p))
    net = load_net(p)
    return feeder_from_net(net, p.stem, station_buses=station_buses, where=f"feeder file {str(p)!r}")


def _with_station_buses(feeder: Feeder, labels: tuple[int, ...], where: str) -> Feeder:
    import dataclasses

    index = {label: i for i, label in enumerate(feeder.bus_labels)}
    missing = [b for b in labels if b not in index or index[b] == feeder.slack_bus]
    if missing:
        raise ConfigError(f"feeder file {where!r}: station buses {missing} are not buses of the feeder (or the slack)")
    return dataclasses.replace(feeder, station_buses=tuple(index[b] for b in labels))
