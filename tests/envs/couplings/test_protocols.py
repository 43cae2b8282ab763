"""The coordination protocols (issue 23): cheap talk, price announcements and a mediator, each
a coupling. Values are worked out by hand from the rules in evprice.market.protocol."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import evprice
from evprice.core.actions import ActionError, unscale_action
from evprice.core.config import ConfigError
from evprice.envs.registry import make_env
from evprice.envs.render import frame_labels

PROTOCOLS = [
    {"protocol": "cheap_talk", "message_dim": 2},
    {"protocol": "cheap_talk", "n_symbols": 4},
    {"protocol": "announcement", "deviation_cost": 0.5},
    {"protocol": "mediator"},
    {"protocol": "mediator", "mediator_reward": "welfare"},
]


def _random_actions(env, rng):
    return rng.uniform(-1.2, 1.2, size=(env.num_envs, env.n_agents, env.action_size))


# -- off means as before, on adds only the protocol's parts --------------------------------------------------------
@pytest.mark.parametrize("env_id", ["LogitBertrand-v0", "PublicCharging-v0"])
def test_without_a_protocol_the_market_is_as_it_was(env_id):
    env = make_env(env_id, 2)
    assert env.config.protocol == "none" and env.action_size == 1 and env.agent_ids == env.station_ids
    assert env.action_mask.shape == (env.n_agents, 1) and env.action_mask.all()
    names = {key.split(".")[-1] for a in env.agent_ids for key, _ in env.observation_names(a)}
    assert not names & {"StationMessage", "PriceAnnouncement", "MediatorRecommendation"}
    assert [c.name for c in env.couplings] == []


@pytest.mark.parametrize("overrides", PROTOCOLS)
@pytest.mark.parametrize("env_id", ["LogitBertrand-v0", "PublicCharging-v0"])
def test_a_protocol_changes_nothing_but_its_own_parts(env_id, overrides):
    """The same prices give bit-identical market outcomes with and without the protocol: the
    world, its random streams and the stations' rewards (a deviation cost aside) are untouched."""
    plain, talk = make_env(env_id, 2), make_env(env_id, 2, **overrides)
    plain.reset(seed=5)
    talk.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(8):
        a = _random_actions(talk, rng)
        _, r0, _, _, i0 = plain.step(a[:, : plain.n_stations, :1])
        _, r1, _, _, i1 = talk.step(a)
        for key in ("price", "profit", "revenue", "energy_kwh", "admitted", "occupancy"):
            np.testing.assert_array_equal(i0[key], i1[key])
        station_reward = r1[:, : talk.n_stations]
        if overrides["protocol"] == "announcement":
            station_reward = station_reward + i1["announce"]["penalty"]
            np.testing.assert_allclose(station_reward, r0, rtol=0, atol=1e-15)
        else:
            np.testing.assert_array_equal(station_reward, r0)


# -- cheap talk -----------------------------------------------------------------------------------------------------
def _column(env, agent, key, field):
    return env.observation_names(agent).index((key, field))


def test_a_message_sent_in_period_t_is_seen_in_t_plus_1():
    """Two stations, two values per message, four symbols: a = 0.1 is symbol floor(1.1 / 2 x 4)
    = 2, sent as -1 + 2 x 2 / 3 = 1/3; a = -0.6 is symbol 0 (-1); a = 1 is the last symbol (1)."""
    env = make_env("LogitBertrand-v0", 1, protocol="cheap_talk", message_dim=2, n_symbols=4)
    obs = env.reset(seed=0)
    seen_by_2 = [_column(env, "station_2", "station_1.StationMessage", f"m{k}") for k in range(2)]
    seen_by_1 = [_column(env, "station_1", "station_2.StationMessage", f"m{k}") for k in range(2)]
    np.testing.assert_array_equal(obs[0, 1, seen_by_2], [0.0, 0.0])  # nothing said before the first period
    period_0 = np.array([[[0.0, 0.1, -0.6], [0.0, 1.0, -1.0]]])  # (price, m0, m1) per station
    obs, _, _, _, info = env.step(period_0)
    np.testing.assert_allclose(obs[0, 1, seen_by_2], [1 / 3, -1.0], rtol=0, atol=1e-7)  # float32 observations
    np.testing.assert_array_equal(obs[0, 0, seen_by_1], [1.0, -1.0])
    np.testing.assert_allclose(info["talk"]["message"][0], [[1 / 3, -1.0], [1.0, -1.0]], rtol=0, atol=1e-15)
    period_1 = np.array([[[0.0, -0.2, 0.49], [0.0, 0.5, 0.0]]])  # symbols 1, 2; 3, 2
    obs, _, _, _, _ = env.step(period_1)
    np.testing.assert_allclose(obs[0, 1, seen_by_2], [-1 / 3, 1 / 3], rtol=0, atol=1e-7)
    np.testing.assert_allclose(obs[0, 0, seen_by_1], [1.0, 1 / 3], rtol=0, atol=1e-7)


def test_continuous_messages_are_the_clipped_actions():
    env = make_env("PublicCharging-v0", 1, protocol="cheap_talk", message_dim=3)
    env.reset(seed=1)
    a = np.array([[[0.3, 0.25, -0.75, 2.0], [-0.4, -1.5, 0.0, 0.125]]])
    _, _, _, _, info = env.step(a)
    np.testing.assert_array_equal(info["talk"]["message"][0], [[0.25, -0.75, 1.0], [-1.0, 0.0, 0.125]])
    assert env.action_names("station_1") == (
        ("station_1.ChargingStationStatus", "price"),
        ("station_1.StationMessage", "m0"),
        ("station_1.StationMessage", "m1"),
        ("station_1.StationMessage", "m2"),
    )


# -- visibility -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "feature"),
    [
        ({"protocol": "cheap_talk"}, "StationMessage"),
        ({"protocol": "announcement"}, "PriceAnnouncement"),
    ],
)
def test_messages_and_announcements_are_public_even_under_partial_observability(overrides, feature):
    env = make_env("PublicCharging-v0", 1, n_stations=3, observability="partial", **overrides)
    for agent in env.agent_ids:
        keys = {key for key, _ in env.observation_names(agent)}
        assert {f"{a}.{feature}" for a in env.station_ids} <= keys  # every station's, its own included
        others = {f"{a}.ChargingStationStatus" for a in env.station_ids if a != agent}
        assert not keys & others  # the protocol does not open the others' status


def test_the_mediator_sees_every_station_and_the_stations_see_its_recommendations():
    env = make_env("PublicCharging-v0", 1, n_stations=3, observability="partial", protocol="mediator")
    assert env.agent_ids == ("station_1", "station_2", "station_3", "mediator")
    spec = env.agent_specs[-1]
    assert spec.level == 2 and spec.subordinates == env.station_ids
    keys = {key for key, _ in env.observation_names("mediator")}
    for a in env.station_ids:
        assert {f"{a}.ChargingStationStatus", f"{a}.StationProfitWindow"} <= keys  # upper_level
        station_keys = {key for key, _ in env.observation_names(a)}
        assert "mediator.MediatorRecommendation" in station_keys
        assert not {f"{b}.StationProfitWindow" for b in env.station_ids if b != a} & station_keys
    assert env.action_names("mediator")[:3] == tuple(("mediator.MediatorRecommendation", a) for a in env.station_ids)
    np.testing.assert_array_equal(env.action_mask, [[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]])


# -- the mediator ---------------------------------------------------------------------------------------------------
def test_stations_that_follow_the_mediator_post_its_recommended_prices():
    env = make_env("PublicCharging-v0", 2, n_stations=3, protocol="mediator")
    lo, hi = env.params.price_min, env.params.price_max
    advice = np.array([[0.7, 1.1, 1.9], [1.5, 0.65, 1.2]])  # per member, per station, CNY/kWh
    cols = [_column(env, a, "mediator.MediatorRecommendation", a) for a in env.station_ids]

    def follow(obs):  # each station posts what the mediator recommends to it; the mediator recommends `advice`
        actions = np.zeros((env.num_envs, env.n_agents, env.action_size))
        recommended = np.stack([obs[:, i, c] for i, c in enumerate(cols)], axis=1).astype(np.float64)
        actions[:, : env.n_stations, 0] = unscale_action(recommended, lo, hi)
        actions[:, -1, :] = unscale_action(advice, lo, hi)
        return actions

    obs = env.reset(seed=3)
    obs, _, _, _, info = env.step(follow(obs))
    np.testing.assert_allclose(info["price"], np.broadcast_to(0.5 * (lo + hi), (2, 3)), atol=1e-6)  # the initial advice
    for _ in range(6):
        obs, reward, _, _, info = env.step(follow(obs))
        np.testing.assert_allclose(info["price"], advice, rtol=0, atol=1e-6)  # observations are float32
        np.testing.assert_allclose(info["mediator"]["recommended"], advice, rtol=0, atol=1e-12)
        # its reward: the market's profit over the sum of the stations' revenue scales
        np.testing.assert_allclose(reward[:, -1], info["profit"].sum(axis=1) / env.params.team_reward_scale_per_period)


def test_the_mediators_reward_is_the_one_configured():
    env = make_env("LogitBertrand-v0", 2, protocol="mediator", mediator_reward="welfare", reward="individual")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(_random_actions(env, np.random.default_rng(1)))
    scale = env.params.team_reward_scale_per_period
    np.testing.assert_allclose(reward[:, -1], info["market"]["social_welfare"] / scale)
    np.testing.assert_allclose(reward[:, :2], info["profit"] / env.params.reward_scale_per_period)  # individual
    grid = make_env("GridCharging-v0", 1, protocol="mediator", mediator_reward="grid", horizon_h=1.0, start_hour=18.0)
    grid.reset(seed=0)
    for _ in range(grid.n_periods):
        _, reward, _, _, info = grid.step(_random_actions(grid, np.random.default_rng(2)))
        np.testing.assert_allclose(reward[:, -1], -info["grid"]["cost"])


def test_a_mediator_reward_the_market_cannot_give_is_refused():
    with pytest.raises(ConfigError, match="mediator_reward='grid' is invalid for PublicCharging-v0"):
        make_env("PublicCharging-v0", protocol="mediator", mediator_reward="grid")
    with pytest.raises(ConfigError, match="mediator_reward='welfare' is invalid with outside_option_utility=None"):
        make_env("PublicCharging-v0", protocol="mediator", mediator_reward="welfare", outside_option_utility=None)
    with pytest.raises(ConfigError, match="n_symbols=1 is invalid"):
        make_env("PublicCharging-v0", protocol="cheap_talk", n_symbols=1)
    with pytest.raises(ConfigError, match="message_dim=2 is invalid with protocol='mediator'"):
        make_env("PublicCharging-v0", protocol="mediator", message_dim=2)
    with pytest.raises(ConfigError, match="protocol='mediator' is invalid.*a mediator cannot stand over it"):
        make_env("LogitBertrand-v0", protocol="mediator", leader="station_1")


def test_a_leader_can_talk_and_announce():
    """With a Stackelberg leader its first column is its commitment; its message follows, as a follower's."""
    env = make_env("LogitBertrand-v0", 1, protocol="cheap_talk", leader="station_1")
    assert env.action_names("station_1")[:2] == (
        ("station_1.LeaderCommitment", "next_price"),
        ("station_1.StationMessage", "m0"),
    )
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([[[0.0, 0.5], [0.0, -0.5]]]))
    np.testing.assert_array_equal(info["talk"]["message"][0, :, 0], [0.5, -0.5])


# -- announcements --------------------------------------------------------------------------------------------------
def test_posting_away_from_the_announcement_costs_what_the_rule_says():
    """Announce 1.9 and 0.8 in period 0, then post 1.6 and 0.8: station 1 deviates by 0.3 of a
    range of 2.0 - 0.6 = 1.4, so at deviation_cost = 0.7 it loses 0.7 x 0.3 / 1.4 = 0.15."""
    env = make_env("PublicCharging-v0", 1, protocol="announcement", deviation_cost=0.7)
    lo, hi = env.params.price_min, env.params.price_max
    np.testing.assert_allclose(hi - lo, [1.4, 1.4])
    env.reset(seed=0)
    announce = unscale_action(np.array([1.9, 0.8]), lo, hi)
    obs, _, _, _, info = env.step(np.array([[[0.0, announce[0]], [0.0, announce[1]]]]))
    col = _column(env, "station_2", "station_1.PriceAnnouncement", "next_price")
    assert obs[0, 1, col] == pytest.approx(1.9)  # seen by the other station in the next period
    np.testing.assert_allclose(info["announce"]["next_price"], [[1.9, 0.8]])
    post = unscale_action(np.array([1.6, 0.8]), lo, hi)
    _, reward, _, _, info = env.step(np.array([[[post[0], 0.0], [post[1], 0.0]]]))
    np.testing.assert_allclose(info["announce"]["announced"], [[1.9, 0.8]])
    np.testing.assert_allclose(info["announce"]["deviation"], [[-0.3, 0.0]], atol=1e-12)
    np.testing.assert_allclose(info["announce"]["penalty"], [[0.15, 0.0]], atol=1e-12)
    market_reward = info["profit"].sum() / env.params.team_reward_scale_per_period  # the default team reward
    np.testing.assert_allclose(reward, [[market_reward - 0.15, market_reward]], atol=1e-12)


# -- the views: each framework's own API test, with each protocol on --------------------------------------------------
@pytest.mark.parametrize("overrides", PROTOCOLS)
def test_pettingzoo_api_and_seed_tests_with_a_protocol(overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(evprice.make("PublicCharging-v0", **overrides), num_cycles=50)
        parallel_seed_test(lambda: evprice.make("LogitBertrand-v0", **overrides))


@pytest.mark.filterwarnings("ignore::UserWarning")  # its advice on price-valued (not [-1, 1]) action spaces
@pytest.mark.parametrize("overrides", PROTOCOLS)
def test_gymnasium_env_checker_with_a_protocol(overrides):
    env = evprice.make_gym("PublicCharging-v0", **overrides)
    check_env(env, skip_render_check=True)
    extra = len(env.action_names) - env.env.n_stations
    assert env.action_space.shape == (env.env.n_stations + extra,) and extra > 0
    assert env.action_names[0] == "station_1.ChargingStationStatus.price"


def test_a_central_agent_speaks_for_every_station():
    env = evprice.make_gym("LogitBertrand-v0", protocol="cheap_talk", message_dim=2)
    assert env.action_names[2:] == (
        "station_1.StationMessage.m0",
        "station_1.StationMessage.m1",
        "station_2.StationMessage.m0",
        "station_2.StationMessage.m1",
    )
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([1.5, 1.6, 0.5, -0.5, 1.0, 3.0], dtype=np.float32))
    np.testing.assert_allclose(info["talk"]["message"], [[0.5, -0.5], [1.0, 1.0]])
    np.testing.assert_allclose(info["station"]["price"], [1.5, 1.6], rtol=1e-6)


@pytest.mark.parametrize("overrides", PROTOCOLS[::2])
def test_vector_view_takes_full_or_price_only_actions(overrides):
    vec = evprice.make_vec("PublicCharging-v0", 3, **overrides)
    env = vec.env
    obs, _ = vec.reset(seed=0)
    assert vec.single_action_space.shape == (env.action_size,) and obs.shape[:2] == (3, env.n_agents)
    full = np.zeros((3, env.n_agents, env.action_size))
    _, r_full, _, _, i_full = vec.step(full)
    vec.reset(seed=0)
    _, r_price, _, _, i_price = vec.step(np.zeros((3, env.n_stations, 1)))  # the protocol's columns 0
    np.testing.assert_array_equal(r_full, r_price)
    np.testing.assert_array_equal(i_full["price"], i_price["price"])
    with pytest.raises(ActionError, match="action_names"):
        vec.step(np.zeros((3, env.n_agents, env.action_size + 1)))
    with pytest.raises(ActionError, match="cannot be read as an array"):
        vec.step([[[0.0, 1.0], [0.0]]] * 3)  # ragged


@pytest.mark.parametrize("overrides", PROTOCOLS[::2])
def test_a_restored_environment_repeats_the_protocols_trajectory(overrides):
    env = make_env("PublicCharging-v0", 2, **overrides)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(3):
        env.step(_random_actions(env, rng))
    snap = env.snapshot()
    actions = [_random_actions(env, rng) for _ in range(3)]
    first = [env.step(a) for a in actions]
    env.restore(snap)
    again = [env.step(a) for a in actions]
    for (o0, r0, *_), (o1, r1, *_) in zip(first, again):
        np.testing.assert_array_equal(o0, o1)
        np.testing.assert_array_equal(r0, r1)


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"protocol": "cheap_talk"}, "msg "),
        ({"protocol": "announcement"}, "announces "),
        ({"protocol": "mediator"}, "advised "),
    ],
)
def test_the_frame_shows_the_protocol(overrides, text):
    env = make_env("PublicCharging-v0", 1, **overrides)
    env.reset(seed=0)
    env.step(_random_actions(env, np.random.default_rng(0)))
    frame = env.frame_data()
    assert frame.station_ids == env.station_ids
    assert all(text in label for label in frame_labels(frame)["price"])
    assert (frame.target_price_per_kwh is None) == (overrides["protocol"] == "cheap_talk")


def test_a_bad_protocol_column_is_a_clear_error_naming_the_agent():
    env = evprice.make("PublicCharging-v0", protocol="mediator")
    env.reset(seed=0)
    actions = {a: np.zeros(env.action_space(a).shape, dtype=np.float32) for a in env.agents}
    actions["mediator"][1] = np.nan
    with pytest.raises(ActionError, match="action of mediator: non-finite value"):
        env.step(actions)
    actions["mediator"] = np.zeros(3)
    with pytest.raises(ActionError, match=r"action of mediator: shape \(3,\), expected \(2,\)"):
        env.step(actions)
    actions["mediator"] = np.zeros(2)
    _, rewards, _, _, _ = env.step(actions)  # nothing was lost to the refused steps: the episode goes on
    assert set(rewards) == {"station_1", "station_2", "mediator"} and env.env.period == 1
