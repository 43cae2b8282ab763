import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.core.actions import (
    ActionError,
    check_actions,
    check_single_action,
    scale_action,
    scale_single_action,
    unscale_action,
)


def test_endpoints_and_midpoint_are_exact():
    lo, hi = np.array([0.6, 1.1]), np.array([2.0, 1.4])
    assert np.array_equal(scale_action(np.array([-1.0, -1.0]), lo, hi), lo)
    assert np.array_equal(scale_action(np.array([1.0, 1.0]), lo, hi), hi)
    assert np.array_equal(scale_action(np.array([0.0, 0.0]), lo, hi), np.array([1.3, 1.25]))
    assert scale_action(np.array([0.5]), np.array([0.0]), np.array([4.0]))[0] == 3.0


def test_out_of_range_actions_are_clipped():
    lo, hi = np.array([1.0]), np.array([3.0])
    assert scale_action(np.array([7.5]), lo, hi)[0] == 3.0
    assert scale_action(np.array([-1e9]), lo, hi)[0] == 1.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_are_errors(bad):
    with pytest.raises(ActionError, match="non-finite"):
        check_actions(np.array([[[0.1], [bad]]]), (1, 2, 1))


def test_wrong_shape_and_non_numbers_are_errors():
    with pytest.raises(ActionError, match=r"actions: shape \(2,\), expected \(1, 2, 1\)"):
        check_actions(np.zeros(2), (1, 2, 1))
    for bad in ([["a"]], [["0.5"]], [[None]], [[True]]):  # strings are not parsed, bools are not numbers
        with pytest.raises(ActionError, match="expected numbers"):
            check_actions(bad, (1, 1))
    with pytest.raises(ActionError, match="cannot be read as an array"):
        check_actions([[0.1], [0.2, 0.3]], (2, 1))
    assert check_actions(np.array([[1]], dtype=np.int32), (1, 1)).dtype == np.float64


@given(a=st.floats(-1, 1), lo=st.floats(0, 10), width=st.floats(1e-3, 10))
def test_unscale_inverts_scale(a, lo, width):
    lo_a, hi_a = np.array([lo]), np.array([lo + width])
    value = scale_action(np.array([a]), lo_a, hi_a)
    assert lo_a[0] <= value[0] <= hi_a[0]
    assert np.allclose(unscale_action(value, lo_a, hi_a), a, atol=1e-9)


@pytest.mark.parametrize(
    "action, value",
    [
        (np.array([0.25], dtype=np.float32), 0.25),
        (np.array([-0.5]), -0.5),
        (np.float64(0.75), 0.75),
        (0.5, 0.5),
        ([1.5], 1.5),  # clipped later, by scale_action
        (np.array([1], dtype=np.int64), 1.0),
    ],
)
def test_a_single_action_is_read_as_a_float(action, value):
    assert check_single_action(action) == value


@pytest.mark.parametrize(
    "action, message",
    [
        (np.array([np.nan], dtype=np.float32), "non-finite value"),
        (np.array([np.inf]), "non-finite value"),
        (np.array([0.1, 0.2]), r"shape \(2,\), expected \(1,\)"),
        ("high", "expected numbers"),
    ],
)
def test_a_bad_single_action_is_refused_with_the_agents_name(action, message):
    with pytest.raises(ActionError, match=f"action of station_1: .*{message}"):
        check_single_action(action, what="action of station_1")


def test_one_action_in_python_floats_maps_to_the_same_price_bit_for_bit():
    """The one-environment views map each agent's action in Python floats; the price must be
    numpy's to the last bit, or a PettingZoo trajectory would drift from the vector one."""
    rng = np.random.default_rng(7)
    a = np.concatenate([rng.uniform(-1.5, 1.5, 4000), [-1.0, 1.0, 0.0, -2.0, 2.0, 1e-300, -0.0]])
    lo = rng.uniform(-1.0, 2.0, a.size)
    hi = lo + rng.uniform(1e-9, 5.0, a.size)
    expected = scale_action(a, lo, hi)
    got = np.array([scale_single_action(float(x), float(p), float(q)) for x, p, q in zip(a, lo, hi)])
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))
