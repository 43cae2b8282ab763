"""Training and evaluating the experiments' arms: MAPPO runs over seeds, spread over worker
processes, resumed from the results already saved."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from evprice.analysis.curves import band, read_curve
from evprice.analysis.experiments import (
    ExperimentSettings,
)
from evprice.analysis.messages import protocol_signal, signal_measures
from evprice.analysis.parallel import run_tasks
from evprice.analysis.rollouts import evaluate
from evprice.analysis.stats import mean_ci
from evprice.core.config import ConfigError
from evprice.core.progress import duration_text, eta_line
from evprice.envs import make_env
from evprice.policies.theory import benchmarks

EVAL_SEED = 10_000

GRID_COST_TERMS = ("voltage", "line", "carbon")
"""The constraint-cost terms an arm reports per evaluation episode on a grid (voltage in p.u.
outside the band, line in loading above the limit, carbon in kg CO2 above the cap)."""


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
    signals: bool = False,
) -> list[dict[str, Any]]:
    """Train MAPPO on ``env_id`` with ``overrides`` for every seed of ``seeds`` in one batched
    run (``run_dir/seed_<s>/``), then evaluate each seed's deterministic policy.

    Returns one dict per seed: per station mean price (currency/kWh), profit per episode and
    blocked EVs, the market's Delta (None where undefined), on a grid the periods per
    episode whose constraint cost is positive (``violating_periods``, else None) and each
    cost term per episode (``grid_costs``, :data:`GRID_COST_TERMS`, else None), the seed's
    run folder, the path of its first evaluation episode (:func:`episode_path`) and its
    learning curve (:func:`evprice.analysis.curves.read_curve`), and ``consumer_surplus`` and
    ``social_welfare`` per episode where the market defines them (else None); with
    ``signals`` (an arm under a coordination protocol) also what the protocol's signals carry
    about the next prices on the same evaluation episodes
    (:func:`evprice.analysis.messages.signal_measures`). A pure function of its arguments
    (what :mod:`evprice.analysis.parallel` needs to spread arms over processes).
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
                "grid_costs": None
                if "costs" not in summary
                else {k: summary["costs"][k] / episodes for k in GRID_COST_TERMS},
                "run_dir": str(seed_dir),
                "path": episode_path(env_id, factory, seed=EVAL_SEED + seed, overrides=overrides),
                "curve": read_curve(seed_dir),
            }
        )
        if signals:
            out[-1].update(
                signal_measures(env_id, factory, seed=EVAL_SEED + seed, overrides=overrides, episodes=episodes)
            )
        market = summary["market"]
        for key in ("consumer_surplus", "social_welfare"):  # where the market defines them
            out[-1][key] = float(market[key]) / episodes if key in market else None
    return out


def episode_path(env_id: str, factory: Any, *, seed: int, overrides: Mapping[str, Any]) -> dict[str, list]:
    """Per period of one episode (member 0 of ``seed``'s evaluation): each station's price
    (currency/kWh), utilisation (share of chargers busy) and blocked EVs, ``(T, N)`` lists,
    and the hour of day at the start of each period, ``(T,)``; under a coordination protocol
    ``signal_k`` ``(T, N)``, value ``k`` of what each station's protocol published (its message,
    announced price or the mediator's recommendation to it). On a grid also, ``(T,)``: the
    feeder's lowest voltage ``vm_min_pu`` (p.u.), its most loaded monitored line
    ``max_line_loading`` (fraction of rating) and the constraint ``cost``; and the limits
    ``grid_limits`` = ``{"vm_min_pu", "vm_max_pu", "line_loading_limit"}``."""
    env = make_env(env_id, 1, **dict(overrides))
    policy = factory(env)
    obs = env.reset(seed)
    p = env.params
    hours = [(p.start_s + k * env.config.action_period_s) / 3600.0 % 24.0 for k in range(env.n_periods)]
    path: dict[str, list] = {"hour": hours, "price": [], "utilization": [], "blocked": []}
    protocol = env.config.protocol
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        for key in ("price", "utilization", "blocked"):
            path[key].append(np.asarray(info[key][0], dtype=np.float64).tolist())
        if protocol != "none":  # what the protocol published: signal_0, signal_1, ... per station
            for k, values in enumerate(np.moveaxis(protocol_signal(info, protocol)[0], -1, 0)):
                path.setdefault(f"signal_{k}", []).append(values.tolist())
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


class _Market(NamedTuple):
    """What an arm's report needs of its market, read before any training: the benchmarks of
    the static logit theory (Stackelberg: its own leader, else the first station), or None and
    the theory's reason (``no_theory``) where it does not cover the market (a road network's
    generalised-cost drivers, for one); the pricing periods per episode; whether it has
    chargers (sampled demand: blocking and utilisation mean something; expected demand has
    neither); and the stations' mean width of allowed prices (currency/kWh)."""

    theory: dict[str, Any] | None
    no_theory: str | None
    n_periods: int
    chargers: bool
    price_span: float


def _market(env_id: str, overrides: Mapping[str, Any]) -> _Market:
    """The :class:`_Market` of ``env_id`` made with ``overrides`` (a bad key raises its
    :class:`~evprice.core.config.ConfigError` here, before any training)."""
    env = make_env(env_id, 1, **dict(overrides))
    try:
        theory, reason = benchmarks(env), None
    except ValueError as err:  # the theory names what it does not cover
        theory, reason = None, str(err)
    span = float(np.mean(np.asarray(env.params.price_max) - np.asarray(env.params.price_min)))
    return _Market(theory, reason, env.n_periods, env.config.demand == "sampled", span)


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
    parallel = settings.workers if settings.address is None else 1  # a cluster's width is its own

    def on_done(index: int, finished: int) -> None:
        line = eta_line("arms", finished, len(arms), time.perf_counter() - start, parallel=parallel)
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
    summary (with each arm's learning curve band and its plateau). An arm under a
    coordination protocol (``protocol`` in its overrides) also measures its signals."""
    seeds = list(range(settings.seeds))
    tasks = [
        {
            "label": label,
            "env_id": env_id,
            "overrides": settings.arm_overrides(arm_overrides),
            "seeds": seeds,
            "steps": steps,
            "episodes": settings.episodes,
            "run_dir": str(out / "runs" / label.replace(" ", "_").replace(",", "")),
            "torch_threads": ARM_TORCH_THREADS,
            "signals": arm_overrides.get("protocol", "none") != "none",
        }
        for label, env_id, arm_overrides in arms
    ]
    markets = [_market(task["env_id"], task["overrides"]) for task in tasks]  # a bad key stops before training
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
    scenario = settings.loaded_scenario()
    for (label, env_id, arm_overrides), per_seed, facts in zip(arms, results, markets):
        theory = facts.theory
        market = {"market": scenario.name} if scenario is not None else {}  # what the report calls it
        rows += [
            {"arm": label, "env": env_id, **market, "seed": seed, **arm_overrides, **r}
            for seed, r in zip(seeds, per_seed)
        ]
        prices = np.array([r["mean_price"] for r in per_seed])  # (K, N)
        per_period = np.array([r["profit"] for r in per_seed]) / facts.n_periods  # (K, N)
        entry: dict[str, Any] = {
            "env": env_id,
            **market,
            "overrides": arm_overrides,
            "chargers": facts.chargers,
            "mean_price": prices.mean(axis=0).tolist(),
            "mean_price_ci95": [mean_ci(prices[:, j], low=0.0)[1] for j in range(prices.shape[1])],
            "profit": np.mean([sum(r["profit"]) for r in per_seed]),
            "profit_ci95": mean_ci([sum(r["profit"]) for r in per_seed])[1],
            "profit_per_period": per_period.mean(axis=0).tolist(),
            "profit_per_period_ci95": [mean_ci(per_period[:, j])[1] for j in range(per_period.shape[1])],
            "blocked": np.mean([sum(r["blocked"]) for r in per_seed]),
            "blocked_ci95": mean_ci([sum(r["blocked"]) for r in per_seed], low=0.0)[1],
            "nash_prices": None if theory is None else list(theory["nash"]["prices"]),
            "nash_profits": None if theory is None else list(theory["nash"]["profits"]),
            "joint_prices": None if theory is None or theory.get("joint") is None else list(theory["joint"]["prices"]),
            "stackelberg": None
            if theory is None
            else {k: theory["stackelberg"][k] for k in ("leader", "prices", "profits")},
            "no_theory": facts.no_theory,
            "curve": band([r["curve"] for r in per_seed], *_curve_scale(per_seed[0]["curve"], facts)),
            "trained_steps": steps,
        }
        deltas = [r["delta"] for r in per_seed if r["delta"] is not None]
        if deltas:
            entry["delta"], entry["delta_ci95"] = mean_ci(deltas)
        violating = [r["violating_periods"] for r in per_seed if r["violating_periods"] is not None]
        if violating:
            entry["violating_periods"], entry["violating_periods_ci95"] = mean_ci(violating, low=0.0)
            terms = [r["grid_costs"] for r in per_seed if r.get("grid_costs") is not None]
            if terms:  # rows saved before the terms were recorded have none
                entry["grid_costs"] = {k: float(np.mean([t[k] for t in terms])) for k in GRID_COST_TERMS}
        if theory is not None and theory.get("capacity") is not None:
            entry["capacity_nash_prices"] = list(theory["capacity"]["nash"]["prices"])
        summary[label] = entry
    return rows, summary


def _curve_scale(curve: Mapping[str, Any], market: _Market) -> tuple[float, str]:
    """The distance a learning curve's plateau is judged on, and its name: 1 in Delta (Nash to
    joint), ``joint - Nash`` in mean price; without a joint price the stations' mean width of
    allowed prices (a fixed scale: the curve's own range would shrink with its noise)."""
    if curve["metric"] == "eval_delta":
        return 1.0, "the Nash-to-joint distance"
    theory = market.theory
    if theory is None or theory.get("joint") is None:
        return market.price_span, "the stations' price range"
    distance = float(abs(np.mean(theory["joint"]["prices"]) - np.mean(theory["nash"]["prices"])))
    return distance, "the Nash-to-joint distance"


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
        drop = {"arm", "env", "market", "seed", "reaction", *task["arm_overrides"]}
        results.append([{k: v for k, v in r.items() if k not in drop} for r in rows])
    return results
