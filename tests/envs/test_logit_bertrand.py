"""LogitBertrand-v0: the collusion benchmark as an environment."""

from __future__ import annotations

import numpy as np
import pytest

import evprice
from evprice.analysis import evaluate
from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.envs.logit_bertrand import LogitBertrandConfig

# Calvano et al. (2020) baseline, from the closed forms checked in tests/market/test_theory.py
NASH_PRICE, JOINT_PRICE = 1.4729267, 1.9249809
NASH_PROFIT, JOINT_PROFIT = 0.2229267, 0.3374905


def test_defaults_are_the_literature_baseline():
    cfg = LogitBertrandConfig()
    assert (cfg.n_stations, cfg.a, cfg.a0, cfg.mu, cfg.c) == (2, (2.0, 2.0), 0.0, 0.25, (1.0, 1.0))
    market = cfg.market_config()
    # prices span Nash and joint with 10% of their distance on each side
    width = JOINT_PRICE - NASH_PRICE
    np.testing.assert_allclose(market.price_min, NASH_PRICE - 0.1 * width, atol=1e-6)
    np.testing.assert_allclose(market.price_max, JOINT_PRICE + 0.1 * width, atol=1e-6)
    assert market.demand == "expected" and market.observability == "full"
    assert market.reward_scale_per_period == 1.0


def test_fixed_at_nash_and_joint_prices_earn_nash_and_joint_profits():
    for policy, price, profit, delta in (
        ("nash", NASH_PRICE, NASH_PROFIT, 0.0),
        ("joint", JOINT_PRICE, JOINT_PROFIT, 1.0),
    ):
        s = evaluate("LogitBertrand-v0", policy, episodes=2)
        for st in s["stations"]:
            assert st["mean_price"] == pytest.approx(price, rel=5e-5)
            per_period = st["profit"] / (2 * 96)
            assert f"{per_period:.4g}" == f"{profit:.4g}"  # 4 significant digits
        assert s["delta"]["total"] == pytest.approx(delta, abs=1e-9)
        assert s["delta"]["station_1"] == pytest.approx(delta, abs=1e-9)


def test_individual_reward_is_the_period_profit():
    env = evprice.make("LogitBertrand-v0", reward="individual")
    env.reset(seed=0)
    lo, hi = env.config.price_min[0], env.config.price_max[0]
    a = 2 * (np.array([1.6, 1.8]) - lo) / (hi - lo) - 1
    _, rewards, _, _, infos = env.step({"station_1": a[:1], "station_2": a[1:]})
    w = np.exp((2.0 - np.array([1.6, 1.8])) / 0.25)
    q = w / (w.sum() + 1.0)
    np.testing.assert_allclose(
        [rewards["station_1"], rewards["station_2"]], (np.array([1.6, 1.8]) - 1.0) * q, rtol=1e-9
    )
    assert infos["station_1"]["profit"] == pytest.approx(rewards["station_1"])


def test_sampled_variant_agrees_in_expectation():
    s = evaluate(
        "LogitBertrand-v0", "nash", episodes=128, seed=1, overrides={"demand": "sampled", "arrivals_per_period": 20}
    )
    lo, hi = s["delta"]["ci95"]["total"]
    assert lo < 0.0 < hi and hi - lo < 0.05
    assert s["market"]["blocked"] < 1e-4 * s["market"]["arrivals"]
    # the outside option's share at Nash prices: 1 - 2 q_Nash = 0.0572
    assert s["market"]["gave_up"] / s["market"]["arrivals"] == pytest.approx(0.0572, abs=0.002)


def test_overrides_and_errors():
    env = make_env("LogitBertrand-v0", 1, n_stations=3, a=[2.0, 2.2, 1.8], c=[1.0, 1.1, 0.9], mu=0.3)
    assert env.n_agents == 3 and env.config.noise_scale == 0.3
    np.testing.assert_allclose(env.params.base_utility, [2.0, 2.2, 1.8])
    np.testing.assert_allclose(env.params.marginal_cost_per_kwh, [1.0, 1.1, 0.9])
    assert make_env("LogitBertrand-v0", 1, price_min=1.0, price_max=3.0).config.price_max == (3.0, 3.0)
    with pytest.raises(ConfigError, match=r"mu=0 is invalid: expected a finite number in \(0, 1000\]"):
        make_env("LogitBertrand-v0", mu=0)
    with pytest.raises(ConfigError, match=r"c=\[1, 2, 3\] is invalid"):
        make_env("LogitBertrand-v0", c=[1, 2, 3])
    with pytest.raises(ConfigError, match=r"unknown key 'price_sensitivity' for LogitBertrand-v0"):
        make_env("LogitBertrand-v0", price_sensitivity=2.0)
    with pytest.raises(ConfigError, match=r"price_min=\(2.0, 2.0\) and price_max=\(1.5, 1.5\) are invalid"):
        make_env("LogitBertrand-v0", price_min=2.0, price_max=1.5)
    with pytest.raises(ConfigError, match=r"price_min=\(2.5, 2.5\) and price_max=None are invalid.*resolve to"):
        make_env("LogitBertrand-v0", price_min=2.5)  # above the default price_max
    with pytest.raises(
        ConfigError, match=r"arrivals_per_period=3000 is invalid: expected a finite number in \(0, 2500\]"
    ):
        make_env("LogitBertrand-v0", arrivals_per_period=3000)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"action_period_s": 60, "dt_s": 60},  # short periods: charger power grows so every EV gets its kWh
        {"action_period_s": 3600, "demand": "sampled", "arrivals_per_period": 50},
        {"n_stations": 3, "a": [2.0, 2.4, 1.7], "c": [1.0, 0.8, 1.2], "mu": 0.5, "a0": 0.7},
    ],
)
def test_the_scenario_and_the_simulated_market_agree(overrides):
    """The static market the config defines (used for its price range) is the one the theory
    reads back from the simulated market: one kWh of demand per period, the same a, c, mu, a0."""
    from evprice.market.theory import logit_market

    cfg = LogitBertrandConfig(**overrides)
    own, read_back = cfg.logit_market(), logit_market(make_env("LogitBertrand-v0", 1, **overrides).params)
    for name in ("a", "c", "quantity"):
        np.testing.assert_allclose(getattr(read_back, name), getattr(own, name), rtol=1e-12)
    assert (read_back.mu, read_back.a0) == pytest.approx((own.mu, own.a0))
    np.testing.assert_allclose(own.quantity, 1.0)
