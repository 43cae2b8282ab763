"""Shortest times, routes and the travel-time cache, against hand-computed paths.

Document 2's roads (km, class U urban 70 km/h, M main 50 km/h, S suburban 40 km/h at free
flow): 1-4 4.5U, 1-5 3.1U, 2-6 3.4U, 2-10 2.4S, 2-13 3.2U, 3-7 7.5U, 3-11 6.2M, 4-7 2.6U,
5-6 3.2U, 5-10 4.3S, 7-8 6.4M, 8-9 2.7M, 9-10 2.5S, 9-11 2.8M, 10-12 4.4S, 11-12 3.1M,
12-13 2.6M.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.core.config import ConfigError
from evprice.transport import (
    NO_PREDECESSOR,
    RoadNetwork,
    TravelTimes,
    arc_times_h,
    doc2_congestion_table,
    load_network,
    read_edge_table,
    route,
    shortest_paths,
    shortest_times_h,
)
from evprice.transport.paths import CACHE_SIZE

# (origin label, target label, hours, route) at free flow, derived by hand:
DOC2_FREE_FLOW = [
    # 1-5-6-2: (3.1 + 3.2 + 3.4) / 70 = 9.7 / 70 = 0.138571;  1-5-10-2: 3.1/70 + 6.7/40 = 0.211786
    (1, 2, 9.7 / 70, (1, 5, 6, 2)),
    # 1-4-7-3: (4.5 + 2.6 + 7.5) / 70 = 14.6 / 70 = 0.208571 (every other way passes 11 or 8: longer)
    (1, 3, 14.6 / 70, (1, 4, 7, 3)),
    # 9-10-2: (2.5 + 2.4) / 40 = 0.1225;  9-11-12-13-2: 8.5/50 + 3.2/70 = 0.215714
    (9, 2, 4.9 / 40, (9, 10, 2)),
    # 12-11-3: (3.1 + 6.2) / 50 = 0.186
    (12, 3, 9.3 / 50, (12, 11, 3)),
    # 12-13-2: 2.6/50 + 3.2/70 = 0.052 + 0.045714 = 0.097714;  12-10-2: 6.8/40 = 0.17
    (12, 2, 2.6 / 50 + 3.2 / 70, (12, 13, 2)),
    # 8-7-4-1: 6.4/50 + (2.6 + 4.5)/70 = 0.128 + 0.101429 = 0.229429;  8-9-10-5-1: 0.054 + 0.17 + 0.044286 = 0.268286
    (8, 1, 6.4 / 50 + 7.1 / 70, (8, 7, 4, 1)),
]

# Step 3 of the table (u: urban 0.625, main 0.49, suburban 0.825): speeds by hand in
# test_congestion.py: U = 53.454027, M = 40.845906, S = 26.810574 km/h.
U, M, S = 53.454027, 40.845906, 26.810574
DOC2_STEP3 = [
    # 8-7-4-1: 6.4/M + 7.1/U = 0.156686 + 0.132823 = 0.289509;  8-9-10-5-1: 0.066102 + 0.253632 + 0.057994 = 0.377727
    (8, 1, 6.4 / M + 7.1 / U),
    # 1-5-6-2: 9.7/U = 0.181464;  1-5-10-2: 3.1/U + 6.7/S = 0.057994 + 0.249901 = 0.307895
    (1, 2, 9.7 / U),
    # 9-10-2: 4.9/S = 0.182764;  9-11-12-13-2: 8.5/M + 3.2/U = 0.208099 + 0.059864 = 0.267964
    (9, 2, 4.9 / S),
    # 12-11-3: 9.3/M = 0.227685
    (12, 3, 9.3 / M),
]


def labels_to_indices(net, labels):
    return [net.index_of(label) for label in labels]


@pytest.mark.parametrize(("origin", "target", "hours", "path"), DOC2_FREE_FLOW)
def test_doc2_free_flow_times_and_routes(origin, target, hours, path):
    net = load_network("doc2")
    t = net.free_flow_time_h
    o, d = net.index_of(origin), net.index_of(target)
    assert shortest_times_h(net, t, [o], [d])[0, 0] == pytest.approx(hours, rel=1e-12)
    assert shortest_times_h(net, t, [d], [o])[0, 0] == pytest.approx(hours, rel=1e-12)  # undirected roads
    assert route(net, t, o, d) == path
    assert route(net, t, d, o) == path[::-1]


def test_doc2_free_flow_matrix_shape_and_both_directions_of_solve():
    net = load_network("doc2")
    t = net.free_flow_time_h
    origins = labels_to_indices(net, [1, 9, 12, 8])
    targets = labels_to_indices(net, [2, 3])
    few_origins = shortest_times_h(net, t, origins[:1], targets)  # Dijkstra from the origins
    many_origins = shortest_times_h(net, t, origins, targets)  # Dijkstra from the targets, reversed graph
    assert many_origins.shape == (4, 2)
    np.testing.assert_allclose(many_origins[0], few_origins[0], rtol=1e-12)
    # to 2 from 1, 9, 12 as in DOC2_FREE_FLOW; from 8: 8-9-10-2 = 2.7/50 + (2.5 + 2.4)/40 = 0.054 + 0.1225 = 0.1765
    # (8-7-4-1-5-6-2 = 0.128 + 0.101429 + 0.138571 = 0.368; 8-9-11-12-13-2 = 0.054 + 0.118 + 0.097714 = 0.269714)
    expected_to_2 = [9.7 / 70, 4.9 / 40, 2.6 / 50 + 3.2 / 70, 2.7 / 50 + 4.9 / 40]
    np.testing.assert_allclose(many_origins[:, 0], expected_to_2, rtol=1e-12)
    # to 3 from 8: 8-7-3 = 6.4/50 + 7.5/70 = 0.128 + 0.107143 = 0.235143 (8-9-11-3 = (2.7 + 2.8 + 6.2)/50 = 0.234)
    assert many_origins[3, 1] == pytest.approx(11.7 / 50, rel=1e-12)


@pytest.mark.parametrize(("origin", "target", "hours"), DOC2_STEP3)
def test_doc2_times_at_step3(origin, target, hours):
    net = load_network("doc2")
    t = arc_times_h(net, doc2_congestion_table()[2])
    o, d = net.index_of(origin), net.index_of(target)
    assert shortest_times_h(net, t, [o], [d])[0, 0] == pytest.approx(hours, rel=1e-6)


def test_congested_main_roads_change_the_route():
    # main at u = 1 (25 km/h), the rest free: 8-7-4-1 = 6.4/25 + 7.1/70 = 0.256 + 0.101429 = 0.357429,
    # 8-9-10-5-1 = 2.7/25 + 6.8/40 + 3.1/70 = 0.108 + 0.17 + 0.044286 = 0.322286: the suburban way wins
    net = load_network("doc2")
    t = arc_times_h(net, {"urban": 0.0, "main": 1.0, "suburban": 0.0})
    o, d = net.index_of(8), net.index_of(1)
    assert route(net, t, o, d) == (8, 9, 10, 5, 1)
    assert shortest_times_h(net, t, [o], [d])[0, 0] == pytest.approx(2.7 / 25 + 6.8 / 40 + 3.1 / 70, rel=1e-12)


def test_sioux_falls_free_flow_times():
    net = load_network("sioux_falls")
    t = net.free_flow_time_h
    o = net.index_of(1)
    targets = labels_to_indices(net, [1, 2, 24, 20])
    # 1 -> 2: link 1-2, 6 min.  1 -> 24: 1-3-12-13-24 = 4 + 4 + 3 + 4 = 15 min (1-3-4-11-14-23-24 = 24 min).
    # 1 -> 20: 1-2-6-8-7-18-20 = 6 + 5 + 2 + 3 + 2 + 4 = 22 min (1-3-12-13-24-21-20 = 24 min)
    np.testing.assert_allclose(shortest_times_h(net, t, [o], targets)[0] * 60, [0, 6, 15, 22], rtol=1e-12)
    assert route(net, t, o, net.index_of(20)) == (1, 2, 6, 8, 7, 18, 20)
    assert route(net, t, o, net.index_of(24)) == (1, 3, 12, 13, 24)
    assert route(net, t, o, o) == (1,)
    # uniform x = 1: every link x 1.15, so every shortest time x 1.15: 1 -> 20 is 25.3 min
    congested = shortest_times_h(net, arc_times_h(net, 1.0), [o], [net.index_of(20)])
    assert congested[0, 0] * 60 == pytest.approx(25.3, rel=1e-12)


def test_directed_links_are_one_way(tmp_path):
    path = tmp_path / "oneway.csv"
    path.write_text(
        "init_node,term_node,capacity_veh_per_h,length,free_flow_time_min,bpr_b,bpr_power\n"
        "1,2,100,1,6,0.15,4\n2,3,100,1,12,0.15,4\n",
        encoding="utf-8",
    )
    net = read_edge_table(path)
    times = shortest_times_h(net, net.free_flow_time_h, [0, 2], [0, 2])
    # 1 -> 3: 6 + 12 = 18 min = 0.3 h; 3 -> 1: no link back
    np.testing.assert_allclose(times, [[0.0, 0.3], [np.inf, 0.0]])
    with pytest.raises(ValueError, match="no route from node 3 to node 1"):
        route(net, net.free_flow_time_h, 2, 0)
    with pytest.raises(ConfigError, match=r"cannot reach a target \(node label -> target label\): 2 -> 1, 3 -> 1$"):
        TravelTimes(net, [0])


def tiny_network(n_nodes, arcs):
    """A network with the given ``(from, to)`` 0-based arcs (BPR law; times supplied by the test)."""
    i = np.array([a for a, _ in arcs], dtype=np.int64)
    j = np.array([b for _, b in arcs], dtype=np.int64)
    ones = np.ones(len(arcs))
    return RoadNetwork(
        name="tiny",
        source="test",
        node_labels=np.arange(1, n_nodes + 1),
        from_index=i,
        to_index=j,
        length_km=np.full(len(arcs), np.nan),
        road_class=None,
        free_flow_time_h=ones,
        capacity_veh_per_h=np.full(len(arcs), np.nan),
        bpr_b=0 * ones,
        bpr_power=ones,
        congestion_law="bpr",
    )


def test_parallel_arcs_keep_the_fastest_not_the_sum():
    net = tiny_network(2, [(0, 1), (0, 1), (0, 1)])
    assert shortest_times_h(net, [3.0, 1.0, 2.0], [0], [1])[0, 0] == 1.0  # a summing CSR would say 6


def test_zero_time_arcs_are_edges():
    net = tiny_network(3, [(0, 1), (1, 2), (0, 2)])
    times, pred = shortest_paths(net, [0.0, 0.0, 5.0], [0])
    np.testing.assert_array_equal(times, [[0.0, 0.0, 0.0]])  # 0 -> 1 -> 2 at no time, not the 5 h arc
    np.testing.assert_array_equal(pred, [[NO_PREDECESSOR, 0, 1]])
    assert route(net, [0.0, 0.0, 5.0], 0, 2) == (1, 2, 3)


def test_infinite_arcs_are_impassable():
    net = tiny_network(3, [(0, 1), (1, 2)])
    times = shortest_times_h(net, [1.0, np.inf], [0], [0, 1, 2])
    np.testing.assert_array_equal(times, [[0.0, 1.0, np.inf]])
    _, pred = shortest_paths(net, [1.0, np.inf], [0])
    assert pred[0, 2] == NO_PREDECESSOR


def test_empty_origins_or_targets():
    net = load_network("doc2")
    assert shortest_times_h(net, net.free_flow_time_h, [], [0, 1]).shape == (0, 2)
    assert shortest_times_h(net, net.free_flow_time_h, [0], []).shape == (1, 0)


@pytest.mark.parametrize(
    ("arc_time_h", "pattern"),
    [(np.ones(3), r"shape \(34,\)"), (-np.ones(34), r"arc_time_h\[0\]=-1.0"), (np.full(34, np.nan), "nan")],
)
def test_bad_arc_times(arc_time_h, pattern):
    net = load_network("doc2")
    with pytest.raises(ConfigError, match=pattern):
        shortest_times_h(net, arc_time_h, [0], [1])


@pytest.mark.parametrize("origins", [[13], [-1], [0.0], [[0]], 0])
def test_bad_node_indices(origins):
    net = load_network("doc2")
    with pytest.raises(ConfigError, match=r"origins=.* 0-based node indices in \[0, 12\]"):
        shortest_times_h(net, net.free_flow_time_h, origins, [1])


def test_travel_times_cache_on_doc2():
    net = load_network("doc2")
    stations = labels_to_indices(net, [1, 2, 3])
    tt = TravelTimes(net, stations)
    assert tt.n_solves == 1  # the free-flow solve at construction
    assert tt.target_labels == (1, 2, 3)
    free = tt.times_h({"urban": 0, "main": 0, "suburban": 0})
    assert tt.n_solves == 1 and free.shape == (13, 3) and not free.flags.writeable
    assert tt.times_h({"urban": -0.0, "main": 0.0, "suburban": 0.0}) is free  # -0.0 is 0
    # node 8 -> station 1 at free flow: 0.229429 h (see DOC2_FREE_FLOW)
    assert free[net.index_of(8), 0] == pytest.approx(6.4 / 50 + 7.1 / 70, rel=1e-12)
    np.testing.assert_array_equal(np.diag(free[stations]), [0.0, 0.0, 0.0])

    row = doc2_congestion_table()[2]
    step3 = tt.times_h(row)
    assert tt.n_solves == 2
    assert step3[net.index_of(8), 0] == pytest.approx(6.4 / M + 7.1 / U, rel=1e-6)
    assert step3[net.index_of(12), 2] == pytest.approx(9.3 / M, rel=1e-6)
    # identical congestion, however spelled: no new solve, the same array back
    assert tt.times_h(tuple(row)) is step3
    assert tt.times_h({"suburban": 0.825, "main": 0.49, "urban": 0.625}) is step3
    assert tt.times_h(np.array(row)) is step3
    assert tt.n_solves == 2
    # a change (even a tiny one) solves again; going back does not (it is kept)
    tt.times_h(row + np.array([0.0, 0.0, 1e-12]))
    assert tt.n_solves == 3
    assert tt.times_h(row) is step3
    assert tt.n_solves == 3
    # the cache holds CACHE_SIZE congestions: the oldest goes first
    for i in range(CACHE_SIZE):
        tt.times_h(row * (1.0 - 1e-3 * (i + 1)))
    assert tt.n_solves == 3 + CACHE_SIZE
    tt.times_h(row * (1.0 - 1e-3 * CACHE_SIZE))  # the newest: kept
    assert tt.n_solves == 3 + CACHE_SIZE
    tt.times_h(row)  # among the oldest: solved again
    assert tt.n_solves == 4 + CACHE_SIZE
    np.testing.assert_array_equal(
        tt.times_h(row), shortest_times_h(net, arc_times_h(net, row), np.arange(13), stations)
    )


def test_travel_times_cache_on_sioux_falls():
    net = load_network("sioux_falls")
    tt = TravelTimes(net, [net.index_of(20)])
    assert tt.times_h(0.0)[0, 0] * 60 == pytest.approx(22.0)  # 1 -> 20 (see above)
    assert tt.times_h(np.zeros(net.n_arcs)) is tt.times_h(0.0)
    assert tt.n_solves == 1
    assert tt.times_h(1.0)[0, 0] * 60 == pytest.approx(25.3)
    assert tt.n_solves == 2


def test_travel_times_bad_targets_and_congestion():
    net = load_network("doc2")
    with pytest.raises(ConfigError, match="target_indices"):
        TravelTimes(net, [13])
    with pytest.raises(ConfigError, match="at least one"):
        TravelTimes(net, [])
    tt = TravelTimes(net, [0])
    with pytest.raises(ConfigError, match="congestion"):
        tt.times_h((0.5, 0.5))
    assert tt.n_solves == 1


# ------------------------------------------------------------------ property: Floyd-Warshall


def floyd_warshall(n, arcs, times):
    """All-pairs shortest times, the textbook triple loop (written independently of the code)."""
    dist = [[0.0 if a == b else float("inf") for b in range(n)] for a in range(n)]
    for (a, b), t in zip(arcs, times):
        dist[a][b] = min(dist[a][b], t)
    for k in range(n):
        for a in range(n):
            for b in range(n):
                if dist[a][k] + dist[k][b] < dist[a][b]:
                    dist[a][b] = dist[a][k] + dist[k][b]
    return np.array(dist)


@st.composite
def graphs(draw):
    n = draw(st.integers(min_value=2, max_value=7))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    arcs = draw(st.lists(pairs, min_size=1, max_size=20))  # parallel arcs allowed
    time = st.one_of(st.just(0.0), st.just(float("inf")), st.floats(min_value=0.0, max_value=10.0))
    times = draw(st.lists(time, min_size=len(arcs), max_size=len(arcs)))
    origins = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
    targets = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
    return n, arcs, times, origins, targets


@given(graphs())
def test_shortest_times_agree_with_floyd_warshall(graph):
    n, arcs, times, origins, targets = graph
    net = tiny_network(n, arcs)
    expected = floyd_warshall(n, arcs, times)[np.ix_(origins, targets)]
    got = shortest_times_h(net, times, origins, targets)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-12)
    # the route to each reachable target has exactly that time
    for a in set(origins):
        for b in set(targets):
            if np.isfinite(expected[origins.index(a), targets.index(b)]):
                nodes = [label - 1 for label in route(net, times, a, b)]
                legs = [min(t for (x, y), t in zip(arcs, times) if (x, y) == (u, v)) for u, v in zip(nodes, nodes[1:])]
                assert sum(legs) == pytest.approx(expected[origins.index(a), targets.index(b)], rel=1e-12, abs=1e-12)
