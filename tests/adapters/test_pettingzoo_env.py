"""The PettingZoo view against PettingZoo's own tests, and the stricter checks they lack."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import parallel_to_aec

import evprice
from evprice.core.actions import ActionError
from evprice.envs import registered_ids

CONFIGS = [
    dict(),
    dict(n_stations=5, chargers_per_station=[1, 2, 3, 4, 5]),
    dict(observability="full"),
    dict(n_stations=5, observability="full", reward="individual", when_full="reroute"),
    dict(reward="period", noise="normal", outside_option_utility=None),
    dict(reward="ema", horizon_h=2.0, dt_s=900, action_period_s=900),
    dict(n_stations=3, reward="individual", leader="station_2"),  # a level-2 leader: padded observations
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_pettingzoo_parallel_api_and_seed_tests(overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PettingZoo reports API problems as warnings
        parallel_api_test(evprice.make(**overrides), num_cycles=200)
        parallel_seed_test(lambda: evprice.make(**overrides))


@pytest.mark.parametrize("env_id", registered_ids())
def test_contract_of_every_registered_env(env_id):
    """Every registered scenario passes PettingZoo's tests and keeps its observations,
    state and counters in order over two whole episodes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(evprice.make(env_id), num_cycles=200)
        parallel_seed_test(lambda: evprice.make(env_id))
    env = evprice.make(env_id)
    steps = 0
    for obs, rewards, _, _, infos in rollout(env, 0, 2 * env.env.n_periods):
        steps += 1
        for a, o in obs.items():
            assert np.isfinite(o).all() and env.observation_space(a).contains(o)
            assert np.isfinite(rewards[a])
            m = infos[a]["market"]  # expected counts (floats) in an expected-demand market
            assert m["arrivals"] == pytest.approx(m["admitted"] + m["blocked"] + m["gave_up"], rel=1e-12)
        assert env.state_space.contains(env.state())
    assert steps == 2 * env.env.n_periods


@pytest.mark.parametrize("overrides", [CONFIGS[0], CONFIGS[3]])
def test_pettingzoo_aec_api_test_through_the_conversion(overrides):
    api_test(parallel_to_aec(evprice.make(horizon_h=2.0, **overrides)), num_cycles=50)


def rollout(env, seed, steps):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = []
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
        actions = {a: rng.uniform(-1.3, 1.3, (1,)).astype(np.float32) for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        trace.append((obs, rewards, terms, truncs, infos))
    return trace


def test_long_determinism_bit_for_bit_across_episodes():
    """PettingZoo's seed test compares only the first step; compare 2,500 (26 episodes)."""
    a = rollout(evprice.make(n_stations=3, when_full="reroute"), 7, 2500)
    b = rollout(evprice.make(n_stations=3, when_full="reroute"), 7, 2500)
    for (oa, ra, ta, tra, ia), (ob, rb, tb, trb, ib) in zip(a, b):
        assert all(np.array_equal(oa[k], ob[k]) for k in oa)
        assert ra == rb and ta == tb and tra == trb and ia == ib
    c = rollout(evprice.make(n_stations=3, when_full="reroute"), 8, 200)
    assert any(ra != rc for (_, ra, *_), (_, rc, *_) in zip(a, c))


@pytest.mark.parametrize(
    "overrides",
    [
        dict(n_stations=3, chargers_per_station=[1, 2, 6], arrival_rate_per_h=80.0, observability="full"),
        # expected demand has no chargers to cap revenue: bounds come from the arrival rate
        dict(demand="expected", congestion_sensitivity=0.0, arrival_rate_per_h=200.0, chargers_per_station=2),
    ],
)
def test_observations_stay_in_space_and_finite_under_stress(overrides):
    env = evprice.make(**overrides)
    for obs, _, _, _, infos in rollout(env, 3, 400):
        for a, o in obs.items():
            assert np.isfinite(o).all() and env.observation_space(a).contains(o)
        for info in infos.values():
            assert 0.0 <= info["occupancy"] <= 1.0
            m = info["market"]
            assert m["arrivals"] == pytest.approx(m["admitted"] + m["blocked"] + m["gave_up"], rel=1e-12)
        assert env.state_space.contains(env.state())


def test_spaces_are_cached_and_named():
    env = evprice.make(observability="full")
    for a in env.possible_agents:
        assert env.observation_space(a) is env.observation_space(a)
        assert env.action_space(a) is env.action_space(a)
        assert env.action_space(a).shape == (1,)
    names = env.observation_names("station_1")
    assert names[:3] == (
        ("PublicMarketSignal", "elec_price"),
        ("PublicMarketSignal", "time_sin"),
        ("PublicMarketSignal", "time_cos"),
    )
    assert names[3:5] == (
        ("station_1.ChargingStationStatus", "occupancy"),
        ("station_1.ChargingStationStatus", "price"),
    )
    assert names[8:] == (("station_2.ChargingStationStatus", "occupancy"), ("station_2.ChargingStationStatus", "price"))
    assert env.observation_space("station_1").shape == (len(names),)


def test_bad_actions():
    env = evprice.make()
    env.reset(seed=0)
    ok = np.zeros(1, np.float32)
    with pytest.raises(ActionError, match="no action for station_2"):
        env.step({"station_1": ok})
    with pytest.raises(ActionError, match="unknown or finished agents"):
        env.step({"station_1": ok, "station_2": ok, "station_9": ok})
    with pytest.raises(ActionError, match="non-finite"):
        env.step({"station_1": ok, "station_2": np.array([np.nan])})
    with pytest.raises(ActionError, match=r"action of station_2: shape \(2,\), expected \(1,\)"):
        env.step({"station_1": ok, "station_2": np.zeros(2)})
    for bad in ("abc", "0.5", {"x": 1}, None):
        with pytest.raises(ActionError, match="action of station_2: expected numbers"):
            env.step({"station_1": ok, "station_2": bad})
    with pytest.raises(ActionError, match="dict"):
        env.step([ok, ok])
    env.step({"station_1": ok, "station_2": np.array(0.5)})  # a scalar is accepted


def test_step_after_the_end_is_an_error():
    env = evprice.make(horizon_h=0.25)
    env.reset(seed=0)
    _, _, _, truncs, _ = env.step({a: np.zeros(1) for a in env.agents})
    assert all(truncs.values()) and env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_space_dicts_hold_the_cached_spaces():
    env = evprice.make(n_stations=3)
    assert set(env.observation_spaces) == set(env.possible_agents)
    for a in env.possible_agents:
        assert env.observation_spaces[a] is env.observation_space(a)
        assert env.action_spaces[a] is env.action_space(a)


@pytest.mark.parametrize(
    "env_id, overrides",
    [
        ("PublicCharging-v0", {"when_full": "reroute"}),
        ("GridCharging-v0", {}),
        ("LogitBertrand-v0", {"demand": "sampled", "leader": "station_1"}),  # the commitment is state too
    ],
)
def test_pickled_and_copied_envs_continue_identically(env_id, overrides):
    """Multiprocessing vector wrappers pickle environments; a copy must carry the RNG state
    (and, on a grid, the power flow's warm start)."""
    import copy
    import pickle

    env = evprice.make(env_id, **overrides)
    env.reset(seed=3)
    for _ in range(10):
        env.step({a: np.array([0.2]) for a in env.agents})
    twins = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    rng = np.random.default_rng(0)
    for _ in range(40):
        actions = {a: rng.uniform(-1, 1, (1,)) for a in env.agents}
        expected = env.step(actions)
        for twin in twins:
            got = twin.step(actions)
            assert got[1] == expected[1] and got[4] == expected[4]
            assert all(np.array_equal(got[0][a], expected[0][a]) for a in env.possible_agents)


@pytest.mark.parametrize("overrides", [CONFIGS[0], CONFIGS[4], CONFIGS[6]])
def test_the_view_steps_the_world_exactly_as_the_batched_api_does(overrides):
    """The view maps its actions in Python floats and assembles its own infos; every number it
    returns must be the batched environment's, bit for bit."""
    view, batched = evprice.make(**overrides), evprice.make(**overrides).env
    view.reset(seed=3)
    batched.reset(seed=3)
    rng = np.random.default_rng(3)
    agents = view.possible_agents
    for _ in range(batched.n_periods):
        a = rng.uniform(-1.3, 1.3, (1, len(agents), 1))  # some outside [-1, 1]: clipped by both
        obs, rewards, _, truncs, infos = view.step({x: a[0, i].astype(np.float32) for i, x in enumerate(agents)})
        b_obs, b_reward, _, b_trunc, b_info = batched.step(a.astype(np.float32).astype(np.float64))
        for i, x in enumerate(agents):
            assert np.array_equal(obs[x], b_obs[0, i])
            assert rewards[x] == b_reward[0, i]
            assert truncs[x] == bool(b_trunc[0])
            assert infos[x]["price"] == b_info["price"][0, i] and infos[x]["profit"] == b_info["profit"][0, i]
            assert infos[x]["market"] == {k: np.asarray(v)[0].item() for k, v in b_info["market"].items()}
    assert not view.agents
