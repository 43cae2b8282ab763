"""The ``safety`` experiment: days played and counted, arms summarised, the report rendered."""

import json

import numpy as np
import pytest
from scipy import stats

from evprice.analysis.experiments import ExperimentSettings, run_experiment
from evprice.analysis.rollouts import evaluate
from evprice.analysis.studies import safety
from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.policies.baselines import make_policy

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ENV = "CoupledNetworkPeak-v0"


def test_play_days_counts_the_violations_evaluate_counts():
    env = make_env(ENV, 3)
    lower = make_policy("fixed", env, price=env.params.price_min)  # cheap: the most demand, violations
    played = safety.play_days(env, lower, seed=7)
    # the evaluation module's own count on the same days
    summary = evaluate(ENV, lambda e: make_policy("fixed", e, price=e.params.price_min), episodes=3, seed=7)
    assert sum(played["violating_days"]) == summary["costs"]["violating_periods"] > 0
    # by hand, stepping a fresh copy: each term counted where it is above 0, per period and day
    env2 = make_env(ENV, 3)
    obs = env2.reset(seed=7)
    per_period = np.zeros(env2.n_periods)
    voltage = reward = 0.0
    for t in range(env2.n_periods):
        obs, r, _, _, info = env2.step(lower(obs))
        reward += float(np.mean(r))
        per_period[t] = np.mean(info["cost"][:, 0] > 0)
        voltage += float(np.sum(info["grid"]["cost_voltage"] > 0)) / 3
    assert played["by_period"] == pytest.approx(per_period.tolist())
    assert played["terms"]["voltage"] == pytest.approx(voltage)
    assert np.mean(played["reward_days"]) == pytest.approx(reward)
    step_h = env.config.action_period_s / 3600.0
    assert np.diff(played["hour"]) == pytest.approx([step_h] * (env.n_periods - 1))


def _row(method, limit, seed, reward, violating, **extra):
    return {
        "method": method,
        "cost_limit": limit,
        "seed": seed,
        "team_reward": reward,
        "violating_periods": violating,
        "reward_days": [reward],
        "violating_days": [violating],
        "terms": {"voltage": violating, "line": 0.0, "carbon": 0.0},
        "by_period": [0.0, violating / 2, violating / 2],
        "hour": [7.0, 8.0, 9.0],
        "train_s": 10.0 * (seed + 1),
        "env_steps": extra.pop("env_steps", 600),
        **extra,
    }


def test_summary_means_intervals_and_seeds_within_the_limit_by_hand():
    rows = [
        _row("constrained CEM", 0.3, s, reward, v, plan_time_s=0.2)
        for s, (reward, v) in enumerate([(0.95, 0.1), (0.96, 0.5), (0.94, 0.2)])
    ] + [_row("upper bounds", None, s, 0.93, v, env_steps=None) for s, v in enumerate([0.25, 0.35, 0.3])]
    summary = safety.summarise(rows)
    cem = summary["constrained CEM (0.3)"]
    v = np.array([0.1, 0.5, 0.2])
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
    assert cem["violating_periods"] == pytest.approx(v.mean())
    assert cem["violating_periods_ci95"] == pytest.approx([max(v.mean() - half, 0.0), v.mean() + half])
    assert cem["seeds_within"] == 2 and cem["seeds"] == 3  # 0.1 and 0.2 keep 0.3; 0.5 does not
    assert cem["reward"] == pytest.approx(0.95) and cem["env_steps"] == 600 and cem["plan_time_s"] == pytest.approx(0.2)
    assert cem["train_s"] == pytest.approx(20.0)
    assert cem["by_period"] == pytest.approx([0.0, v.mean() / 2, v.mean() / 2])
    free = summary["upper bounds"]
    assert free["judged_limit"] == safety.SAFETY_LIMIT and free["seeds_within"] == 2  # 0.3 itself keeps it
    assert free["env_steps"] is None


def test_paired_difference_is_seed_by_seed():
    # the planner beats the fixed prices by 0.018, 0.02, 0.022 on each seed's days; the seed means differ a lot
    rows = [_row("constrained CEM", 0.3, s, 0.9 + 0.1 * s + 0.018 + 0.002 * s, 0.0) for s in range(3)]
    rows += [_row("best safe fixed prices", 0.3, s, 0.9 + 0.1 * s, 0.0) for s in range(3)]
    diff, ci = safety.paired_difference(rows, "constrained CEM (0.3)", "best safe fixed prices (0.3)", "team_reward")
    half = stats.t.ppf(0.975, 2) * np.std([0.018, 0.02, 0.022], ddof=1) / np.sqrt(3)
    assert diff == pytest.approx(0.02) and ci == pytest.approx([0.02 - half, 0.02 + half])
    assert ci[0] > 0  # paired: the days' spread of 0.1 between seeds does not hide it
    with pytest.raises(ValueError, match="no seed has both"):
        safety.paired_difference(rows, "constrained CEM (0.3)", "MAPPO", "team_reward")


def test_report_from_saved_rows_has_the_tables_the_frontier_and_the_verdicts(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "FRONTIER_LIMITS", (0.15, 0.3))
    rows = []
    for s in range(8):
        for limit, v in ((0.15, 0.1), (0.3, 0.2 if s < 7 else 0.5)):
            rows.append(_row("constrained CEM", limit, s, 0.95, v, plan_time_s=0.2))
            rows.append(_row("MAPPO-Lagrangian", limit, s, 0.96, v + 0.2, env_steps=400_000))
            rows.append(_row("best safe fixed prices", limit, s, 0.944, v, env_steps=None))
        for method in safety.FREE:
            rows.append(_row(method, None, s, 0.96, 1.0, env_steps=None))
    (tmp_path / "results.json").write_text(json.dumps({"rows": rows, "wall_s": 1.0, "machine": "test"}))
    settings = ExperimentSettings(seeds=8, episodes=16, reuse=True)
    text = run_experiment("safety", settings, tmp_path).read_text()
    assert "| constrained CEM (0.3) | 0.950 |" in text and "7 of 8" in text
    assert "seeds kept it (target: 7 of 8, met)" in text  # the planner: 7 seeds at 0.2, one at 0.5
    assert "MAPPO-Lagrangian at limit 0.3" in text and "0 of 8 seeds kept it (target: 7 of 8, missed)" in text
    assert "constrained CEM 0.950 against the best safe fixed prices' 0.944 (target above: met)" in text
    assert "the difference on the same days is +0.0060 [0.006, 0.006] per day" in text  # every seed +0.006
    assert "400,000 (667 times as many)" in text
    assert "| voltage periods / day |" in text and "08:00" in text  # the worst hour of the planner's arm
    for name in ("safety_frontier.png", "safety_by_hour.png"):
        assert (tmp_path / "figures" / name).read_bytes()[:8] == PNG_MAGIC


def test_safety_needs_a_grid_and_checks_overrides_before_training(tmp_path):
    with pytest.raises(ConfigError, match="needs a grid"):
        run_experiment("safety", ExperimentSettings(seeds=1, env="PublicCharging-v0"), tmp_path)
    with pytest.raises(ConfigError, match="not_a_key"):
        run_experiment("safety", ExperimentSettings(seeds=1, overrides={"not_a_key": 1}), tmp_path)


@pytest.mark.long
def test_every_method_trains_and_plays_on_the_same_days(tmp_path, monkeypatch):
    """One seed, one limit, the shortest runs: every method's row, the fixed prices' own search."""
    monkeypatch.setattr(safety, "FRONTIER_LIMITS", (0.3,))
    arms = tuple(
        (name, constrained, (0.3,), model, folder) for name, constrained, _, model, folder in safety.PLANNER_ARMS
    )
    monkeypatch.setattr(safety, "PLANNER_ARMS", arms)
    monkeypatch.setattr(safety, "PLANNER_DECISIONS", 12)
    settings = ExperimentSettings(seeds=1, steps=2048, episodes=2)
    run_experiment("safety", settings, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    methods = {(r["method"], r["cost_limit"]) for r in data["rows"]}
    assert methods == {
        ("constrained CEM", 0.3),
        ("constrained CEM, calibrated", 0.3),
        ("MAPPO-Lagrangian", 0.3),
        ("best safe fixed prices", 0.3),
        *((m, None) for m in safety.FREE),
    }
    upper = next(r for r in data["rows"] if r["method"] == "upper bounds")
    env = make_env(ENV, 2)
    again = safety.play_days(env, make_policy("fixed", env, price=env.params.price_max), safety.EVAL_SEED)
    assert upper["violating_days"] == again["violating_days"] and upper["reward_days"] == pytest.approx(
        again["reward_days"]
    )
