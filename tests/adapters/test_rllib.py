"""The RLlib view against RLlib's own env checker, and one short RLlib training run.

Skipped where Ray is not installed (``pip install "evprice[distributed]"``)."""

import math
import os

import numpy as np
import pytest

pytest.importorskip("ray.rllib")

from ray.rllib.utils.pre_checks.env import check_multiagent_environments  # noqa: E402

from evprice.adapters.rllib import RllibMarketEnv, env_name, ppo_config, register_env  # noqa: E402
from evprice.core.actions import ActionError  # noqa: E402
from evprice.envs import STATION_INFO_KEYS, make_env, registered_ids  # noqa: E402
from evprice.learn.rllib_train import AUTH_MODE_ENV_VAR, train_rllib  # noqa: E402


@pytest.mark.parametrize("env_id", registered_ids())
def test_rllib_env_checker_passes_on_every_registered_env(env_id):
    env = RllibMarketEnv({"env_id": env_id})
    check_multiagent_environments(env)
    assert env.possible_agents == list(make_env(env_id).agent_ids)


@pytest.mark.parametrize(
    "overrides",
    [{"protocol": "cheap_talk", "n_symbols": 4}, {"protocol": "announcement"}, {"protocol": "mediator"}],
)
def test_rllib_env_checker_passes_with_each_protocol(overrides):
    """Issue 23: one (A,) action space for every agent, so one shared policy serves them all."""
    env = RllibMarketEnv({"env_id": "LogitBertrand-v0", "overrides": overrides})
    check_multiagent_environments(env)
    widths = {space.shape for space in env.action_spaces.values()}
    assert widths == {(env.env.action_size,)} and env.env.action_size > 1
    obs, _ = env.reset(seed=0)
    _, rewards, _, _, infos = env.step({a: np.zeros(env.env.action_size, dtype=np.float32) for a in env.agents})
    assert set(rewards) == set(env.possible_agents)
    if overrides["protocol"] == "mediator":
        assert "price" not in infos["mediator"] and infos["station_1"]["mediator"]["recommended"] > 0


def rollout(env, seed, steps):
    obs, infos = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [(obs, None, None, None, infos)]
    for _ in range(steps):
        actions = {a: rng.uniform(-1.2, 1.2, size=1).astype(np.float32) for a in env.agents}
        out.append(env.step(actions))
        if out[-1][3]["__all__"]:
            obs, infos = env.reset()  # seed=None continues the seeded streams
    return out


def test_reset_step_shapes_spaces_and_the_end_of_an_episode():
    env = RllibMarketEnv({"env_id": "LogitBertrand-v0", "overrides": {"n_stations": 3, "horizon_h": 1.0}})
    assert env.possible_agents == ["station_1", "station_2", "station_3"]
    obs, infos = env.reset(seed=3)
    assert env.agents == env.possible_agents and infos == {a: {} for a in env.agents}
    for a in env.agents:
        assert obs[a].dtype == np.float32 and env.get_observation_space(a).contains(obs[a])
        assert env.get_action_space(a) == env.action_spaces[a]
        assert env.action_spaces[a].shape == (1,) and env.action_spaces[a].low[0] == -1.0
    for t in range(env.n_periods):
        obs, rewards, terms, truncs, infos = env.step({a: np.zeros(1, np.float32) for a in env.possible_agents})
        last = t == env.n_periods - 1
        assert truncs == {**dict.fromkeys(env.possible_agents, last), "__all__": last}
        assert not any(terms.values()) and set(terms) == set(truncs)
        for a in env.possible_agents:
            assert env.get_observation_space(a).contains(obs[a]) and isinstance(rewards[a], float)
            assert set(infos[a]) == {*STATION_INFO_KEYS, "market"} and "cost" in infos[a]
            numbers = [v for k, v in infos[a].items() if k != "market"] + list(infos[a]["market"].values())
            assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers)
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({a: np.zeros(1) for a in env.possible_agents})


def test_bad_actions_are_clear_errors():
    env = RllibMarketEnv({"env_id": "LogitBertrand-v0"})
    env.reset(seed=0)
    with pytest.raises(ActionError, match="no action for station_2"):
        env.step({"station_1": np.zeros(1)})
    with pytest.raises(ActionError, match="unknown"):
        env.step({"station_1": np.zeros(1), "station_2": np.zeros(1), "station_9": np.zeros(1)})
    with pytest.raises(ActionError, match="non-finite"):
        env.step({"station_1": np.array([np.nan]), "station_2": np.zeros(1)})
    *_, infos = env.step({"station_1": 0.0, "station_2": np.array([5.0])})  # a bare number; 5 is clipped to 1
    assert infos["station_2"]["price"] == pytest.approx(float(env.env.params.price_max[1]))


def test_same_seed_same_trajectory_across_episodes():
    cfg = {"env_id": "PublicCharging-v0", "overrides": {"horizon_h": 2.0}}
    a = rollout(RllibMarketEnv(cfg), seed=11, steps=20)  # 8 periods an episode: crosses two resets
    b = rollout(RllibMarketEnv(cfg), seed=11, steps=20)
    c = rollout(RllibMarketEnv(cfg), seed=12, steps=20)
    for (oa, ra, *_, ia), (ob, rb, *_, ib) in zip(a, b):
        assert all(np.array_equal(oa[k], ob[k]) for k in oa) and ra == rb and ia == ib
    assert any(ra != rc for (_, ra, *_), (_, rc, *_) in zip(a[1:], c[1:]))


def test_register_env_and_ppo_config_policies():
    name = register_env("LogitBertrand-v0", {"n_stations": 3})
    assert name == env_name("LogitBertrand-v0", {"n_stations": 3}) and name.startswith("evprice/LogitBertrand-v0")
    shared = ppo_config("LogitBertrand-v0", overrides={"n_stations": 3}, shared_policy=True, seed=1)
    own = ppo_config("LogitBertrand-v0", overrides={"n_stations": 3}, shared_policy=False, seed=1)
    assert set(shared.policies) == {"shared"}
    assert {shared.policy_mapping_fn(a, None) for a in ("station_1", "station_3")} == {"shared"}
    assert set(own.policies) == {"station_1", "station_2", "station_3"}
    assert own.policy_mapping_fn("station_2", None) == "station_2"
    assert shared.env_config == {"env_id": "LogitBertrand-v0", "overrides": {"n_stations": 3}}
    assert shared.enable_rl_module_and_learner and shared.enable_env_runner_and_connector_v2  # new API stack


def test_bad_scenarios_fail_before_ray_starts():
    from evprice.core.config import ConfigError

    with pytest.raises(ConfigError, match="Nope-v0"):
        ppo_config("Nope-v0")
    with pytest.raises(ValueError, match="steps"):
        train_rllib("LogitBertrand-v0", steps=0)


def test_one_short_training_iteration_writes_a_checkpoint(tmp_path):
    import ray

    auth_before = os.environ.get(AUTH_MODE_ENV_VAR)
    seen, modes = [], []

    listening = []

    def on_iteration(row):  # inside the session: the local instance runs with token authentication
        seen.append(row)
        modes.append(os.environ.get(AUTH_MODE_ENV_VAR))
        listening.extend(_listening_addresses())

    summary = train_rllib(
        "LogitBertrand-v0",
        steps=64,
        seed=0,
        overrides={"horizon_h": 2.0},  # 8 periods: episodes complete within the iteration
        shared_policy=False,
        out_dir=tmp_path,
        on_iteration=on_iteration,
    )
    assert summary["iterations"] == 1 == len(seen) and summary["env_steps"] == 64
    for key in ("episode_return_mean", "time_s", "iteration_time_s"):
        assert math.isfinite(summary[key]), key
    ckpt = summary["checkpoint"]
    assert ckpt is not None and os.path.isdir(ckpt) and os.listdir(ckpt)
    assert not ray.is_initialized()  # shut down again
    assert modes == [auth_before or "token"]  # issue 19: authentication was switched off, an open door
    # the local instance's servers (GCS, raylet) listen on every interface (Ray binds them so
    # whatever node address it is given), so the token is what keeps the door shut
    assert {name for name, _ in listening} >= {"gcs_server", "raylet"}
    exposed = [(name, ip) for name, ip in listening if ip not in ("127.0.0.1", "::1")]
    assert not exposed or modes == ["token"], exposed
    assert os.environ.get(AUTH_MODE_ENV_VAR) == auth_before  # the caller's environment as it was


@pytest.mark.parametrize("env_id", registered_ids())
def test_one_info_contract_rllib_gives_what_pettingzoo_gives(env_id):
    """Every per-station key and every group (market, grid) on both views, the same numbers."""
    import evprice

    rl, pz = RllibMarketEnv({"env_id": env_id}), evprice.make(env_id)
    rl.reset(seed=5)
    pz.reset(seed=5)
    rng = np.random.default_rng(5)
    for _ in range(6):
        actions = {a: rng.uniform(-1, 1, 1).astype(np.float32) for a in pz.possible_agents}
        r_obs, r_rew, _, _, r_info = rl.step(actions)
        p_obs, p_rew, _, _, p_info = pz.step(actions)
        assert r_info == p_info and r_rew == p_rew
        assert all(np.array_equal(r_obs[a], p_obs[a]) for a in pz.possible_agents)
    assert "market" in p_info[pz.possible_agents[0]]


def _listening_addresses() -> list[tuple[str, str]]:
    """``(process name, address)`` of every socket the Ray processes this one started listen on."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            out += [(child.name(), c.laddr.ip) for c in child.net_connections("inet") if c.status == psutil.CONN_LISTEN]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out
