"""The fixed-price search under a constraint cost (``evprice.policies.search``)."""

from __future__ import annotations

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.policies import best_fixed_prices, make_policy
from evprice.policies.search import _best_feasible, team_profit, team_profit_and_cost


def test_best_feasible_by_hand():
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    profit = np.array([5.0, 9.0, 7.0, 8.0])
    cost = np.array([0.0, 0.5, 0.1, 0.3])
    assert _best_feasible(x, profit, cost, 0.3).tolist() == [4.0]  # 9 is the most profitable, but costs 0.5
    assert _best_feasible(x, profit, cost, 0.05).tolist() == [1.0]
    assert _best_feasible(x, profit, cost + 1.0, 0.05).tolist() == [1.0]  # none feasible: the least costly


def _peak_env():
    # the evening peak only, on a short day: violations depend on the prices
    return make_env("CoupledNetworkPeak-v0", 1, start_hour=16.0, horizon_h=3.0)


def test_profit_and_cost_of_fixed_prices_follow_the_rollout():
    env = _peak_env()
    prices = np.array([env.params.price_min, env.params.price_max])
    profit, cost = team_profit_and_cost(env, prices, episodes=3, seed=7)
    np.testing.assert_allclose(profit, team_profit(env, prices, episodes=3, seed=7))
    for k, p in enumerate(prices):  # each candidate alone, on the same three scenarios
        sim = env.replicate(3, scenarios=3)
        sim.reset(7)
        total = 0.0
        for _ in range(sim.n_periods):
            *_, info = sim.step(sim.prices_to_actions(np.tile(p, (3, 1))))
            total += info["cost"][:, 0].sum()
        assert cost[k] == pytest.approx(total / 3)
    assert cost[0] > cost[1]  # cheap charging draws more power in the peak: more violations


def test_constrained_search_keeps_within_the_limit_and_gives_up_profit():
    # 8 episodes make the search's optimum noisy: whether the most profitable prices break the
    # limit depends on the episodes drawn. Seed 3 is one where they do (cost 0.875); seed 1 was,
    # until generalised drivers stopped choosing full stations (its optimum's cost fell to 0.25)
    env = _peak_env()
    free, free_profit = best_fixed_prices(env, episodes=8, rounds=2, seed=3)
    safe, safe_profit = best_fixed_prices(env, episodes=8, rounds=2, seed=3, cost_limit=0.6)
    _, cost_free = team_profit_and_cost(env, free[None], episodes=8, seed=3)
    _, cost_safe = team_profit_and_cost(env, safe[None], episodes=8, seed=3)
    assert cost_free[0] > 0.6  # the most profitable prices break the limit in this scenario
    assert cost_safe[0] <= 0.6 and safe_profit < free_profit
    assert np.all(safe >= env.params.price_min) and np.all(safe <= env.params.price_max)


def test_cost_limit_option_is_checked():
    env = _peak_env()
    with pytest.raises(ConfigError, match=r"cost_limit=-1 is invalid"):
        make_policy("best_fixed", env, seed=0, cost_limit=-1)
    with pytest.raises(ConfigError, match="does not apply"):
        make_policy("time_of_use", env, seed=0, cost_limit=0.2)
