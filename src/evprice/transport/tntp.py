"""TNTP files, the format of the Transportation Networks for Research collection
(<https://github.com/bstabler/TransportationNetworks>): a network's ``_net.tntp`` links, its
``_node.tntp`` coordinates and its ``_trips.tntp`` origin-destination table.

A ``_net.tntp`` file opens with metadata (``<NUMBER OF NODES> 24``, ..., ``<END OF
METADATA>``), then a header line starting with ``~`` that names the columns (other ``~``
lines are comments), then one link per line ending in ``;``::

    ~ 	init_node	term_node	capacity	length	free_flow_time	b	power	speed	toll	link_type	;
        1	2	25900.20064	6	6	0.15	4	0	0	1	;

Columns are found by name (case and spaces ignored; ``Init node`` is ``init_node``); the
first seven are required. Links are directed (link ``k`` is arc ``k``), with the BPR
congestion law. A network whose ``<FIRST THRU NODE>`` is above 1 has zone centroids that
routes may not pass through; :mod:`evprice.transport.paths` has no such rule, so such a
network is refused (every node then is a zone).

A ``_trips.tntp`` file lists, for each ``Origin k``, ``destination : trips;`` pairs; the
trips leaving each zone weight where charging requests start (``origin_weights``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from evprice.core.config import ConfigError
from evprice.transport.network import Cells, RoadNetwork, tntp_network

REQUIRED = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b", "power")
"""The link columns a ``_net.tntp`` file must have, by normalised name."""
_TO_EDGE_TABLE = dict(
    zip(
        REQUIRED,
        ("init_node", "term_node", "capacity_veh_per_h", "length", "free_flow_time_min", "bpr_b", "bpr_power"),
    )
)
_METADATA = re.compile(r"<([^>]+)>\s*(.*)")


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _read(path: str | Path, what: str) -> tuple[str, list[str]]:
    p = Path(path)
    where = f"TNTP {what} file {str(p)!r}"
    try:
        return where, p.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"{where} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text: save it as UTF-8") from None


def _metadata(lines: list[str], where: str) -> tuple[dict[str, str], int]:
    """The ``<KEY> value`` pairs and the index of the line after ``<END OF METADATA>``."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _METADATA.match(line.strip())
        if m:
            key = m.group(1).strip().upper()
            if key == "END OF METADATA":
                return meta, i + 1
            meta[key] = m.group(2).strip()
    raise ConfigError(f"{where} has no <END OF METADATA> line: is it a TNTP file?")


def read_tntp_net(path: str | Path, *, name: str | None = None) -> RoadNetwork:
    """The directed BPR network of a ``_net.tntp`` file (see the module docstring).

    Raises:
        ConfigError: naming the file and line: no metadata end, no ``~`` header, a missing
            column, a bad value (the same checks as a CSV edge table), a link count that
            differs from ``<NUMBER OF LINKS>``, or a first thru node above 1.
    """
    where, lines = _read(path, "network")
    meta, start = _metadata(lines, where)
    first_thru = meta.get("FIRST THRU NODE", "1")
    if first_thru.strip() not in ("", "1"):
        raise ConfigError(
            f"{where}: <FIRST THRU NODE> {first_thru}: its zones 1..{int(first_thru) - 1} are centroids that routes "
            "may not pass through, which evprice's shortest paths do not enforce; use a network whose every node "
            "may be passed (FIRST THRU NODE 1)"
        )
    header: list[str] | None = None
    rows: list[Cells] = []
    for number, raw in enumerate(lines[start:], start=start + 1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith("~"):
            names = [_normalise(c) for c in text[1:].replace(";", " ").split("\t") if c.strip()]
            if len(names) < len(REQUIRED):  # some files separate the header by spaces
                names = [_normalise(c) for c in re.split(r"\s{2,}|\t", text[1:].replace(";", " ")) if c.strip()]
            if len(set(names) & set(REQUIRED)) < 3:
                continue  # a comment
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise ConfigError(f"{where}, line {number}: the header names no {', '.join(missing)} column")
            header = names
            continue
        if header is None:
            raise ConfigError(f"{where}, line {number}: a link before the '~' header line that names the columns")
        cells = text.rstrip(";").split()
        if len(cells) < len(header):
            raise ConfigError(f"{where}, line {number}: {len(cells)} values, the header names {len(header)} columns")
        by_name = dict(zip(header, cells))
        rows.append(Cells(where, len(rows) + 1, number, {_TO_EDGE_TABLE[c]: by_name[c] for c in REQUIRED}))
    if not rows:
        raise ConfigError(f"{where} holds no links")
    expected = meta.get("NUMBER OF LINKS")
    if expected is not None and expected.isdigit() and int(expected) != len(rows):
        raise ConfigError(f"{where}: <NUMBER OF LINKS> says {expected}, the file lists {len(rows)} links")
    stem = Path(path).stem
    return tntp_network(rows, name or stem.removesuffix("_net"), str(path))


def read_tntp_nodes(path: str | Path) -> dict[int, tuple[float, float]]:
    """``{node label: (x, y)}`` of a ``_node.tntp`` file (a ``Node X Y`` header, one node a line)."""
    where, lines = _read(path, "node")
    out: dict[int, tuple[float, float]] = {}
    for number, raw in enumerate(lines, start=1):
        cells = raw.replace(";", " ").split()
        if not cells or not cells[0].lstrip("-").isdigit():
            continue  # the header, blank lines
        try:
            out[int(cells[0])] = (float(cells[1]), float(cells[2]))
        except (IndexError, ValueError):
            raise ConfigError(f"{where}, line {number}: expected 'node x y', got {raw.strip()!r}") from None
    if not out:
        raise ConfigError(f"{where} lists no nodes")
    return out


def read_tntp_trips(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(zones, trips)`` of a ``_trips.tntp`` file: the zone labels (Z,) sorted, and (Z, Z)
    trips per period of the table from each zone to each zone.

    Raises:
        ConfigError: naming the file and line: a pair before any ``Origin``, a value that is
            not ``destination : trips``, negative or non-finite trips, or a total that
            differs from ``<TOTAL OD FLOW>`` by more than 0.1%.
    """
    where, lines = _read(path, "trips")
    meta, start = _metadata(lines, where)
    flows: dict[tuple[int, int], float] = {}
    origin: int | None = None
    for number, raw in enumerate(lines[start:], start=start + 1):
        text = raw.strip()
        if not text or text.startswith("~"):
            continue
        if text.lower().startswith("origin"):
            try:
                origin = int(text.split()[1])
            except (IndexError, ValueError):
                raise ConfigError(f"{where}, line {number}: expected 'Origin <zone>', got {text!r}") from None
            continue
        if origin is None:
            raise ConfigError(f"{where}, line {number}: trips before the first 'Origin <zone>' line")
        for pair in filter(None, (p.strip() for p in text.split(";"))):
            dest, sep, value = pair.partition(":")
            try:
                d, trips = int(dest), float(value)
            except ValueError:
                raise ConfigError(f"{where}, line {number}: expected 'destination : trips', got {pair!r}") from None
            if not sep or not np.isfinite(trips) or trips < 0:
                raise ConfigError(f"{where}, line {number}: {pair!r}: expected 'destination : trips' with trips >= 0")
            flows[(origin, d)] = flows.get((origin, d), 0.0) + trips
    zones = np.array(sorted({z for pair in flows for z in pair}), dtype=np.int64)
    if not len(zones):
        raise ConfigError(f"{where} lists no trips")
    index = {int(z): k for k, z in enumerate(zones)}
    table = np.zeros((len(zones), len(zones)))
    for (o, d), trips in flows.items():
        table[index[o], index[d]] += trips
    total = meta.get("TOTAL OD FLOW")
    if total is not None:
        stated = float(total)
        if abs(table.sum() - stated) > 1e-3 * max(stated, 1.0):
            raise ConfigError(f"{where}: <TOTAL OD FLOW> says {stated:g}, the trips add up to {table.sum():g}")
    return zones, table


def origin_weights(network: RoadNetwork, zones: np.ndarray, trips: np.ndarray) -> tuple[float, ...]:
    """One weight per node of ``network`` (in its node order): the trips leaving the node's zone
    (0 for a node that is no zone); raise if a zone is not a node."""
    unknown = sorted(set(map(int, zones)) - set(map(int, network.node_labels)))
    if unknown:
        raise ConfigError(f"trip zones {unknown[:5]} are not nodes of network {network.name!r}")
    leaving = dict(zip(map(int, zones), trips.sum(axis=1)))
    weights = tuple(float(leaving.get(int(label), 0.0)) for label in network.node_labels)
    if not sum(weights) > 0:
        raise ConfigError(f"the trip table of network {network.name!r} has no trips")
    return weights
