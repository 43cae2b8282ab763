"""The experiment runner: files written, rows per arm and seed, numbers reproducible."""

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evprice.analysis.experiments import (
    EXPERIMENTS,
    Experiment,
    ExperimentResult,
    ExperimentSettings,
    get_experiment,
    markdown_table,
    run_experiment,
)
from evprice.analysis.rollouts import evaluate
from evprice.analysis.stats import mean_ci
from evprice.analysis.studies import EVAL_SEED
from evprice.core.config import ConfigError
from evprice.envs import make_env

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_mean_ci_by_hand():
    mean, ci = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / np.sqrt(3)  # t(0.975, 2) x sd / sqrt(n)
    assert mean == 2.0 and ci == pytest.approx([2.0 - half, 2.0 + half])
    assert mean_ci([5.0]) == (5.0, None)


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, 0.12345], ["x", None]]) == "| a | b |\n|---|---|\n| 1 | 0.123 |\n| x | - |"


def test_runner_writes_rows_json_and_a_report(tmp_path, monkeypatch):
    from evprice.analysis import figures

    def run(settings, out):
        rows = [{"arm": "a", "seed": s, "value": float(s)} for s in range(settings.seeds)]
        fig = figures.bars_with_ci(out / "figures" / "v.png", ["a"], [1.0], [[0.5, 1.5]], title="t", ylabel="v")
        return ExperimentResult("Why?", rows, {"a": {"mean": 1.0}}, [("T", "| x |\n|---|\n| 1 |")], [("cap", fig)])

    EXPERIMENTS["_probe"] = Experiment("_probe", "A probe.", 10, run, market_env="PublicCharging-v0")
    try:
        on_grid = run_experiment("_probe", ExperimentSettings(seeds=1, env="GridCharging-v0"), tmp_path / "grid")
        assert "; charging-market environment `GridCharging-v0`;" in on_grid.read_text()
        report = run_experiment("_probe", ExperimentSettings(seeds=3, episodes=2), tmp_path)
        # an output folder given relative to the working directory: links stay relative to the report
        monkeypatch.chdir(tmp_path)
        again = run_experiment("_probe", ExperimentSettings(seeds=1, episodes=2), Path("sub") / "dir")
    finally:
        del EXPERIMENTS["_probe"]
    assert "![cap](figures/v.png)" in again.read_text()
    assert (again.parent / "figures" / "v.png").is_file()
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [r["seed"] for r in rows] == ["0", "1", "2"]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["settings"] == {
        "seeds": 3,
        "steps": 10,
        "episodes": 2,
        "overrides": {},
        "env": None,
        "scenario": None,
        "workers": 1,
        "address": None,
    }
    assert data["command"] == f"evprice experiment _probe --seeds 3 --episodes 2 --out {tmp_path}"
    assert " cores, Python " in data["machine"] and data["wall_s"] >= 0
    text = report.read_text()
    assert f"```bash\nevprice experiment _probe --seeds 3 --episodes 2 --out {tmp_path}\n```" in text
    assert "**Question.** Why?" in text and "![cap](figures/v.png)" in text and "## T" in text
    assert (tmp_path / "figures" / "v.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    "payload",
    [
        {"experiment": "x", "summary": {"a": [1.5, None]}, "rows": [{"path": [[1.0, 2.0]] * 50}, {"b": "c"}]},
        {"summary": {}, "rows": []},
        {"rows": [{"q": 1}]},
        {"a": 1},
    ],
)
def test_results_json_round_trips_with_one_line_per_row(payload):
    from evprice.analysis.experiments import results_json

    text = results_json(payload)
    assert json.loads(text) == payload
    rows = payload.get("rows", [])
    row_lines = [line for line in text.splitlines() if line.startswith("    {")]
    assert [json.loads(line.strip().rstrip(",")) for line in row_lines] == rows


def test_unknown_experiment_and_bad_settings():
    with pytest.raises(ConfigError, match="experiment 'nope' is invalid: expected one of 'collusion-qlearning', 'coo"):
        get_experiment("nope")
    with pytest.raises(ConfigError, match="seeds=0 is invalid"):
        ExperimentSettings(seeds=0)
    with pytest.raises(ConfigError, match="steps=-5 is invalid"):
        ExperimentSettings(steps=-5)
    with pytest.raises(ConfigError, match="env='Nope-v0' is invalid: expected one of .*GridCharging-v0"):
        ExperimentSettings(env="Nope-v0")
    with pytest.raises(ConfigError, match="workers=0 is invalid: expected an integer >= 1"):
        ExperimentSettings(workers=0)
    assert ExperimentSettings().seeds == 8
    for fixed in ("stackelberg", "collusion-qlearning"):
        with pytest.raises(ConfigError, match=f"experiment '{fixed}' has fixed environments"):
            run_experiment(fixed, ExperimentSettings(env="GridCharging-v0"), "/nonexistent/never-written")


def test_coordination_trains_every_arm_and_its_numbers_reproduce(tmp_path):
    lines: list[str] = []
    settings = ExperimentSettings(
        seeds=1, steps=512, episodes=2, overrides={"horizon_h": 6.0}, on_progress=lines.append
    )
    report = run_experiment("coordination", settings, tmp_path)
    # progress as it runs (issue 21, friction 2): a first line, then one per finished arm with the time left
    assert lines[0] == "training 4 arms x 1 seeds, 512 env-steps per seed, on 1 worker(s)"
    assert [line.split(",")[0] for line in lines[1:]] == [f"arms: {k}/4" for k in range(1, 5)]
    assert "left" in lines[1] and "'LogitBertrand-v0 team' finished" in lines[1] and "left" not in lines[4]
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["arm"] for r in data["rows"]] == [
        "LogitBertrand-v0 team",
        "LogitBertrand-v0 individual",
        "PublicCharging-v0 team",
        "PublicCharging-v0 individual",
    ]
    # evaluate one trained policy again, independently of the runner: the same numbers
    from evprice.learn.policy import load_policy

    row = data["rows"][1]
    _, overrides, policy = load_policy(row["run_dir"])
    again = evaluate("LogitBertrand-v0", lambda env: policy, episodes=2, seed=EVAL_SEED, overrides=overrides)
    assert row["delta"] == pytest.approx(again["delta"]["total"])
    assert row["mean_price"] == pytest.approx([s["mean_price"] for s in again["stations"]])
    # the recorded episode path is the first evaluation episode: its mean price is that episode's
    one = evaluate("LogitBertrand-v0", lambda env: policy, episodes=1, seed=EVAL_SEED, overrides=overrides)
    path_price = np.array(row["path"]["price"])  # (T, N)
    assert path_price.shape == (24, 2) and len(row["path"]["hour"]) == 24  # 6 h of 15-min periods
    assert path_price.mean(axis=0) == pytest.approx([s["mean_price"] for s in one["stations"]])
    text = report.read_text()
    assert "Delta" in text and (tmp_path / "figures" / "delta.png").read_bytes()[:8] == PNG_MAGIC
    for env in ("LogitBertrand-v0", "PublicCharging-v0"):
        assert (tmp_path / "figures" / f"price_path_{env}.png").read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / "figures" / "prices_LogitBertrand-v0.png").is_file()
    assert (tmp_path / "figures" / "prices_PublicCharging-v0.png").is_file()
    for key in ("profit", "blocked"):
        assert (tmp_path / "figures" / f"{key}_PublicCharging-v0.png").read_bytes()[:8] == PNG_MAGIC
    assert "figures/profit_LogitBertrand-v0.png" in text
    # LogitBertrand-v0's expected demand has no chargers: no blocking or utilisation to show (issue 21,
    # friction 6); PublicCharging-v0's arms keep theirs, and the table marks the others "-"
    assert data["summary"]["LogitBertrand-v0 team"]["chargers"] is False
    assert "figures/blocked_LogitBertrand-v0.png" not in text and "utilization_path_LogitBertrand-v0" not in text
    assert "figures/utilization_path_PublicCharging-v0.png" in text
    lines = [line for line in text.splitlines() if line.startswith("| LogitBertrand-v0 team |")]
    assert lines and lines[0].rstrip(" |").endswith("| -")
    assert "figures/learning_curve_LogitBertrand-v0.png" in text
    assert (tmp_path / "figures" / "learning_curve_PublicCharging-v0.png").read_bytes()[:8] == PNG_MAGIC
    curve = data["summary"]["LogitBertrand-v0 individual"]["curve"]
    assert curve["metric"] == "eval_delta" and curve["env_steps"] == [2048.0]  # one update: its final evaluation
    assert curve["mean"] == pytest.approx([data["rows"][1]["curve"]["values"][0]])
    team = data["summary"]["LogitBertrand-v0 team"]["minus"]["LogitBertrand-v0 individual"]
    gap = np.mean(data["rows"][0]["mean_price"]) - np.mean(data["rows"][1]["mean_price"])
    assert team["mean_price"] == [pytest.approx(gap), None]  # one seed per arm: no interval
    assert "## Differences by reward" in text and "LogitBertrand-v0 team − LogitBertrand-v0 individual" in text
    # the report re-rendered from results.json (no training) is the same report
    again = run_experiment("coordination", replace(settings, reuse=True), tmp_path)
    assert again.read_text() == text
    with pytest.raises(ConfigError, match="holds arm 'LogitBertrand-v0 team' with seeds \\[0\\]"):
        run_experiment("coordination", replace(settings, seeds=2, reuse=True), tmp_path)
    one_seed = data["summary"]["PublicCharging-v0 individual"]
    assert one_seed["profit_ci95"] is None  # one seed: no interval
    assert one_seed["profit"] == pytest.approx(sum(data["rows"][3]["profit"]))


def test_collusion_experiment_reports_the_sessions_it_ran(tmp_path):
    from evprice.analysis.qlearning import QLearningConfig, run_sessions

    report = run_experiment("collusion-qlearning", ExperimentSettings(seeds=3, steps=20_000), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    direct = run_sessions(3, QLearningConfig(max_periods=20_000), seed=0)
    assert [r["delta"] for r in data["rows"]] == pytest.approx(direct.delta.tolist())
    assert [r["converged"] for r in data["rows"]] == direct.converged.tolist() == [False] * 3  # capped early
    text = report.read_text()
    assert "| 3 | 0% |" in text and "Calvano" in text
    assert (tmp_path / "figures" / "delta_sessions.png").read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / "figures" / "cycle_prices.png").is_file()


def test_stackelberg_experiment_compares_move_orders_against_the_theory(tmp_path):
    from evprice.core.actions import scale_action
    from evprice.learn.policy import load_policy

    settings = ExperimentSettings(seeds=2, steps=2048, episodes=2, overrides={"horizon_h": 6.0})
    report = run_experiment("stackelberg", settings, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    arms = ["LogitBertrand-v0 simultaneous", "LogitBertrand-v0 simultaneous full", "LogitBertrand-v0 leader station_1"]
    assert [r["arm"] for r in data["rows"]] == [a for a in arms for _ in range(2)]
    lead = data["summary"][arms[2]]
    # the benchmarks: Stackelberg with station_1 leading (docs/economics.md), Nash 1.4729
    assert lead["stackelberg"]["leader"] == "station_1"
    assert lead["stackelberg"]["prices"] == pytest.approx([1.6384, 1.5446], abs=1e-4)
    assert lead["nash_prices"] == pytest.approx([1.4729, 1.4729], abs=1e-4)
    rows = [r for r in data["rows"] if r["arm"] == arms[2]]
    per_period = np.array([r["profit"] for r in rows]) / 24  # 6 h of 15-min periods
    assert lead["profit_per_period"] == pytest.approx(per_period.mean(axis=0).tolist())
    gaps = [r["mean_price"][0] - r["mean_price"][1] for r in rows]  # the leader's price above the follower's
    assert lead["price_gap"] == pytest.approx(np.mean(gaps))
    assert lead["price_gap_ci95"] == pytest.approx(list(mean_ci(gaps)[1]))
    # the reaction curve, recomputed here for one announced price
    row = rows[1]
    curve = row["reaction"]
    k = 7
    announced = curve["leader_price"][k]
    _, overrides, policy = load_policy(row["run_dir"])
    env = make_env("LogitBertrand-v0", 1, **overrides)
    col = env.observation_names("station_2").index(("station_1.LeaderCommitment", "next_price"))
    obs, replies = env.reset(EVAL_SEED + 1), []
    for _ in range(env.n_periods):
        probe = obs.copy()
        probe[0, 1, col] = announced
        replies.append(scale_action(policy(probe)[0, 1, 0], env.params.price_min[1], env.params.price_max[1]))
        obs, *_ = env.step(policy(obs))
    assert curve["learned"][k][0] == pytest.approx(np.mean(replies), rel=1e-6)
    # theory's reply is the follower's best response to the announced price (grid search here)
    p2 = np.linspace(1.0, 2.5, 150_001)
    e1, e2 = np.exp((2.0 - announced) / 0.25), np.exp((2.0 - p2) / 0.25)
    best = p2[np.argmax((p2 - 1.0) * e2 / (e1 + e2 + 1.0))]
    assert curve["theory"][k][0] == pytest.approx(best, abs=2e-5)
    assert lead["reaction_slope_theory"] == pytest.approx(np.polyfit(curve["leader_price"], curve["theory"], 1)[0][0])
    text = report.read_text()
    assert "Stackelberg, leader station_1 (theory)" in text and "simultaneous full (learned)" in text
    for name in ("delta", "prices_by_seed", "reaction", "price_path"):
        assert (tmp_path / "figures" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC


def test_reaction_curve_needs_a_leader():
    from evprice.analysis.studies import reaction_curve

    with pytest.raises(ValueError, match="has no leader: there is no reaction to measure"):
        reaction_curve("/nonexistent", "LogitBertrand-v0", {}, seed=0)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_an_experiment_on_a_scenario_trains_its_market_without_a_benchmark(tmp_path):
    """`evprice experiment observability --scenario FILE` (issue 20): the arms train on the
    scenario's market alone (its keys are not LogitBertrand-v0's), named by the scenario; a
    road market the static logit theory does not cover gets its report without Nash or joint
    prices, saying why, instead of a refusal. my_town has a feeder: the report carries its
    voltage and line loading, and each grid cost term per episode (a carbon cap of 300 g/kWh
    at the evening peak makes the carbon term positive)."""
    path = str(EXAMPLES / "my_town.yaml")
    overrides = {"horizon_h": 4.0, "start_hour": 17, "carbon_cap_g_per_kwh": 300.0}
    settings = ExperimentSettings(seeds=1, steps=64, episodes=1, scenario=path, overrides=overrides)
    report = run_experiment("observability", settings, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert list(data["summary"]) == ["my-town partial", "my-town full"]
    assert data["settings"]["scenario"] == path and f"--scenario {path}" in data["command"]
    # coordination builds its arms the same way: the scenario's market alone
    from evprice.analysis.studies.coordination import COORDINATION, _markets

    assert _markets(COORDINATION, settings) == [("my-town", "CoupledNetwork-v0")]
    # the scenario's stations: four prices, each inside that station's bounds in the file
    bounds = [(1.0, 1.8), (1.1, 2.0), (0.9, 1.6), (0.8, 1.5)]
    for row in data["rows"]:
        assert row["env"] == "CoupledNetwork-v0" and row["market"] == "my-town"
        assert all(lo <= p <= hi for p, (lo, hi) in zip(row["mean_price"], bounds, strict=True))
        assert len(row["path"]["hour"]) == 4 and row["path"]["hour"][0] == 17.0  # --set on top of the file
        assert row["violating_periods"] == sum(c > 0 for c in row["path"]["cost"])  # one evaluation episode
    entry = data["summary"]["my-town partial"]
    assert entry["nash_prices"] is None and entry["joint_prices"] is None and entry["stackelberg"] is None
    assert "driver_cost='generalised'" in entry["no_theory"]
    # without a joint price the plateau is judged on the stations' mean price range, from the file
    assert entry["curve"]["scale"] == pytest.approx(np.mean([hi - lo for lo, hi in bounds]))
    assert entry["curve"]["scale_from"] == "the stations' price range"
    # the recorded path and the cost terms are what a fresh run of the trained policy sees
    from evprice.envs.scenario import load_scenario
    from evprice.learn.policy import load_policy

    row = data["rows"][0]
    _, _, policy = load_policy(row["run_dir"])
    env = load_scenario(path).make(1, overrides)
    obs, vm, terms = env.reset(EVAL_SEED), [], {"voltage": 0.0, "line": 0.0, "carbon": 0.0}
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        vm.append(float(info["grid"]["vm_min_pu"][0]))
        for key in terms:
            terms[key] += float(info["grid"][f"cost_{key}"][0])
    assert row["path"]["vm_min_pu"] == pytest.approx(vm, rel=1e-12)
    assert terms["carbon"] > 0 and row["grid_costs"] == pytest.approx(terms, rel=1e-9, abs=1e-12)
    text = report.read_text()
    assert "no static benchmark: driver_cost='generalised'" in text
    table_row = next(line for line in text.splitlines() if line.startswith("| my-town partial |"))
    assert table_row.split(" | ")[2:4] == ["-", "-"]  # no Nash, no joint price
    assert f"scenario `{path}`" in text and "periods out of grid limits" in text
    v, c = entry["violating_periods"], entry["grid_costs"]["carbon"]
    assert f"* my-town partial: {v:.1f} of 4 periods per episode with a positive grid constraint cost" in text
    assert f"carbon above the cap {c:.3g} kg CO2." in text
    for name in ("prices", "price_path", "voltage_path", "line_loading_path", "learning_curve"):
        assert (tmp_path / "figures" / f"{name}_my-town.png").read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "figures" / "station_prices_my-town.png").exists()  # four stations: the table lists them
    # re-rendered from results.json: the same report
    again = run_experiment("observability", replace(settings, reuse=True), tmp_path)
    assert again.read_text() == text


def test_a_scenario_is_checked_before_any_training(tmp_path):
    with pytest.raises(ConfigError, match=r"env='GridCharging-v0' is invalid with scenario: .* CoupledNetwork-v0"):
        ExperimentSettings(scenario=str(EXAMPLES / "my_town.yaml"), env="GridCharging-v0")
    with pytest.raises(ConfigError, match=r"scenario .*missing.yaml' cannot be read"):
        ExperimentSettings(scenario=str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="horizon_h"):
        ExperimentSettings(scenario=str(EXAMPLES / "my_town.yaml"), overrides={"horizon_h": -1.0})
    with pytest.raises(ConfigError, match="experiment 'stackelberg' has fixed environments: it does not take scenario"):
        run_experiment("stackelberg", ExperimentSettings(scenario=str(EXAMPLES / "my_town.yaml")), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_big_market_reports_price_ranges_and_a_station_figure(tmp_path):
    """More than four stations: the table cell gives the mean and range, a figure all of them."""
    from evprice.analysis.studies.report import _prices_cell, _station_figures

    prices = [1.2, 1.5, 1.1, 1.4, 1.3, 1.6]
    assert _prices_cell(prices) == "1.350 mean, 1.100-1.600 over 6 stations"  # (1.2+...+1.6)/6 = 8.1/6
    assert _prices_cell(prices[:4]) == "1.200, 1.500, 1.100, 1.400" and _prices_cell(None) == "-"
    summary = {
        "big team": {"env": "E", "market": "big", "mean_price": prices, "mean_price_ci95": [None] * 6},
        "big individual": {"env": "E", "market": "big", "mean_price": prices[::-1], "mean_price_ci95": [[1, 2]] * 6},
        "small": {"env": "S", "mean_price": prices[:2], "mean_price_ci95": [None] * 2},
    }
    figs = _station_figures(summary, tmp_path)
    assert [caption.split(" on ")[1] for caption, _ in figs] == ["big, mean over seeds with a 95% band"]
    assert figs[0][1] == tmp_path / "figures" / "station_prices_big.png"
    assert figs[0][1].read_bytes()[:8] == PNG_MAGIC


def test_communication_arms_differ_only_in_the_protocol():
    from evprice.analysis.studies.communication import _arms

    arms = _arms(ExperimentSettings(seeds=1))
    assert [label for label, _, _ in arms[:6]] == [
        "LogitBertrand-v0 no talk",
        "LogitBertrand-v0 cheap talk",
        "LogitBertrand-v0 announcements (free)",
        "LogitBertrand-v0 announcements (costly)",
        "LogitBertrand-v0 mediator (profit)",
        "LogitBertrand-v0 mediator (welfare)",
    ]
    assert [env for _, env, _ in arms] == ["LogitBertrand-v0"] * 6 + ["PublicCharging-v0"] * 6
    for _, _, overrides in arms:
        assert overrides["reward"] == "individual" and set(overrides) - {"reward"} <= {
            "protocol",
            "message_dim",
            "deviation_cost",
            "mediator_reward",
        }
    assert arms[3][2] == {"reward": "individual", "protocol": "announcement", "deviation_cost": 0.5}


def test_a_protocol_arm_measures_its_signals_on_the_recorded_episode(tmp_path):
    """One evaluation episode: the probe's gap between an announcement and the price posted
    after it is the one the recorded path shows."""
    from evprice.analysis.studies import train_arm

    overrides = {"reward": "individual", "protocol": "announcement", "deviation_cost": 0.5, "horizon_h": 2.0}
    (row,) = train_arm("a", "LogitBertrand-v0", overrides, [0], 256, 1, str(tmp_path), torch_threads=1, signals=True)
    price, said = np.array(row["path"]["price"]), np.array(row["path"]["signal_0"])
    np.testing.assert_allclose(row["signal_gap"], np.abs(price[1:] - said[:-1]).mean(axis=0), rtol=1e-12)
    assert len(row["signal_r2"]) == 2 and row["social_welfare"] is not None
    assert row["social_welfare"] == pytest.approx(row["consumer_surplus"] + sum(row["profit"]), rel=1e-9)


def test_the_signal_and_welfare_tables_average_stations_then_seeds():
    from evprice.analysis.studies.communication import _signal_table, _welfare_table

    arms = [("M no talk", "E", {"reward": "individual"}), ("M cheap talk", "E", {"protocol": "cheap_talk"})]
    base = {"profit": [1.0, 3.0], "consumer_surplus": 5.0}
    rows = [
        {"arm": "M no talk", "seed": 0, **base, "social_welfare": 10.0},
        {"arm": "M no talk", "seed": 1, **base, "social_welfare": 12.0},
        {"arm": "M cheap talk", "seed": 0, **base, "social_welfare": 13.0, "signal_r2": [0.5, 0.7]},
        {"arm": "M cheap talk", "seed": 1, **base, "social_welfare": 15.0, "signal_r2": [0.6, None]},
    ]
    signals = _signal_table(rows, arms)
    assert "M no talk" not in signals
    mean, ci = mean_ci([0.6, 0.6])  # each seed's mean over the stations it has a value for
    assert f"| M cheap talk | {mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] |" in signals
    welfare = _welfare_table(rows, arms)
    assert "| M cheap talk | 2.00 [2.00, 2.00] | 5.00 [5.00, 5.00] | 14.00 [1.29, 26.71] | 3.00" in welfare


@pytest.mark.long  # 12 arms; its parts are checked in the three tests above on every run
def test_communication_compares_the_protocols_and_probes_their_signals(tmp_path):
    """Issue 23: five arms per market that differ only in the protocol; the protocol arms
    measure their signals, and one evaluation episode's announcements, recorded in the path,
    give the gap the probe reports."""
    settings = ExperimentSettings(seeds=1, steps=256, episodes=1, overrides={"horizon_h": 1.0})
    report = run_experiment("communication", settings, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    names = [
        "no talk",
        "cheap talk",
        "announcements (free)",
        "announcements (costly)",
        "mediator (profit)",
        "mediator (welfare)",
    ]
    assert [r["arm"] for r in data["rows"]] == [
        f"{m} {n}" for m in ("LogitBertrand-v0", "PublicCharging-v0") for n in names
    ]
    rows = {r["arm"]: r for r in data["rows"]}
    assert "signal_r2" not in rows["LogitBertrand-v0 no talk"]
    for market in ("LogitBertrand-v0", "PublicCharging-v0"):
        talk = rows[f"{market} cheap talk"]
        assert talk["protocol"] == "cheap_talk" and talk["reward"] == "individual"
        assert {"signal_0", "signal_1"} <= set(talk["path"]) and talk["signal_gap"] == [None, None]
        announce = rows[f"{market} announcements (costly)"]
        price, said = np.array(announce["path"]["price"]), np.array(announce["path"]["signal_0"])
        np.testing.assert_allclose(announce["signal_gap"], np.abs(price[1:] - said[:-1]).mean(axis=0), rtol=1e-12)
        assert rows[f"{market} mediator (welfare)"]["social_welfare"] is not None
    text = report.read_text()
    assert (
        "## What the signals carry" in text and "LogitBertrand-v0 mediator (welfare) − LogitBertrand-v0 no talk" in text
    )
    assert (tmp_path / "figures" / "signals_PublicCharging-v0_announcements_costly.png").read_bytes()[:8] == PNG_MAGIC
