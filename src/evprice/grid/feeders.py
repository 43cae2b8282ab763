"""Distribution feeders: the IEEE 33-bus system (``case33bw``), document 2's variant, the
CIGRE medium-voltage benchmark (``cigre_mv``), and any radial feeder loaded from a file
(:mod:`evprice.grid.feeder_files`).

All bus and line indices are **0-based pandapower indices**: bus 0 is the substation
(slack), bus ``k`` is MATPOWER's bus ``k + 1``; line ``l`` is the ``l``-th in-service line
of pandapower's ``case33bw``. Document 2's buses 31, 13, 19 and lines 9, 17, 27 are
already in this numbering.

``case33bw`` is the Baran & Wu (1989) system as MATPOWER and pandapower publish it
(``pandapower.networks.case33bw()``, 12.66 kV, 32 loads totalling 3.715 MW / 2.300 Mvar):
the line impedances and loads below are that network's, and
``tests/grid/test_feeders.py`` checks them against pandapower. Its five normally open tie
lines are left out: the feeder is radial.

**Line ratings.** MATPOWER's case carries none (pandapower sets 99,999 kA). We give every
line a real overhead conductor: the smallest ACSR conductor of the IEEE distribution test
feeders whose ampacity carries the line's current at the published peak load with at
most 60% loading, a usual planning margin. Ampacities are the IEEE test-feeder conductor
data (W. H. Kersting, *Distribution System Modeling and Analysis*; as encoded in OpenDSS's
``IEEELineGeometry.dss``): ACSR #4 140 A, #2 180 A, 1/0 230 A, 4/0 340 A, 336.4 kcmil 530 A,
556.5 kcmil 730 A. The result: the first line 336.4 kcmil, the second 4/0, the next three
1/0, every other line #4 (the rule is checked by the tests).

**Document 2's variant** (``doc2``): all loads scaled by 0.9; a 3 MW static generator at
bus 5; 0.225 MW of non-EV load at each station bus 31, 13, 19; monitored lines 9, 17, 27.
Document 2 set those three lines' ``max_i_ka`` to 6.6, 6.2 and 15.6 kA and then compared
``loading_percent`` with 0.9 as if it were a fraction; we keep the real ratings above and
compare loading as a fraction of rating.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evprice.core.frozen import freeze_array_fields

CONDUCTOR_AMPACITY_A: dict[str, float] = {
    "ACSR #4": 140.0,
    "ACSR #2": 180.0,
    "ACSR 1/0": 230.0,
    "ACSR 4/0": 340.0,
    "ACSR 336.4 kcmil": 530.0,
    "ACSR 556.5 kcmil": 730.0,
}
"""Ampacity of the IEEE distribution test-feeder ACSR conductors (Kersting; OpenDSS)."""

PLANNING_LOADING = 0.6
"""Largest loading at the published peak load of the conductor chosen for a line."""

# pandapower case33bw, in-service lines: (from bus, to bus, r ohm, x ohm) (length 1 km)
_CASE33BW_LINES = (
    (0, 1, 0.0922, 0.0470), (1, 2, 0.4930, 0.2511), (2, 3, 0.3660, 0.1864), (3, 4, 0.3811, 0.1941),
    (4, 5, 0.8190, 0.7070), (5, 6, 0.1872, 0.6188), (6, 7, 0.7114, 0.2351), (7, 8, 1.0300, 0.7400),
    (8, 9, 1.0440, 0.7400), (9, 10, 0.1966, 0.0650), (10, 11, 0.3744, 0.1238), (11, 12, 1.4680, 1.1550),
    (12, 13, 0.5416, 0.7129), (13, 14, 0.5910, 0.5260), (14, 15, 0.7463, 0.5450), (15, 16, 1.2890, 1.7210),
    (16, 17, 0.7320, 0.5740), (1, 18, 0.1640, 0.1565), (18, 19, 1.5042, 1.3554), (19, 20, 0.4095, 0.4784),
    (20, 21, 0.7089, 0.9373), (2, 22, 0.4512, 0.3083), (22, 23, 0.8980, 0.7091), (23, 24, 0.8960, 0.7011),
    (5, 25, 0.2030, 0.1034), (25, 26, 0.2842, 0.1447), (26, 27, 1.0590, 0.9337), (27, 28, 0.8042, 0.7006),
    (28, 29, 0.5075, 0.2585), (29, 30, 0.9744, 0.9630), (30, 31, 0.3105, 0.3619), (31, 32, 0.3410, 0.5302),
)  # fmt: skip

# pandapower case33bw loads: (bus, p MW, q Mvar)
_CASE33BW_LOADS = (
    (1, 0.100, 0.060), (2, 0.090, 0.040), (3, 0.120, 0.080), (4, 0.060, 0.030), (5, 0.060, 0.020),
    (6, 0.200, 0.100), (7, 0.200, 0.100), (8, 0.060, 0.020), (9, 0.060, 0.020), (10, 0.045, 0.030),
    (11, 0.060, 0.035), (12, 0.060, 0.035), (13, 0.120, 0.080), (14, 0.060, 0.010), (15, 0.060, 0.020),
    (16, 0.060, 0.020), (17, 0.090, 0.040), (18, 0.090, 0.040), (19, 0.090, 0.040), (20, 0.090, 0.040),
    (21, 0.090, 0.040), (22, 0.090, 0.050), (23, 0.420, 0.200), (24, 0.420, 0.200), (25, 0.060, 0.025),
    (26, 0.060, 0.025), (27, 0.060, 0.020), (28, 0.120, 0.070), (29, 0.200, 0.600), (30, 0.150, 0.070),
    (31, 0.210, 0.100), (32, 0.060, 0.040),
)  # fmt: skip

# conductor of each line by the 60% rule (see the module docstring and the tests)
_CASE33BW_CONDUCTORS = ("ACSR 336.4 kcmil", "ACSR 4/0") + ("ACSR 1/0",) * 3 + ("ACSR #4",) * 27


@dataclass(frozen=True)
class Feeder:
    """A radial three-phase balanced distribution feeder.

    Shapes: ``n_bus`` buses, ``n_line`` lines. Loads are positive consumption; static
    generation is positive production.

    Attributes:
        name: ``"case33bw"``, ``"doc2"``, ``"cigre_mv"`` or the name of a loaded file.
        vn_kv: nominal line-to-line voltage of the reference level, kV: every impedance and
            admittance is referred to it (a feeder with one voltage level has only that one).
        slack_bus: the substation bus, held at ``slack_vm_pu`` and angle 0.
        from_bus, to_bus: (n_line,) line ends. A "line" is any series branch: an overhead line,
            a cable or a two-winding transformer (``line_kind``).
        r_ohm, x_ohm: (n_line,) series impedance of each line, ohm referred to ``vn_kv``.
        conductor: (n_line,) conductor (or type) of each line.
        max_i_ka: (n_line,) ampacity of each line at its own voltage level, kA.
        load_p_mw, load_q_mvar: (n_bus,) base (peak) load at each bus.
        sgen_p_mw, sgen_q_mvar: (n_bus,) static generation at each bus.
        monitored_lines: lines whose loading the line cost watches.
        station_buses: default buses for charging stations, in station order.
        line_y_half_pu: (n_line,) complex shunt admittance at each end of a line (the pi model's
            half of its charging and conductance), p.u. of ``vn_kv`` and 1 MVA; None = 0.
        bus_y_shunt_pu: (n_bus,) complex admittance of shunt elements at each bus, p.u.; None = 0.
        line_vn_kv: (n_line,) nominal voltage of each line's own level (a transformer's: its
            high-voltage side), kV, for its current in kA; None = ``vn_kv`` everywhere.
        line_kind: (n_line,) ``"line"`` or ``"trafo"``; None = every one a line.
        bus_labels: (n_bus,) each bus's label in the file it came from (pandapower's bus index);
            None = ``0 .. n_bus - 1``.
        line_labels: (n_line,) each line's element in the file it came from (``"line 3"``,
            ``"trafo 0"``); None = ``"line 0"``, ``"line 1"``, ...

    The arrays are made read-only: a feeder is shared by every solver and env built on it.
    """

    name: str
    vn_kv: float
    slack_bus: int
    slack_vm_pu: float
    from_bus: np.ndarray
    to_bus: np.ndarray
    r_ohm: np.ndarray
    x_ohm: np.ndarray
    conductor: tuple[str, ...]
    max_i_ka: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    sgen_p_mw: np.ndarray
    sgen_q_mvar: np.ndarray
    monitored_lines: tuple[int, ...]
    station_buses: tuple[int, ...]
    line_y_half_pu: np.ndarray | None = None
    bus_y_shunt_pu: np.ndarray | None = None
    line_vn_kv: np.ndarray | None = None
    line_kind: tuple[str, ...] | None = None
    bus_labels: tuple[int, ...] | None = None
    line_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n_bus, n_line = len(self.load_p_mw), len(self.from_bus)
        defaults = {
            "line_y_half_pu": np.zeros(n_line, dtype=np.complex128),
            "bus_y_shunt_pu": np.zeros(n_bus, dtype=np.complex128),
            "line_vn_kv": np.full(n_line, float(self.vn_kv)),
            "line_kind": ("line",) * n_line,
            "bus_labels": tuple(range(n_bus)),
            "line_labels": tuple(f"line {m}" for m in range(n_line)),
        }
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("line_y_half_pu", "line_vn_kv", "line_kind", "line_labels"):
            if np.shape(getattr(self, name)) != (n_line,):
                raise ValueError(f"feeder {self.name!r}: {name} must have one value per line ({n_line})")
        for name in ("bus_y_shunt_pu", "bus_labels"):
            if np.shape(getattr(self, name)) != (n_bus,):
                raise ValueError(f"feeder {self.name!r}: {name} must have one value per bus ({n_bus})")
        for name in ("load_q_mvar", "sgen_p_mw", "sgen_q_mvar"):
            if np.shape(getattr(self, name)) != (n_bus,):
                raise ValueError(f"feeder {self.name!r}: {name} must have one value per bus ({n_bus})")
        for name in ("to_bus", "r_ohm", "x_ohm", "max_i_ka"):
            if np.shape(getattr(self, name)) != (n_line,):
                raise ValueError(f"feeder {self.name!r}: {name} must have one value per line ({n_line})")
        if len(self.conductor) != n_line:
            raise ValueError(f"feeder {self.name!r}: conductor must name one conductor per line ({n_line})")
        if not (np.asarray(self.max_i_ka) > 0).all():
            raise ValueError(f"feeder {self.name!r}: every line needs a positive rating max_i_ka")
        if not all(0 <= line < n_line for line in self.monitored_lines):
            raise ValueError(f"feeder {self.name!r}: monitored lines must lie in [0, {n_line - 1}]")
        if not all(0 <= bus < n_bus and bus != self.slack_bus for bus in self.station_buses):
            raise ValueError(f"feeder {self.name!r}: station buses must be non-slack buses in [0, {n_bus - 1}]")
        freeze_array_fields(self)  # the caller's arrays stay the caller's

    @property
    def n_bus(self) -> int:
        return len(self.load_p_mw)

    @property
    def n_line(self) -> int:
        return len(self.from_bus)


def case33bw() -> Feeder:
    """The IEEE 33-bus feeder (Baran & Wu), radial, with conductor ratings; every line monitored."""
    lines = np.array(_CASE33BW_LINES)
    n_bus = 33
    p = np.zeros(n_bus)
    q = np.zeros(n_bus)
    for bus, p_mw, q_mvar in _CASE33BW_LOADS:
        p[bus], q[bus] = p_mw, q_mvar
    return Feeder(
        name="case33bw",
        vn_kv=12.66,
        slack_bus=0,
        slack_vm_pu=1.0,
        from_bus=lines[:, 0].astype(np.intp),
        to_bus=lines[:, 1].astype(np.intp),
        r_ohm=lines[:, 2].copy(),
        x_ohm=lines[:, 3].copy(),
        conductor=_CASE33BW_CONDUCTORS,
        max_i_ka=np.array([CONDUCTOR_AMPACITY_A[c] for c in _CASE33BW_CONDUCTORS]) / 1000.0,
        load_p_mw=p,
        load_q_mvar=q,
        sgen_p_mw=np.zeros(n_bus),
        sgen_q_mvar=np.zeros(n_bus),
        monitored_lines=tuple(range(len(lines))),
        station_buses=(17, 32, 24),  # the ends of the three longest branches
    )


DOC2_STATION_BUSES = (31, 13, 19)
DOC2_MONITORED_LINES = (9, 17, 27)


def doc2() -> Feeder:
    """Document 2's variant of ``case33bw`` (see the module docstring)."""
    base = case33bw()
    p, q = 0.9 * base.load_p_mw, 0.9 * base.load_q_mvar  # new arrays
    p[list(DOC2_STATION_BUSES)] += 0.225
    sgen = np.zeros(base.n_bus)
    sgen[5] = 3.0
    return Feeder(
        name="doc2",
        vn_kv=base.vn_kv,
        slack_bus=base.slack_bus,
        slack_vm_pu=base.slack_vm_pu,
        from_bus=base.from_bus,
        to_bus=base.to_bus,
        r_ohm=base.r_ohm,
        x_ohm=base.x_ohm,
        conductor=base.conductor,
        max_i_ka=base.max_i_ka,
        load_p_mw=p,
        load_q_mvar=q,
        sgen_p_mw=sgen,
        sgen_q_mvar=np.zeros(base.n_bus),
        monitored_lines=DOC2_MONITORED_LINES,
        station_buses=DOC2_STATION_BUSES,
    )


def cigre_mv() -> Feeder:
    """The CIGRE medium-voltage benchmark (110/20 kV, two feeders, 15 buses, PV and wind), as
    pandapower publishes it, converted once by :func:`evprice.grid.feeder_files.feeder_from_net`
    (``scripts/make_feeder_data.py``; the tests check it against pandapower)."""
    from importlib.resources import files

    from evprice.grid.feeder_files import feeder_from_dict  # the reader sits beside this module

    return feeder_from_dict(json.loads(files("evprice.grid").joinpath("data/cigre_mv.json").read_text("utf-8")))


FEEDERS = {"case33bw": case33bw, "doc2": doc2, "cigre_mv": cigre_mv}


FEEDER_FILE_SUFFIXES = (".json", ".m")
"""A feeder given as a file: a pandapower network (JSON) or a MATPOWER case."""


def is_feeder_file(name: str) -> bool:
    """Whether ``name`` is the path of an existing feeder file (not a built-in name)."""
    return (
        isinstance(name, str)
        and name not in FEEDERS
        and Path(name).suffix in FEEDER_FILE_SUFFIXES
        and Path(name).is_file()
    )


def make_feeder(name: str) -> Feeder:
    """A built-in feeder by name (:data:`FEEDERS`), or the feeder of a pandapower JSON or
    MATPOWER file (:func:`evprice.grid.feeder_files.load_feeder`, read once per file version)."""
    if name in FEEDERS:
        return FEEDERS[name]()
    if is_feeder_file(name):
        p = Path(name).resolve()
        return _feeder_file(str(p), p.stat().st_mtime_ns)
    raise ValueError(
        f"feeder={name!r} is invalid: expected one of {', '.join(map(repr, FEEDERS))} or the path of an existing "
        "pandapower .json or MATPOWER .m file"
    )


@functools.lru_cache(maxsize=16)
def _feeder_file(path: str, mtime_ns: int) -> Feeder:
    from evprice.grid.feeder_files import load_feeder  # pandapower loads only for a file

    return load_feeder(path)
