"""The session-timing helpers of the numpy oracle (tests/market/numpy_dynamics.py)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .numpy_dynamics import charging_duration_s, interval_overlap_s, window_overlap_s


def test_session_timing():
    # 10 kWh at 30 kW takes 20 min, but the EV leaves after 15 min
    assert charging_duration_s(np.array(10.0), np.array(900.0), np.array(30.0)) == 900.0
    assert charging_duration_s(np.array(10.0), np.array(3600.0), np.array(30.0)) == 1200.0
    np.testing.assert_allclose(
        interval_overlap_s(np.array([3.0, 3.0, 0.0]), np.array([7.0, 4.0, np.inf]), 5.0, 10.0), [2, 0, 5]
    )


def test_window_overlap_by_hand():
    edges = np.array([0.0, 60.0, 120.0, 180.0])
    np.testing.assert_allclose(window_overlap_s(np.array([30.0]), np.array([150.0]), edges), [[30, 60, 30]])
    np.testing.assert_allclose(window_overlap_s(-np.inf, np.array([70.0]), edges), [[60, 10, 0]])


@given(start=st.floats(-100, 300), length=st.floats(0, 400))
def test_overlaps_sum_to_the_clipped_interval(start, length):
    edges = np.arange(0.0, 241.0, 60.0)
    got = window_overlap_s(np.array([start]), np.array([start + length]), edges)
    expected = max(0.0, min(start + length, 240.0) - max(start, 0.0))
    assert np.all((got >= 0) & (got <= 60))
    np.testing.assert_allclose(got.sum(), expected, atol=1e-9)
