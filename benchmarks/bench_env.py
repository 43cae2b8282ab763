"""Environment throughput of the compiled world, each view beside the interpreted reference.

    python benchmarks/bench_env.py [--seconds 2] [--repeats 3] [--json] [--no-first-call]

Measures, in one run, on ``PublicCharging-v0`` (2 stations, 15 internal steps of 60 s per
15-minute pricing decision, 45 EVs per station and day):

* pricing steps per second of ``evprice.make`` through the PettingZoo API (B = 1; random
  actions made beforehand, dict in / dicts out);
* env-steps per second of ``evprice.make_vec`` with B = 1,024 (one env-step = one pricing
  decision of one environment, all 15 internal steps included);
* the same with 50 stations (B = 1,024): what scales with the stations;
* each of them again on the **interpreted reference**: the same views with numpy's draws
  and the vectorised numpy dynamics the compiled kernel replaced
  (``tests/market/numpy_dynamics.py``), so "x interpreted" is the compiled world's speed-up;
* a bare numpy logit market (no internal steps, no capacity, no sessions) batched over
  1,024 markets, which makes the figures comparable across machines;
* the first call: seconds to import evprice and run a first step at B = 1 and at B = 1,024
  in a fresh process, with an empty numba cache (everything compiles) and with the cache
  that run left.

Each rate is the median of ``--repeats`` timed runs of ``--seconds`` each, after a warm-up.
BLAS threads are pinned to one; the compiled world uses numba's thread pool (every core)
from 128 members on.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from throughput import (  # noqa: E402
    calls_per_second,
    first_calls,
    interpreted_world,
    median_of,
    pettingzoo_steps_per_s,
    vector_env_steps_per_s,
)

TARGETS = {  # the "A compiled world" issue's targets on 2 cores
    "pettingzoo": 30_000.0,
    "vector_1024": 2_000_000.0,
    "stations_50": 200_000.0,
}
VIEWS = {
    "pettingzoo": ("PettingZoo, B = 1 (pricing steps)", lambda s: pettingzoo_steps_per_s(s)),
    "vector_1024": ("make_vec, B = 1,024 (env-steps)", lambda s: vector_env_steps_per_s(s, num_envs=1024)),
    "stations_50": (
        "make_vec, 50 stations, B = 1,024",
        lambda s: vector_env_steps_per_s(s, num_envs=1024, n_stations=50),
    ),
}


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
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-first-call", action="store_true", help="skip the first-call (compile) measurement")
    args = parser.parse_args()

    compiled = {key: median_of(fn, args.seconds, args.repeats) for key, (_, fn) in VIEWS.items()}
    with interpreted_world():
        interpreted = {key: median_of(fn, args.seconds, args.repeats) for key, (_, fn) in VIEWS.items()}
    ref = median_of(bench_reference, args.seconds, args.repeats)
    report = {
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
            f"({numba.get_num_threads()} threads)"
        ),
        "compiled": compiled,
        "interpreted": interpreted,
        "speedup": {k: compiled[k] / interpreted[k] for k in compiled},
        "reference_1024_env_steps_per_s": ref,
        "targets": TARGETS,
        "first_call_s": None if args.no_first_call else first_calls(),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"evprice environment throughput ({report['machine']})")
    print(f"median of {args.repeats} runs of {args.seconds:g} s; PublicCharging-v0 unless said\n")
    print(f"{'view':<36}{'compiled':>12}{'interpreted':>13}{'x interp.':>11}{'x bare':>9}{'target':>12}  met")
    for key, (name, _) in VIEWS.items():
        value, target = compiled[key], TARGETS[key]
        print(
            f"{name:<36}{value:>12,.0f}{interpreted[key]:>13,.0f}{value / interpreted[key]:>11.1f}"
            f"{value / ref:>9.4f}{target:>12,.0f}  {'yes' if value >= target else 'NO'}"
        )
    print(f"{'bare numpy logit market, B = 1,024':<36}{ref:>12,.0f}")
    if report["first_call_s"]:
        print("\nfirst call, fresh process (s): import evprice / first step at B = 1 / then at B = 1,024")
        for name, t in report["first_call_s"].items():
            print(
                f"  {name:<8}{t['import_s']:>8.2f}{t['first_step_b1_s']:>8.2f}{t['first_step_b1024_s']:>8.2f}"
                f"   (targets: <= 10 s cold, <= 1 s cached)"
            )


if __name__ == "__main__":
    main()
