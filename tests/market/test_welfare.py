"""Consumer surplus and social welfare against the logit closed form, by hand and by sampling."""

from __future__ import annotations

import numpy as np
import pytest

from evprice.envs import make_env
from evprice.market.welfare import logit_surplus_per_driver, money_per_utility

# Calvano et al. (2020): a = 2, a0 = 0, mu = 0.25, c = 1; published Nash and joint prices
NASH, JOINT = 1.4729, 1.9249


def logit_welfare(p: np.ndarray, a=2.0, a0=0.0, mu=0.25, c=1.0) -> float:
    """One kWh of logit demand: surplus mu ln(sum e^((a - p) / mu) + e^(a0 / mu)) - a0 plus profits."""
    w = np.exp((a - np.asarray(p)) / mu)
    q = w / (w.sum() + np.exp(a0 / mu))
    return float(mu * np.log(w.sum() + np.exp(a0 / mu)) - a0 + ((np.asarray(p) - c) * q).sum())


def test_surplus_per_driver_is_the_expected_gain_of_the_best_alternative():
    rng = np.random.default_rng(0)
    v, v0, sigma = np.array([-1.0, 0.5, 0.2]), -0.3, 0.7
    u = v + sigma * rng.gumbel(size=(400_000, 3))
    u0 = v0 + sigma * rng.gumbel(size=400_000)
    gain = np.maximum(u.max(axis=1), u0) - u0
    assert logit_surplus_per_driver(v, v0, sigma) == pytest.approx(gain.mean(), abs=4 * gain.std() / 632)
    naive = sigma * np.log(np.exp(v / sigma).sum() + np.exp(v0 / sigma)) - v0
    assert logit_surplus_per_driver(v, v0, sigma) == pytest.approx(naive, rel=1e-12)
    # stable far from zero, and batched over leading axes
    big = logit_surplus_per_driver(np.array([[800.0, 700.0], [-800.0, -900.0]]), 0.0, 1.0)
    np.testing.assert_allclose(big, [800.0 + np.log1p(np.exp(-100.0) + np.exp(-800.0)), np.log1p(np.exp(-800.0))])


def test_money_per_utility():
    np.testing.assert_allclose(money_per_utility("utility", 4.0, np.array([20.0, 8.0])), [5.0, 2.0])
    np.testing.assert_allclose(money_per_utility("generalised", 4.0, np.array([20.0, 8.0])), [1.0, 1.0])


def _welfare_rewards(prices: np.ndarray, **kw) -> np.ndarray:
    """(K,) the first period's welfare in LogitBertrand-v0 with objective social_welfare at K price pairs."""
    env = make_env("LogitBertrand-v0", len(prices), objective="social_welfare", price_min=0.2, price_max=3.0, **kw)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.prices_to_actions(prices))
    welfare = info["market"]["social_welfare"]
    # every station's reward: the welfare over the sum of the reward scales (1 per station)
    np.testing.assert_allclose(reward, np.stack([welfare / 2, welfare / 2], axis=1), rtol=1e-12)
    return welfare


def test_logit_bertrand_welfare_is_the_closed_form():
    prices = np.array([[1.0, 1.0], [NASH, NASH], [JOINT, JOINT], [1.3, 2.1], [0.6, 2.7]])
    np.testing.assert_allclose(_welfare_rewards(prices), [logit_welfare(p) for p in prices], rtol=1e-9)


def test_welfare_is_highest_at_marginal_cost_and_falls_from_nash_to_joint_prices():
    grid = np.linspace(0.7, 1.3, 13)
    pairs = np.array([(x, y) for x in grid for y in grid])
    w = _welfare_rewards(pairs)
    assert tuple(pairs[w.argmax()]) == pytest.approx((1.0, 1.0))
    path = np.linspace(NASH, JOINT, 9)
    along = _welfare_rewards(np.stack([path, path], axis=1))
    assert np.all(np.diff(along) < 0)
    # profit alone rises along the same path: the old "welfare" (revenue minus cost) was profit-like
    env = make_env("LogitBertrand-v0", 9, price_min=0.2, price_max=3.0)
    env.reset(seed=0)
    profit = env.step(env.prices_to_actions(np.stack([path, path], axis=1)))[1].sum(axis=1)
    assert np.all(np.diff(profit) > 0)


def test_sampled_welfare_agrees_with_the_closed_form_in_expectation():
    env = make_env(
        "LogitBertrand-v0", 64, objective="social_welfare", demand="sampled", arrivals_per_period=4.0, horizon_h=24.0
    )
    env.reset(seed=3)
    p = np.array([1.6, 1.8])
    actions = env.prices_to_actions(np.tile(p, (64, 1)))
    rewards = np.array([2.0 * env.step(actions)[1][:, 0] for _ in range(env.n_periods)])  # (T, B) welfare
    per_member = rewards.mean(axis=0)
    stderr = per_member.std(ddof=1) / np.sqrt(len(per_member))
    assert per_member.mean() == pytest.approx(logit_welfare(p), abs=4 * stderr)


def test_public_charging_expected_surplus_refunds_the_energy_not_received():
    # expected demand: arrivals x (E / beta x log-sum gain + sum_k q_k p_k (E - d_k)), by hand
    env = make_env("PublicCharging-v0", 1, demand="expected", congestion_sensitivity=0.0, dwell_time_mean_h=0.5)
    env.reset(seed=0)
    prices = np.array([[1.0, 1.6]])
    info = env.step(env.prices_to_actions(prices))[4]
    cfg, params = env.config, env.params
    v = -4.0 * prices[0]
    w = np.exp(np.append(v, -5.5))
    q = w[:2] / w.sum()
    arrivals = info["market"]["arrivals"][0]
    e, d = cfg.energy_demand_mean_kwh, params.delivered_kwh_per_ev
    assert np.all(d < e - 1.0)  # half an hour at 30 kW cuts many sessions short
    surplus = arrivals * (e / 4.0 * (np.log(w.sum()) + 5.5) + (q * prices[0] * (e - d)).sum())
    assert info["market"]["consumer_surplus"][0] == pytest.approx(surplus, rel=1e-12)
    booked = info["profit"][0].sum()  # instantaneous sessions: booked = accrued
    assert info["market"]["social_welfare"][0] == pytest.approx(surplus + booked, rel=1e-12)


def test_surplus_is_not_reported_without_an_outside_option():
    env = make_env("PublicCharging-v0", 2, outside_option_utility=None)
    env.reset(seed=0)
    assert np.isnan(env.world.step(np.ones((2, 2))).consumer_surplus).all()  # undefined
    info = env.step(np.zeros((2, 2, 1)))[4]
    assert "consumer_surplus" not in info["market"] and "social_welfare" not in info["market"]


def test_surplus_is_defined_only_with_an_outside_option_and_a_money_value():
    from evprice.market.welfare import surplus_defined

    assert surplus_defined("utility", -5.5, 4.0) and surplus_defined("generalised", 1.8, 0.0)
    assert not surplus_defined("utility", None, 4.0) and not surplus_defined("generalised", None, 4.0)
    assert not surplus_defined("utility", -5.5, 0.0)  # no price coefficient: utility has no money value
