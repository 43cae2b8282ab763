"""Grid features: declared layout, bounds, the stress index, clipping and failed power flows."""

import numpy as np
import pytest

from evprice.core.features import Visibility
from evprice.grid.features import (
    LOADING_MAX,
    STRESS_MAX,
    VM_BOUNDS_PU,
    declare_grid_features,
    feeder_stress,
    grid_feature_values,
)


def test_declared_features_and_visibility():
    feats = declare_grid_features(["station_1", "station_2"], (9, 27), (700.0, 900.0))
    assert [f.key for f in feats] == [
        "GridSignal",
        "station_1.StationGridStatus",
        "station_2.StationGridStatus",
        "FeederLineLoading",
    ]
    assert feats[0].visibility == {Visibility.PUBLIC}
    assert feats[1].visibility == {Visibility.UPPER_LEVEL, Visibility.SYSTEM}
    assert feats[3].field_names == ("line_9", "line_27")
    full = declare_grid_features(["station_1"], (9,), (700.0, 900.0), visibility="full")
    assert Visibility.PUBLIC in full[1].visibility and Visibility.PUBLIC in full[2].visibility
    with pytest.raises(ValueError, match="grid visibility='all' is invalid"):
        declare_grid_features(["station_1"], (9,), (700.0, 900.0), visibility="all")


def test_stress_by_hand():
    """Each branch in turn: line loading, voltage drop, voltage rise, and all inside."""
    vm = np.array([[1.0, 0.97, 0.99], [1.0, 0.94, 1.0], [1.0, 0.99, 1.03], [1.0, 0.99, 1.0]])
    loading = np.array([[0.99, 0.2], [0.1, 0.2], [0.1, 0.2], [0.18, 0.9]])
    got = feeder_stress(vm, loading, (0,), 0.9, (0.95, 1.05), 1.0)
    # 0.99 / 0.9; 0.06 / 0.05 (drop); 0.03 / 0.05 (rise); 0.2 (line 1 is not monitored)
    np.testing.assert_allclose(got, [1.1, 1.2, 0.6, 0.2])


def test_values_are_in_declared_order_and_clipped():
    vm = np.array([[1.0, 0.96, 0.93], [1.0, -0.2, 1.7]])  # out-of-range values are clipped
    nodal = np.array([[700.0, 800.0, 900.0], [900.0, 900.0, 900.0]])
    loading = np.array([[0.4, 0.5], [12.0, 10.0]])
    values = grid_feature_values(
        np.array([760.0, 950.0]), np.array([0.8, 40.0]), vm, nodal, loading, (2, 1), (1,), (700.0, 900.0)
    )
    # signal (carbon, stress), station on bus 2 (vm, carbon), station on bus 1, line 1
    np.testing.assert_allclose(values[0], [760.0, 0.8, 0.93, 900.0, 0.96, 800.0, 0.5])
    np.testing.assert_allclose(
        values[1], [900.0, STRESS_MAX, VM_BOUNDS_PU[1], 900.0, VM_BOUNDS_PU[0], 900.0, LOADING_MAX]
    )
