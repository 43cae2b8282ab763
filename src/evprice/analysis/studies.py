"""The research experiments of ``evprice experiment`` (registered in :mod:`evprice.analysis.experiments`).

* ``coordination``: team vs individual reward, MAPPO, on ``LogitBertrand-v0`` and
  ``PublicCharging-v0``; learned prices against the Bertrand-Nash and joint-profit prices,
  and Delta where the environment defines it;
* ``observability``: partial vs full observation (rivals' prices and status), individual
  rewards, the same training budget;
* ``capacity``: chargers per station on ``PublicCharging-v0``: learned prices and
  blocking against the capacity-aware Nash prices;
* ``stackelberg``: simultaneous pricing vs a leader that commits its price a period ahead
  (a level-2 agent whose commitment the followers observe), individual rewards, partial
  observability, on ``LogitBertrand-v0``; learned prices and profits against the
  Bertrand-Nash and Stackelberg solutions;
* ``collusion-qlearning``: Calvano et al. (2020)'s tabular Q-learning sessions on
  ``LogitBertrand-v0`` (:mod:`evprice.analysis.qlearning`).

``coordination``, ``observability`` and ``capacity`` run their charging-market arms on
``PublicCharging-v0`` unless ``settings.env`` names another registered environment (for
example ``GridCharging-v0``: the reports then add the feeder's voltage and line loading
over an episode, and the periods out of limits).

Training arms use MAPPO (:func:`evprice.learn.trainer.train`) with the trainer's defaults,
``total_steps`` = the experiment's steps and ``seed`` = the arm's seed; evaluation runs
``episodes`` episodes of the deterministic policy on seeds of its own (10,000 + seed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from evprice.analysis import figures
from evprice.analysis.curves import band, plateau_note, read_curve
from evprice.analysis.experiments import (
    Experiment,
    ExperimentResult,
    ExperimentSettings,
    markdown_table,
    register,
)
from evprice.analysis.parallel import run_tasks
from evprice.analysis.rollouts import evaluate
from evprice.analysis.stats import diff_ci, mean_ci
from evprice.core.config import ConfigError
from evprice.core.progress import duration_text, eta_line
from evprice.envs import make_env
from evprice.policies.theory import benchmarks

EVAL_SEED = 10_000


DEFAULT_STEPS = 300_000
"""Training env-steps per seed of the MAPPO experiments' arms. Chosen from measured curves:
Delta on ``LogitBertrand-v0`` passes 0.9 at about 100k env-steps and 0.99 at about 250k,
and every report's learning curves state where each arm reached its plateau (or that it
did not: then pass ``--steps``)."""

ARM_TORCH_THREADS = 1
"""Torch threads of every arm's training, however the arms are spread: batched float32 sums
differ with the thread count, and an arm must give the same numbers in this process, in a
local worker or on a cluster node. ``--workers`` (one per core) uses the other cores."""

CURVE_EVERY_UPDATES = 10
"""Experiment arms evaluate their policies every this many updates (about 20k env-steps with
the trainer's 64 environments x 32 periods), every seed on the same evaluation episodes
(``eval_seed`` = :data:`EVAL_SEED`: common demand, so the seeds' curves differ by their
policies only): the learning curves and the plateau test."""


def train_arm(
    label: str,
    env_id: str,
    overrides: Mapping[str, Any],
    seeds: list[int],
    steps: int,
    episodes: int,
    run_dir: str,
    torch_threads: int | None = None,
) -> list[dict[str, Any]]:
    """Train MAPPO on ``env_id`` with ``overrides`` for every seed of ``seeds`` in one batched
    run (``run_dir/seed_<s>/``), then evaluate each seed's deterministic policy.

    Returns one dict per seed: per station mean price (currency/kWh), profit per episode and
    blocked EVs, the market's Delta (None where undefined), on a grid the periods per
    episode whose constraint cost is positive (``violating_periods``, else None), the seed's
    run folder, the path of its first evaluation episode (:func:`episode_path`) and its
    learning curve (:func:`evprice.analysis.curves.read_curve`). A pure function of its
    arguments (what :mod:`evprice.analysis.parallel` needs to spread arms over processes).
    """
    from evprice.learn.config import PPOConfig
    from evprice.learn.policy import load_policy
    from evprice.learn.trainer import train

    cfg = PPOConfig(
        total_steps=steps, eval_every_updates=CURVE_EVERY_UPDATES, eval_seed=EVAL_SEED, torch_threads=torch_threads
    )
    train(env_id, cfg, seeds=seeds, overrides=dict(overrides), out_dir=run_dir)
    out = []
    for seed in seeds:
        seed_dir = Path(run_dir) / f"seed_{seed}"
        _, _, policy = load_policy(seed_dir)
        factory = lambda env, policy=policy: policy  # noqa: E731
        summary = evaluate(env_id, factory, episodes=episodes, seed=EVAL_SEED + seed, overrides=overrides)
        stations = summary["stations"]
        delta = summary.get("delta")
        out.append(
            {
                "mean_price": [float(s["mean_price"]) for s in stations],
                "profit": [float(s["profit"]) / episodes for s in stations],
                "blocked": [float(s["blocked"]) / episodes for s in stations],
                "admitted": [float(s["admitted"]) / episodes for s in stations],
                "delta": None if delta is None or delta["total"] is None else float(delta["total"]),
                "violating_periods": None
                if "costs" not in summary
                else summary["costs"]["violating_periods"] / episodes,
                "run_dir": str(seed_dir),
                "path": episode_path(env_id, factory, seed=EVAL_SEED + seed, overrides=overrides),
                "curve": read_curve(seed_dir),
            }
        )
    return out


def episode_path(env_id: str, factory: Any, *, seed: int, overrides: Mapping[str, Any]) -> dict[str, list]:
    """Per period of one episode (member 0 of ``seed``'s evaluation): each station's price
    (currency/kWh), utilisation (share of chargers busy) and blocked EVs, ``(T, N)`` lists,
    and the hour of day at the start of each period, ``(T,)``. On a grid also, ``(T,)``: the
    feeder's lowest voltage ``vm_min_pu`` (p.u.), its most loaded monitored line
    ``max_line_loading`` (fraction of rating) and the constraint ``cost``; and the limits
    ``grid_limits`` = ``{"vm_min_pu", "vm_max_pu", "line_loading_limit"}``."""
    env = make_env(env_id, 1, **dict(overrides))
    policy = factory(env)
    obs = env.reset(seed)
    p = env.params
    hours = [(p.start_s + k * env.config.action_period_s) / 3600.0 % 24.0 for k in range(env.n_periods)]
    path: dict[str, list] = {"hour": hours, "price": [], "utilization": [], "blocked": []}
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        for key in ("price", "utilization", "blocked"):
            path[key].append(np.asarray(info[key][0], dtype=np.float64).tolist())
        if "grid" in info:
            for key in ("vm_min_pu", "max_line_loading", "cost"):
                path.setdefault(key, []).append(float(info["grid"][key][0]))
    if "vm_min_pu" in path:
        cfg = env.config
        path["grid_limits"] = {
            "vm_min_pu": cfg.vm_min_pu,
            "vm_max_pu": cfg.vm_max_pu,
            "line_loading_limit": cfg.line_loading_limit,
        }
    return path


def _theory(env_id: str, overrides: Mapping[str, Any]) -> tuple[dict[str, Any], int, bool]:
    """The benchmarks of the environment's market (Stackelberg: its own leader, else the first
    station), its pricing periods per episode, and whether it has chargers (sampled demand:
    blocking and utilisation mean something; expected demand has neither)."""
    env = make_env(env_id, 1, **dict(overrides))
    return benchmarks(env), env.n_periods, env.config.demand == "sampled"


def _arm_progress(
    settings: ExperimentSettings, arms: list[tuple[str, str, dict[str, Any]]], steps: int
) -> Callable[[int, int], None] | None:
    """A line through ``settings.on_progress`` now and as each arm finishes, with the time left."""
    say = settings.on_progress
    if say is None:
        return None
    where = f"{settings.workers} worker(s)" if settings.address is None else f"Ray at {settings.address}"
    say(f"training {len(arms)} arms x {settings.seeds} seeds, {steps:,} env-steps per seed, on {where}")
    start = time.perf_counter()

    def on_done(index: int, finished: int) -> None:
        line = eta_line("arms", finished, len(arms), time.perf_counter() - start)
        say(f"{line} ({arms[index][0]!r} finished)")

    return on_done


def _session_progress(settings: ExperimentSettings, config: Any) -> Callable[[int, int], None] | None:
    """Lines through ``settings.on_progress``: periods run and sessions converged, at most one
    per tenth of ``max_periods`` (sessions stop when they converge, so no time left is given)."""
    say = settings.on_progress
    if say is None:
        return None
    say(f"{settings.seeds} Q-learning sessions, up to {config.max_periods:,} periods each")
    start, marks = time.perf_counter(), {"next": config.max_periods / 10}

    def on_block(periods: int, running: int) -> None:
        if periods >= marks["next"]:
            marks["next"] = (periods // (config.max_periods / 10) + 1) * config.max_periods / 10
            converged = settings.seeds - running
            say(
                f"{periods:,} periods, {converged}/{settings.seeds} sessions converged, "
                f"{duration_text(time.perf_counter() - start)} elapsed"
            )

    return on_block


def _arms_study(
    settings: ExperimentSettings,
    out: Path,
    *,
    arms: list[tuple[str, str, dict[str, Any]]],
    steps: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train and evaluate every (label, env, overrides) arm, all its seeds in one batched run
    per arm, the arms spread over ``settings.workers`` processes or a Ray cluster; rows and
    summary (with each arm's learning curve band and its plateau)."""
    seeds = list(range(settings.seeds))
    tasks = [
        {
            "label": label,
            "env_id": env_id,
            "overrides": {**dict(settings.overrides), **arm_overrides},
            "seeds": seeds,
            "steps": steps,
            "episodes": settings.episodes,
            "run_dir": str(out / "runs" / label.replace(" ", "_").replace(",", "")),
            "torch_threads": ARM_TORCH_THREADS,
        }
        for label, env_id, arm_overrides in arms
    ]
    if settings.reuse:
        for task, (_, _, arm_overrides) in zip(tasks, arms):
            task["arm_overrides"] = arm_overrides
        results = _saved_results(out, tasks, settings)
        for task in tasks:
            del task["arm_overrides"]
    else:
        results = run_tasks(train_arm, tasks, settings.workers, settings.address, _arm_progress(settings, arms, steps))
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for (label, env_id, arm_overrides), task, per_seed in zip(arms, tasks, results):
        overrides = task["overrides"]
        rows += [{"arm": label, "env": env_id, "seed": seed, **arm_overrides, **r} for seed, r in zip(seeds, per_seed)]
        prices = np.array([r["mean_price"] for r in per_seed])  # (K, N)
        theory, n_periods, chargers = _theory(env_id, overrides)
        per_period = np.array([r["profit"] for r in per_seed]) / n_periods  # (K, N)
        entry: dict[str, Any] = {
            "env": env_id,
            "overrides": arm_overrides,
            "chargers": chargers,
            "mean_price": prices.mean(axis=0).tolist(),
            "mean_price_ci95": [mean_ci(prices[:, j], low=0.0)[1] for j in range(prices.shape[1])],
            "profit": np.mean([sum(r["profit"]) for r in per_seed]),
            "profit_ci95": mean_ci([sum(r["profit"]) for r in per_seed])[1],
            "profit_per_period": per_period.mean(axis=0).tolist(),
            "profit_per_period_ci95": [mean_ci(per_period[:, j])[1] for j in range(per_period.shape[1])],
            "blocked": np.mean([sum(r["blocked"]) for r in per_seed]),
            "blocked_ci95": mean_ci([sum(r["blocked"]) for r in per_seed], low=0.0)[1],
            "nash_prices": list(theory["nash"]["prices"]),
            "nash_profits": list(theory["nash"]["profits"]),
            "joint_prices": None if theory.get("joint") is None else list(theory["joint"]["prices"]),
            "stackelberg": {k: theory["stackelberg"][k] for k in ("leader", "prices", "profits")},
            "curve": band([r["curve"] for r in per_seed], _curve_scale(per_seed[0]["curve"], theory)),
            "trained_steps": steps,
        }
        deltas = [r["delta"] for r in per_seed if r["delta"] is not None]
        if deltas:
            entry["delta"], entry["delta_ci95"] = mean_ci(deltas)
        violating = [r["violating_periods"] for r in per_seed if r["violating_periods"] is not None]
        if violating:
            entry["violating_periods"], entry["violating_periods_ci95"] = mean_ci(violating, low=0.0)
        if theory.get("capacity") is not None:
            entry["capacity_nash_prices"] = list(theory["capacity"]["nash"]["prices"])
        summary[label] = entry
    return rows, summary


def _curve_scale(curve: Mapping[str, Any], theory: Mapping[str, Any]) -> float | None:
    """The benchmark distance a learning curve's plateau is judged on: 1 in Delta (Nash to
    joint), ``joint - Nash`` in mean price; None (the curve's own range) without a joint price."""
    if curve["metric"] == "eval_delta":
        return 1.0
    if theory.get("joint") is None:
        return None
    return float(abs(np.mean(theory["joint"]["prices"]) - np.mean(theory["nash"]["prices"])))


def _saved_results(out: Path, tasks: list[dict[str, Any]], settings: ExperimentSettings) -> list[list[dict]]:
    """What :func:`train_arm` returned for each task in the run whose ``results.json`` is in
    ``out`` (``settings.reuse``): its rows by arm, in seed order. Refuses a file of another
    run (other arms, seeds or steps)."""
    path = out / "results.json"
    if not path.is_file():
        raise ConfigError(f"reuse: {path} not found: reuse re-renders the report of a finished run in --out")
    saved = json.loads(path.read_text())
    steps = saved["settings"]["steps"]
    results = []
    for task in tasks:
        rows = sorted((r for r in saved["rows"] if r["arm"] == task["label"]), key=lambda r: r["seed"])
        if [r["seed"] for r in rows] != task["seeds"] or steps != task["steps"]:
            raise ConfigError(
                f"reuse: {path} holds arm {task['label']!r} with seeds {[r['seed'] for r in rows]} and {steps} "
                f"steps; this run asks for seeds {task['seeds']} and {task['steps']} steps"
            )
        drop = {"arm", "env", "seed", "reaction", *task["arm_overrides"]}
        results.append([{k: v for k, v in r.items() if k not in drop} for r in rows])
    return results


def _has_chargers(entry: Mapping[str, Any]) -> bool:
    """Whether an arm's market has chargers (summaries written before the key existed: yes)."""
    return bool(entry.get("chargers", True))


def _price_table(summary: Mapping[str, Any]) -> str:
    grid = any("violating_periods" in s for s in summary.values())
    blocking = any(_has_chargers(s) for s in summary.values())  # a column only where it means something
    rows = []
    for label, s in summary.items():
        rows.append(
            [
                label,
                ", ".join(f"{p:.3f}" for p in s["mean_price"]),
                ", ".join(f"{p:.3f}" for p in s["nash_prices"]),
                "-" if s["joint_prices"] is None else ", ".join(f"{p:.3f}" for p in s["joint_prices"]),
                s.get("delta"),
                "-" if s.get("delta_ci95") is None else f"[{s['delta_ci95'][0]:.3f}, {s['delta_ci95'][1]:.3f}]",
                float(s["profit"]),
            ]
            + ([float(s["blocked"]) if _has_chargers(s) else "-"] if blocking else [])
            + ([s.get("violating_periods")] if grid else [])
        )
    header = [
        "arm",
        "learned mean prices",
        "Nash prices",
        "joint prices",
        "Delta",
        "Delta 95% CI",
        "profit / episode",
    ]
    header += ["blocked / episode"] if blocking else []
    return markdown_table(header + (["periods out of grid limits / episode"] if grid else []), rows)


def _delta_figure(summary: Mapping[str, Any], out: Path, title: str) -> list[tuple[str, Path]]:
    labels = [k for k, s in summary.items() if s.get("delta") is not None]
    if not labels:
        return []
    path = figures.bars_with_ci(
        out / "figures" / "delta.png",
        labels,
        [summary[k]["delta"] for k in labels],
        [summary[k].get("delta_ci95") for k in labels],
        title=title,
        ylabel="Delta (0 = Nash, 1 = joint profit)",
        references={"Nash": 0.0, "joint": 1.0},
    )
    return [("Delta by arm, mean over seeds with 95% intervals", path)]


def _outcome_figures(summary: Mapping[str, Any], out: Path, factor: str) -> list[tuple[str, Path]]:
    """Per environment: the stations' total profit and the EVs turned away per evaluation
    episode, by arm, means over seeds with 95% intervals."""
    figs = []
    for env in dict.fromkeys(s["env"] for s in summary.values()):
        labels = [k for k, s in summary.items() if s["env"] == env]
        outcomes = [("profit", "profit per episode, all stations (currency)", "Profit")]
        if any(_has_chargers(summary[k]) for k in labels):  # no chargers, no blocking to plot
            outcomes.append(("blocked", "EVs turned away per episode", "Blocking"))
        for key, ylabel, what in outcomes:
            path = figures.bars_with_ci(
                out / "figures" / f"{key}_{env}.png",
                labels,
                [float(summary[k][key]) for k in labels],
                [summary[k].get(f"{key}_ci95") for k in labels],
                title=f"{what} by {factor}: {env}",
                ylabel=ylabel,
            )
            figs.append((f"{what} per evaluation episode on {env} by arm, mean over seeds with 95% intervals", path))
    return figs


def _price_figures(summary: Mapping[str, Any], out: Path, title: str) -> list[tuple[str, Path]]:
    """One bar chart of mean learned prices per environment, with its Nash and joint prices."""
    figs = []
    for env in dict.fromkeys(s["env"] for s in summary.values()):
        labels = [k for k, s in summary.items() if s["env"] == env]
        first = summary[labels[0]]
        references = {"Nash": float(np.mean(first["nash_prices"]))}
        if first["joint_prices"] is not None:
            references["joint"] = float(np.mean(first["joint_prices"]))
        path = figures.bars_with_ci(
            out / "figures" / f"prices_{env}.png",
            labels,
            [float(np.mean(summary[k]["mean_price"])) for k in labels],
            [None] * len(labels),
            title=f"{title}: {env}",
            ylabel="mean learned price (currency/kWh)",
            references=references,
        )
        figs.append((f"Mean learned price on {env} (stations averaged), with its Nash and joint prices", path))
    return figs


def _path_figures(rows: list[dict[str, Any]], summary: Mapping[str, Any], out: Path) -> list[tuple[str, Path]]:
    """Per environment: the station-averaged price and utilisation over one evaluation
    episode of each arm's seed-0 policy, with the Nash and joint prices."""
    figs = []
    for env in dict.fromkeys(s["env"] for s in summary.values()):
        arms = [r for r in rows if r["env"] == env and r["seed"] == 0]
        hours = arms[0]["path"]["hour"]
        first = summary[arms[0]["arm"]]
        refs = {"Nash": [float(np.mean(first["nash_prices"]))] * len(hours)}
        if first["joint_prices"] is not None:
            refs["joint"] = [float(np.mean(first["joint_prices"]))] * len(hours)
        x = np.arange(len(hours))
        price = figures.lines(
            out / "figures" / f"price_path_{env}.png",
            x,
            {r["arm"]: np.mean(r["path"]["price"], axis=1) for r in arms},
            references=refs,
            title=f"Prices over one evaluation episode: {env} (seed 0)",
            xlabel=f"pricing period (from {hours[0]:.0f}:00)",
            ylabel="price, stations averaged (currency/kWh)",
        )
        figs.append((f"Price path of one evaluation episode on {env}, each arm's seed-0 policy", price))
        if any(_has_chargers(summary[r["arm"]]) for r in arms):  # no chargers, nothing busy to plot
            use = figures.lines(
                out / "figures" / f"utilization_path_{env}.png",
                x,
                {r["arm"]: np.mean(r["path"]["utilization"], axis=1) for r in arms},
                title=f"Chargers busy over one evaluation episode: {env} (seed 0)",
                xlabel=f"pricing period (from {hours[0]:.0f}:00)",
                ylabel="share of chargers busy",
            )
            figs.append((f"Utilisation over the same episode on {env}", use))
        if "vm_min_pu" in arms[0]["path"]:
            figs += _grid_path_figures(arms, env, x, f"pricing period (from {hours[0]:.0f}:00)", out)
    return figs


def _grid_path_figures(
    arms: list[dict[str, Any]], env: str, x: np.ndarray, xlabel: str, out: Path
) -> list[tuple[str, Path]]:
    """The feeder's lowest voltage and most loaded monitored line over one evaluation episode
    of each arm's seed-0 policy, against the allowed band and the loading limit."""
    limits = arms[0]["path"]["grid_limits"]
    voltage = figures.lines(
        out / "figures" / f"voltage_path_{env}.png",
        x,
        {r["arm"]: r["path"]["vm_min_pu"] for r in arms},
        bands={"allowed band": (limits["vm_min_pu"], limits["vm_max_pu"])},
        title=f"Lowest bus voltage over one evaluation episode: {env} (seed 0)",
        xlabel=xlabel,
        ylabel="lowest bus voltage (p.u.)",
    )
    loading = figures.lines(
        out / "figures" / f"line_loading_path_{env}.png",
        x,
        {r["arm"]: r["path"]["max_line_loading"] for r in arms},
        references={"limit": [limits["line_loading_limit"]] * len(x)},
        title=f"Most loaded monitored line over one evaluation episode: {env} (seed 0)",
        xlabel=xlabel,
        ylabel="loading (fraction of rating)",
    )
    return [
        (f"The feeder's lowest voltage over the same episode on {env}, against the allowed band", voltage),
        (f"The most loaded monitored line over the same episode on {env}, against its limit", loading),
    ]


def _curve_figures(summary: Mapping[str, Any], out: Path) -> list[tuple[str, Path]]:
    """Per environment: each arm's learning curve, the mean over seeds of its evaluations
    during training with a 95% band, and where it reached its plateau."""
    figs = []
    for env in dict.fromkeys(s["env"] for s in summary.values()):
        labels = [k for k, s in summary.items() if s["env"] == env]
        curves = {k: summary[k]["curve"] for k in labels}
        first = curves[labels[0]]
        ylabel = (
            "Delta (0 = Nash, 1 = joint profit)"
            if first["metric"] == "eval_delta"
            else "mean posted price (currency/kWh)"
        )
        path = figures.bands(
            out / "figures" / f"learning_curve_{env}.png",
            np.asarray(first["env_steps"]),
            {k: (np.asarray(c["mean"]), np.asarray(c["low"]), np.asarray(c["high"])) for k, c in curves.items()},
            marks={f"plateau: {k}": c["plateau_step"] for k, c in curves.items() if c["plateau_step"] is not None},
            title=f"Learning curves: {env}",
            xlabel="training env-steps per seed",
            ylabel=f"evaluation {ylabel}",
        )
        figs.append(
            (
                f"Learning curves on {env}: the deterministic policy's evaluation during training, mean over seeds "
                "with a 95% band, and where each arm reached its plateau",
                path,
            )
        )
    return figs


def _curve_notes(summary: Mapping[str, Any]) -> list[str]:
    return [plateau_note(label, s["curve"], s["trained_steps"]) for label, s in summary.items()]


def _differences(
    rows: list[dict[str, Any]], summary: dict[str, Any], pairs: list[tuple[str, str]]
) -> tuple[str, list[str]]:
    """For each ``(a, b)`` pair of arm labels: ``a`` minus ``b`` in mean price, profit per
    episode and Delta, with 95% Welch intervals over the two arms' seeds (stored in
    ``summary[a]["minus"][b]``); a Markdown table and one finding per pair."""

    def per_seed(label: str, key: str) -> list[float]:
        picked = [r for r in rows if r["arm"] == label]
        if key == "mean_price":
            return [float(np.mean(r["mean_price"])) for r in picked]
        if key == "profit":
            return [float(sum(r["profit"])) for r in picked]
        return [r["delta"] for r in picked if r["delta"] is not None]

    table, notes = [], []
    for a, b in pairs:
        entry = {}
        for key in ("mean_price", "profit", "delta"):
            xa, xb = per_seed(a, key), per_seed(b, key)
            entry[key] = None if not xa or not xb else diff_ci(xa, xb)
        summary[a].setdefault("minus", {})[b] = {k: None if v is None else list(v) for k, v in entry.items()}
        cells = ["-" if v is None else f"{v[0]:.3f}{_interval(v[1])}" for v in entry.values()]
        table.append([f"{a} − {b}", *cells])
        d, ci = entry["mean_price"]
        verdict = (
            "its 95% interval excludes zero"
            if ci is not None and (ci[0] > 0 or ci[1] < 0)
            else "its 95% interval includes zero: no difference shown at this number of seeds"
        )
        notes.append(f"{a} minus {b}: mean price {d:+.3f}{_interval(ci)}; {verdict}.")
    header = ["difference (Welch 95% interval over seeds)", "mean price", "profit / episode", "Delta"]
    return markdown_table(header, table), notes


def _comparison_result(
    question: str,
    rows: list[dict[str, Any]],
    summary: dict[str, Any],
    out: Path,
    factor: str,
    notes: list[str],
    pairs: list[tuple[str, str]] = (),
) -> ExperimentResult:
    """The report of a study comparing arms that differ in one ``factor`` on the same environments:
    the price table, the differences of ``pairs`` of arms, Delta, prices against the
    benchmarks, the episode paths and the learning curves."""
    tables = [("Learned prices against the benchmarks", _price_table(summary))]
    if pairs:
        diff_table, diff_notes = _differences(rows, summary, list(pairs))
        tables.append((f"Differences by {factor}", diff_table))
        notes = notes + diff_notes
    return ExperimentResult(
        question=question,
        rows=rows,
        summary=summary,
        tables=tables,
        notes=notes + _grid_notes(rows, summary) + _curve_notes(summary),
        figures=_delta_figure(summary, out, f"Delta by {factor}")
        + _price_figures(summary, out, f"Prices by {factor}")
        + _outcome_figures(summary, out, factor)
        + _path_figures(rows, summary, out)
        + _curve_figures(summary, out),
    )


def _grid_notes(rows: list[dict[str, Any]], summary: Mapping[str, Any]) -> list[str]:
    """One line per grid-coupled arm: its periods per episode out of the grid's limits."""
    periods = {r["arm"]: len(r["path"]["hour"]) for r in rows}
    return [
        f"{label}: {s['violating_periods']:.1f} of {periods[label]} periods per episode with a positive grid "
        "constraint cost (voltage, line loading or carbon out of limits)."
        for label, s in summary.items()
        if "violating_periods" in s
    ]


def _coordination(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or COORDINATION.default_steps
    envs = ("LogitBertrand-v0", COORDINATION.market(settings))
    arms = [(f"{env} {reward}", env, {"reward": reward}) for env in envs for reward in ("team", "individual")]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = []
    for env in envs:
        team, ind = summary[f"{env} team"], summary[f"{env} individual"]
        notes.append(
            f"{env}: mean learned price {np.mean(team['mean_price']):.3f} with a team reward, "
            f"{np.mean(ind['mean_price']):.3f} with individual rewards (Nash {np.mean(team['nash_prices']):.3f}"
            + (f", joint {np.mean(team['joint_prices']):.3f})." if team["joint_prices"] is not None else ").")
        )
    question = (
        "Do stations trained on a shared (team) reward price like a cartel, and stations trained on their own "
        "profit like Bertrand competitors, or do independent learners coordinate tacitly?"
    )
    pairs = [(f"{env} team", f"{env} individual") for env in envs]
    return _comparison_result(question, rows, summary, out, "reward", notes, pairs)


def _observability(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or OBSERVABILITY.default_steps
    envs = ("LogitBertrand-v0", OBSERVABILITY.market(settings))
    arms = [
        (f"{env} {obs}", env, {"reward": "individual", "observability": obs})
        for env in envs
        for obs in ("partial", "full")
    ]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = [
        f"{env}: mean learned price {np.mean(summary[f'{env} partial']['mean_price']):.3f} seeing only "
        f"public and own features, {np.mean(summary[f'{env} full']['mean_price']):.3f} seeing the rivals' "
        "prices and status."
        for env in envs
    ]
    question = (
        "Does seeing the rivals' prices (full observability) let independent learners sustain higher prices "
        "than seeing only public signals and their own state (partial)?"
    )
    pairs = [(f"{env} full", f"{env} partial") for env in envs]
    return _comparison_result(question, rows, summary, out, "observability", notes, pairs)


CAPACITY_CHARGERS = (2, 4, 8, 16)


def _capacity(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or CAPACITY.default_steps
    env = CAPACITY.market(settings)
    arms = [(f"{c} chargers", env, {"reward": "individual", "chargers_per_station": c}) for c in CAPACITY_CHARGERS]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    labels = list(summary)
    price = [float(np.mean(summary[k]["mean_price"])) for k in labels]
    capacity_nash = [
        float(np.mean(summary[k]["capacity_nash_prices"])) if "capacity_nash_prices" in summary[k] else np.nan
        for k in labels
    ]
    nash = [float(np.mean(summary[k]["nash_prices"])) for k in labels]
    blocked = [float(summary[k]["blocked"]) for k in labels]
    fig_prices = figures.lines(
        out / "figures" / "capacity_prices.png",
        list(CAPACITY_CHARGERS),
        {"learned (MAPPO, individual)": price},
        references={"capacity-aware Nash": capacity_nash, "Nash without capacity": nash},
        title="Prices by chargers per station",
        xlabel="chargers per station",
        ylabel="mean price (currency/kWh)",
    )
    fig_blocked = figures.lines(
        out / "figures" / "capacity_blocking.png",
        list(CAPACITY_CHARGERS),
        {"blocked EVs per episode": blocked},
        title="Blocking by chargers per station",
        xlabel="chargers per station",
        ylabel="EVs turned away per episode",
    )
    notes = [
        f"With {c} chargers: learned mean price {p:.3f}, capacity-aware Nash {cn:.3f}, {b:.1f} EVs blocked per episode."
        for c, p, cn, b in zip(CAPACITY_CHARGERS, price, capacity_nash, blocked)
    ]
    return ExperimentResult(
        question="How do learned prices and blocking change with the chargers per station, and do they "
        "follow the capacity-aware Nash prices (scarcity raises the equilibrium price)?",
        rows=rows,
        summary=summary,
        tables=[("Learned prices against the benchmarks", _price_table(summary))],
        figures=[
            ("Learned prices against the capacity-aware and plain Nash prices", fig_prices),
            ("EVs turned away by full stations", fig_blocked),
        ]
        + _outcome_figures(summary, out, "chargers")
        + _path_figures(rows, summary, out)
        + _curve_figures(summary, out),
        notes=notes + _grid_notes(rows, summary) + _curve_notes(summary),
    )


STACKELBERG_ENV = "LogitBertrand-v0"
STACKELBERG_LEADER = "station_1"
REACTION_POINTS = 21


def reaction_curve(
    run_dir: str | Path, env_id: str, overrides: Mapping[str, Any], *, seed: int, points: int = REACTION_POINTS
) -> dict[str, list]:
    """The followers' learned reply to the leader's announced price, against theory's.

    Runs one evaluation episode (member 0 of ``seed``) of the trained policy in
    ``run_dir``, then feeds the followers every observation of that episode again with the
    announced price (``LeaderCommitment.next_price``) replaced by each of ``points`` prices
    across the leader's range, and averages their posted prices over the episode: a
    partial-dependence curve of the followers' policy. Theory's reply is the followers'
    Nash equilibrium given the leader's price (:func:`evprice.market.theory.bertrand_nash`
    with the leader's price fixed), which the Stackelberg leader anticipates.

    Returns ``{"leader_price": (P,), "learned": (P, N-1), "theory": (P, N-1)}`` lists,
    currency/kWh, followers in station order.
    """
    from evprice.core.actions import scale_action
    from evprice.learn.policy import load_policy
    from evprice.market.theory import bertrand_nash, logit_market

    env = make_env(env_id, 1, **dict(overrides))
    j = env.config.leader_index
    if j is None:
        raise ValueError(f"{env_id} with {dict(overrides)} has no leader: there is no reaction to measure")
    _, _, policy = load_policy(run_dir)
    followers = [k for k in range(env.n_agents) if k != j]
    announced = (f"{env.agent_ids[j]}.LeaderCommitment", "next_price")
    cols = [env.observation_names(env.agent_ids[k]).index(announced) for k in followers]
    obs = env.reset(seed)
    seen = []  # the followers' observations at each decision, (T, N, D)
    for _ in range(env.n_periods):
        seen.append(obs[0])
        obs, *_ = env.step(policy(obs))
    seen_arr = np.stack(seen)
    lo, hi = env.params.price_min, env.params.price_max
    grid = np.linspace(lo[j], hi[j], points)
    market = logit_market(env.params)
    learned, theory = [], []
    for g in grid:
        x = seen_arr.copy()
        x[:, followers, cols] = g
        price = scale_action(policy(x)[..., 0], lo, hi)  # (T, N)
        learned.append(price[:, followers].mean(axis=0).tolist())
        theory.append(bertrand_nash(market, fixed={j: float(g)}, tol=1e-12).prices[followers].tolist())
    return {"leader_price": grid.tolist(), "learned": learned, "theory": theory}


def _interval(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"


def _stackelberg_table(summary: Mapping[str, Any], leader: int) -> str:
    """Learned prices and profits per period of each station, and the leader's price minus
    the followers' mean (``price_gap``), by arm; then the theory's rows."""
    first = next(iter(summary.values()))
    n = len(first["mean_price"])
    others = [k for k in range(n) if k != leader]
    header = ["arm"] + [f"station_{j + 1} price" for j in range(n)]
    header += [f"station_{leader + 1} − others' price"]
    header += [f"station_{j + 1} profit / period" for j in range(n)] + ["Delta"]
    rows = []
    for label, s in summary.items():
        rows.append(
            [f"{label} (learned)"]
            + [f"{p:.3f}{_interval(ci)}" for p, ci in zip(s["mean_price"], s["mean_price_ci95"])]
            + [f"{s['price_gap']:.3f}{_interval(s['price_gap_ci95'])}"]
            + [f"{v:.4f}{_interval(ci)}" for v, ci in zip(s["profit_per_period"], s["profit_per_period_ci95"])]
            + [None if s.get("delta") is None else f"{s['delta']:.3f}{_interval(s.get('delta_ci95'))}"]
        )
    stack = first["stackelberg"]
    for name, prices, profits in (
        ("Bertrand-Nash (theory)", first["nash_prices"], first["nash_profits"]),
        (f"Stackelberg, leader {stack['leader']} (theory)", stack["prices"], stack["profits"]),
    ):
        gap = prices[leader] - float(np.mean([prices[k] for k in others]))
        rows.append([name] + [f"{p:.3f}" for p in prices] + [f"{gap:.3f}"] + [f"{v:.4f}" for v in profits] + [None])
    return markdown_table(header, rows)


def _stackelberg(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or STACKELBERG.default_steps
    base = {"reward": "individual", "observability": "partial"}
    leader = STACKELBERG_LEADER
    sim, full = f"{STACKELBERG_ENV} simultaneous", f"{STACKELBERG_ENV} simultaneous full"
    lead = f"{STACKELBERG_ENV} leader {leader}"
    arms = [
        (sim, STACKELBERG_ENV, base),
        (full, STACKELBERG_ENV, {**base, "observability": "full"}),  # both see each other's prices
        (lead, STACKELBERG_ENV, {**base, "leader": leader}),
    ]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    j = int(leader.removeprefix("station_")) - 1
    s_sim, s_full, s_lead = summary[sim], summary[full], summary[lead]
    stack = s_lead["stackelberg"]
    followers = [k for k in range(len(s_lead["mean_price"])) if k != j]
    mean_of = lambda v, idx: float(np.mean([v[k] for k in idx]))  # noqa: E731
    for label, entry in summary.items():  # the move order's mark: the leader above its followers
        gaps = [r["mean_price"][j] - mean_of(r["mean_price"], followers) for r in rows if r["arm"] == label]
        entry["price_gap"], entry["price_gap_ci95"] = mean_ci(gaps)
    figs = _delta_figure(summary, out, "Delta by move order")
    if len(s_lead["mean_price"]) == 2:
        f = followers[0]
        marks = {
            "Nash": tuple(s_lead["nash_prices"]),
            f"Stackelberg ({leader} leads)": tuple(stack["prices"]),
        }
        if s_lead["joint_prices"] is not None:
            marks["joint"] = tuple(s_lead["joint_prices"])
        seeds = list(rows)
        figs.append(
            (
                "Learned mean prices of each seed's policy, by arm, against the Nash, Stackelberg and joint prices",
                figures.scatter(
                    out / "figures" / "prices_by_seed.png",
                    [r["mean_price"][j] for r in seeds],
                    [r["mean_price"][f] for r in seeds],
                    title="Learned prices per seed",
                    xlabel=f"{leader} price (the leader in the leader arm)",
                    ylabel=f"station_{f + 1} price",
                    marks=marks,
                    groups=[r["arm"] for r in seeds],
                ),
            )
        )
    overrides = {**dict(settings.overrides), **base, "leader": leader}
    for r in rows:
        if r["arm"] == lead:
            r["reaction"] = reaction_curve(r["run_dir"], STACKELBERG_ENV, overrides, seed=EVAL_SEED + r["seed"])
    reactions = [r["reaction"] for r in rows if r["arm"] == lead]
    grid = reactions[0]["leader_price"]
    learned = np.array([np.mean(c["learned"], axis=1) for c in reactions])  # (K, P), followers averaged
    figs.append(
        (
            "The followers' learned reply to the leader's announced price (each seed's policy, averaged over "
            "one episode's observations) against the theory's reply, which the Stackelberg leader anticipates",
            figures.lines(
                out / "figures" / "reaction.png",
                grid,
                {f"learned, seed {r['seed']}": c for r, c in zip((r for r in rows if r["arm"] == lead), learned)},
                references={
                    "theory (followers' Nash given the leader's price)": np.mean(reactions[0]["theory"], axis=1)
                },
                title="Followers' reaction to the announced price",
                xlabel=f"{leader}'s announced price (currency/kWh)",
                ylabel="followers' price (currency/kWh)",
            ),
        )
    )
    slope = [float(np.polyfit(grid, c, 1)[0]) for c in learned]
    theory_slope = float(np.polyfit(grid, np.mean(reactions[0]["theory"], axis=1), 1)[0])
    summary[lead]["reaction_slope"], summary[lead]["reaction_slope_ci95"] = mean_ci(slope)
    summary[lead]["reaction_slope_theory"] = theory_slope
    seed0 = {r["arm"]: r for r in rows if r["seed"] == 0}
    hours = seed0[lead]["path"]["hour"]
    series = {}
    for label, tag in ((sim, "simultaneous"), (full, "simultaneous full"), (lead, "leader arm")):
        price = np.asarray(seed0[label]["path"]["price"])  # (T, N)
        series[f"{tag}: {leader}"] = price[:, j]
        series[f"{tag}: followers"] = price[:, followers].mean(axis=1)
    refs = {
        "Nash": [mean_of(s_lead["nash_prices"], range(len(s_lead["nash_prices"])))] * len(hours),
        "Stackelberg leader": [stack["prices"][j]] * len(hours),
        "Stackelberg followers": [mean_of(stack["prices"], followers)] * len(hours),
    }
    figs.append(
        (
            "Prices over one evaluation episode, each arm's seed-0 policy: the leader and its followers",
            figures.lines(
                out / "figures" / "price_path.png",
                np.arange(len(hours)),
                series,
                references=refs,
                title=f"Prices over one evaluation episode: {STACKELBERG_ENV} (seed 0)",
                xlabel=f"pricing period (from {hours[0]:.0f}:00)",
                ylabel="price (currency/kWh)",
            ),
        )
    )
    lp, fp = s_lead["mean_price"][j], mean_of(s_lead["mean_price"], followers)
    stack_gap = stack["prices"][j] - mean_of(stack["prices"], followers)
    notes = [
        f"The leader prices {s_lead['price_gap']:.3f} above its followers{_interval(s_lead['price_gap_ci95'])} "
        f"(Stackelberg {stack_gap:.3f}); pricing simultaneously the gap is {s_sim['price_gap']:.3f} with "
        f"partial and {s_full['price_gap']:.3f} with full observation (Nash 0). The gap is measured within each "
        "seed, so it is free of the seed-to-seed swings of the price level.",
        f"With {leader} leading: learned {leader} price {lp:.3f} (Stackelberg {stack['prices'][j]:.3f}, "
        f"Nash {s_lead['nash_prices'][j]:.3f}); followers {fp:.3f} (Stackelberg "
        f"{mean_of(stack['prices'], followers):.3f}).",
        "Pricing simultaneously: learned prices "
        + ", ".join(f"{p:.3f}" for p in s_sim["mean_price"])
        + " seeing no rival's price, "
        + ", ".join(f"{p:.3f}" for p in s_full["mean_price"])
        + f" seeing the rivals' last prices (Nash {mean_of(s_sim['nash_prices'], range(len(s_sim['nash_prices']))):.3f}"
        + "). The second is the information control of the leader arm, where the leader sees the followers' "
        "prices and the followers see the leader's announcement.",
        f"Profit per period of {leader}: {s_lead['profit_per_period'][j]:.4f} leading, "
        f"{s_sim['profit_per_period'][j]:.4f} pricing simultaneously (theory: Stackelberg "
        f"{stack['profits'][j]:.4f}, Nash {s_sim['nash_profits'][j]:.4f}); followers "
        f"{mean_of(s_lead['profit_per_period'], followers):.4f} (theory {mean_of(stack['profits'], followers):.4f})."
        + (
            " In theory the followers gain more than the leader (prices are strategic complements: "
            "a second-mover advantage)."
            if mean_of(stack["profits"], followers) > stack["profits"][j]
            else ""
        ),
        f"The followers' learned reply to the announced price has slope {summary[lead]['reaction_slope']:.2f}"
        f"{_interval(summary[lead]['reaction_slope_ci95'])} (least squares over the leader's range; theory "
        f"{theory_slope:.2f}): a slope near the theory's means they learned to best-respond to the "
        "announcement, which is what makes leading pay.",
        "The leader commits its price one period ahead, so its reward for a commitment arrives a period "
        "later; its first period's price is the middle of its range. Followers see the commitment, not the "
        "leader's profits; the leader (level 2) also sees the followers' status and profit windows.",
    ]
    question = (
        "When one station commits its price before the others (a Stackelberg leader whose price the "
        "followers observe), do independent learners reach the Stackelberg prices rather than the "
        "simultaneous-move Nash prices, and who gains from the move order?"
    )
    return ExperimentResult(
        question=question,
        rows=rows,
        summary=summary,
        tables=[("Learned prices and profits against the theory", _stackelberg_table(summary, j))],
        figures=figs + _curve_figures(summary, out),
        notes=notes + _curve_notes(summary),
    )


def _collusion_qlearning(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    from evprice.analysis.qlearning import QLearningConfig, run_sessions, summarise

    config = QLearningConfig() if settings.steps is None else QLearningConfig(max_periods=settings.steps)
    result = run_sessions(
        settings.seeds, config, seed=0, overrides=dict(settings.overrides), on_block=_session_progress(settings, config)
    )
    summary = summarise(result)
    rows = [
        {
            "session": k,
            "converged": bool(result.converged[k]),
            "periods": int(result.periods[k]),
            "delta": float(result.delta[k]),
            "cycle_length": int(result.cycle_length[k]),
            "cycle_prices": result.cycle_prices[k].tolist(),
            "cycle_profit": result.cycle_profit[k].tolist(),
        }
        for k in range(settings.seeds)
    ]
    d = summary["delta"]
    ci = d["ci95"]
    nash, joint = summary["nash"]["prices"], summary["joint"]["prices"]
    figs = [
        (
            "Delta of each session (0 = Nash, 1 = joint profit)",
            figures.histogram(
                out / "figures" / "delta_sessions.png",
                result.delta,
                title=f"Delta over {settings.seeds} sessions",
                xlabel="Delta",
                references={"Nash": 0.0, "joint": 1.0, "mean": float(d["mean"])},
            ),
        )
    ]
    if result.cycle_prices.shape[1] == 2:
        figs.append(
            (
                "Long-run prices of each session (averaged over its cycle), with the Nash and joint prices",
                figures.scatter(
                    out / "figures" / "cycle_prices.png",
                    result.cycle_prices[:, 0],
                    result.cycle_prices[:, 1],
                    title="Long-run prices",
                    xlabel="station 1 price",
                    ylabel="station 2 price",
                    marks={"Nash": (nash[0], nash[1]), "joint": (joint[0], joint[1])},
                ),
            )
        )
    table = markdown_table(
        ["sessions", "converged", "mean Delta", "95% CI", "median Delta", "mean periods to converge", "fixed points"],
        [
            [
                settings.seeds,
                f"{summary['converged_share']:.0%}",
                float(d["mean"]),
                "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]",
                float(d["median"]),
                "-" if summary["periods"]["mean_converged"] is None else f"{summary['periods']['mean_converged']:,.0f}",
                f"{summary['cycle_length']['share_constant']:.0%}",
            ]
        ],
    )
    notes = [
        f"Mean Delta {d['mean']:.3f} over {settings.seeds} sessions; Calvano et al. (2020) report about 0.85 "
        "over 1,000 sessions with the same settings (two firms, 15 prices, memory one, discount 0.95, "
        "learning rate 0.15, beta 4e-6).",
        f"{summary['converged_share']:.0%} of the sessions converged (greedy strategies unchanged for "
        f"{config.convergence_periods:,} periods, within {config.max_periods:,} periods).",
        "Long-run prices (averaged over each session's cycle): "
        + ", ".join(f"{p:.3f}" for p in summary["cycle_prices_mean"])
        + f" against Nash {nash[0]:.3f} and joint {joint[0]:.3f}.",
    ]
    return ExperimentResult(
        question="Do two tabular Q-learning stations, each maximising its own discounted profit, learn "
        "to charge supra-competitive prices without communicating (algorithmic collusion)?",
        rows=rows,
        summary=summary,
        tables=[("Sessions", table)],
        figures=figs,
        notes=notes,
        settings_line=f"Settings: {settings.seeds} independent sessions, at most {config.max_periods:,} periods each "
        f"({', '.join(f'{k} {v}' for k, v in config.to_dict().items())})",
    )


COLLUSION = register(
    Experiment(
        name="collusion-qlearning",
        description="Calvano et al. (2020): two tabular Q-learning stations on LogitBertrand-v0; "
        "--seeds is the number of independent sessions, --steps caps the periods per session.",
        default_steps=None,
        run=_collusion_qlearning,
    )
)
COORDINATION = register(
    Experiment(
        name="coordination",
        description="Team vs individual reward (MAPPO) on LogitBertrand-v0 and a charging market "
        "(PublicCharging-v0, or --env).",
        default_steps=DEFAULT_STEPS,
        run=_coordination,
        market_env="PublicCharging-v0",
    )
)
OBSERVABILITY = register(
    Experiment(
        name="observability",
        description="Partial vs full observability, individual rewards (MAPPO), the same training budget.",
        default_steps=DEFAULT_STEPS,
        run=_observability,
        market_env="PublicCharging-v0",
    )
)
STACKELBERG = register(
    Experiment(
        name="stackelberg",
        description="Simultaneous pricing vs a Stackelberg leader that commits its price a period ahead "
        "(MAPPO, individual rewards, partial observability) on LogitBertrand-v0, against the Nash and "
        "Stackelberg solutions.",
        default_steps=DEFAULT_STEPS,
        run=_stackelberg,
    )
)
CAPACITY = register(
    Experiment(
        name="capacity",
        description="Chargers per station on a charging market (PublicCharging-v0, or --env; MAPPO, individual "
        "rewards) against the capacity-aware Nash prices.",
        default_steps=DEFAULT_STEPS,
        run=_capacity,
        market_env="PublicCharging-v0",
    )
)
