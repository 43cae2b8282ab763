import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from evprice.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_rollout_json():
    r = run("rollout", "--episodes", "2", "--seed", "4", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["env"] == "PublicCharging-v0" and s["episodes"] == 2 and s["seed"] == 4
    assert len(s["stations"]) == 2
    assert s["market"]["arrivals"] == s["market"]["admitted"] + s["market"]["blocked"] + s["market"]["gave_up"]


def test_rollout_table_and_overrides(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("env: PublicCharging-v0\nn_stations: 3\nhorizon_h: 2\n")
    r = run(
        "rollout",
        "--policy",
        "fixed",
        "--price",
        "1.2",
        "--config",
        str(cfg),
        "--set",
        "chargers_per_station=[1, 2, 3]",
    )
    assert r.exit_code == 0, r.output
    assert "station_3" in r.output and "market:" in r.output
    r = run("rollout", "--policy", "fixed", "--price", "1.2", "--config", str(cfg), "--json")
    assert [s["mean_price"] for s in json.loads(r.output)["stations"]] == [1.2] * 3


def test_errors_name_the_problem_and_exit_2():
    r = run("rollout", "--set", "n_stations=0")
    assert r.exit_code == 2 and "n_stations=0 is invalid: expected an integer in [1, 1000]" in r.output
    r = run("rollout", "--set", "dt=30")
    assert r.exit_code == 2 and "unknown key 'dt'" in r.output
    r = run("rollout", "--env", "Nope-v0")
    assert r.exit_code == 2 and "unknown environment id 'Nope-v0'" in r.output
    r = run("rollout", "--price", "1.0")
    assert r.exit_code == 2 and "price does not apply to the 'random' policy" in r.output
    r = run("rollout", "--policy", "fixed", "--price", "9")
    assert r.exit_code == 2 and "price=9.0 is invalid" in r.output
    r = run("rollout", "--set", "noise")
    assert r.exit_code == 2 and "expected key=value" in r.output


def test_config_and_envs_commands():
    r = run("config", "--set", "n_stations=3")
    assert r.exit_code == 0, r.output
    assert "\nn_stations: 3\n" in r.output and "\nchargers_per_station: [4, 4, 4]\n" in r.output
    assert "[currency/kWh]" in r.output
    r = run("envs")
    assert r.exit_code == 0 and "PublicCharging-v0" in r.output
    # the fields the driver model does not use are marked, and setting one is refused by name
    r = run("config", "--env", "CoupledNetwork-v0")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "no effect with driver_cost='generalised'" in lines[lines.index("price_sensitivity: 4.0") - 1]
    assert "no effect" not in lines[lines.index("value_of_time_per_h: 20.0") - 1]
    r = run("config", "--env", "CoupledNetwork-v0", "--set", "price_sensitivity=3")
    assert r.exit_code != 0 and "price_sensitivity=3.0 is invalid with driver_cost='generalised'" in r.output


def test_theory_json_and_markdown():
    r = run("theory", "--env", "LogitBertrand-v0", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert set(report) >= {"nash", "joint", "stackelberg"}
    for key in ("nash", "joint", "stackelberg"):
        assert set(report[key]) >= {"prices", "shares", "profits"}
    assert abs(report["nash"]["prices"][0] - 1.4729267) < 1e-6
    assert report["stackelberg"]["leader"] == "station_1"
    r = run("theory", "--markdown", "--leader", "station_2")
    assert r.exit_code == 0 and "| Stackelberg, leader station_2 |" in r.output and "capacity-aware Nash" in r.output
    r = run("theory", "--leader", "station_9")
    assert r.exit_code == 2 and "--leader 'station_9' is invalid" in r.output
    r = run("theory", "--set", "noise=normal")
    assert r.exit_code == 2 and "needs Gumbel noise" in r.output


def test_evaluate_json():
    r = run("evaluate", "--env", "LogitBertrand-v0", "--policy", "joint", "--episodes", "2", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["policy"] == "joint" and abs(s["delta"]["total"] - 1.0) < 1e-9
    assert "ci95" in s["stations"][0] and "ci95" in s["market"] and "ci95" in s["delta"]
    r = run("evaluate", "--policy", "time_of_use", "--markup", "0.4", "--episodes", "2")
    assert r.exit_code == 0 and "half-width" in r.output and "± " in r.output
    r = run("evaluate", "--env", "LogitBertrand-v0")
    assert r.exit_code == 2 and "give exactly one of --policy NAME and --checkpoint PATH" in r.output


def test_grid_powerflow_reproduces_the_published_base_case():
    """Baran & Wu: losses 202.7 kW, lowest voltage 0.9131 p.u. at bus 17 (0-based), with both solvers."""
    import pytest

    solvers = ["fast"]
    try:
        import pandapower  # noqa: F401

        solvers.append("pandapower")
    except ImportError:
        pass
    for solver in solvers:
        r = run("grid", "powerflow", "--solver", solver, "--json")
        assert r.exit_code == 0, r.output
        s = json.loads(r.output)
        assert s["converged"] is True and s["vmin_bus"] == 17
        assert abs(s["losses_kw"] - 202.7) < 0.05 and abs(s["vmin_pu"] - 0.9131) < 5e-5
        assert s["vmax_pu"] == 1.0 and s["p_slack_mw"] == pytest.approx(3.715 + s["losses_kw"] / 1e3, abs=1e-9)
    r = run("grid", "powerflow", "--feeder", "doc2", "--add-load", "17:400", "--add-load", "32:100:50")
    assert r.exit_code == 0 and "doc2 (fast): losses" in r.output and "(bus 17)" in r.output
    more = json.loads(run("grid", "powerflow", "--add-load", "17:400", "--json").output)
    assert more["vmin_pu"] < 0.9131 and more["losses_kw"] > 202.7


def test_grid_powerflow_errors():
    r = run("grid", "powerflow", "--add-load", "33:100")
    assert r.exit_code == 2 and "bus 33 is invalid: expected a bus of case33bw in [0, 32]" in r.output
    r = run("grid", "powerflow", "--add-load", "5")
    assert r.exit_code == 2 and "expected BUS:KW or BUS:KW:KVAR" in r.output
    r = run("grid", "powerflow", "--feeder", "ieee13")
    assert r.exit_code == 2 and "feeder='ieee13' is invalid: expected one of 'case33bw', 'doc2', 'cigre_mv'" in r.output
    r = run("grid", "powerflow", "--add-load", "17:1e6", "--json")  # 1 GW: beyond voltage collapse
    assert r.exit_code == 0 and json.loads(r.output)["converged"] is False


def test_rollout_of_the_grid_market_reports_costs():
    r = run("rollout", "--env", "GridCharging-v0", "--episodes", "2", "--set", "horizon_h=6", "--json")
    assert r.exit_code == 0, r.output
    costs = json.loads(r.output)["costs"]
    assert set(costs) == {"voltage", "line", "carbon", "total", "violating_periods", "nonconverged_periods"}
    assert costs["total"] >= 0 and 0 <= costs["violating_periods"] <= 2 * 24
    r = run("evaluate", "--env", "GridCharging-v0", "--policy", "fixed", "--episodes", "2", "--set", "horizon_h=2")
    assert r.exit_code == 0 and "grid costs" in r.output
    assert "costs" not in json.loads(run("rollout", "--json").output)


def test_train_then_evaluate_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "mappo",
            "--env",
            "LogitBertrand-v0",
            "--steps",
            "512",
            "--out",
            str(out),
            "--ppo",
            "num_envs=4",
            "--ppo",
            "rollout_periods=16",
            "--ppo",
            "eval_episodes=2",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "metrics.csv").is_file()
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(out), "--episodes", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["policy"] == "checkpoint" and summary["env"] == "LogitBertrand-v0" and summary["episodes"] == 3
    assert "delta" in summary and "ci95" in summary["market"]
    # the same numbers as the trained policy played by hand
    from evprice.envs import make_env
    from evprice.learn import load_policy

    _, _, policy = load_policy(out)
    env = make_env("LogitBertrand-v0", 3)
    obs, profit = env.reset(seed=0), 0.0
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        profit += info["profit"].sum()
    assert summary["market"]["profit"] == pytest.approx(profit)


def test_train_resume_continues_in_the_run_folder_and_checks_stations(tmp_path):
    out = tmp_path / "run"
    common = ["--ppo", "num_envs=4", "--ppo", "rollout_periods=16", "--ppo", "eval_episodes=2", "--quiet"]
    args = ["train", "mappo", "--env", "PublicCharging-v0", "--steps", "128", "--out", str(out), *common]
    assert run(*args).exit_code == 0
    result = run("train", "mappo", "--resume", str(out), "--steps", "192", "--quiet")
    assert result.exit_code == 0, result.output
    assert f"run folder: {out}" in result.output
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # header, two updates, then one more
    result = run("train", "ippo", "--resume", str(out), "--steps", "256", "--quiet")
    assert result.exit_code == 2 and "algo='ippo' cannot change on resume" in result.output
    result = run("train", "mappo", "--resume", str(out), "--env", "LogitBertrand-v0")
    assert result.exit_code == 2 and "drop --env" in result.output
    # the same observation size with three stations: refused, not crashed
    result = run("evaluate", "--checkpoint", str(out), "--set", "n_stations=3", "--episodes", "1")
    assert result.exit_code == 2 and "prices 2 stations" in result.output


def test_train_mappo_lag_takes_a_cost_limit(tmp_path):
    common = ["--ppo", "num_envs=4", "--ppo", "rollout_periods=24", "--ppo", "eval_episodes=2", "--quiet"]
    args = ["train", "mappo-lag", "--cost-limit", "0.5", "--steps", "192", "--seeds", "2", "--out", str(tmp_path)]
    result = run(*args, *common)
    assert result.exit_code == 0, result.output
    assert "cost_total" in result.stdout  # the seed table has each constraint's evaluation cost
    for seed in (0, 1):
        saved = yaml.safe_load((tmp_path / f"seed_{seed}" / "config.yaml").read_text())
        assert saved["env"] == "CoupledNetworkPeak-v0"  # the Lagrangian commands' default scenario
        assert saved["ppo"]["algo"] == "mappo-lag" and saved["ppo"]["cost_limit"] == 0.5
        header = (tmp_path / f"seed_{seed}" / "metrics.csv").read_text().splitlines()[0]
        assert "lambda_total" in header and "eval_cost_total" in header
    result = run("train", "mappo", "--cost-limit", "0.5", "--steps", "8")
    assert result.exit_code == 2 and "use 'evprice train mappo-lag --cost-limit" in result.output
    result = run("train", "ippo-lag", "--cost-limit", "-1", "--steps", "8")
    assert result.exit_code == 2 and "cost_limit=-1.0 is invalid" in result.output


def test_train_ccem_then_evaluate_it(tmp_path):
    args = ["train", "ccem", "--steps", "36", "--cost-limit", "10", "--out", str(tmp_path), "--quiet"]
    for setting in ("population=20", "n_elites=4", "particles=2", "iterations=2", "horizon=2"):
        args += ["--plan", setting]
    args += ["--model", "hidden_sizes=[8]", "--model", "max_epochs=3"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
    # three episodes fill no window of planned episodes: the run lists what it wrote (issue 21, friction 4)
    assert not (tmp_path / "checkpoints" / "best.pt").exists()
    assert "(checkpoints/last.pt, metrics.csv, config.yaml); no best.pt" in result.stdout
    result = run("evaluate", "--checkpoint", str(tmp_path), "--episodes", "1", "--json")
    assert result.exit_code == 0, result.output
    assert "has no best.pt" in result.stderr and "using last.pt" in result.stderr  # said, not silent
    summary = json.loads(result.stdout)
    assert summary["policy"] == "ccem" and summary["env"] == "CoupledNetworkPeak-v0" and "costs" in summary
    result = run("train", "ccem", "--plan", "population=0")
    assert result.exit_code == 2 and "population=0 is invalid" in result.output
    # fewer steps than one episode would write no checkpoint at all: refused
    result = run("train", "ccem", "--steps", "5", "--out", str(tmp_path / "short"), "--quiet")
    assert result.exit_code == 2 and "total_steps=5 is invalid for CoupledNetworkPeak-v0" in result.output
    assert "an episode has 12 pricing decisions" in result.output


def test_train_and_evaluate_errors(tmp_path):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(bad)])
    assert result.exit_code == 2 and "damaged or not a checkpoint" in result.output
    result = CliRunner().invoke(main, ["evaluate"])
    assert result.exit_code == 2 and "exactly one of --policy NAME and --checkpoint PATH" in result.output
    result = CliRunner().invoke(main, ["train", "ippo", "--env", "LogitBertrand-v0", "--ppo", "gamma=2"])
    assert result.exit_code == 2 and "gamma=2 is invalid" in result.output


@pytest.mark.long  # tests/adapters/test_rllib.py trains one RLlib iteration in every run
def test_train_rllib_runs_one_iteration(tmp_path):
    pytest.importorskip("ray")
    result = run("train", "rllib", "--env", "LogitBertrand-v0", "--steps", "1000", "--out", str(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["iterations"] == 1 and summary["env_steps"] >= 1000
    assert (tmp_path / "checkpoint").is_dir()
    # evaluate --checkpoint plays the trained RLlib module on evprice's own environment
    result = run("evaluate", "--checkpoint", str(tmp_path), "--episodes", "2", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert got["policy"] == "rllib" and got["env"] == "LogitBertrand-v0" and "delta" in got
    import numpy as np
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    from evprice.envs import make_env

    module = RLModule.from_checkpoint(str(tmp_path / "checkpoint/learner_group/learner/rl_module/shared"))
    env = make_env("LogitBertrand-v0", 2)
    obs, profit = env.reset(seed=3), 0.0
    for _ in range(env.n_periods):  # by hand: each station posts its Gaussian's mean
        with torch.no_grad():
            means = [
                module.forward_inference({"obs": torch.as_tensor(obs[:, i])})["action_dist_inputs"][:, 0]
                for i in (0, 1)
            ]
        obs, _, _, _, info = env.step(np.clip(torch.stack(means, 1).numpy()[..., None], -1, 1))
        profit += info["profit"].sum()
    assert got["market"]["profit"] == pytest.approx(profit, rel=1e-9)
    (tmp_path / "evprice_rllib.yaml").unlink()
    result = run("evaluate", "--checkpoint", str(tmp_path / "checkpoint"))
    assert result.exit_code == 2 and "RLlib checkpoint without evprice_rllib.yaml" in result.output


def test_replay_a_baseline_writes_a_gif_and_prints_its_path(tmp_path, monkeypatch):
    from PIL import Image

    out = tmp_path / "nash.gif"
    args = ["replay", "--policy", "nash", "--env", "LogitBertrand-v0", "--set", "horizon_h=2", "--fps", "5"]
    result = run(*args, "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    with Image.open(out) as im:
        assert im.n_frames == 8 + 1 and im.info["duration"] == 200  # 8 periods of 15 min, then the start; 5 fps
    # without --out: under runs/replays/, never loose in the working directory (issue 21, friction 6)
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "runs/replays/LogitBertrand-v0_nash.gif"
    assert (tmp_path / "runs" / "replays" / "LogitBertrand-v0_nash.gif").is_file()
    assert [p.name for p in tmp_path.glob("*.gif")] == ["nash.gif"]  # only the one written with --out


def test_replay_a_trained_run_defaults_to_its_folder(tmp_path):
    from PIL import Image

    out = tmp_path / "run"
    common = ["--ppo", "num_envs=4", "--ppo", "rollout_periods=8", "--ppo", "eval_episodes=1", "--quiet"]
    args = ["train", "mappo", "--env", "LogitBertrand-v0", "--set", "horizon_h=2", "--steps", "64", "--out", str(out)]
    assert run(*args, *common).exit_code == 0
    result = run("replay", str(out / "checkpoints" / "last.pt"), "--seed", "3", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out / "replay.gif")
    with Image.open(out / "replay.gif") as im:
        assert im.n_frames == 8 + 1 and im.size == (720, 224)
    result = run("replay", str(out), "--set", "n_stations=3")
    assert result.exit_code == 2 and "prices 2 stations" in result.output
    result = run("replay", str(out), "--price", "1.5")
    assert result.exit_code == 2 and "apply to a baseline (--policy), not to a trained RUN_DIR" in result.output


def test_replay_errors_name_the_problem(tmp_path):
    result = run("replay")
    assert result.exit_code == 2 and "give exactly one of RUN_DIR (a trained run) and --policy NAME" in result.output
    result = run("replay", str(tmp_path), "--policy", "fixed")
    assert result.exit_code == 2 and "give exactly one of RUN_DIR" in result.output
    result = run("replay", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "not found: expected a .pt file or a run folder" in result.output
    result = run("replay", "--policy", "fixed", "--out", str(tmp_path / "a.avi"))
    assert result.exit_code == 2 and "expected a file name ending in .gif or .mp4" in result.output
    result = run("replay", "--policy", "fixed", "--fps", "0")
    assert result.exit_code == 2 and "--fps" in result.output
    result = run("replay", "--policy", "random", "--price", "1.0", "--out", str(tmp_path / "a.gif"))
    assert result.exit_code == 2 and "price does not apply to the 'random' policy" in result.output
    assert not list(tmp_path.iterdir())


def test_experiment_lists_runs_and_reports(tmp_path):
    listed = run("experiment", "--list")
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.output.splitlines()] == [
        "collusion-qlearning",
        "coordination",
        "observability",
        "stackelberg",
        "capacity",
        "safety",
        "communication",
    ]
    out = tmp_path / "q"
    result = run("experiment", "collusion-qlearning", "--seeds", "2", "--steps", "5000", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.md'}" in result.output
    # it says what it runs and how far it got on stderr, and ends with a summary line (issue 21, friction 2)
    assert result.stderr.startswith("collusion-qlearning: 2 Q-learning sessions, up to 5,000 periods each\n")
    assert "sessions converged" in result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("collusion-qlearning: done in ")
    assert len(json.loads((out / "results.json").read_text())["rows"]) == 2
    bad = run("experiment", "collusion", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2 and "experiment 'collusion' is invalid" in bad.output
    fixed = run("experiment", "collusion-qlearning", "--env", "GridCharging-v0", "--out", str(tmp_path / "y"))
    assert fixed.exit_code == 2 and "has fixed environments: it does not take env" in fixed.output
    unknown = run("experiment", "capacity", "--env", "Nope-v0", "--out", str(tmp_path / "z"))
    assert unknown.exit_code == 2 and "env='Nope-v0' is invalid" in unknown.output
    assert not (tmp_path / "y").exists() and not (tmp_path / "z").exists()
    assert run("experiment").exit_code == 2


def test_train_several_seeds_in_one_run_then_evaluate_and_resume_one(tmp_path):
    out = tmp_path / "run"
    common = ["--ppo", "num_envs=4", "--ppo", "rollout_periods=16", "--ppo", "eval_episodes=2", "--quiet"]
    args = ["train", "mappo", "--env", "LogitBertrand-v0", "--steps", "128", "--out", str(out), *common]
    result = run(*args, "--seeds", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["seed_5", "seed_6"]
    assert "mean [95% CI]" in result.output and "seed_<s>/" in result.output
    result = run("evaluate", "--checkpoint", str(out / "seed_6"), "--episodes", "2", "--json")
    assert result.exit_code == 0, result.output
    for cmd in (["evaluate", "--checkpoint", str(out), "--episodes", "2"], ["replay", str(out), "--quiet"]):
        result = run(*cmd)
        assert result.exit_code == 2 and "is a run of 2 seeds (seed_5, seed_6): give one seed's folder" in result.output
    result = run("train", "mappo", "--resume", str(out), "--steps", "192", "--quiet")
    assert result.exit_code == 0, result.output
    assert len((out / "seed_5" / "metrics.csv").read_text().splitlines()) == 1 + 3
    result = run(*args, "--seed-list", "1,x")
    assert result.exit_code == 2 and "--seed-list '1,x' is invalid" in result.output
    result = run(*args, "--seed-list", "1,2", "--seeds", "2")
    assert result.exit_code == 2 and "give one of --seeds K and --seed-list" in result.output


@pytest.mark.parametrize("env_id", ["PublicCharging-v0", "CoupledNetwork-v0", "LogitBertrand-v0"])
def test_the_config_printout_is_a_config_file(tmp_path, env_id):
    """``evprice config > cfg.yaml; evprice rollout --config cfg.yaml`` (issue 21, friction 1)."""
    from evprice.envs import spec

    r = run("config", "--env", env_id, "--set", "horizon_h=2.0")
    assert r.exit_code == 0, r.output
    values = yaml.safe_load(r.output)
    assert values.pop("env") == env_id
    assert spec(env_id).config_cls.from_overrides(values) == spec(env_id).make_config({"horizon_h": 2.0})
    path = tmp_path / "cfg.yaml"
    path.write_text(r.output, encoding="utf-8")
    r = run("rollout", "--config", str(path), "--episodes", "1", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["env"] == env_id


def test_training_to_a_log_prints_whole_lines_and_a_summary(tmp_path):
    """stderr redirected (CliRunner's is no terminal): lines are not cut at 80 columns and the
    run ends with a summary line holding the final evaluation (issue 21, friction 3)."""
    args = ["train", "mappo", "--env", "LogitBertrand-v0", "--steps", "512", "--out", str(tmp_path / "run")]
    args += [
        "--ppo",
        "num_envs=4",
        "--ppo",
        "rollout_periods=16",
        "--ppo",
        "eval_episodes=1",
        "--ppo",
        "eval_every_updates=2",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    summary = lines[-1]
    assert summary.startswith("mappo on LogitBertrand-v0: done, 512/512 steps in ")
    assert "(Delta " in summary and len(summary) > 80
    assert 1 <= len(lines) <= 11


@pytest.mark.parametrize("env_id", ["PublicCharging-v0", "CoupledNetwork-v0", "LogitBertrand-v0"])
def test_the_nested_printout_reads_back_to_the_same_flat_table(tmp_path, env_id):
    """``evprice config --nested`` groups the keys by section; read back, it prints the flat table again."""
    flat = run("config", "--env", env_id, "--set", "horizon_h=2.0")
    nested = run("config", "--env", env_id, "--set", "horizon_h=2.0", "--nested")
    assert flat.exit_code == 0 and nested.exit_code == 0, nested.output
    assert "market:\n  # " in nested.output and nested.output != flat.output
    path = tmp_path / "nested.yaml"
    path.write_text(nested.output, encoding="utf-8")
    again = run("config", "--config", str(path))
    assert again.exit_code == 0, again.output
    assert again.output == flat.output


def test_set_overrides_a_key_the_file_gives_in_its_section(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("env: GridCharging-v0\ngrid:\n  cost_weight_line: 2.0\nmarket:\n  horizon_h: 2.0\n")
    for override in ("cost_weight_line=3.0", "grid.cost_weight_line=3.0"):
        r = run("config", "--config", str(path), "--set", override)
        assert r.exit_code == 0, r.output
        values = yaml.safe_load(r.output)
        assert values["cost_weight_line"] == 3.0 and values["horizon_h"] == 2.0
    r = run("config", "--config", str(path), "--set", "market.cost_weight_line=3.0")
    assert r.exit_code == 2 and "'cost_weight_line' is in section 'grid'; write grid.cost_weight_line" in r.output
    path.write_text("grid:\n  cost_weight_line: 2.0\ncost_weight_line: 3.0\n")
    r = run("config", "--env", "GridCharging-v0", "--config", str(path))
    assert r.exit_code == 2 and "'cost_weight_line' is given twice" in r.output


EX = str(Path(__file__).resolve().parents[1] / "examples")


def test_scenario_check_and_scenario_runs():
    """Issue 20: `evprice scenario check` summarises a scenario; every command takes --scenario."""
    r = run("scenario", "check", EX + "/my_town.yaml", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["env"] == "CoupledNetwork-v0" and [x["bus"] for x in s["stations"]] == [3, 5, 8, 7]
    assert s["feeder"]["buses"] == 8 and s["feeder"]["base_case"]["converged"]
    assert s["roads"]["nodes"] == 6 and s["roads"]["origins"] == 6
    text = run("scenario", "check", EX + "/sioux_falls_20.yaml").output
    assert "20 stations" in text and "feeder cigre_mv: 15 buses, 14 lines (2 transformers)" in text
    r = run("rollout", "--scenario", EX + "/my_town.yaml", "--set", "horizon_h=3", "--episodes", "1", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["env"] == "CoupledNetwork-v0" and len(json.loads(r.output)["stations"]) == 4
    r = run("config", "--scenario", EX + "/market_only.yaml")
    assert r.exit_code == 0 and yaml.safe_load(r.output)["n_stations"] == 5
    r = run("rollout", "--scenario", EX + "/my_town.yaml", "--env", "GridCharging-v0")
    assert r.exit_code == 2 and "--env GridCharging-v0 is invalid with --scenario" in r.output
    r = run("scenario", "check", EX + "/missing.yaml")
    assert r.exit_code == 2 and "cannot be read" in r.output


def test_powerflow_of_a_feeder_file_names_its_own_buses():
    r = run("grid", "powerflow", "--feeder", EX + "/my_town/town_feeder.m", "--add-load", "5:300", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["converged"] and s["vmax_bus"] == 1 and s["vmin_bus"] in range(2, 9)  # MATPOWER's bus numbers
    r = run("grid", "powerflow", "--feeder", EX + "/my_town/town_feeder.m", "--add-load", "0:300")
    assert (
        r.exit_code == 2
        and "bus 0 is invalid: expected a bus of town_feeder among [1, 2, 3, 4, 5, 6, 7, 8]" in r.output
    )
    r = run("grid", "powerflow", "--feeder", "cigre_mv", "--json")
    assert json.loads(r.output)["max_line_loading_line"] == "trafo 0"


def test_experiments_take_a_scenario_and_name_a_bad_key_as_it_is(tmp_path):
    # the scenario is read and checked (the --set on top of it too) before anything trains
    r = run("experiment", "coordination", "--scenario", EX + "/market_only.yaml", "--reuse", "--out", str(tmp_path))
    assert r.exit_code == 2 and f"reuse: {tmp_path / 'results.json'} not found" in r.output
    r = run("experiment", "capacity", "--scenario", EX + "/my_town.yaml", "--env", "GridCharging-v0")
    assert r.exit_code == 2 and "env='GridCharging-v0' is invalid with scenario" in r.output
    r = run("experiment", "coordination", "--scenario", EX + "/my_town.yaml", "--set", "vm_min_pu=2")
    assert r.exit_code == 2 and "vm_min_pu=2" in r.output and "Traceback" not in r.output
    r = run("experiment", "stackelberg", "--scenario", EX + "/my_town.yaml", "--out", str(tmp_path))
    assert r.exit_code == 2 and "has fixed environments: it does not take scenario" in r.output
    r = run("experiment", "coordination", "--set", "travel_time_min=[1, 2]", "--steps", "64", "--out", str(tmp_path))
    assert r.exit_code == 2 and "unknown key 'travel_time_min' for LogitBertrand-v0" in r.output
    assert "is invalid for this experiment" not in r.output  # not mistaken for a market the theory lacks


def test_scenario_check_says_when_each_node_has_its_own_hourly_profile(tmp_path):
    homes = [2.0] * 10 + [0.5] * 14  # node 1: mornings
    doc = (
        "stations:\n  - {id: a, road_node: 1, price_min: 1.0, price_max: 1.5}\n"
        "  - {id: b, road_node: 2, price_min: 1.0, price_max: 1.5}\n"
        f"roads: {{road_network: doc2}}\ndemand:\n  origins: {{1: {homes}, 2: 1.0}}\n"
    )
    (tmp_path / "s.yaml").write_text(doc, encoding="utf-8")
    r = run("scenario", "check", str(tmp_path / "s.yaml"))
    assert r.exit_code == 0, r.output
    assert "requests from 2 nodes, each on its own hourly profile;" in r.output
    r = run("scenario", "check", str(tmp_path / "s.yaml"), "--json")
    roads = json.loads(r.output)["roads"]
    assert roads["origins"] == 2 and roads["origins_by_hour"] is True
    # station a is at node 1 (0 min from itself); node 1's weight over the day is
    # (10 x 2.0 + 14 x 0.5) / 24 = 1.125, node 2's 1.0: the weighted mean is max x 1.0 / 2.125
    t = roads["free_flow_min_to_station"][0]
    assert t["min"] == 0.0 and t["max"] > 0 and t["mean_weighted"] == pytest.approx(t["max"] / 2.125)
