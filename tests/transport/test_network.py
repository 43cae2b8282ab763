"""Road networks: the shipped data, both CSV layouts, and the errors."""

import dataclasses

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.transport import NETWORKS, RoadNetwork, load_network, read_edge_table

DOC2_HEADER = "from_node,to_node,length_km,road_class\n"
TNTP_HEADER = "init_node,term_node,capacity_veh_per_h,length,free_flow_time_min,bpr_b,bpr_power\n"


def write(tmp_path, text, name="edges.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_doc2_network_shape_and_arcs():
    net = load_network("doc2")
    assert net.name == "doc2" and net.congestion_law == "doc2_speed"
    assert net.n_nodes == 13 and net.n_arcs == 34  # 17 undirected roads, both directions
    np.testing.assert_array_equal(net.node_labels, np.arange(1, 14))
    # first road of the file: 1-4, 4.5 km, urban -> arc 0 is 1 -> 4, arc 17 is 4 -> 1
    assert (net.node_labels[net.from_index[0]], net.node_labels[net.to_index[0]]) == (1, 4)
    assert (net.node_labels[net.from_index[17]], net.node_labels[net.to_index[17]]) == (4, 1)
    assert net.length_km[0] == net.length_km[17] == 4.5
    assert net.road_class[0] == net.road_class[17] == "urban"
    # free flow = length / v0: 4.5 km / 70 km/h; road 3-11 is main, 6.2 km / 50 km/h = 0.124 h;
    # road 2-10 is suburban, 2.4 km / 40 km/h = 0.06 h
    assert net.free_flow_time_h[0] == pytest.approx(4.5 / 70)
    assert net.free_flow_time_h[6] == pytest.approx(0.124)
    assert net.free_flow_time_h[3] == pytest.approx(0.06)
    assert np.isnan(net.capacity_veh_per_h).all() and np.isnan(net.bpr_b).all() and np.isnan(net.bpr_power).all()
    assert sorted(set(net.road_class)) == ["main", "suburban", "urban"]
    assert net.length_km.sum() == pytest.approx(2 * 64.9)  # the 17 road lengths sum to 64.9 km


def test_sioux_falls_network():
    net = load_network("sioux_falls")
    assert net.congestion_law == "bpr" and net.road_class is None
    assert net.n_nodes == 24 and net.n_arcs == 76
    np.testing.assert_array_equal(net.node_labels, np.arange(1, 25))
    # first link 1 -> 2: capacity 25900.20064, free flow 6 min
    assert (net.from_index[0], net.to_index[0]) == (0, 1)
    assert net.capacity_veh_per_h[0] == 25900.20064
    assert net.free_flow_time_h[0] == pytest.approx(0.1)
    assert (net.bpr_b == 0.15).all() and (net.bpr_power == 4).all()
    assert np.isnan(net.length_km).all()  # TNTP's length has no stated unit
    assert "SiouxFalls_net.tntp" in net.source


def test_networks_tuple_loads_every_name():
    assert NETWORKS == ("doc2", "sioux_falls")
    for name in NETWORKS:
        assert load_network(name).name == name


def test_arrays_are_read_only_copies():
    net = load_network("doc2")
    for f in dataclasses.fields(net):
        value = getattr(net, f.name)
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, f.name
    with pytest.raises(ValueError):
        net.length_km[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.name = "x"
    lengths = np.array([1.0, 1.0])
    own = RoadNetwork(
        name="two",
        source="test",
        node_labels=np.array([1, 2]),
        from_index=np.array([0, 1]),
        to_index=np.array([1, 0]),
        length_km=lengths,
        road_class=("main", "main"),
        free_flow_time_h=lengths / 50,
        capacity_veh_per_h=np.full(2, np.nan),
        bpr_b=np.full(2, np.nan),
        bpr_power=np.full(2, np.nan),
        congestion_law="doc2_speed",
    )
    lengths[0] = 9.0
    assert own.length_km[0] == 1.0 and lengths.flags.writeable


def test_index_of_and_unknown_label():
    net = load_network("doc2")
    assert net.index_of(1) == 0 and net.index_of(13) == 12 and net.index_of(np.int64(8)) == 7
    for bad in (0, 14, 2.0, "3", True):
        with pytest.raises(ConfigError, match=r"an integer in \[1, 13\]"):
            net.index_of(bad)


def test_index_of_lists_labels_when_not_contiguous(tmp_path):
    net = read_edge_table(write(tmp_path, DOC2_HEADER + "2,5,1.0,main\n5,9,1.5,urban\n"))
    np.testing.assert_array_equal(net.node_labels, [2, 5, 9])
    assert net.index_of(5) == 1
    with pytest.raises(ConfigError, match="one of 2, 5, 9"):
        net.index_of(3)


def test_read_doc2_layout_any_column_order(tmp_path):
    path = write(tmp_path, "road_class,length_km,to_node,from_node\nsuburban,2.0,3,1\n\nmain,1.0,2,3\n", "mine.csv")
    net = read_edge_table(path)
    assert net.name == "mine" and net.source == str(path) and net.congestion_law == "doc2_speed"
    assert net.n_nodes == 3 and net.n_arcs == 4
    arcs = list(zip(net.node_labels[net.from_index], net.node_labels[net.to_index]))
    assert arcs == [(1, 3), (3, 2), (3, 1), (2, 3)]
    np.testing.assert_allclose(net.free_flow_time_h, [2 / 40, 1 / 50, 2 / 40, 1 / 50])


def test_read_tntp_layout_is_directed(tmp_path):
    path = write(tmp_path, TNTP_HEADER + "1,2,1000,3,12,0.15,4\n2,3,500,1,30,0.5,2\n")
    net = read_edge_table(path, name="line")
    assert net.name == "line" and net.congestion_law == "bpr" and net.n_arcs == 2
    np.testing.assert_array_equal(net.from_index, [0, 1])
    np.testing.assert_array_equal(net.to_index, [1, 2])
    np.testing.assert_allclose(net.free_flow_time_h, [0.2, 0.5])  # 12 min, 30 min
    np.testing.assert_array_equal(net.capacity_veh_per_h, [1000, 500])
    np.testing.assert_array_equal(net.bpr_b, [0.15, 0.5])
    np.testing.assert_array_equal(net.bpr_power, [4, 2])


def test_load_network_by_path(tmp_path):
    path = write(tmp_path, DOC2_HEADER + "1,2,1.0,urban\n")
    assert load_network(path).n_arcs == 2
    assert load_network(str(path)).name == "edges"


def test_load_network_unknown_name():
    with pytest.raises(ConfigError, match=r"network='nowhere' is invalid: expected one of 'doc2', 'sioux_falls'"):
        load_network("nowhere")


def test_bad_header_names_file_columns_and_layouts(tmp_path):
    path = write(tmp_path, "a,b,length_km\n1,2,3\n")
    with pytest.raises(ConfigError) as err:
        read_edge_table(path)
    message = str(err.value)
    assert str(path) in message and "['a', 'b', 'length_km']" in message
    assert "from_node,to_node,length_km,road_class" in message
    assert "init_node,term_node,capacity_veh_per_h,length,free_flow_time_min,bpr_b,bpr_power" in message


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ("1,2,1.0,urban\n1,3,-2.5,main\n", r"row 2 \(line 3\), column 'length_km': '-2.5' is invalid: expected .*> 0"),
        ("1,2,0,urban\n", r"row 1 \(line 2\), column 'length_km'"),
        ("1,2,nan,urban\n", r"column 'length_km': 'nan'"),
        ("1,2,1.0,highway\n", r"row 1 \(line 2\), column 'road_class': 'highway' is invalid: expected one of 'urban'"),
        ("1,2.5,1.0,urban\n", r"column 'to_node': '2.5' is invalid: expected a positive integer node label"),
        ("0,2,1.0,urban\n", r"column 'from_node': '0'"),
        ("x,2,1.0,urban\n", r"column 'from_node': 'x'"),
        ("3,3,1.0,urban\n", r"row 1 \(line 2\): edge 3 -> 3 is a self loop"),
        ("1,2,1.0\n", r"row 1 \(line 2\) has 3 cells; expected 4"),
        ("", r"holds no edges"),
    ],
)
def test_doc2_value_errors_name_file_row_and_column(tmp_path, rows, pattern):
    path = write(tmp_path, DOC2_HEADER + rows)
    with pytest.raises(ConfigError, match=pattern) as err:
        read_edge_table(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        ("1,2,0,3,12,0.15,4", r"column 'capacity_veh_per_h': '0'"),
        ("1,2,100,3,-1,0.15,4", r"column 'free_flow_time_min': '-1'"),
        ("1,2,100,0,1,0.15,4", r"column 'length': '0'"),
        ("1,2,100,3,1,-0.1,4", r"column 'bpr_b': '-0.1' is invalid: expected a finite number >= 0"),
        ("1,2,100,3,1,0.15,inf", r"column 'bpr_power': 'inf'"),
    ],
)
def test_tntp_value_errors(tmp_path, row, pattern):
    with pytest.raises(ConfigError, match=pattern):
        read_edge_table(write(tmp_path, TNTP_HEADER + row + "\n"))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        read_edge_table(tmp_path / "absent.csv")
    with pytest.raises(ConfigError, match="the file is empty"):
        read_edge_table(write(tmp_path, "\n"))


def test_constructor_rejects_self_loops_and_bad_classes():
    base = dict(
        name="t",
        source="test",
        node_labels=np.array([1, 2]),
        from_index=np.array([0]),
        to_index=np.array([1]),
        length_km=np.array([1.0]),
        road_class=("main",),
        free_flow_time_h=np.array([0.02]),
        capacity_veh_per_h=np.array([np.nan]),
        bpr_b=np.array([np.nan]),
        bpr_power=np.array([np.nan]),
        congestion_law="doc2_speed",
    )
    RoadNetwork(**base)
    with pytest.raises(ConfigError, match="self loop"):
        RoadNetwork(**{**base, "to_index": np.array([0])})
    with pytest.raises(ConfigError, match=r"road_class\[0\]='lane'"):
        RoadNetwork(**{**base, "road_class": ("lane",)})
    with pytest.raises(ConfigError, match="congestion_law='speed'"):
        RoadNetwork(**{**base, "congestion_law": "speed"})
    with pytest.raises(ConfigError, match="bpr_b"):
        RoadNetwork(**{**base, "congestion_law": "bpr"})
    with pytest.raises(ConfigError, match=r"to_index must hold 0-based node indices in \[0, 1\]"):
        RoadNetwork(**{**base, "to_index": np.array([2])})
