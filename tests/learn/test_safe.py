"""The safe model-based trainer end to end on CoupledNetwork-v0 (small settings)."""

import csv

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields
from evprice.envs import make_env
from evprice.learn.checkpoint import load_checkpoint
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
    cfg = SafeRLConfig.from_overrides({**SMALL, "cost_limit": 10.0, "best_window": 2})
    out = train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path)
    rows = _rows(tmp_path)
    assert [r["planned"] for r in rows] == ["False", "True", "True", "True"]  # the first episode is random
    assert all(float(r["plan_time_s"]) > 0 for r in rows[1:])
    assert (tmp_path / "checkpoints" / "best.pt").is_file() and (tmp_path / "checkpoints" / "last.pt").is_file()
    assert any((tmp_path / "tb").iterdir())  # TensorBoard events
    # every episode is within a limit of 10, so kappa is pushed down and projected onto 0
    assert out["kappa"] == 0.0 and all(float(r["kappa"]) == 0.0 for r in rows)


@pytest.mark.parametrize("window", [1, pytest.param(2, marks=pytest.mark.long)])
def test_best_checkpoint_is_the_best_window_within_the_limit(tmp_path, window):
    """The limit sits between the episodes' costs, so some windows qualify and some do not;
    the expected checkpoint is worked out from metrics.csv alone."""
    probe = train_ccem("CoupledNetwork-v0", SafeRLConfig.from_overrides({**SMALL, "total_steps": 72}))
    costs = sorted(r["episode_cost"] for r in probe["episodes"] if r["planned"])
    limit = float(np.median(costs))
    cfg = SafeRLConfig.from_overrides({**SMALL, "total_steps": 72, "cost_limit": limit, "best_window": window})
    train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path)
    planned = [r for r in _rows(tmp_path) if r["planned"] == "True"]
    best, best_steps = -np.inf, None
    for end in range(window, len(planned) + 1):
        w = planned[end - window : end]
        reward = np.mean([float(r["episode_reward"]) for r in w])
        if np.mean([float(r["episode_cost"]) for r in w]) <= limit and reward > best:
            best, best_steps = reward, int(w[-1]["env_steps"])
    assert best_steps is not None  # the test saw a qualifying window
    assert load_checkpoint(tmp_path / "checkpoints" / "best.pt", kind="ccem")["env_steps"] == best_steps


def test_kappa_rises_when_episodes_cost_more_than_allowed(tmp_path):
    cfg = SafeRLConfig.from_overrides({**SMALL, "cost_limit": 0.0})
    out = train_ccem("CoupledNetwork-v0", cfg)
    kappas = [r["kappa"] for r in out["episodes"]]
    costs = [r["episode_cost"] for r in out["episodes"]]
    assert kappas[0] == 0.0  # random episode: no update
    # each planned episode adds kappa_lr (the trainer default 1.0) x (cost - 0)
    np.testing.assert_allclose(np.diff(kappas), 1.0 * np.array(costs[1:]), rtol=1e-9)


def test_unconstrained_planning_leaves_kappa_alone():
    cfg = SafeRLConfig.from_overrides({**SMALL, "cost_limit": 0.0, "constrained": False})
    out = train_ccem("CoupledNetwork-v0", cfg)
    assert sum(r["episode_cost"] for r in out["episodes"]) > 0  # over the limit, yet
    assert out["kappa"] == 0.0 and all(r["kappa"] == 0.0 for r in out["episodes"])


@pytest.mark.parametrize("env_id, head", [("CoupledNetwork-v0", "gaussian"), ("CoupledNetworkPeak-v0", "logistic")])
def test_auto_cost_head_follows_the_cost_form_and_is_saved_resolved(tmp_path, env_id, head):
    """CoupledNetworkPeak-v0's cost is an indicator (0 or 1 a period): a logistic head."""
    small = {**SMALL, "total_steps": 24}
    out = train_ccem(env_id, SafeRLConfig.from_overrides(small), out_dir=tmp_path)
    assert out["model"].config.cost_head == head and out["model"].logistic_cost == (head == "logistic")
    _, _, factory = load_ccem(tmp_path)
    policy = factory(make_env(env_id, 1))
    assert policy.model.logistic_cost == (head == "logistic")
    costs = {c for r in out["episodes"] for c in [r["episode_cost"]]}
    if head == "logistic":  # whole numbers of violating periods
        assert all(float(c).is_integer() for c in costs)


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


def test_every_scalar_setting_is_declared():
    rows = {r["name"]: r for r in describe_fields(SafeRLConfig)}
    assert [n for n, r in rows.items() if not r["allowed"]] == ["planner", "model"]  # nested configs
    assert rows["device"]["allowed"] == "one of 'cpu', 'cuda', 'auto'"
    cfg = SafeRLConfig(total_steps=10.0, constrained=False, planner={"horizon": 3})
    assert type(cfg.total_steps) is int and cfg.planner.horizon == 3 and cfg.planner.population == 200
    with pytest.raises(ConfigError, match="^constrained=0 is invalid: expected true or false"):
        SafeRLConfig(constrained=0)


def test_a_resumed_run_is_the_uninterrupted_run_bit_for_bit(tmp_path):
    """The checkpoint keeps the environment as the episode left it (and whether the model was
    fitted yet), so a run stopped after an episode and resumed repeats the rest exactly."""
    cfg = SafeRLConfig.from_overrides({**SMALL, "random_steps": 30})  # the stop falls before the first plan
    whole = train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path / "whole")

    class Stop(Exception):
        pass

    def stop_after_two(row):
        if row["episode"] == 2:
            raise Stop

    with pytest.raises(Stop):
        train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path / "cut", on_episode=stop_after_two)
    rest = train_ccem("CoupledNetwork-v0", cfg, out_dir=tmp_path / "cut", resume=tmp_path / "cut")
    keys = ("episode", "env_steps", "episode_reward", "episode_cost", "violating_steps", "planned", "kappa")
    assert [[r[k] for k in keys] for r in whole["episodes"][2:]] == [[r[k] for k in keys] for r in rest["episodes"]]
    import torch

    a, b = whole["model"].state_dict(), rest["model"].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
