"""Road networks: nodes, directed arcs, lengths, free-flow times and congestion parameters.

**Numbering.** Nodes keep the **1-based labels** of their source table
(``node_labels``, sorted); everything else addresses nodes by **0-based index** into
``node_labels`` (``from_index``, ``to_index``, the origins and targets of
:mod:`evprice.transport.paths`). ``index_of(label)`` converts. Document 2's stations at
road nodes 1, 2, 3 are indices 0, 1, 2.

**Arcs are directed.** An undirected edge table (document 2's layout) is expanded to both
directions: edge ``k`` of the file becomes arc ``k`` (``from_node -> to_node``) and arc
``k + n_edges`` (``to_node -> from_node``). A TNTP link table is directed already: link
``k`` is arc ``k``.

**Edge tables.** :func:`read_edge_table` reads either CSV layout, told apart by header:

* document 2: ``from_node,to_node,length_km,road_class`` (undirected; ``road_class`` one of
  ``urban``, ``main``, ``suburban``; congestion law ``"doc2_speed"``);
* TNTP: ``init_node,term_node,capacity_veh_per_h,length,free_flow_time_min,bpr_b,bpr_power``
  (directed; congestion law ``"bpr"``). TNTP's ``length`` column states no unit (in Sioux
  Falls it equals the free-flow time in minutes), so it is validated but not kept:
  ``length_km`` is NaN for such networks. Times come from ``free_flow_time_min``.

Shipped networks (:data:`NETWORKS`): ``"doc2"`` (13 nodes, 17 roads, 34 arcs) and
``"sioux_falls"`` (24 nodes, 76 links); see ``data/SOURCES.md``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import ConfigError, check_choice, invalid
from evprice.core.frozen import freeze_array_fields
from evprice.transport.congestion import CONGESTION_LAWS, DOC2_FREE_FLOW_SPEED_KMH, ROAD_CLASSES

DOC2_COLUMNS: tuple[str, ...] = ("from_node", "to_node", "length_km", "road_class")
"""Header of document 2's undirected edge table."""

TNTP_COLUMNS: tuple[str, ...] = (
    "init_node",
    "term_node",
    "capacity_veh_per_h",
    "length",
    "free_flow_time_min",
    "bpr_b",
    "bpr_power",
)
"""Header of a directed TNTP link table."""

NETWORKS: tuple[str, ...] = ("doc2", "sioux_falls")
"""Networks shipped with the package, loadable by name with :func:`load_network`."""

_PACKAGE_FILES = {"doc2": "doc2_roads.csv", "sioux_falls": "sioux_falls_links.csv"}
_PACKAGE_SOURCES = {
    "doc2": "document 2's published environment, transcribed (evprice.transport data/doc2_roads.csv)",
    "sioux_falls": (
        "Transportation Networks for Research, SiouxFalls_net.tntp (LeBlanc et al. 1975) "
        "(evprice.transport data/sioux_falls_links.csv)"
    ),
}


@dataclass(frozen=True)
class RoadNetwork:
    """A road network as directed arcs. ``n`` nodes, ``E`` arcs.

    Attributes:
        name: short name (``"doc2"``, ``"sioux_falls"``, or the file stem).
        source: where the data come from.
        node_labels: (n,) int, the source's 1-based node labels, sorted ascending.
        from_index, to_index: (E,) int, 0-based indices into ``node_labels`` of each arc's ends.
        length_km: (E,) arc length, km (NaN where the source gives no length in km).
        road_class: (E,) road class of each arc (``"urban"``, ``"main"``, ``"suburban"``),
            or None for a network without classes.
        free_flow_time_h: (E,) travel time at zero congestion, hours.
        capacity_veh_per_h: (E,) capacity, vehicles per hour (NaN where unknown).
        bpr_b, bpr_power: (E,) BPR parameters (NaN where the law is not BPR).
        congestion_law: ``"doc2_speed"`` or ``"bpr"`` (see :mod:`evprice.transport.congestion`).

    The arrays are read-only copies: a network is shared by every env built on it.
    """

    name: str
    source: str
    node_labels: np.ndarray
    from_index: np.ndarray
    to_index: np.ndarray
    length_km: np.ndarray
    road_class: tuple[str, ...] | None
    free_flow_time_h: np.ndarray
    capacity_veh_per_h: np.ndarray
    bpr_b: np.ndarray
    bpr_power: np.ndarray
    congestion_law: str

    def __post_init__(self) -> None:
        check_choice("congestion_law", self.congestion_law, CONGESTION_LAWS)
        labels = np.asarray(self.node_labels)
        n, n_arcs = len(labels), len(np.asarray(self.from_index))
        where = f"network {self.name!r}"
        if labels.ndim != 1 or n == 0 or not np.issubdtype(labels.dtype, np.integer):
            raise ConfigError(f"{where}: node_labels must be a non-empty 1-D integer array")
        if np.any(labels <= 0) or np.any(np.diff(labels) <= 0):
            raise ConfigError(f"{where}: node_labels must be positive and strictly increasing")
        for name in ("from_index", "to_index", "length_km", "free_flow_time_h", "capacity_veh_per_h", "bpr_b"):
            if np.shape(getattr(self, name)) != (n_arcs,):
                raise ConfigError(f"{where}: {name} must have one value per arc ({n_arcs})")
        if np.shape(self.bpr_power) != (n_arcs,):
            raise ConfigError(f"{where}: bpr_power must have one value per arc ({n_arcs})")
        for name in ("from_index", "to_index"):
            idx = np.asarray(getattr(self, name))
            if n_arcs and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n):
                raise ConfigError(f"{where}: {name} must hold 0-based node indices in [0, {n - 1}]")
        loops = np.flatnonzero(np.asarray(self.from_index) == np.asarray(self.to_index))
        if loops.size:
            raise ConfigError(f"{where}: arc {loops[0]} is a self loop at node {labels[self.from_index[loops[0]]]}")
        t0 = np.asarray(self.free_flow_time_h, dtype=float)
        if not np.all(np.isfinite(t0) & (t0 > 0)):
            raise ConfigError(f"{where}: free_flow_time_h must be finite and > 0 on every arc")
        if self.congestion_law == "doc2_speed":
            if self.road_class is None or len(self.road_class) != n_arcs:
                raise ConfigError(f"{where}: a doc2_speed network needs a road_class per arc ({n_arcs})")
            for k, c in enumerate(self.road_class):
                check_choice(f"road_class[{k}]", c, ROAD_CLASSES)
            if not np.all(np.asarray(self.length_km) > 0):
                raise ConfigError(f"{where}: a doc2_speed network needs length_km > 0 on every arc")
        else:
            for name in ("bpr_b", "bpr_power"):
                value = np.asarray(getattr(self, name), dtype=float)
                if not np.all(np.isfinite(value) & (value >= 0)):
                    raise ConfigError(f"{where}: a bpr network needs finite {name} >= 0 on every arc")
        if self.road_class is not None:
            object.__setattr__(self, "road_class", tuple(self.road_class))
        freeze_array_fields(self)  # the caller's arrays stay the caller's

    @property
    def n_nodes(self) -> int:
        return len(self.node_labels)

    @property
    def n_arcs(self) -> int:
        return len(self.from_index)

    def index_of(self, label: Any) -> int:
        """0-based index of the node with 1-based source label ``label``; raise for an unknown label."""
        labels = self.node_labels
        if labels[-1] - labels[0] + 1 == len(labels):
            allowed = f"a node label of network {self.name!r}: an integer in [{labels[0]}, {labels[-1]}]"
        else:
            allowed = f"a node label of network {self.name!r}: one of {', '.join(map(str, labels))}"
        is_int = isinstance(label, (int, np.integer)) and not isinstance(label, bool)
        if not is_int:
            raise invalid("label", label, allowed)
        k = int(np.searchsorted(labels, label))
        if k == len(labels) or labels[k] != label:
            raise invalid("label", label, allowed)
        return k

    def labels_of(self, indices: Sequence[int] | np.ndarray) -> tuple[int, ...]:
        """1-based labels of 0-based node ``indices``."""
        return tuple(int(self.node_labels[i]) for i in indices)


# ----------------------------------------------------------------------------------- parsing


class Cells:
    """Typed access to the cells of one data row, with errors naming file, row and column
    (also read by :mod:`evprice.transport.tntp`)."""

    def __init__(self, where: str, row: int, line: int, cells: dict[str, str]):
        self.where, self.row, self.line, self.cells = where, row, line, cells

    def _error(self, column: str, allowed: str) -> ConfigError:
        return ConfigError(
            f"{self.where}: row {self.row} (line {self.line}), column {column!r}: "
            f"{self.cells[column]!r} is invalid: expected {allowed}"
        )

    def label(self, column: str) -> int:
        text = self.cells[column]
        try:
            value = float(text)
        except ValueError:
            raise self._error(column, "a positive integer node label") from None
        if not math.isfinite(value) or value != int(value) or value <= 0:
            raise self._error(column, "a positive integer node label")
        return int(value)

    def number(self, column: str, *, positive: bool) -> float:
        allowed = "a finite number > 0" if positive else "a finite number >= 0"
        try:
            value = float(self.cells[column])
        except ValueError:
            raise self._error(column, allowed) from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise self._error(column, allowed)
        return value

    def choice(self, column: str, choices: Sequence[str]) -> str:
        value = self.cells[column]
        if value not in choices:
            raise self._error(column, "one of " + ", ".join(repr(c) for c in choices))
        return value


def _layout_of(header: Sequence[str], where: str) -> str:
    """``"doc2"`` or ``"tntp"`` from the header's column names (any order); raise otherwise."""
    found = set(header)
    if found == set(DOC2_COLUMNS) and len(header) == len(DOC2_COLUMNS):
        return "doc2"
    if found == set(TNTP_COLUMNS) and len(header) == len(TNTP_COLUMNS):
        return "tntp"
    raise ConfigError(
        f"{where}: columns {list(header)} match no edge-table layout; expected either the document-2 "
        f"layout ({','.join(DOC2_COLUMNS)}: undirected edges) or the TNTP layout "
        f"({','.join(TNTP_COLUMNS)}: directed links)"
    )


def _data_rows(text: str, where: str) -> tuple[str, list[Cells]]:
    """Layout and typed rows of a CSV edge table; blank lines are skipped."""
    lines = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1) if any(c.strip() for c in row)]
    if not lines:
        raise ConfigError(f"{where}: the file is empty; expected a header and at least one edge")
    header = [c.strip() for c in lines[0][1]]
    layout = _layout_of(header, where)
    rows = []
    for k, (line, cells) in enumerate(lines[1:], start=1):
        if len(cells) != len(header):
            raise ConfigError(
                f"{where}: row {k} (line {line}) has {len(cells)} cells; expected {len(header)} ({','.join(header)})"
            )
        rows.append(Cells(where, k, line, dict(zip(header, (c.strip() for c in cells)))))
    if not rows:
        raise ConfigError(f"{where}: the table holds no edges")
    return layout, rows


def _ends(rows: list[Cells], from_col: str, to_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels of both ends of every row; raise on a self loop."""
    ends = []
    for r in rows:
        a, b = r.label(from_col), r.label(to_col)
        if a == b:
            raise ConfigError(f"{r.where}: row {r.row} (line {r.line}): edge {a} -> {b} is a self loop")
        ends.append((a, b))
    arr = np.array(ends, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def _indexed(from_label: np.ndarray, to_label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted node labels and the 0-based indices of the arc ends."""
    labels = np.unique(np.concatenate([from_label, to_label]))
    return labels, np.searchsorted(labels, from_label), np.searchsorted(labels, to_label)


def _doc2_network(rows: list[Cells], name: str, source: str) -> RoadNetwork:
    a, b = _ends(rows, "from_node", "to_node")
    length = np.array([r.number("length_km", positive=True) for r in rows])
    classes = tuple(r.choice("road_class", ROAD_CLASSES) for r in rows)
    labels, i, j = _indexed(a, b)
    v0 = np.array([DOC2_FREE_FLOW_SPEED_KMH[c] for c in classes])
    length2 = np.concatenate([length, length])
    nan = np.full(2 * len(rows), np.nan)
    return RoadNetwork(
        name=name,
        source=source,
        node_labels=labels,
        from_index=np.concatenate([i, j]),
        to_index=np.concatenate([j, i]),
        length_km=length2,
        road_class=classes + classes,
        free_flow_time_h=length2 / np.concatenate([v0, v0]),
        capacity_veh_per_h=nan,
        bpr_b=nan,
        bpr_power=nan,
        congestion_law="doc2_speed",
    )


def tntp_network(rows: list[Cells], name: str, source: str) -> RoadNetwork:
    a, b = _ends(rows, "init_node", "term_node")
    column = lambda col, positive: np.array([r.number(col, positive=positive) for r in rows])  # noqa: E731
    capacity = column("capacity_veh_per_h", True)
    column("length", True)  # validated; its unit is not stated by the layout, so not kept
    t0_min = column("free_flow_time_min", True)
    bpr_b, bpr_power = column("bpr_b", False), column("bpr_power", False)
    labels, i, j = _indexed(a, b)
    return RoadNetwork(
        name=name,
        source=source,
        node_labels=labels,
        from_index=i,
        to_index=j,
        length_km=np.full(len(rows), np.nan),
        road_class=None,
        free_flow_time_h=t0_min / 60.0,
        capacity_veh_per_h=capacity,
        bpr_b=bpr_b,
        bpr_power=bpr_power,
        congestion_law="bpr",
    )


def parse_edge_table(text: str, *, where: str, name: str, source: str) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from the CSV ``text`` of an edge table (either layout).

    ``where`` names the table in error messages (usually the file name).
    """
    layout, rows = _data_rows(text, where)
    build = _doc2_network if layout == "doc2" else tntp_network
    return build(rows, name, source)


def read_edge_table(path: str | Path, *, name: str | None = None) -> RoadNetwork:
    """Read a CSV edge table (document-2 or TNTP layout, told apart by header) into a :class:`RoadNetwork`.

    ``name`` defaults to the file's stem; ``source`` is the path. Every value is checked:
    node labels positive integers, no self loops, positive lengths, times and capacities,
    BPR parameters >= 0, known road classes; a bad one fails naming file, row and column.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"edge table {str(p)!r} cannot be read: {err.strerror}") from err
    return parse_edge_table(text, where=str(p), name=name or p.stem, source=str(p))


def load_network(name_or_path: str | Path) -> RoadNetwork:
    """A shipped network by name (one of :data:`NETWORKS`), an edge table by CSV path, or a
    TNTP ``_net.tntp`` file (:mod:`evprice.transport.tntp`)."""
    if isinstance(name_or_path, str) and name_or_path in NETWORKS:
        file = _PACKAGE_FILES[name_or_path]
        text = resources.files("evprice.transport").joinpath("data").joinpath(file).read_text(encoding="utf-8")
        return parse_edge_table(text, where=file, name=name_or_path, source=_PACKAGE_SOURCES[name_or_path])
    if isinstance(name_or_path, (str, Path)) and Path(name_or_path).is_file():
        if Path(name_or_path).suffix == ".tntp":
            from evprice.transport.tntp import read_tntp_net  # the TNTP reader builds on this module

            return read_tntp_net(name_or_path)
        return read_edge_table(name_or_path)
    raise invalid(
        "network",
        name_or_path if isinstance(name_or_path, str) else str(name_or_path),
        "one of "
        + ", ".join(repr(n) for n in NETWORKS)
        + ", or the path of an existing CSV edge table or TNTP _net.tntp file",
    )
