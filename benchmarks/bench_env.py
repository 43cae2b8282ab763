"""Environment throughput: the PettingZoo view (B = 1) and the batched view (B = 1,024).

    python benchmarks/bench_env.py [--seconds 3] [--repeats 3] [--json]

Measures, on the default ``PublicCharging-v0`` (2 stations, 15 internal steps of 60 s per
15-minute pricing decision):

* pricing steps per second of ``evprice.make`` through the PettingZoo API (random actions
  pre-generated, dict in / dicts out);
* env-steps per second of ``evprice.make_vec`` with 1,024 environments (one env-step =
  one pricing decision of one environment, all 15 internal steps included);
* a reference measured in the same run: a bare numpy logit market with no internal steps,
  no capacity and no sessions (Poisson arrivals split by logit shares, profit = margin x
  demand), batched over 1,024 markets. Figures are also reported as ratios to it, which
  makes them comparable across machines.

Each figure is the median of ``--repeats`` timed runs of ``--seconds`` each, after a
warm-up. Threads are pinned to one (small-matrix work) unless the caller sets otherwise.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
from throughput import calls_per_second, median_of, pettingzoo_steps_per_s, vector_env_steps_per_s  # noqa: E402

TARGET_PETTINGZOO = 2_000.0
TARGET_VECTOR = 200_000.0


def bench_pettingzoo(seconds: float) -> float:
    return pettingzoo_steps_per_s(seconds)


def bench_vector(seconds: float, num_envs: int = 1024) -> float:
    return vector_env_steps_per_s(seconds, num_envs=num_envs)


def bench_reference(seconds: float, num_envs: int = 1024, n: int = 2) -> float:
    """Bare numpy logit market: no internal steps, no capacity, no sessions."""
    rng = np.random.default_rng(0)
    prices = rng.uniform(0.6, 2.0, (num_envs, n))
    cost, beta, outside = 0.7, 4.0, -5.5

    def step() -> None:
        u = -beta * prices
        w = np.exp(u)
        shares = w / (w.sum(axis=1, keepdims=True) + np.exp(outside))
        arrivals = rng.poisson(1.0, size=num_envs)
        demand = arrivals[:, None] * shares
        profit = (prices - cost) * demand
        prices[:] = np.clip(prices + 0.01 * np.sign(profit - profit.mean()), 0.6, 2.0)

    return calls_per_second(step, seconds) * num_envs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    runs = {"pettingzoo": bench_pettingzoo, "vector_1024": bench_vector, "reference_1024": bench_reference}
    result = {name: median_of(fn, args.seconds, args.repeats) for name, fn in runs.items()}
    ref = result["reference_1024"]
    report = {
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"python {platform.python_version()}, numpy {np.__version__}"
        ),
        "pettingzoo_pricing_steps_per_s": result["pettingzoo"],
        "vector_1024_env_steps_per_s": result["vector_1024"],
        "reference_1024_env_steps_per_s": ref,
        "pettingzoo_vs_reference": result["pettingzoo"] / ref,
        "vector_vs_reference": result["vector_1024"] / ref,
        "pettingzoo_target_met": result["pettingzoo"] >= TARGET_PETTINGZOO,
        "vector_target_met": result["vector_1024"] >= TARGET_VECTOR,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"evprice environment throughput ({report['machine']})")
    print(
        f"median of {args.repeats} runs of {args.seconds:g} s; "
        "PublicCharging-v0, 2 stations, 15 internal steps per decision\n"
    )
    print(f"{'view':<34}{'steps/s':>14}{'x reference':>13}{'target':>12}  met")
    rows = [
        ("PettingZoo, B = 1 (pricing steps)", result["pettingzoo"], TARGET_PETTINGZOO),
        ("make_vec, B = 1,024 (env-steps)", result["vector_1024"], TARGET_VECTOR),
        ("reference: bare logit market", ref, None),
    ]
    for name, value, target in rows:
        met = "" if target is None else ("yes" if value >= target else "NO")
        tgt = "" if target is None else f"{target:,.0f}"
        print(f"{name:<34}{value:>14,.0f}{value / ref:>13.4f}{tgt:>12}  {met}")


if __name__ == "__main__":
    main()
