"""Document 2's speed law, the BPR law, the saturation table and arc times.

Expected numbers are worked out by hand (a calculator), not by the code under test.
"""

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.transport import (
    ROAD_CLASSES,
    arc_times_h,
    bpr_time_h,
    doc2_congestion_table,
    doc2_speed_kmh,
    load_network,
)

# Step 3 of document 2's table: urban 0.625, main 0.49, suburban 0.825.
# urban:    beta = 1.726 + 3.15 * 0.625^3 = 1.726 + 3.15 * 0.244140625 = 2.49504296875
#           0.625^beta = exp(2.49504296875 * ln 0.625) = exp(-1.1726793) = 0.30953650
#           v = 70 / 1.30953650 = 53.454027 km/h
# main:     beta = 1.726 + 3.15 * 0.49^3 = 1.726 + 3.15 * 0.117649 = 2.09659435
#           0.49^beta = 0.22411290;  v = 50 / 1.22411290 = 40.845906 km/h
# suburban: beta = 2.076 + 2.87 * 0.825^3 = 2.076 + 2.87 * 0.561515625 = 3.68754984375
#           0.825^beta = 0.49194865;  v = 40 / 1.49194865 = 26.810574 km/h
STEP3_SPEED_KMH = {"urban": 53.454027, "main": 40.845906, "suburban": 26.810574}


def test_speed_at_zero_and_full_saturation():
    # u = 0: 0**beta = 0, v = v0.  u = 1: 1**beta = 1, v = v0 / 2.
    np.testing.assert_array_equal(doc2_speed_kmh(["urban", "main", "suburban"], 0.0), [70.0, 50.0, 40.0])
    np.testing.assert_array_equal(doc2_speed_kmh(["urban", "main", "suburban"], 1.0), [35.0, 25.0, 20.0])


def test_speed_at_step3_saturations():
    for road_class, u in zip(ROAD_CLASSES, (0.625, 0.49, 0.825)):
        assert float(doc2_speed_kmh(road_class, u)) == pytest.approx(STEP3_SPEED_KMH[road_class], rel=1e-7)


def test_speed_at_half_saturation_suburban():
    # beta = 2.076 + 2.87 * 0.125 = 2.43475; 0.5^2.43475 = 2^-2 * 2^-0.43475 = 0.25 * 0.739822 = 0.184955
    # v = 40 / 1.184955 = 33.7565 km/h
    assert float(doc2_speed_kmh("suburban", 0.5)) == pytest.approx(33.7565, rel=1e-5)


def test_speed_broadcasts_and_shapes():
    v = doc2_speed_kmh(np.array([["urban"], ["main"]]), np.array([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(v, [[70.0, 35.0, 70.0], [50.0, 25.0, 50.0]])
    assert np.ndim(doc2_speed_kmh("main", 0.3)) == 0


def test_speed_for_huge_saturation_is_zero_without_warnings():
    # u = 20: beta = 1.726 + 3.15 * 8000 -> 20**beta overflows: the road is jammed
    assert float(doc2_speed_kmh("urban", 20.0)) == 0.0


@pytest.mark.parametrize("u", [-0.1, np.nan, np.inf, "x"])
def test_speed_rejects_bad_saturation(u):
    with pytest.raises(ConfigError, match="saturation="):
        doc2_speed_kmh("urban", u)


def test_speed_rejects_unknown_class():
    with pytest.raises(ConfigError, match=r"road_class='highway' is invalid: expected one of 'urban', 'main'"):
        doc2_speed_kmh(["urban", "highway"], 0.5)


def test_bpr_law_by_hand():
    # t0 = 0.1 h, b = 0.15, power = 4: x = 2 -> 0.1 * (1 + 0.15 * 16) = 0.34 h;
    # x = 1 -> 0.115 h; x = 0 -> 0.1 h; x = 0.5 -> 0.1 * (1 + 0.15 / 16) = 0.10093750 h
    np.testing.assert_allclose(bpr_time_h(0.1, [2.0, 1.0, 0.0, 0.5], 0.15, 4), [0.34, 0.115, 0.1, 0.1009375])
    # per-arc parameters: b = 1, power = 1 is linear: 2 * (1 + 3) = 8
    assert float(bpr_time_h(2.0, 3.0, 1.0, 1.0)) == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("args", "name"),
    [((0.1, -1.0, 0.15, 4), "volume_capacity_ratio"), ((-0.1, 1.0, 0.15, 4), "free_flow_time_h"),
     ((0.1, 1.0, np.nan, 4), "b"), ((0.1, 1.0, 0.15, -4), "power")],
)  # fmt: skip
def test_bpr_rejects_bad_values(args, name):
    with pytest.raises(ConfigError, match=f"^{name}="):
        bpr_time_h(*args)


def test_congestion_table():
    table = doc2_congestion_table()
    assert table.shape == (12, 3) and not table.flags.writeable
    assert ROAD_CLASSES == ("urban", "main", "suburban")
    np.testing.assert_array_equal(table[0], [0.515, 0.6, 0.715])
    np.testing.assert_array_equal(table[2], [0.625, 0.49, 0.825])
    np.testing.assert_array_equal(table[11], [0.465, 0.4, 0.465])


def test_doc2_arc_times_zero_and_full_saturation():
    net = load_network("doc2")
    np.testing.assert_array_equal(arc_times_h(net, (0.0, 0.0, 0.0)), net.free_flow_time_h)
    # u = 1 halves every speed: times double
    np.testing.assert_allclose(arc_times_h(net, {"urban": 1, "main": 1, "suburban": 1}), 2 * net.free_flow_time_h)


def test_doc2_arc_times_at_step3():
    net = load_network("doc2")
    times = arc_times_h(net, doc2_congestion_table()[2])
    # arc 0: road 1-4, 4.5 km urban; arc 6: road 3-11, 6.2 km main; arc 3: road 2-10, 2.4 km suburban
    assert times[0] == pytest.approx(4.5 / 53.454027, rel=1e-7)
    assert times[6] == pytest.approx(6.2 / 40.845906, rel=1e-7)
    assert times[3] == pytest.approx(2.4 / 26.810574, rel=1e-7)
    assert times[17] == times[0]  # the reverse arc of road 1-4
    mapping = {"suburban": 0.825, "urban": 0.625, "main": 0.49}
    np.testing.assert_array_equal(arc_times_h(net, mapping), times)


def test_doc2_arc_times_only_the_class_changes():
    net = load_network("doc2")
    times = arc_times_h(net, {"urban": 0.0, "main": 1.0, "suburban": 0.0})
    main = np.array([c == "main" for c in net.road_class])
    np.testing.assert_allclose(times[main], 2 * net.free_flow_time_h[main])
    np.testing.assert_array_equal(times[~main], net.free_flow_time_h[~main])


@pytest.mark.parametrize(
    ("congestion", "pattern"),
    [
        ((0.5, 0.5), r"3 saturations in the order urban, main, suburban \(got shape \(2,\)\)"),
        ({"urban": 0.5, "main": 0.5}, "a saturation for each road class"),
        ({"urban": 0.5, "main": 0.5, "suburban": 0.5, "lane": 0.1}, "a saturation for each road class"),
        ((0.5, -0.5, 0.5), r"congestion\['main'\]=-0.5 is invalid: expected a finite saturation >= 0"),
        ({"urban": 0.5, "main": 0.5, "suburban": np.nan}, r"congestion\['suburban'\]=nan"),
        ((0.5, 0.5, "a"), "congestion="),
        (0.5, "3 saturations"),
        ("urban", "a mapping road class -> saturation"),
    ],
)
def test_doc2_arc_times_reject_bad_congestion(congestion, pattern):
    with pytest.raises(ConfigError, match=pattern):
        arc_times_h(load_network("doc2"), congestion)


def test_bpr_arc_times_on_sioux_falls():
    net = load_network("sioux_falls")
    np.testing.assert_array_equal(arc_times_h(net, 0.0), net.free_flow_time_h)
    # x = 1 on every link: t = t0 * (1 + 0.15) ; link 1 -> 2 is 6 min -> 6.9 min
    times = arc_times_h(net, 1.0)
    assert times[0] * 60 == pytest.approx(6.9)
    x = np.zeros(net.n_arcs)
    x[0] = 2.0  # 6 min * (1 + 0.15 * 16) = 20.4 min
    per_arc = arc_times_h(net, x)
    assert per_arc[0] * 60 == pytest.approx(20.4)
    np.testing.assert_array_equal(per_arc[1:], net.free_flow_time_h[1:])


@pytest.mark.parametrize(
    ("congestion", "pattern"),
    [(np.zeros(3), r"one per arc \(76\), got shape \(3,\)"), (-0.5, "finite numbers >= 0"), (np.inf, "finite")],
)
def test_bpr_arc_times_reject_bad_congestion(congestion, pattern):
    with pytest.raises(ConfigError, match=pattern):
        arc_times_h(load_network("sioux_falls"), congestion)
