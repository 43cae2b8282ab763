"""CoupledNetwork-v0: throughput against GridCharging-v0, and what fixed prices do.

    python benchmarks/bench_coupled.py [--seconds 3] [--repeats 3] [--episodes 64] [--json]

Throughput (median of ``--repeats`` runs of ``--seconds``, threads pinned to one):

* env-steps per second of ``make_vec("CoupledNetwork-v0", 256)`` and, as the reference
  measured in the same run, of ``make_vec("GridCharging-v0", 256)`` with the same pricing
  period (1 h), stations and feeder; the ratio is the price of routing drivers on roads
  (per-driver travel times, expected waits, the FCFS queue, the supply-cost tiers);
* steps per second of the Gymnasium view ``make_gym("CoupledNetwork-v0")`` (B = 1);
* one Dijkstra solve of the travel times (a congestion change) against a cache hit.

Fixed prices: ``--episodes`` episodes (common random numbers: the same demand for every
price vector) of five price vectors: all at their lower bounds, the middle, the upper
bounds, and two that steer drivers (station 3 cheap / dear). Reported per episode: reward
(team profit), profit and welfare (CNY), the grid's cost terms, the number of periods
with a voltage or line violation (of 12), and the EVs admitted per station.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
from throughput import calls_per_second, median_of, vector_env_steps_per_s  # noqa: E402

import evprice  # noqa: E402
from evprice.envs import make_env  # noqa: E402
from evprice.transport import doc2_congestion_table  # noqa: E402

PRICE_VECTORS = {
    "lower bounds": (-1.0, -1.0, -1.0),
    "middle": (0.0, 0.0, 0.0),
    "upper bounds": (1.0, 1.0, 1.0),
    "station 3 cheap": (1.0, 1.0, -1.0),
    "station 3 dear": (-1.0, -1.0, 1.0),
}


def gym_steps_per_s(seconds: float) -> float:
    env = evprice.make_gym("CoupledNetwork-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(env.action_space.low, env.action_space.high, (4096, 3))
    i = 0

    def step() -> None:
        nonlocal i
        _, _, _, truncated, _ = env.step(actions[i % 4096])
        i += 1
        if truncated:
            env.reset()

    return calls_per_second(step, seconds)


def dijkstra_vs_cache(seconds: float) -> tuple[float, float]:
    env = make_env("CoupledNetwork-v0")
    tt = env.coupling("roads").travel_times
    rows = doc2_congestion_table()  # document 2's 12 hours: consecutive rows differ
    k = 0

    def solve() -> None:
        nonlocal k
        tt.times_h(rows[k % len(rows)])  # consecutive rows differ: a solve each call
        k += 1

    def hit() -> None:
        tt.times_h(rows[0])

    solves = calls_per_second(solve, seconds)
    tt.times_h(rows[0])
    return solves, calls_per_second(hit, seconds)


def fixed_prices(episodes: int) -> dict[str, dict[str, float]]:
    env = make_env("CoupledNetwork-v0", episodes)
    out = {}
    for name, action in PRICE_VECTORS.items():
        env.reset(seed=0)
        a = np.broadcast_to(np.array(action)[None, :, None], (episodes, 3, 1))
        keys = ("reward", "profit", "surplus", "welfare", "net_supply", "voltage", "line", "carbon_kg", "viol")
        acc = {k: np.zeros(episodes) for k in keys}
        admitted = np.zeros((episodes, 3))
        gave_up = np.zeros(episodes)
        for _ in range(env.n_periods):
            _, reward, _, _, info = env.step(a)
            g = info["grid"]
            acc["reward"] += reward[:, 0]
            acc["profit"] += info["profit"].sum(axis=1)
            acc["surplus"] += info["market"]["consumer_surplus"]
            acc["welfare"] += info["market"]["social_welfare"]
            acc["net_supply"] += info["network"]["revenue_minus_supply_cost"]
            acc["voltage"] += g["cost_voltage"]
            acc["line"] += g["cost_line"]
            acc["carbon_kg"] += g["cost_carbon"]
            acc["viol"] += (g["cost_voltage"] > 0) | (g["cost_line"] > 0)
            admitted += info["admitted"]
            gave_up += info["market"]["gave_up"]
        row = {k: float(v.mean()) for k, v in acc.items()}
        row.update({f"admitted_{i + 1}": float(admitted[:, i].mean()) for i in range(3)})
        row["gave_up"] = float(gave_up.mean())
        row["prices"] = [
            round(float(p), 3)
            for p in env.params.price_min + (np.array(action) + 1) / 2 * (env.params.price_max - env.params.price_min)
        ]
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    same = {"action_period_s": 3600, "horizon_h": 12.0, "start_hour": 8.0}
    coupled = median_of(lambda s: vector_env_steps_per_s(s, "CoupledNetwork-v0", 256), args.seconds, args.repeats)
    grid = median_of(lambda s: vector_env_steps_per_s(s, "GridCharging-v0", 256, **same), args.seconds, args.repeats)
    gym = median_of(gym_steps_per_s, args.seconds, args.repeats)
    solves, hits = dijkstra_vs_cache(args.seconds)
    table = fixed_prices(args.episodes)
    report = {
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"python {platform.python_version()}, numpy {np.__version__}"
        ),
        "coupled_256_env_steps_per_s": coupled,
        "grid_charging_256_env_steps_per_s": grid,
        "coupled_vs_grid_charging": coupled / grid,
        "gym_steps_per_s": gym,
        "travel_time_solves_per_s": solves,
        "travel_time_cache_hits_per_s": hits,
        "fixed_prices": table,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"CoupledNetwork-v0 ({report['machine']}); median of {args.repeats} runs of {args.seconds:g} s\n")
    print(f"make_vec, B = 256:     {coupled:>10,.0f} env-steps/s  ({coupled / grid:.2f}x GridCharging-v0: {grid:,.0f})")
    print(f"make_gym, B = 1:       {gym:>10,.0f} steps/s")
    print(
        f"travel times: a solve  {1e6 / solves:>10,.1f} us, a cache hit {1e6 / hits:,.2f} us ({hits / solves:,.0f}x)\n"
    )
    print(f"fixed prices, mean of {args.episodes} episodes (12 h, common random numbers):\n")
    head = "| prices | reward | profit | consumer surplus | social welfare | revenue - supply cost | voltage | line "
    head += "| carbon kg | violating periods | admitted 1/2/3 | gave up |"
    print(head)
    print("|" + "---|" * 12)
    for name, r in table.items():
        print(
            f"| {name} {tuple(r['prices'])} | {r['reward']:.3f} | {r['profit']:.0f} | {r['surplus']:.0f} | "
            f"{r['welfare']:.0f} | {r['net_supply']:.0f} | "
            f"{r['voltage']:.3f} | {r['line']:.3f} | {r['carbon_kg']:.0f} | {r['viol']:.1f} | "
            f"{r['admitted_1']:.0f}/{r['admitted_2']:.0f}/{r['admitted_3']:.0f} | {r['gave_up']:.1f} |"
        )


if __name__ == "__main__":
    main()
