"""Constraint costs: zero inside the limits, growing with the violation, every line counted."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.grid.costs import (
    CostWeights,
    carbon_excess_kg,
    combine_costs,
    line_overload,
    period_costs,
    supply_carbon_intensity_g_per_kwh,
    voltage_violation_pu,
)


def test_voltage_violation_by_hand():
    vm = np.array([[1.0, 0.96, 0.95, 1.05], [1.0, 0.93, 0.94, 1.07]])
    # row 2: 0.02 + 0.01 below 0.95, 0.02 above 1.05
    np.testing.assert_allclose(voltage_violation_pu(vm, 0.95, 1.05), [0.0, 0.05], atol=1e-15)


@given(
    inside=st.lists(st.floats(0.95, 1.05), min_size=1, max_size=10),
    drop=st.floats(0.0, 0.3),
    drop2=st.floats(0.0, 0.3),
)
def test_voltage_violation_is_zero_inside_and_grows_with_the_violation(inside, drop, drop2):
    base = np.array([inside])
    assert voltage_violation_pu(base, 0.95, 1.05)[0] == 0.0
    low = np.append(base, [[0.95 - drop]], axis=1)
    lower = np.append(base, [[0.95 - drop - drop2]], axis=1)
    assert voltage_violation_pu(low, 0.95, 1.05)[0] == pytest.approx(drop, abs=1e-12)
    assert voltage_violation_pu(lower, 0.95, 1.05)[0] >= voltage_violation_pu(low, 0.95, 1.05)[0]


def test_every_monitored_line_counts_and_only_those():
    loading = np.array([[0.5, 1.2, 0.95, 3.0]])
    # monitored 1 and 2: both over 0.9 (document 2's code counted only the first)
    assert line_overload(loading, 0.9, [1, 2])[0] == pytest.approx(0.3 + 0.05)
    assert line_overload(loading, 0.9, [0])[0] == 0.0  # line 3's overload is not watched
    assert line_overload(loading, 0.9, [0, 1, 2, 3])[0] == pytest.approx(0.3 + 0.05 + 2.1)


def test_supply_intensity_by_hand():
    # 1 MW imported at 700 and 3 MW of generation at 900: (700 + 2700) / 4 = 850
    got = supply_carbon_intensity_g_per_kwh(np.array([1.0, -0.5, 0.0]), 3.0, 700.0, 900.0)
    np.testing.assert_allclose(got, [850.0, 900.0, 900.0])  # an export carries nothing in
    np.testing.assert_allclose(supply_carbon_intensity_g_per_kwh(np.array([2.0]), 0.0, 650.0, 900.0), [650.0])


def test_carbon_excess_by_hand():
    nodal = np.array([[700.0, 900.0, 800.0], [700.0, 700.0, 700.0]])
    metered = np.array([[10.0, 20.0, 0.0], [10.0, 20.0, 5.0]])
    # 20 kWh at 115 g/kWh over the 785 cap = 2.3 kg; the idle bus at 800 counts nothing
    np.testing.assert_allclose(carbon_excess_kg(nodal, metered, 785.0), [2.3, 0.0])
    np.testing.assert_array_equal(carbon_excess_kg(nodal, metered, None), [0.0, 0.0])


def test_total_weights_and_nonconvergence():
    w = CostWeights(voltage=2.0, line=3.0, carbon=0.5, nonconvergence=10.0)
    c = combine_costs(np.array([0.1, 14.4]), np.array([0.2, 27.3]), np.array([4.0, 5.0]), np.array([True, False]), w)
    np.testing.assert_allclose(c.failed, [0.0, 1.0])
    np.testing.assert_allclose(c.total, [2 * 0.1 + 3 * 0.2 + 0.5 * 4.0, 2 * 14.4 + 3 * 27.3 + 0.5 * 5.0 + 10.0])


def test_period_costs_average_violations_and_sum_emissions():
    """Two periods of three power flows each."""
    w = CostWeights(voltage=1.0, line=1.0, carbon=0.1, nonconvergence=6.0)
    flows = combine_costs(
        np.array([0.0, 0.3, 0.6, 0.0, 0.0, 0.0]),
        np.array([0.0, 0.0, 0.3, 0.0, 0.0, 0.0]),
        np.array([1.0, 2.0, 3.0, 0.0, 0.0, 0.5]),
        np.array([True, True, True, True, False, True]),
        w,
    )
    c = period_costs(flows, 3, w)
    np.testing.assert_allclose(c.voltage, [0.3, 0.0])
    np.testing.assert_allclose(c.line, [0.1, 0.0])
    np.testing.assert_allclose(c.carbon, [6.0, 0.5])
    np.testing.assert_allclose(c.failed, [0.0, 1 / 3])
    np.testing.assert_allclose(c.total, [0.3 + 0.1 + 0.6, 0.05 + 2.0])
    assert period_costs(flows, 1, w) is flows


def test_indicator_form_counts_a_period_with_any_weighted_violation():
    """Periods: a voltage dip in one of three flows; nothing; carbon only, whose weight is 0;
    a failed flow only. The terms are those of the weighted form."""
    w = CostWeights(voltage=1.0, line=1.0, carbon=0.0, nonconvergence=6.0)
    flows = combine_costs(
        np.array([0.0, 1e-6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        np.zeros(12),
        np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0]),
        np.array([True] * 10 + [False, True]),
        w,
    )
    weighted = period_costs(flows, 3, w)
    c = period_costs(flows, 3, w, "indicator")
    np.testing.assert_array_equal(c.total, [1.0, 0.0, 0.0, 1.0])
    for term in ("voltage", "line", "carbon", "failed"):
        np.testing.assert_array_equal(getattr(c, term), getattr(weighted, term))
    np.testing.assert_array_equal(period_costs(flows, 1, w, "indicator").total, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    with pytest.raises(ValueError, match="cost form 'binary' is not one of"):
        period_costs(flows, 3, w, "binary")
