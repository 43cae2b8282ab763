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
from evprice.grid.feeders import doc2
from evprice.grid.powerflow import FastRadialSolver


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
    f = doc2()
    res = FastRadialSolver(f).solve(f.load_p_mw, f.load_q_mvar)
    vmin, loading = res.vm_pu[0].min(), res.line_loading[0, [9, 17, 27]].max()
    expected = max(loading / 0.9, (1.0 - vmin) / (1.0 - 0.95), 0.0)
    assert feeder_stress(res, (9, 17, 27), 0.9, (0.95, 1.05), 1.0)[0] == pytest.approx(expected)
    assert 0.95 < vmin < 0.951 and expected == pytest.approx((1.0 - vmin) / 0.05)  # voltage binds first


def test_values_are_clipped_and_failed_flows_read_as_worst_case():
    f = doc2()
    scale = np.array([1.0, 10.0])[:, None]
    res = FastRadialSolver(f).solve(scale * f.load_p_mw, scale * f.load_q_mvar)
    assert res.converged.tolist() == [True, False]
    stress = feeder_stress(res, (9,), 0.9, (0.95, 1.05), 1.0)
    nodal = np.full((2, 33), 750.0)
    values = grid_feature_values(res, np.array([800.0, np.nan]), nodal, stress, (31, 13), (9,), (700.0, 900.0))
    assert values.shape == (2, 2 + 2 * 2 + 1)
    np.testing.assert_allclose(values[0], [800.0, stress[0], res.vm_pu[0, 31], 750.0, res.vm_pu[0, 13], 750.0,
                                           res.line_loading[0, 9]])  # fmt: skip
    np.testing.assert_allclose(
        values[1], [900.0, STRESS_MAX, VM_BOUNDS_PU[0], 900.0, VM_BOUNDS_PU[0], 900.0, LOADING_MAX]
    )
