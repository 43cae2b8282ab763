"""Throughput of scenarios from files beside the registered ones.

    python benchmarks/bench_scenario.py [--seconds 2] [--repeats 3] [--num-envs 256] [--json]

Measures, in one run, env-steps per second through ``evprice.make_vec`` (one env-step = one
pricing decision of one environment, with a power flow and shortest-path travel times where
the scenario has them) of:

* ``examples/sioux_falls_20.yaml``: twenty stations on Sioux Falls over the CIGRE MV feeder;
* ``examples/my_town.yaml``: four stations on a TNTP town over a MATPOWER feeder;
* ``GridCharging-v0`` (three stations on ``doc2``) and ``CoupledNetwork-v0`` (three stations
  on document 2's roads and feeder), the registered references;

each with its station-decisions per second (env-steps x stations) and its ratio to
``GridCharging-v0`` measured in the same run. Each figure is the median of ``--repeats``
timed runs of about ``--seconds`` each, after a warm-up; threads pinned to one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
from pathlib import Path  # noqa: E402

from throughput import median_of, vector_env_steps_per_s  # noqa: E402

import evprice  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASES = {
    "examples/sioux_falls_20.yaml": str(EXAMPLES / "sioux_falls_20.yaml"),
    "examples/my_town.yaml": str(EXAMPLES / "my_town.yaml"),
    "GridCharging-v0": "GridCharging-v0",
    "CoupledNetwork-v0": "CoupledNetwork-v0",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = {}
    for name, target in CASES.items():
        n_stations = evprice.make_vec(target, 1).n_agents
        rate = median_of(
            lambda t, x=target: vector_env_steps_per_s(t, x, num_envs=args.num_envs), args.seconds, args.repeats
        )
        rows[name] = {"stations": n_stations, "env_steps_per_s": rate, "station_decisions_per_s": rate * n_stations}
    reference = rows["GridCharging-v0"]["env_steps_per_s"]
    for row in rows.values():
        row["vs_GridCharging-v0"] = row["env_steps_per_s"] / reference
    out = {
        "num_envs": args.num_envs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "results": rows,
    }
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"make_vec, B = {args.num_envs}, median of {args.repeats} x {args.seconds:g} s ({out['machine']})")
    header = ("scenario", "stations", "env-steps/s", "station-decisions/s", "vs GridCharging-v0")
    print(f"{header[0]:34s} {header[1]:>8s} {header[2]:>12s} {header[3]:>20s} {header[4]:>19s}")
    for name, row in rows.items():
        print(
            f"{name:34s} {row['stations']:8d} {row['env_steps_per_s']:12,.0f} {row['station_decisions_per_s']:20,.0f} "
            f"{row['vs_GridCharging-v0']:19.2f}"
        )


if __name__ == "__main__":
    main()
