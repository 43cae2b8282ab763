"""The Stackelberg move order of MarketEnv: a level-2 leader commits its price a period ahead.

The expected values are worked out here from the logit formula and the rule "the leader's
price in period t is what it posted in period t - 1", not from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

import evprice
from evprice.core.agents import COORDINATOR_LEVEL, STATION_LEVEL
from evprice.core.config import ConfigError
from evprice.core.observation import PAD_NAME
from evprice.envs import make_env
from evprice.market.dynamics import leader_prices
from evprice.policies.theory import benchmarks

A, MU, C = 2.0, 0.25, 1.0  # LogitBertrand-v0 defaults (a0 = 0)
STACKELBERG_PRICES = (1.6384, 1.5446)  # leader, follower: docs/economics.md, checked by brute force in test_theory


def logit_profits(p: np.ndarray) -> np.ndarray:
    """Per-period profit of each station at prices p (..., N), one kWh of demand, a0 = 0."""
    e = np.exp((A - p) / MU)
    share = e / (e.sum(axis=-1, keepdims=True) + 1.0)
    return (p - C) * share


def test_leader_prices_swaps_in_the_commitment():
    posted = np.array([[1.5, 1.6, 1.7], [1.1, 1.2, 1.3]])
    in_force, nxt = leader_prices(posted, np.array([9.0, 8.0]), leader=1)
    assert in_force.tolist() == [[1.5, 9.0, 1.7], [1.1, 8.0, 1.3]]
    assert nxt.tolist() == [1.6, 1.2]
    assert posted.tolist() == [[1.5, 1.6, 1.7], [1.1, 1.2, 1.3]]  # the input is not changed


def test_the_leader_is_a_level_2_agent_over_the_followers():
    env = make_env("LogitBertrand-v0", 1, n_stations=3, leader="station_2", observability="partial")
    levels = {a.agent_id: (a.level, a.subordinates, a.action_field) for a in env.agent_specs}
    assert levels["station_2"] == (COORDINATOR_LEVEL, ("station_1", "station_3"), ("LeaderCommitment", "next_price"))
    assert levels["station_1"] == (STATION_LEVEL, (), ("ChargingStationStatus", "price"))
    lead, follow = env.observation_names("station_2"), env.observation_names("station_1")
    assert len(lead) == len(follow) == env.observation_size
    # followers see the commitment, not the leader's status or profits (partial observability)
    assert ("station_2.LeaderCommitment", "next_price") in follow
    assert not any(k.startswith("station_2.Charging") or k.startswith("station_2.StationProfit") for k, _ in follow)
    # the leader reads its followers' status and profit windows (upper_level)
    for sub in ("station_1", "station_3"):
        assert (f"{sub}.ChargingStationStatus", "price") in lead
        assert (f"{sub}.StationProfitWindow", "profit_ema") in lead
    n_pad = follow.count(PAD_NAME)
    assert n_pad == len(lead) - len(env.layout.observation_names("station_1")) > 0
    assert lead.count(PAD_NAME) == 0
    j = env.agent_ids.index("station_1")
    assert (env.observation_low[j, -n_pad:] == 0).all() and (env.observation_high[j, -n_pad:] == 0).all()


def test_move_order_on_logit_bertrand():
    """The leader's price in force is last period's posted price (the middle of its range in
    period 0), followers' prices hold at once; profits follow the logit formula; the
    followers observe the commitment before they move."""
    env = make_env("LogitBertrand-v0", 2, leader="station_1", observability="partial", reward="individual")
    lo, hi = env.params.price_min, env.params.price_max
    col = env.observation_names("station_2").index(("station_1.LeaderCommitment", "next_price"))
    rng = np.random.default_rng(0)
    obs = env.reset(seed=1)
    committed = np.full(2, 0.5 * (lo[0] + hi[0]))
    np.testing.assert_allclose(obs[:, 1, col], committed, rtol=1e-6)
    for _ in range(6):
        posted = rng.uniform(lo, hi, size=(2, 2))
        obs, reward, _, _, info = env.step(env.prices_to_actions(posted))
        expect = np.stack([committed, posted[:, 1]], axis=1)
        np.testing.assert_allclose(info["price"], expect, rtol=1e-12)
        np.testing.assert_allclose(reward, logit_profits(expect), rtol=1e-9)
        committed = posted[:, 0]
        np.testing.assert_allclose(obs[:, 1, col], committed, rtol=1e-6)  # announced before the next move
        np.testing.assert_allclose(obs[:, 0, col], committed, rtol=1e-6)  # the leader sees it too


def test_followers_best_responding_to_the_announcement_make_the_stackelberg_price_best():
    """Followers that read the announced price from their observation and best-respond to it
    (grid search on the logit formula) turn the market into the leader's Stackelberg problem:
    over a grid of committed prices, the leader's realised profit peaks at the solver's price."""
    grid = np.round(np.arange(1.55, 1.75, 0.005), 6)  # one batch member per committed price
    env = make_env("LogitBertrand-v0", len(grid), leader="station_1", reward="individual")
    col = env.observation_names("station_2").index(("station_1.LeaderCommitment", "next_price"))
    replies = np.linspace(env.params.price_min[1], env.params.price_max[1], 4001)

    def best_reply(p_leader: np.ndarray) -> np.ndarray:
        prices = np.stack(np.broadcast_arrays(p_leader[:, None], replies[None, :]), axis=-1)  # (B, R, 2)
        return replies[logit_profits(prices)[..., 1].argmax(axis=1)]

    obs = env.reset(seed=0)
    profit = np.zeros((len(grid), 2))
    for t in range(4):
        follower = best_reply(obs[:, 1, col].astype(np.float64))
        obs, _, _, _, info = env.step(env.prices_to_actions(np.stack([grid, follower], axis=1)))
        if t > 0:  # period 0 runs at the middle price committed before the episode
            profit += info["profit"]
    best = grid[profit[:, 0].argmax()]
    assert abs(best - STACKELBERG_PRICES[0]) <= 0.005
    theory = benchmarks(env)["stackelberg"]
    assert theory["leader"] == "station_1"
    np.testing.assert_allclose(theory["prices"], STACKELBERG_PRICES, atol=1e-4)
    k = np.abs(grid - 1.64).argmin()  # the grid point next to the solution: the follower's reply
    np.testing.assert_allclose(info["price"][k, 1], best_reply(np.array([1.64]))[0], atol=1e-4)


def test_benchmarks_and_cli_take_the_environments_leader():
    env = make_env("LogitBertrand-v0", 1, leader="station_2")
    s = benchmarks(env)["stackelberg"]
    assert s["leader"] == "station_2"
    np.testing.assert_allclose(s["prices"], STACKELBERG_PRICES[::-1], atol=1e-4)
    assert benchmarks(env, leader=0)["stackelberg"]["leader"] == "station_1"


def test_a_grid_env_with_a_leader_keeps_its_layout():
    env = make_env("GridCharging-v0", 1, leader="station_3", horizon_h=3.0)
    names = env.layout.state_names
    obs = env.reset(seed=0)
    state = env.global_state()[0]
    i = names.index(("station_3.LeaderCommitment", "next_price"))
    assert state[i] == pytest.approx(0.5 * (env.params.price_min[2] + env.params.price_max[2]), rel=1e-6)
    after = [k for k, _ in names[i + 1 :]]  # the grid's features still come after the market's
    assert after and not any(k.endswith(("ChargingStationStatus", "StationProfitWindow")) for k in after)
    rng = np.random.default_rng(0)
    posted_before = None
    for _ in range(env.n_periods):
        posted = rng.uniform(env.params.price_min, env.params.price_max)[None]
        obs, _, _, _, info = env.step(env.prices_to_actions(posted))
        assert (obs >= env.observation_low - 1e-6).all() and (obs <= env.observation_high + 1e-6).all()
        assert env.global_state()[0][i] == pytest.approx(posted[0, 2], rel=1e-6)
        np.testing.assert_allclose(info["price"][0, :2], posted[0, :2], rtol=1e-12)
        if posted_before is not None:
            assert info["price"][0, 2] == pytest.approx(posted_before[0, 2], rel=1e-12)
        posted_before = posted
        assert np.isfinite(info["grid"]["vm_min_pu"]).all()


def test_bad_leader_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"leader='station_9' is invalid: expected None or a station id"):
        make_env("PublicCharging-v0", 1, leader="station_9")
    with pytest.raises(ConfigError, match=r"leader='station_1' is invalid: expected None with a single station"):
        make_env("LogitBertrand-v0", 1, n_stations=1, leader="station_1", price_min=1.0, price_max=2.0)


def test_pettingzoo_view_with_a_leader_names_padding():
    env = evprice.make("LogitBertrand-v0", leader="station_1", observability="partial")
    obs, _ = env.reset(seed=0)
    for a in env.agents:
        assert len(env.observation_names(a)) == obs[a].shape[0]
        assert env.observation_space(a).contains(obs[a])
