"""The Stable-Baselines3 VecEnv: one sub-environment per (member, station), the batched world's numbers."""

import numpy as np
import pytest

import evprice
from evprice.envs import make_env

pytest.importorskip("stable_baselines3")


def test_sub_environments_are_the_stations_of_the_batch_members():
    venv = evprice.make_sb3_vec("PublicCharging-v0", 3, horizon_h=1.0)
    ref = make_env("PublicCharging-v0", 3, horizon_h=1.0)  # the batched world, stepped by hand
    assert venv.num_envs == 6 and venv.observation_space.shape == (ref.observation_size,)
    venv.seed(11)
    obs = venv.reset()
    want = ref.reset(11)
    np.testing.assert_array_equal(obs, want.reshape(6, -1))
    rng = np.random.default_rng(0)
    for period in range(ref.n_periods):
        actions = rng.uniform(-1, 1, (6, 1)).astype(np.float32)
        venv.step_async(actions)
        obs, rewards, dones, infos = venv.step_wait()
        want_obs, want_reward, _, truncated, _ = ref.step(actions.reshape(3, 2, 1))
        np.testing.assert_allclose(rewards, want_reward.reshape(-1), rtol=1e-6)
        last = period == ref.n_periods - 1
        assert dones.tolist() == [last] * 6 and bool(truncated.all()) == last
        if last:  # the episode's last observation in the info, the next episode's first returned
            np.testing.assert_array_equal(np.stack([i["terminal_observation"] for i in infos]), want_obs.reshape(6, -1))
            assert all(i["TimeLimit.truncated"] for i in infos)
            assert not np.array_equal(obs, want_obs.reshape(6, -1))
        else:
            np.testing.assert_array_equal(obs, want_obs.reshape(6, -1))
    assert venv.get_attr("n_periods") == [ref.n_periods] * 6 and venv.env_is_wrapped(object) == [False] * 6


def test_sb3_ppo_trains_one_shared_policy_for_every_station():
    from stable_baselines3 import PPO

    venv = evprice.make_sb3_vec("LogitBertrand-v0", 4)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=2, seed=0, verbose=0, device="cpu")
    model.learn(2048)
    assert model.num_timesteps >= 2048
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (8, 1) and np.all(np.abs(actions) <= 1.0)


def test_the_central_gymnasium_view_passes_sb3s_env_checker():
    import warnings

    from stable_baselines3.common.env_checker import check_env

    with warnings.catch_warnings():
        # its one piece of advice: actions here are prices in currency/kWh, not scaled to [-1, 1]
        warnings.filterwarnings("ignore", message="We recommend you to use a symmetric and normalized Box")
        check_env(evprice.make_gym("PublicCharging-v0"))  # raises on any API problem
