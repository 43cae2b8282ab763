import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.market.config import MarketConfig
from evprice.market.economics import ema_after_period, energy_cost, unit_energy_cost
from evprice.market.params import MarketParams

from .numpy_dynamics import price_integral


def test_unit_energy_cost_and_energy_cost():
    params = MarketParams.from_config(MarketConfig(charging_efficiency=0.8, marginal_cost_per_kwh=[0.1, 0.3]))
    unit = unit_energy_cost(params, np.array([[0.4, 0.8]]))  # (B=1, S=2) wholesale
    np.testing.assert_allclose(unit, [[[0.6, 1.1], [0.8, 1.3]]])
    assert energy_cost(np.array(10.0), unit[0, 1, 1]) == pytest.approx(13.0)


@given(
    amounts=st.lists(st.floats(-50, 50), min_size=1, max_size=30),
    ema0=st.floats(-100, 100),
    alpha=st.floats(1e-4, 1.0),
    dt_h=st.sampled_from([1 / 60, 0.25, 1.0]),
)
def test_closed_form_equals_the_recursion(amounts, ema0, alpha, dt_h):
    s = len(amounts)
    ema = ema0
    for x in amounts:
        ema = (1 - alpha) * ema + alpha * x / dt_h
    weights = alpha * (1 - alpha) ** (s - 1 - np.arange(s)) / dt_h
    got = ema_after_period(np.array(ema0), np.array(amounts), (1 - alpha) ** s, weights)
    assert got == pytest.approx(ema, rel=1e-9, abs=1e-9)


def test_price_integral_by_hand():
    prices = np.array([[1.0, 2.0, 4.0]])  # hours 7, 8, 9 of the day
    # episode starts at 07:30, so t = 0 is half way through the first hour
    params = MarketParams.from_config(MarketConfig(start_hour=7.5, horizon_h=2.0))
    assert (params.first_hour, params.n_hours) == (7, 3)
    g = price_integral(params, prices, np.array([[0.0, 1800.0, 5400.0, 5400.0 + 900.0]]))
    # G is measured from 07:00: G(07:30)=1800, G(08:00)=3600, G(09:00)=3600+7200, G(09:15)=10800+3600
    np.testing.assert_allclose(g, [[1800.0, 3600.0, 10800.0, 14400.0]])
