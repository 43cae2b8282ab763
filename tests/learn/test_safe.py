"""The safe model-based trainer end to end on CoupledNetwork-v0 (small settings)."""

import csv

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.learn.safe import SafeRLConfig, load_ccem, train_ccem

SMALL = {
    "total_steps": 48,
    "random_steps": 12,
    "retrain_every": 12,
    "planner": {"population": 30, "n_elites": 5, "particles": 2, "iterations": 2, "horizon": 3},
    "model": {"hidden_sizes": (16, 16), "max_epochs": 5, "n_members": 3, "n_elites": 2},
}


def _rows(path):
    return list(csv.DictReader((path / "metrics.csv").open()))


def test_trains_plans_and_keeps_the_best_safe_checkpoint(tmp_path):
    cfg = SafeRLConfig.from_overrides({**SMALL, "cost_limit": 10.0})
    out = train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path)
    rows = _rows(tmp_path)
    assert [r["planned"] for r in rows] == ["False", "True", "True", "True"]  # the first episode is random
    assert all(float(r["plan_time_s"]) > 0 for r in rows[1:])
    assert (tmp_path / "checkpoints" / "best.pt").is_file() and (tmp_path / "checkpoints" / "last.pt").is_file()
    assert any((tmp_path / "tb").iterdir())  # TensorBoard events
    # every episode is within a limit of 10, so kappa is pushed down and projected onto 0
    assert out["kappa"] == 0.0 and all(float(r["kappa"]) == 0.0 for r in rows)


def test_kappa_rises_when_episodes_cost_more_than_allowed(tmp_path):
    cfg = SafeRLConfig.from_overrides({**SMALL, "cost_limit": 0.0})
    out = train_ccem("CoupledNetwork-v0", cfg)
    kappas = [r["kappa"] for r in out["episodes"]]
    costs = [r["episode_cost"] for r in out["episodes"]]
    assert kappas[0] == 0.0  # random episode: no update
    # each planned episode adds kappa_lr x (cost - 0)
    np.testing.assert_allclose(np.diff(kappas), 0.1 * np.array(costs[1:]), rtol=1e-9)


def test_same_seed_same_run_and_resume_continues(tmp_path):
    cfg = SafeRLConfig.from_overrides(SMALL)
    a = train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path / "a")
    b = train_ccem("CoupledNetwork-v0", cfg)
    assert [r["episode_reward"] for r in a["episodes"]] == [r["episode_reward"] for r in b["episodes"]]
    longer = cfg.replace(total_steps=60)
    last = tmp_path / "a" / "checkpoints" / "last.pt"
    c = train_ccem("CoupledNetwork-v0", longer, out_dir=tmp_path / "a", resume=last)
    assert [r["episode"] for r in c["episodes"]] == [5] and c["episodes"][0]["env_steps"] == 60
    assert [int(r["episode"]) for r in _rows(tmp_path / "a")] == [1, 2, 3, 4, 5]


def test_the_trained_planner_plays_as_a_policy(tmp_path):
    train_ccem("CoupledNetwork-v0", SafeRLConfig.from_overrides({**SMALL, "cost_limit": 10.0}), out_dir=tmp_path)
    env_id, overrides, factory = load_ccem(tmp_path)
    env = make_env(env_id, 2, **overrides)
    policy = factory(env)
    obs = env.reset(seed=0)
    for _ in range(3):
        actions = policy(obs)
        assert actions.shape == (2, 3, 1) and np.all(np.abs(actions) <= 1.0 + 1e-9)
        obs = env.step(actions)[0]
    with pytest.raises(ConfigError, match="plans 3 prices"):
        factory(make_env("PublicCharging-v0", 1))


def test_bad_settings_name_the_field():
    with pytest.raises(ConfigError, match="population=0 is invalid"):
        SafeRLConfig.from_overrides({"planner": {"population": 0}})
    with pytest.raises(ConfigError, match="cost_limit=-1 is invalid"):
        SafeRLConfig(cost_limit=-1)
