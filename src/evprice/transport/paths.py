"""Shortest travel times and routes on a :class:`~evprice.transport.network.RoadNetwork`.

Arc times are ``(E,)`` hours, one per directed arc (as :func:`~evprice.transport.congestion.arc_times_h`
returns them): finite and >= 0, or ``inf`` for an impassable arc. Nodes are **0-based
indices** into ``network.node_labels``; :func:`route` answers in 1-based labels.

The graph handed to ``scipy.sparse.csgraph.dijkstra`` is a CSR matrix built directly from
the arcs: of parallel arcs (same ends, same direction) only the fastest is kept (a CSR
built from coordinates would *sum* them), zero-time arcs are stored as explicit zeros
(which csgraph treats as edges; they are never dropped), and ``inf`` arcs are left out.
Unreachable pairs get ``inf``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from evprice.core.config import ConfigError, invalid
from evprice.transport.congestion import arc_times_from_key, congestion_key
from evprice.transport.network import RoadNetwork

NO_PREDECESSOR = -1
"""Predecessor entry of an origin itself and of a node it cannot reach."""


def check_arc_times_h(network: RoadNetwork, arc_time_h: Any) -> np.ndarray:
    """``arc_time_h`` as an ``(E,)`` float array; raise unless each value is >= 0 (``inf`` allowed)."""
    t = np.asarray(arc_time_h, dtype=float)
    if t.shape != (network.n_arcs,):
        raise invalid("arc_time_h", f"<array of shape {t.shape}>", f"one time per arc, shape ({network.n_arcs},)")
    bad = np.flatnonzero(np.isnan(t) | (t < 0))
    if bad.size:
        raise invalid(f"arc_time_h[{bad[0]}]", float(t[bad[0]]), "a time >= 0 hours (inf for an impassable arc)")
    return t


def check_node_indices(name: str, network: RoadNetwork, indices: Any) -> np.ndarray:
    """``indices`` as a 1-D int array of 0-based node indices of ``network``; raise otherwise."""
    allowed = f"a sequence of 0-based node indices in [0, {network.n_nodes - 1}]"
    arr = np.asarray(indices)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise invalid(name, indices, allowed)
    if arr.size and (arr.min() < 0 or arr.max() >= network.n_nodes):
        raise invalid(name, indices, allowed)
    return arr.astype(np.intp)


def arc_graph(network: RoadNetwork, arc_time_h: np.ndarray, *, reverse: bool = False) -> csr_matrix:
    """The ``(n, n)`` CSR matrix of arc times (entry ``[i, j]`` = fastest arc ``i -> j``).

    ``reverse=True`` gives the transposed graph (arcs ``j -> i``), whose distances from a
    target are the distances *to* it. Explicit zeros are edges; ``inf`` arcs are absent.
    """
    i, j = (network.to_index, network.from_index) if reverse else (network.from_index, network.to_index)
    keep = np.isfinite(arc_time_h)
    i, j, t = i[keep], j[keep], arc_time_h[keep]
    order = np.lexsort((t, j, i))  # by row, then column, then time: the fastest parallel arc first
    i, j, t = i[order], j[order], t[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    i, j, t = i[first], j[first], t[first]
    n = network.n_nodes
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:])
    return csr_matrix((t, j.astype(np.int32), indptr), shape=(n, n))


def shortest_times_h(network: RoadNetwork, arc_time_h: Any, origins: Any, targets: Any) -> np.ndarray:
    """Shortest travel time from each origin to each target, ``(len(origins), len(targets))`` hours.

    ``origins``, ``targets``: 0-based node indices. Unreachable pairs are ``inf``. Runs
    Dijkstra from whichever side has fewer nodes (from the targets on the reversed graph).
    """
    t = check_arc_times_h(network, arc_time_h)
    o = check_node_indices("origins", network, origins)
    d = check_node_indices("targets", network, targets)
    if o.size == 0 or d.size == 0:
        return np.zeros((o.size, d.size))
    if o.size <= d.size:
        return dijkstra(arc_graph(network, t), directed=True, indices=o)[:, d]
    return dijkstra(arc_graph(network, t, reverse=True), directed=True, indices=d)[:, o].T.copy()


def shortest_paths(network: RoadNetwork, arc_time_h: Any, origins: Any) -> tuple[np.ndarray, np.ndarray]:
    """Shortest times and predecessors from each origin to every node.

    Returns ``(times_h, predecessors)``, both ``(len(origins), n_nodes)``: ``times_h[k, v]``
    hours from ``origins[k]`` to node ``v`` (``inf`` if unreachable) and
    ``predecessors[k, v]`` the node before ``v`` on that path (0-based;
    :data:`NO_PREDECESSOR` for the origin itself and unreachable nodes).
    """
    t = check_arc_times_h(network, arc_time_h)
    o = check_node_indices("origins", network, origins)
    if o.size == 0:
        return np.zeros((0, network.n_nodes)), np.zeros((0, network.n_nodes), dtype=np.intp)
    times, pred = dijkstra(arc_graph(network, t), directed=True, indices=o, return_predecessors=True)
    pred = np.where(pred < 0, NO_PREDECESSOR, pred).astype(np.intp)
    return times, pred


def route(network: RoadNetwork, arc_time_h: Any, origin: int, target: int) -> tuple[int, ...]:
    """The fastest route from node index ``origin`` to node index ``target``, as 1-based node labels.

    Starts with ``origin``'s label and ends with ``target``'s (a single label when they are
    equal). Raises if ``target`` cannot be reached. Among equally fast routes one is returned.
    """
    (o,) = check_node_indices("origin", network, [origin])
    (d,) = check_node_indices("target", network, [target])
    times, pred = shortest_paths(network, arc_time_h, [o])
    if not np.isfinite(times[0, d]):
        raise ValueError(
            f"network {network.name!r}: no route from node {network.node_labels[o]} to node {network.node_labels[d]}"
        )
    nodes = [d]
    while nodes[-1] != o:
        nodes.append(int(pred[0, nodes[-1]]))
    return network.labels_of(nodes[::-1])


CACHE_SIZE = 64
"""Distinct congestions whose shortest times a :class:`TravelTimes` keeps."""


class TravelTimes:
    """Shortest times from every node to a fixed set of targets, cached on the congestion.

    ``times_h(congestion)`` returns a read-only ``(n_nodes, n_targets)`` array of hours:
    entry ``[v, k]`` is the fastest time from node index ``v`` to ``target_indices[k]``.
    It runs Dijkstra (one multi-source call on the reversed graph) only for a congestion
    it has not solved among the last :data:`CACHE_SIZE` distinct ones (a day's hourly
    congestions then cost 24 solves per environment, not one per period): congestions are
    compared exactly, after normalising (a mapping and the equal sequence are the same
    congestion; so are a scalar ratio and the array of it). ``n_solves`` counts the
    Dijkstra calls.

    Construction solves once at zero congestion (free flow), so ``n_solves == 1`` after it,
    and raises if some node cannot reach some target there.
    """

    def __init__(self, network: RoadNetwork, target_indices: Any):
        self.network = network
        targets = check_node_indices("target_indices", network, target_indices)
        if targets.size == 0:
            raise invalid("target_indices", target_indices, "at least one 0-based node index")
        targets.flags.writeable = False
        self.target_indices = targets
        self._n_solves = 0
        self._cache: dict[bytes, np.ndarray] = {}  # congestion key -> times, oldest first
        free_key = np.zeros(3) if network.congestion_law == "doc2_speed" else np.zeros(network.n_arcs)
        self._check_reachable(self._solve(free_key))

    @property
    def n_solves(self) -> int:
        """Number of Dijkstra runs so far."""
        return self._n_solves

    @property
    def target_labels(self) -> tuple[int, ...]:
        """1-based labels of the targets."""
        return self.network.labels_of(self.target_indices)

    def _solve(self, key: np.ndarray) -> np.ndarray:
        arc_time_h = arc_times_from_key(self.network, key)
        graph = arc_graph(self.network, arc_time_h, reverse=True)
        times = dijkstra(graph, directed=True, indices=self.target_indices).T.copy()
        self._n_solves += 1
        times.flags.writeable = False
        if len(self._cache) >= CACHE_SIZE:
            del self._cache[next(iter(self._cache))]
        self._cache[_cache_key(key)] = times
        return times

    def _check_reachable(self, times_h: np.ndarray) -> None:
        nodes, targets = np.nonzero(~np.isfinite(times_h))
        if nodes.size == 0:
            return
        labels = self.network.node_labels
        pairs = [f"{labels[v]} -> {labels[self.target_indices[k]]}" for v, k in zip(nodes[:10], targets[:10])]
        more = f" and {nodes.size - 10} more" if nodes.size > 10 else ""
        raise ConfigError(
            f"network {self.network.name!r}: under free flow some nodes cannot reach a target "
            f"(node label -> target label): {', '.join(pairs)}{more}"
        )

    def times_h(self, congestion: Any) -> np.ndarray:
        """Read-only ``(n_nodes, n_targets)`` shortest times, hours, under ``congestion``.

        ``congestion`` as for :func:`~evprice.transport.congestion.arc_times_h`.
        """
        key = congestion_key(self.network, congestion)
        cached = self._cache.get(_cache_key(key))
        return cached if cached is not None else self._solve(key)


def _cache_key(key: np.ndarray) -> bytes:
    """An exact, hashable form of a normalised congestion key (float64 values; -0.0 reads as 0)."""
    return (np.asarray(key, dtype=np.float64) + 0.0).tobytes()
