"""Policies built on the theory: myopic best response, Nash, joint, time-of-use, grid search."""

from __future__ import annotations

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.market.theory import bertrand_nash, best_response, joint_optimum, logit_market
from evprice.policies import best_fixed_prices, make_policy


def prices_of(env, actions):
    return env.params.price_min + (actions[..., 0] + 1) / 2 * (env.params.price_max - env.params.price_min)


def test_myopic_is_the_best_response_to_the_observed_prices():
    env = make_env(
        "LogitBertrand-v0", 3, n_stations=3, a=[2.0, 2.3, 1.8], c=[1.0, 1.1, 0.9], price_min=0.5, price_max=4
    )
    obs = env.reset(seed=0)
    rng = np.random.default_rng(1)
    obs, *_ = env.step(rng.uniform(-1, 1, (3, 3, 1)))
    market = logit_market(env.params)
    posted = env.world.state.price_per_kwh
    got = prices_of(env, make_policy("myopic", env)(obs))
    for b in range(3):
        for i in range(3):
            assert got[b, i] == pytest.approx(best_response(market, posted[b], i), abs=1e-6)


def test_myopic_dynamics_converge_to_nash():
    env = make_env("LogitBertrand-v0", 1, horizon_h=6.0)
    policy = make_policy("myopic", env)
    obs = env.reset(seed=0)
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
    np.testing.assert_allclose(info["price"][0], bertrand_nash(logit_market(env.params)).prices, atol=1e-8)


def test_myopic_needs_the_other_prices():
    with pytest.raises(ConfigError, match="myopic policy needs the other stations' prices.*observability='full'"):
        make_policy("myopic", make_env("PublicCharging-v0", 1))


def test_nash_and_joint_policies_post_the_theory_prices():
    env = make_env("LogitBertrand-v0", 1, c=[1.0, 1.2])
    market = logit_market(env.params)
    obs = env.reset(seed=0)
    np.testing.assert_allclose(prices_of(env, make_policy("nash", env)(obs))[0], bertrand_nash(market).prices)
    np.testing.assert_allclose(prices_of(env, make_policy("joint", env)(obs))[0], joint_optimum(market).prices)
    with pytest.raises(ConfigError, match="needs an outside option"):
        make_policy("joint", make_env("PublicCharging-v0", 1, outside_option_utility=None))
    with pytest.raises(ConfigError, match="cannot run on PublicCharging-v0: noise='normal'"):
        make_policy("nash", make_env("PublicCharging-v0", 1, noise="normal"))


def test_time_of_use_is_wholesale_plus_markup():
    env = make_env("PublicCharging-v0", 2, elec_price_per_kwh=[0.3] * 7 + [0.9] * 17, elec_price_noise_std_per_kwh=0)
    policy = make_policy("time_of_use", env, markup=0.5)
    obs = env.reset(seed=0)
    np.testing.assert_allclose(prices_of(env, policy(obs)), 0.8)  # 00:00: 0.3 + 0.5
    for _ in range(28):  # to 07:00
        obs, *_ = env.step(policy(obs))
    np.testing.assert_allclose(prices_of(env, policy(obs)), 1.4)
    # clipped to the bounds
    np.testing.assert_allclose(prices_of(env, make_policy("time_of_use", env, markup=5.0)(obs)), 2.0)


def test_grid_search_finds_the_joint_optimum():
    env = make_env("LogitBertrand-v0", 1)
    prices, value = best_fixed_prices(env)
    joint = joint_optimum(logit_market(env.params))
    np.testing.assert_allclose(prices, joint.prices, atol=1e-6)
    assert value == pytest.approx(joint.profits.sum() * env.n_periods, rel=1e-6)
    # three asymmetric stations: coordinate ascent
    env3 = make_env("LogitBertrand-v0", 1, n_stations=3, a=[2.0, 2.2, 1.9], c=[1.0, 1.1, 0.9])
    prices3, _ = best_fixed_prices(env3)
    np.testing.assert_allclose(prices3, joint_optimum(logit_market(env3.params)).prices, atol=1e-5)


def test_grid_search_on_a_sampled_market_is_reproducible_and_sensible():
    env = make_env("PublicCharging-v0", 1, horizon_h=6.0, start_hour=15.0)
    a = best_fixed_prices(env, episodes=16, rounds=2, seed=3)
    assert best_fixed_prices(env, episodes=16, rounds=2, seed=3)[0].tolist() == a[0].tolist()
    lo, hi = env.params.price_min, env.params.price_max
    assert ((a[0] > lo) & (a[0] < hi)).all()


def test_best_fixed_searches_on_scenarios_of_its_own():
    """Evaluating best_fixed with seed s must not replay the scenarios it was tuned on."""
    import evprice.policies.baselines as baselines

    seen = []
    real = baselines.best_fixed_prices
    env = make_env("PublicCharging-v0", 1, horizon_h=2.0)
    try:
        baselines.best_fixed_prices = lambda e, seed, cost_limit=None: (
            seen.append(seed),
            real(e, seed=seed, episodes=4, rounds=1),
        )[1]
        make_policy("best_fixed", env, seed=0)
        make_policy("best_fixed", env, seed=0)
        make_policy("best_fixed", env, seed=1)
    finally:
        baselines.best_fixed_prices = real
    assert seen[0] == seen[1] and seen[0] not in (0, 1) and seen[2] != seen[0]


def test_best_fixed_on_the_sampled_bertrand_market_is_near_the_joint_prices():
    env = make_env("LogitBertrand-v0", 1, demand="sampled", arrivals_per_period=10, horizon_h=12.0)
    prices, _ = best_fixed_prices(env, episodes=16, rounds=3, seed=5)
    np.testing.assert_allclose(prices, joint_optimum(logit_market(env.params)).prices, atol=0.05)


def test_time_of_use_default_centres_the_arrival_weighted_price():
    env = make_env("PublicCharging-v0", 1, elec_price_noise_std_per_kwh=0.0)
    policy = make_policy("time_of_use", env)
    obs = env.reset(seed=0)
    paid, weight = 0.0, 0.0
    rates = env.config.arrival_rates_per_h()
    for k in range(env.n_periods):
        price = prices_of(env, policy(obs))[0, 0]
        hour = k * env.config.action_period_s // 3600
        paid, weight = paid + rates[hour] * price, weight + rates[hour]
        obs, *_ = env.step(policy(obs))
    assert paid / weight == pytest.approx(0.5 * (0.6 + 2.0), abs=1e-6)  # observations are float32


@pytest.mark.parametrize("leader", [None, "station_1", "station_2"])
def test_stackelberg_policy_posts_the_leaders_solution(leader):
    """The Stackelberg prices of LogitBertrand-v0 (leader 1.6384, follower 1.5446; profits
    0.2372 and 0.2946: docs/economics.md, checked by brute force in tests/market/test_theory.py),
    led by the env's leader; with a committing leader they hold from the second period."""
    env = make_env("LogitBertrand-v0", 1, horizon_h=2.0, leader=leader)
    policy = make_policy("stackelberg", env)
    lead = 1 if leader == "station_2" else 0
    want_price = np.array([1.5446, 1.5446])
    want_price[lead] = 1.6384
    want_profit = np.array([0.2946, 0.2946])
    want_profit[lead] = 0.2372
    obs = env.reset(seed=0)
    for t in range(env.n_periods):
        obs, reward, _, _, info = env.step(policy(obs))
        if t > 0:
            np.testing.assert_allclose(info["price"][0], want_price, atol=1e-4)
            np.testing.assert_allclose(info["profit"][0], want_profit, atol=1e-4)
    with pytest.raises(ConfigError, match="stackelberg"):
        make_policy("stackelberg", env, price=1.0)


def test_delta_ends_are_the_nash_and_joint_profits_and_a_gain_needs_a_gap():
    from evprice.policies.theory import delta_ends, gain_is_defined

    env = make_env("LogitBertrand-v0")
    nash, joint = delta_ends(env)
    # Calvano et al. (2020)'s duopoly (a = 2, c = 1, mu = 0.25, a0 = 0): their published profits
    np.testing.assert_allclose(nash, [0.2229267, 0.2229267], atol=1e-7)
    np.testing.assert_allclose(joint, [0.3374905, 0.3374905], atol=1e-7)
    assert gain_is_defined(1.0, 2.0) and not gain_is_defined(2.0, 2.0) and not gain_is_defined(2.0, 1.0)
    assert not gain_is_defined(1e6, 1e6 + 1e-7)  # a gap below 1e-12 of the profit is no gap
