"""Safe model-based pricing on CoupledNetwork-v0: constrained vs unconstrained CEM vs fixed prices.

    python benchmarks/safe_pricing.py [--steps 600] [--seeds 1] [--eval-episodes 10]
                                      [--cost-limit 0.3] [--set key=value ...] [--json]

For each seed: trains the constrained planner and the unconstrained one for ``--steps``
pricing decisions each (document 2 trained 600), then plays the trained planners (the best
checkpoint within the limit, else the last) and the two baselines, the best fixed prices
(grid search of the economics issue) and time-of-use pricing, on the same
``--eval-episodes`` evaluation days (common random numbers). Reports per method the mean
episode reward (the market's team reward, profit), the mean episode cost, the fraction of
periods with any cost (voltage, line or carbon above its limit) and with a grid violation
(voltage or line only), and the planners' time per decision. Targets (issue 7): the
constrained planner has the fewest violating periods (at most 5%) and keeps at least 90%
of the unconstrained planner's reward; planning under 0.5 s per decision on 2 cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from evprice.core.config import parse_assignment  # noqa: E402
from evprice.envs import make_env  # noqa: E402
from evprice.learn.safe import SafeRLConfig, load_ccem, train_ccem  # noqa: E402
from evprice.policies.baselines import make_policy  # noqa: E402

ENV = "CoupledNetwork-v0"


def play(env, policy, seed: int) -> dict[str, float]:
    """One episode per member of ``env`` under ``policy``: means over episodes and periods."""
    obs = env.reset(seed=seed)
    reward = cost = np.zeros(env.num_envs)
    any_cost = grid = 0.0
    for _ in range(env.n_periods):
        obs, r, _, _, info = env.step(policy(obs))
        g = info["grid"]
        reward = reward + r.mean(axis=1)
        cost = cost + info["cost"][:, 0]
        any_cost += float((info["cost"][:, 0] > 0).mean())
        grid += float(((g["cost_voltage"] > 0) | (g["cost_line"] > 0)).mean())
    return {
        "episode_reward": float(reward.mean()),
        "episode_cost": float(cost.mean()),
        "violating_fraction": any_cost / env.n_periods,
        "grid_violating_fraction": grid / env.n_periods,
    }


def run_seed(seed: int, steps: int, episodes: int, cost_limit: float, overrides: dict) -> dict[str, dict]:
    results: dict[str, dict] = {}
    eval_seed = 10_000 + seed
    for name, constrained in (("constrained CEM", True), ("unconstrained CEM", False)):
        cfg = SafeRLConfig(total_steps=steps, cost_limit=cost_limit, constrained=constrained, seed=seed)
        out = tempfile.mkdtemp(prefix="evprice-ccem-")
        trained = train_ccem(ENV, cfg, overrides=overrides, out_dir=out)
        planned = [r for r in trained["episodes"] if r["planned"]]
        _, _, factory = load_ccem(out)
        env = make_env(ENV, episodes, **overrides)
        policy = factory(env)
        row = play(env, policy, eval_seed)
        row["plan_time_s"] = float(np.mean(policy.plan_time_s))
        row["training_episode_reward"] = float(np.mean([r["episode_reward"] for r in planned]))
        row["training_episode_cost"] = float(np.mean([r["episode_cost"] for r in planned]))
        row["final_kappa"] = float(trained["kappa"])
        results[name] = row
    env = make_env(ENV, episodes, **overrides)
    for name, policy in (("best fixed prices", "best_fixed"), ("time of use", "time_of_use")):
        results[name] = play(env, make_policy(policy, env, seed=seed), eval_seed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--cost-limit", type=float, default=0.3)
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    overrides = dict(parse_assignment(a) for a in args.assignments)
    per_seed = [run_seed(s, args.steps, args.eval_episodes, args.cost_limit, overrides) for s in range(args.seeds)]
    methods = list(per_seed[0])
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}",
        "settings": vars(args),
        "methods": {m: {k: float(np.mean([r[m][k] for r in per_seed])) for k in per_seed[0][m]} for m in methods},
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"Safe pricing on {ENV} {overrides or ''} ({report['machine']})")
    print(
        f"{args.steps} training decisions per planner, {args.eval_episodes} evaluation days, {args.seeds} seed(s), "
        f"cost limit {args.cost_limit} per episode\n"
    )
    print("| method | episode reward | episode cost | periods with a cost | with a grid violation | s / decision |")
    print("|---|---:|---:|---:|---:|---:|")
    for m, r in report["methods"].items():
        plan = f"{r['plan_time_s']:.3f}" if "plan_time_s" in r else ""
        print(
            f"| {m} | {r['episode_reward']:.3f} | {r['episode_cost']:.3f} | {r['violating_fraction']:.1%} | "
            f"{r['grid_violating_fraction']:.1%} | {plan} |"
        )


if __name__ == "__main__":
    main()
