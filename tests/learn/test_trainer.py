"""The trainer: it learns a known optimum, is deterministic, resumes, writes its outputs."""

import csv

import numpy as np
import pytest
import yaml
from scipy.optimize import minimize_scalar

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.learn import PPOConfig, load_policy, train

MONOPOLY = {"n_stations": 1, "price_min": 1.0, "price_max": 3.0}


def _monopoly_profit(p: float) -> float:
    # logit monopoly, a = 2, a0 = 0, mu = 0.25, c = 1: (p - 1) q(p) per period
    return (p - 1.0) * np.exp((2.0 - p) / 0.25) / (np.exp((2.0 - p) / 0.25) + 1.0)


def _monopoly_price() -> float:
    return float(minimize_scalar(lambda p: -_monopoly_profit(p), bounds=(1.0, 3.0), method="bounded").x)


def _price(run_dir, overrides):
    env = make_env("LogitBertrand-v0", 1, **overrides)
    _, _, policy = load_policy(run_dir)
    a = policy(env.reset(seed=0))[0, :, 0]
    return env.params.price_min + (a + 1.0) / 2.0 * (env.params.price_max - env.params.price_min)


# (with one station MAPPO's global state is IPPO's observation: the two coincide, so one is enough)
@pytest.mark.parametrize(("algo", "distribution", "steps"), [("mappo", "gaussian", 16_384), ("mappo", "beta", 32_768)])
def test_one_station_finds_the_monopoly_price(tmp_path, algo, distribution, steps):
    cfg = PPOConfig(
        algo=algo,
        total_steps=steps,
        num_envs=32,
        rollout_periods=16,
        eval_episodes=1,
        init_log_std=-1.0,
        policy_distribution=distribution,
    )
    train("LogitBertrand-v0", cfg, overrides=MONOPOLY, out_dir=tmp_path)
    # the policy starts at the middle of [1, 3], 2.0, which earns 90.6% of the optimum (p* = 1.80);
    # profit is flat near p* (within 0.5% over +-0.06), so the check is on profit, then on price
    price, best = _price(tmp_path, MONOPOLY)[0], _monopoly_price()
    assert _monopoly_profit(price) >= 0.99 * _monopoly_profit(best)
    assert price == pytest.approx(best, abs=0.08)


def test_same_seed_same_run_and_outputs(tmp_path):
    cfg = PPOConfig(total_steps=2048, num_envs=8, rollout_periods=16, eval_every_updates=4, eval_episodes=2)
    a = train("LogitBertrand-v0", cfg, out_dir=tmp_path / "a")
    b = train("LogitBertrand-v0", cfg, out_dir=tmp_path / "b")
    for key in ("policy_loss", "value_loss", "eval_return", "eval_delta"):
        assert a[key] == b[key]
    c = train("LogitBertrand-v0", cfg.replace(seed=1))
    assert c["policy_loss"] != a["policy_loss"]
    rows = list(csv.DictReader((tmp_path / "a" / "metrics.csv").open()))
    assert len(rows) == cfg.n_updates == 16
    assert rows[3]["eval_delta"] != "" and rows[0]["eval_delta"] == ""
    saved = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert saved["env"] == "LogitBertrand-v0" and saved["ppo"]["total_steps"] == 2048
    assert any((tmp_path / "a" / "tb").iterdir())  # TensorBoard events


def test_resume_continues_from_the_checkpoint(tmp_path):
    from evprice.learn import load_checkpoint

    cfg = PPOConfig(total_steps=1024, num_envs=8, rollout_periods=16, checkpoint_every_updates=2, eval_episodes=2)
    train("LogitBertrand-v0", cfg, out_dir=tmp_path)
    before = load_checkpoint(tmp_path)
    longer = cfg.replace(total_steps=1024 + 128)  # one more update
    row = train("LogitBertrand-v0", longer, out_dir=tmp_path, resume=tmp_path)
    after = load_checkpoint(tmp_path)
    assert row["update"] == 9 and row["env_steps"] == 1152
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [int(r["update"]) for r in rows] == list(range(1, 10))
    # the statistics and the optimiser went on from the checkpoint's, not from scratch
    assert after["obs_norm"]["rms"]["count"] == pytest.approx(before["obs_norm"]["rms"]["count"] + 128)
    steps = [s["step"] for s in after["optimizer"]["state"].values()]
    old = [s["step"] for s in before["optimizer"]["state"].values()]
    assert [float(x) for x in steps] == [float(x) + cfg.update_epochs * cfg.minibatches for x in old]


def test_resume_refuses_a_different_network_or_environment(tmp_path):
    cfg = PPOConfig(total_steps=256, num_envs=8, rollout_periods=16, eval_episodes=2)
    train("LogitBertrand-v0", cfg, out_dir=tmp_path)
    with pytest.raises(ConfigError, match="hidden_sizes=.* cannot change on resume"):
        train("LogitBertrand-v0", cfg.replace(hidden_sizes=(16,)), resume=tmp_path)
    with pytest.raises(ConfigError, match="algo='ippo' cannot change on resume"):
        train("LogitBertrand-v0", cfg.replace(algo="ippo"), resume=tmp_path)
    with pytest.raises(ConfigError, match="keeps its environment"):
        train("PublicCharging-v0", cfg, resume=tmp_path)


def test_mappo_and_ippo_critics_see_different_inputs(tmp_path):
    cfg = PPOConfig(total_steps=512, num_envs=8, rollout_periods=16, eval_episodes=2)
    a = train("LogitBertrand-v0", cfg)
    b = train("LogitBertrand-v0", cfg.replace(algo="ippo"))
    assert a["value_loss"] != b["value_loss"]


def test_uneven_minibatches_and_one_sample_minibatches_stay_finite():
    # 5 samples in 4 minibatches: 2, 1, 1, 1 (tensor_split), advantages of one sample left as they are
    cfg = PPOConfig(total_steps=20, num_envs=5, rollout_periods=1, minibatches=4, eval_episodes=1)
    row = train("LogitBertrand-v0", cfg, overrides=MONOPOLY)
    assert np.isfinite(row["policy_loss"]) and np.isfinite(row["value_loss"])


def test_bad_settings_name_the_field():
    with pytest.raises(ConfigError, match="algo='ppo' is invalid: expected one of 'mappo', 'ippo'"):
        PPOConfig(algo="ppo")
    with pytest.raises(ConfigError, match="minibatches=100 is invalid"):
        PPOConfig(num_envs=2, rollout_periods=4, minibatches=100)


def test_unshared_parameters_train_independent_networks(tmp_path):
    cfg = PPOConfig(total_steps=1024, num_envs=8, rollout_periods=16, share_parameters=False, eval_episodes=2)
    row = train("LogitBertrand-v0", cfg, out_dir=tmp_path)
    assert np.isfinite(row["policy_loss"])
    _, _, policy = load_policy(tmp_path)
    w = policy.actor.body[0].weight
    assert w.shape[0] == 2 and not np.allclose(w[0].detach().numpy(), w[1].detach().numpy())
