"""Safe model-based pricing: constrained vs unconstrained CEM vs MAPPO-Lagrangian vs fixed prices.

    python benchmarks/safe_pricing.py [--env CoupledNetworkPeak-v0] [--steps 600] [--seeds 2] [--jobs 2]
                                      [--eval-episodes 16] [--cost-limit 0.3] [--ppo-steps 0]
                                      [--set key=value ...] [--json]

The quick form of ``evprice experiment safety`` (the full study: 8 seeds, the frontier over
several limits, the report in ``docs/experiments/safety/``), built from the same pieces
(:mod:`evprice.analysis.studies.safety`). For each seed: trains the constrained planner and
the unconstrained one for ``--steps`` pricing decisions each (document 2 trained 600), and
with ``--ppo-steps N`` MAPPO-Lagrangian (PID) and MAPPO for N env-steps per seed (all seeds
in one batched run each); then plays every method and the fixed-price baselines (best fixed,
best safe fixed within ``--cost-limit``, time of use, the upper bounds) on the same
``--eval-episodes`` evaluation days of the seed (common random numbers). Reports per method
the team reward per day, the violating periods per day (mean over seeds, and the seeds within
the limit), the training wall time, the periods simulated to learn, and the planners' time
per decision; then which grid term is violated (voltage, line, carbon: periods per day where
each is above 0) and the hour of day with the most violating days.

Targets: issue 7's (the constrained planner has the fewest violating periods of the two
planners, the best fixed prices and time of use, at most 5% of periods; at least 90% of the
unconstrained planner's reward; planning under 0.5 s per decision on 2 cores) and issue 22's
(the planner within its limit in at least 7 of 8 seeds, and above the best safe fixed prices'
reward). ``--jobs 2`` runs two seeds' planners at once, one per core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from evprice.analysis.parallel import run_tasks  # noqa: E402
from evprice.analysis.studies.safety import GRID_TERMS, fixed_task, hour_text, planner_task, ppo_task, run_task  # noqa: E402
from evprice.core.overrides import parse_assignment  # noqa: E402

ISSUE7_METHODS = ("constrained CEM", "unconstrained CEM", "best fixed prices", "time of use")
"""The methods issue 7 compares; the others are the later baselines."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CoupledNetworkPeak-v0")
    parser.add_argument("--steps", type=int, default=600, help="training decisions per planner")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--eval-episodes", type=int, default=16)
    parser.add_argument("--cost-limit", type=float, default=0.3)
    parser.add_argument("--ppo-steps", type=int, default=0, help="MAPPO(-Lagrangian) env-steps per seed; 0 = none")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (one thread each)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    overrides = dict(parse_assignment(a) for a in args.assignments)
    root = Path(tempfile.mkdtemp(prefix="evprice-safe-"))
    seeds = list(range(args.seeds))
    common = dict(env_id=args.env, overrides=overrides, episodes=args.eval_episodes)
    tasks, labels = [], []
    if args.ppo_steps:
        for algo, name, limit in (("mappo-lag", "MAPPO-Lagrangian", args.cost_limit), ("mappo", "MAPPO", None)):
            kw = dict(common, seeds=seeds, algo=algo, cost_limit=limit, steps=args.ppo_steps, run_dir=str(root / algo))
            tasks.append({"fn": ppo_task, "kwargs": kw})
            labels.append([name] * len(seeds))
    for seed in seeds:
        for constrained, name in ((True, "constrained CEM"), (False, "unconstrained CEM")):
            run_dir = str(root / f"{name.split()[0]}_{seed}")
            kw = dict(common, seed=seed, constrained=constrained, cost_limit=args.cost_limit, decisions=args.steps)
            tasks.append({"fn": planner_task, "kwargs": {**kw, "run_dir": run_dir}})
            labels.append([name])
        tasks.append({"fn": fixed_task, "kwargs": dict(common, seed=seed, limits=[args.cost_limit])})
        labels.append(None)  # the rows name their methods
    results = run_tasks(run_task, tasks, args.jobs)
    rows: dict[str, list[dict]] = {}
    for names, result in zip(labels, results):
        for i, r in enumerate(result):
            name = names[i] if names is not None else r["method"]  # the fixed-price rows name theirs
            rows.setdefault(name, []).append(r)
    methods = {}
    for name, group in rows.items():
        violating = [r["violating_periods"] for r in group]
        methods[name] = {
            "team_reward": float(np.mean([r["team_reward"] for r in group])),
            "violating_periods": float(np.mean(violating)),
            "violating_fraction": float(np.mean(violating)) / len(group[0]["by_period"]),
            "per_seed_violating_periods": violating,
            "seeds_within": int(sum(v <= args.cost_limit + 1e-9 for v in violating)),
            "train_s": float(np.mean([r["train_s"] for r in group])),
            "env_steps": group[0].get("env_steps"),
            "plan_time_s": float(np.mean([r["plan_time_s"] for r in group])) if "plan_time_s" in group[0] else None,
            "terms": {k: float(np.mean([r["terms"][k] for r in group])) for k in GRID_TERMS},
            "by_period": np.mean([r["by_period"] for r in group], axis=0).tolist(),
            "hour": group[0]["hour"],
        }
    safe, free = methods["constrained CEM"], methods["unconstrained CEM"]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}",
        "settings": vars(args),
        "methods": methods,
        "targets": {
            "constrained_fewest_violations": all(
                safe["violating_periods"] <= methods[m]["violating_periods"] for m in ISSUE7_METHODS
            ),
            "constrained_violating_fraction": safe["violating_fraction"],
            "reward_vs_unconstrained": safe["team_reward"] / free["team_reward"],
            "plan_time_s": max(safe["plan_time_s"], free["plan_time_s"]),
            "constrained_seeds_within": f"{safe['seeds_within']} of {args.seeds}",
            "reward_vs_best_safe_fixed": safe["team_reward"] / methods["best safe fixed prices"]["team_reward"],
        },
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"Safe pricing on {args.env} {overrides or ''} ({report['machine']})")
    print(
        f"{args.steps} training decisions per planner, {args.eval_episodes} evaluation days, {args.seeds} seed(s), "
        f"cost limit {args.cost_limit} violating periods per day\n"
    )
    print("| method | reward / day | violating periods / day | seeds within | training s / seed | periods simulated "
          "| s / decision |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m, r in methods.items():
        plan = f"{r['plan_time_s']:.3f}" if r["plan_time_s"] is not None else ""
        steps = f"{r['env_steps']:,}" if r["env_steps"] is not None else "(simulator search)"
        print(
            f"| {m} | {r['team_reward']:.3f} | {r['violating_periods']:.3f} | {r['seeds_within']} of {args.seeds} | "
            f"{r['train_s']:.0f} | {steps} | {plan} |"
        )
    print("\nwhich grid term is violated (periods per day above 0), and the worst hour:\n")
    print("| method | " + " | ".join(GRID_TERMS) + " | worst hour | share of days then |")
    print("|---|" + "---:|" * (len(GRID_TERMS) + 2))
    for m, r in methods.items():
        worst = int(np.argmax(r["by_period"]))
        when = hour_text(r["hour"][worst]) if r["by_period"][worst] > 0 else "-"
        terms = " | ".join(f"{r['terms'][k]:.3f}" for k in GRID_TERMS)
        print(f"| {m} | {terms} | {when} | {r['by_period'][worst]:.2f} |")
    t = report["targets"]
    print(
        "\ntargets: constrained fewest violating periods of issue 7's four methods: "
        f"{t['constrained_fewest_violations']} ({t['constrained_violating_fraction']:.1%} of periods, target <= 5%); "
        f"reward {t['reward_vs_unconstrained']:.1%} "
        f"of unconstrained (target >= 90%); {t['plan_time_s']:.3f} s per decision (target < 0.5 s); "
        f"within the limit in {t['constrained_seeds_within']} seeds (issue 22: 7 of 8); reward "
        f"{t['reward_vs_best_safe_fixed']:.1%} of the best safe fixed prices' (issue 22: above 100%)"
    )


if __name__ == "__main__":
    main()
