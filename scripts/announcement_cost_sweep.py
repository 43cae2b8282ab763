"""How the cost of breaking an announcement moves the prices learners settle on (issue 23).

    python scripts/announcement_cost_sweep.py [--env PublicCharging-v0] [--costs 0 0.05 0.2 0.5]
        [--seeds 8] [--steps 300000] [--episodes 16] [--workers 2] [--out runs/announcement-sweep]

The ``communication`` experiment's announcement arm (MAPPO, individual rewards,
``protocol="announcement"``) at each ``deviation_cost``, every cost's seeds in one batched
run and the costs spread over ``--workers`` processes, trained and evaluated by the same
function as the experiment's arms (:func:`evprice.analysis.studies.train_arm`, evaluation
seeds 10,000 + seed). Prints, per cost: the mean learned price, the profit per episode of
all stations and the mean gap between an announcement and the price posted after it, each
with a 95% interval over seeds, beside the market's Nash and joint prices.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from evprice.analysis.parallel import run_tasks  # noqa: E402
from evprice.analysis.stats import mean_ci  # noqa: E402
from evprice.analysis.studies import ARM_TORCH_THREADS, train_arm  # noqa: E402
from evprice.envs import make_env  # noqa: E402
from evprice.policies.theory import benchmarks  # noqa: E402


def _cell(values: list[float]) -> str:
    mean, ci = mean_ci(values)
    return f"{mean:.3f}" + ("" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="PublicCharging-v0")
    parser.add_argument("--costs", type=float, nargs="+", default=[0.0, 0.05, 0.2, 0.5])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/announcement-sweep"))
    args = parser.parse_args()
    tasks = [
        {
            "label": f"deviation_cost={cost:g}",
            "env_id": args.env,
            "overrides": {"reward": "individual", "protocol": "announcement", "deviation_cost": cost},
            "seeds": list(range(args.seeds)),
            "steps": args.steps,
            "episodes": args.episodes,
            "run_dir": str(args.out / f"cost_{cost:g}"),
            "torch_threads": ARM_TORCH_THREADS,
            "signals": True,
        }
        for cost in args.costs
    ]
    results = run_tasks(train_arm, tasks, args.workers, None, None)
    theory = benchmarks(make_env(args.env, 1, reward="individual"))
    nash, joint = np.mean(theory["nash"]["prices"]), np.mean(theory["joint"]["prices"])
    print(f"{args.env}, {args.seeds} seeds, {args.steps:,} env-steps each; Nash {nash:.3f}, joint {joint:.3f}")
    print("| deviation_cost | mean learned price | profit / episode | mean abs(next price - announcement) |")
    print("|---:|---|---|---|")
    for cost, rows in zip(args.costs, results):
        price = [float(np.mean(r["mean_price"])) for r in rows]
        profit = [float(sum(r["profit"])) for r in rows]
        gap = [float(np.mean(r["signal_gap"])) for r in rows]
        print(f"| {cost:g} | {_cell(price)} | {_cell(profit)} | {_cell(gap)} |")


if __name__ == "__main__":
    main()
