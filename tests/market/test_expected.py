"""The expected-demand mode: worked by hand, and against the sampled market in expectation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.market.config import MarketConfig
from evprice.market.sessions import expected_delivered_kwh
from evprice.market.world import MarketWorld


def test_one_period_by_hand():
    cfg = MarketConfig(
        demand="expected",
        congestion_sensitivity=0.0,
        arrival_rate_per_h=8.0,
        price_sensitivity=2.0,
        station_utility=[0.5, 0.0],
        outside_option_utility=-2.0,
        noise_scale=0.5,
        energy_demand_mean_kwh=10.0,
        energy_demand_cv=0.0,
        dwell_time_mean_h=1.0,
        dwell_time_cv=0.0,
        elec_price_per_kwh=[0.4] * 24,
        elec_price_noise_std_per_kwh=0.0,
        charging_efficiency=0.8,
        marginal_cost_per_kwh=[0.1, 0.2],
        fixed_cost_per_h=[2.0, 1.0],
    )
    world = MarketWorld(cfg, 1)
    world.reset(0)
    p = np.array([[1.0, 0.9]])
    out = world.step(p)
    # shares: exp(v / 0.5) with v = (0.5 - 2.0, -1.8) and the outside option -2.0
    w = np.exp(np.array([0.5 - 2.0, -1.8, -2.0]) / 0.5)
    q = w / w.sum()
    arrivals = 8.0 * 0.25  # EVs per 15-min period
    kwh = 10.0  # min(E, P D) = min(10, 30 x 1)
    np.testing.assert_allclose(out.admitted[0], arrivals * q[:2])
    assert out.gave_up[0] == pytest.approx(arrivals * q[2])
    np.testing.assert_allclose(out.energy_kwh[0], arrivals * q[:2] * kwh)
    np.testing.assert_allclose(out.revenue[0], arrivals * q[:2] * kwh * p[0])
    np.testing.assert_allclose(out.energy_cost[0], arrivals * q[:2] * kwh * (0.4 / 0.8 + np.array([0.1, 0.2])))
    np.testing.assert_allclose(out.fixed_cost[0], [0.5, 0.25])
    np.testing.assert_allclose(out.booked_profit, out.profit)
    assert (out.blocked == 0).all() and (out.utilization == 0).all()


@pytest.mark.parametrize(
    "energy, dwell",
    [
        (("gamma", 21.8, 0.66), ("gamma", 1.15, 1.1)),
        (("lognormal", 15.0, 0.5), ("gamma", 0.5, 0.0)),
        (("gamma", 10.0, 0.0), ("lognormal", 0.4, 0.8)),
        (("gamma", 10.0, 0.0), ("gamma", 0.25, 0.0)),
    ],
)
def test_expected_delivered_energy_against_monte_carlo(energy, dwell):
    rng = np.random.default_rng(0)
    n = 2_000_000

    def draw(dist, mean, cv):
        if cv == 0:
            return np.full(n, mean)
        if dist == "gamma":
            return rng.gamma(1 / cv**2, mean * cv**2, n)
        s2 = math.log1p(cv**2)
        return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)

    x = np.minimum(draw(*energy), 30.0 * draw(*dwell))
    got = expected_delivered_kwh(energy, dwell, 30.0)
    assert got == pytest.approx(x.mean(), abs=4 * x.std() / math.sqrt(n) + 1e-12)


def test_expected_and_sampled_markets_agree_in_expectation():
    """Same market, chargers plentiful and choice blind to occupancy: the sampled market's mean
    admitted EVs, energy and revenue per episode match the expected market's.

    Arrivals stop two hours before the horizon, so that sampled sessions (which charge over
    time, where the expected mode sells each EV's energy on arrival) finish inside it.
    """
    rates = [0.0] * 24
    rates[7:13] = [10.0] * 6  # 07:00-13:00; the episode runs 07:00-15:00
    common = dict(
        chargers_per_station=40, congestion_sensitivity=0.0, horizon_h=8.0, start_hour=7.0, arrival_rate_per_h=rates
    )
    prices = np.array([1.2, 1.5])
    expected = MarketWorld(MarketConfig(demand="expected", **common), 1)
    expected.reset(0)
    batch = 4000
    sampled = MarketWorld(MarketConfig(**common), batch)
    sampled.reset(1)
    want = {k: np.zeros(2) for k in ("admitted", "energy_kwh", "revenue")}
    got = {k: np.zeros((batch, 2)) for k in want}
    blocked = 0
    for _ in range(expected.params.n_periods):
        out_e = expected.step(prices[None])
        out_s = sampled.step(np.broadcast_to(prices, (batch, 2)))
        for k in want:
            want[k] += getattr(out_e, k)[0]
            got[k] += getattr(out_s, k)
        blocked += out_s.blocked.sum()
    assert blocked == 0
    for k in want:
        se = got[k].std(axis=0, ddof=1) / math.sqrt(batch)
        assert (np.abs(got[k].mean(axis=0) - want[k]) < 4 * se).all(), (k, got[k].mean(axis=0), want[k], se)
        assert (se < 0.02 * want[k]).all()  # the comparison is tight


def test_expected_mode_validation():
    with pytest.raises(ConfigError, match="noise='normal' is invalid with demand='expected'"):
        MarketConfig(demand="expected", noise="normal", congestion_sensitivity=0.0)
    with pytest.raises(ConfigError, match="congestion_sensitivity=2.0 is invalid with demand='expected'"):
        MarketConfig(demand="expected")
    with pytest.raises(ConfigError, match="demand='mean' is invalid"):
        MarketConfig(demand="mean")
