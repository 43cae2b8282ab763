"""TNTP network, node and trip files (issue 20), on fixtures written in the test."""

from __future__ import annotations

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.transport import load_network
from evprice.transport.tntp import origin_weights, read_tntp_net, read_tntp_nodes, read_tntp_trips

HEADER = "~ \tInit node \tTerm node \tCapacity \tLength \tFree Flow Time \tB\tPower\tSpeed limit \tToll \tType\t;"


def _net_text(network, links=None, first_thru=1) -> str:
    """``network`` (a BPR RoadNetwork) as the collection writes a _net.tntp file."""
    n_links = network.n_arcs if links is None else links
    lines = [
        f"<NUMBER OF ZONES> {network.n_nodes}",
        f"<NUMBER OF NODES> {network.n_nodes}",
        f"<FIRST THRU NODE> {first_thru}",
        f"<NUMBER OF LINKS> {n_links}",
        "<ORIGINAL HEADER>~ written by the test",
        "<END OF METADATA>",
        "",
        "",
        HEADER,
    ]
    labels = network.node_labels
    for k in range(network.n_arcs):
        t0_min = network.free_flow_time_h[k] * 60.0
        values = (
            labels[network.from_index[k]],
            labels[network.to_index[k]],
            f"{network.capacity_veh_per_h[k]:.10g}",
            f"{t0_min:.10g}",
            f"{t0_min:.10g}",
            f"{network.bpr_b[k]:g}",
            f"{network.bpr_power[k]:g}",
            0,
            0,
            1,
        )
        lines.append("\t" + "\t".join(map(str, values)) + "\t;")
    return "\n".join(lines) + "\n"


def test_sioux_falls_as_a_tntp_file_is_the_shipped_network(tmp_path):
    shipped = load_network("sioux_falls")
    path = tmp_path / "SiouxFalls_net.tntp"
    path.write_text(_net_text(shipped))
    network = load_network(path)
    assert network.name == "SiouxFalls" and network.congestion_law == "bpr"
    for name in ("node_labels", "from_index", "to_index", "capacity_veh_per_h", "bpr_b", "bpr_power"):
        np.testing.assert_array_equal(getattr(network, name), getattr(shipped, name))
    np.testing.assert_allclose(network.free_flow_time_h, shipped.free_flow_time_h, rtol=1e-12)


def test_nodes_and_trips(tmp_path):
    nodes = tmp_path / "toy_node.tntp"
    nodes.write_text("Node\tX\tY\t;\n1\t-96.77\t43.61\t;\n2\t-96.71\t43.61\t;\n3\t-96.77\t43.57\t;\n")
    assert read_tntp_nodes(nodes) == {1: (-96.77, 43.61), 2: (-96.71, 43.61), 3: (-96.77, 43.57)}
    trips = tmp_path / "toy_trips.tntp"
    trips.write_text(
        "<NUMBER OF ZONES> 3\n<TOTAL OD FLOW> 600.0\n<END OF METADATA>\n\n\n"
        "Origin \t1 \n    1 :      0.0;     2 :    100.0;     3 :    200.0;\n\n"
        "Origin \t3 \n    1 :    300.0;\n"
    )
    zones, table = read_tntp_trips(trips)
    assert zones.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(table, [[0, 100, 200], [0, 0, 0], [300, 0, 0]])
    net = tmp_path / "toy_net.tntp"
    net.write_text(
        "<NUMBER OF NODES> 3\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> 3\n<END OF METADATA>\n"
        f"{HEADER}\n\t1\t2\t100\t5\t5\t0.15\t4\t0\t0\t1\t;\n\t2\t3\t100\t5\t5\t0.15\t4\t0\t0\t1\t;\n"
        "\t3\t1\t100\t5\t5\t0.15\t4\t0\t0\t1\t;\n"
    )
    network = read_tntp_net(net)
    assert network.name == "toy" and network.n_arcs == 3
    assert origin_weights(network, zones, table) == (300.0, 0.0, 300.0)  # trips leaving zones 1, 2, 3


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("<END OF METADATA>", ""), "has no <END OF METADATA> line"),
        (
            lambda t: t.replace("<NUMBER OF LINKS> 76", "<NUMBER OF LINKS> 75"),
            "NUMBER OF LINKS> says 75, the file lists 76",
        ),
        (lambda t: t.replace("<FIRST THRU NODE> 1", "<FIRST THRU NODE> 5"), r"FIRST THRU NODE> 5: its zones 1..4"),
        (lambda t: t.replace("Capacity \t", "Cap \t"), r"line 9: the header names no capacity column"),
        (lambda t: t.replace(HEADER + "\n", ""), r"line 9: a link before the '~' header line"),
        (lambda t: t.replace("\t1\t2\t", "\t1\tx\t", 1), r"row 1 \(line 10\), column 'term_node': 'x' is invalid"),
    ],
)
def test_bad_network_files_name_the_file_and_line(tmp_path, edit, message):
    path = tmp_path / "bad_net.tntp"
    path.write_text(edit(_net_text(load_network("sioux_falls"))))
    with pytest.raises(ConfigError, match=message):
        read_tntp_net(path)


def test_bad_trip_files_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad_trips.tntp"
    path.write_text("<TOTAL OD FLOW> 10\n<END OF METADATA>\n    1 :  5.0;\n")
    with pytest.raises(ConfigError, match=r"line 3: trips before the first 'Origin <zone>' line"):
        read_tntp_trips(path)
    path.write_text("<TOTAL OD FLOW> 10\n<END OF METADATA>\nOrigin 1\n    2 :  -5.0;\n")
    with pytest.raises(ConfigError, match=r"line 4: '2 :  -5.0': expected 'destination : trips' with trips >= 0"):
        read_tntp_trips(path)
    path.write_text("<TOTAL OD FLOW> 10\n<END OF METADATA>\nOrigin 1\n    2 :  5.0;\n")
    with pytest.raises(ConfigError, match=r"TOTAL OD FLOW> says 10, the trips add up to 5"):
        read_tntp_trips(path)
    path.write_text("<END OF METADATA>\nOrigin 99\n    2 :  5.0;\n")
    zones, table = read_tntp_trips(path)
    with pytest.raises(ConfigError, match=r"trip zones \[99\] are not nodes of network 'sioux_falls'"):
        origin_weights(load_network("sioux_falls"), zones, table)
