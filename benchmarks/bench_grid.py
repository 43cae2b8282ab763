"""Power-flow and grid-coupled environment throughput.

    python benchmarks/bench_grid.py [--seconds 2] [--repeats 3] [--json]

Measures, in one run:

* per-scenario time of ``pandapower.runpp`` (Newton-Raphson) on ``case33bw`` at random
  loads (each bus's published load times a factor in [0.5, 1.5]), one scenario a call:
  with pandapower's defaults (flat start, as document 2 calls it) and with
  ``init="results"`` (warm start from the previous solution, pandapower's fastest
  repeated use);
* per-scenario time of evprice's fast solver on the same kind of scenarios at batch sizes
  B = 1, 32 and 1,024, from a flat start and warm-started from the previous solution, with
  its speed-up over each pandapower figure;
* env-steps per second of ``GridCharging-v0`` (B = 1,024) and ``CoupledNetwork-v0``
  (B = 256) through ``make_vec`` on the compiled world and on the interpreted reference
  (numpy's draws and the numpy dynamics of ``tests/market/numpy_dynamics.py``);
* env-steps per second of ``GridCharging-v0`` through ``make_vec`` with B = 1,024 (one
  env-step = one pricing decision of one environment with a power flow), for a power flow
  every period and every sub-step, against the same market without the grid
  (``PublicCharging-v0`` with ``GridCharging-v0``'s market defaults) measured in the same
  run; and pricing steps per second of one ``GridCharging-v0`` through the PettingZoo
  view (B = 1, a power flow every step), against the same market without the grid.

Each figure is the median of ``--repeats`` timed runs of about ``--seconds`` each, after a
warm-up. Threads are pinned to one (small-matrix work) unless the caller sets otherwise.
Whether pandapower found numba (which it uses to speed up its Jacobian) is reported.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from throughput import (  # noqa: E402
    calls_per_second,
    interpreted_world,
    median_of,
    pettingzoo_steps_per_s,
    vector_env_steps_per_s,
)

from evprice.envs.grid_charging import GRID_CHARGING_DEFAULTS  # noqa: E402
from evprice.grid.feeders import case33bw  # noqa: E402
from evprice.grid.powerflow import FastRadialSolver  # noqa: E402

WORLDS = {  # the "A compiled world" issue's targets on 2 cores
    "GridCharging-v0, B = 1,024": (lambda t: vector_env_steps_per_s(t, "GridCharging-v0"), 600_000.0),
    "CoupledNetwork-v0, B = 256": (lambda t: vector_env_steps_per_s(t, "CoupledNetwork-v0", num_envs=256), 100_000.0),
}
TARGET_SPEEDUP = 1_000.0
TARGET_ENV_STEPS = 50_000.0
BATCHES = (1, 32, 1024)


def loads(b: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    f = case33bw()
    rng = np.random.default_rng(seed)
    factor = rng.uniform(0.5, 1.5, (b, f.n_bus))
    return f.load_p_mw * factor, f.load_q_mvar * factor


def bench_runpp(seconds: float, init: str) -> float:
    """Seconds per scenario of pandapower.runpp."""
    import pandapower as pp

    from evprice.grid.pandapower_backend import build_net

    net = build_net(case33bw())
    p, q = loads(64, 1)
    i = 0

    def step() -> None:
        nonlocal i
        net.load["p_mw"] = p[i % 64]
        net.load["q_mvar"] = q[i % 64]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, init=init)
        i += 1

    return 1.0 / calls_per_second(step, seconds)


def bench_fast(seconds: float, b: int, warm: bool) -> float:
    """Seconds per scenario of the fast solver at batch size ``b``."""
    solver = FastRadialSolver(case33bw())
    p, q = loads(8 * b, 2)
    start = solver.solve(p, q).v_pu if warm else None
    i = 0

    def step() -> None:
        nonlocal i
        rows = slice((i % 8) * b, (i % 8 + 1) * b)
        # warm: start from the solution of other loads, as a simulation starts from the last period's
        v0 = None if start is None else start[((i + 1) % 8) * b : ((i + 1) % 8 + 1) * b]
        solver.solve(p[rows], q[rows], v_start_pu=v0)
        i += 1

    return 1.0 / calls_per_second(step, seconds) / b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    s, r = args.seconds, args.repeats

    runpp = {init: median_of(lambda t, init=init: bench_runpp(t, init), s, r) for init in ("auto", "results")}
    fast = {
        (b, warm): median_of(lambda t, b=b, warm=warm: bench_fast(t, b, warm), s, r)
        for b in BATCHES
        for warm in (False, True)
    }
    same_market = {"env_id": "PublicCharging-v0", **GRID_CHARGING_DEFAULTS}
    env = {
        "same market, no grid": median_of(lambda t: vector_env_steps_per_s(t, **same_market), s, r),
        "GridCharging-v0 (period)": median_of(lambda t: vector_env_steps_per_s(t, "GridCharging-v0"), s, r),
        "GridCharging-v0 (substep)": median_of(
            lambda t: vector_env_steps_per_s(t, "GridCharging-v0", powerflow_every="substep"), s, r
        ),
    }
    pettingzoo = {
        "same market, no grid": median_of(lambda t: pettingzoo_steps_per_s(t, **same_market), s, r),
        "GridCharging-v0 (period)": median_of(lambda t: pettingzoo_steps_per_s(t, "GridCharging-v0"), s, r),
    }
    worlds = {name: median_of(fn, s, r) for name, (fn, _) in WORLDS.items()}
    with interpreted_world():
        interpreted = {name: median_of(fn, s, r) for name, (fn, _) in WORLDS.items()}
    best_fast = fast[(BATCHES[-1], False)]
    report = {
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"python {platform.python_version()}, numpy {np.__version__}"
        ),
        "pandapower_numba": importlib.util.find_spec("numba") is not None,
        "runpp_s_per_scenario": runpp["auto"],
        "runpp_warm_s_per_scenario": runpp["results"],
        "fast_s_per_scenario": {f"B={b}{' warm' if warm else ''}": v for (b, warm), v in fast.items()},
        "speedup_vs_runpp": {f"B={b}{' warm' if w else ''}": runpp["auto"] / v for (b, w), v in fast.items()},
        "speedup_vs_runpp_warm": {f"B={b} warm": runpp["results"] / fast[(b, True)] for b in BATCHES},
        "env_steps_per_s": env,
        "pettingzoo_steps_per_s": pettingzoo,
        "compiled_world_env_steps_per_s": worlds,
        "interpreted_world_env_steps_per_s": interpreted,
        "grid_env_vs_market_env": env["GridCharging-v0 (period)"] / env["same market, no grid"],
        "speedup_target_met": runpp["auto"] / best_fast >= TARGET_SPEEDUP,
        "env_target_met": env["GridCharging-v0 (period)"] >= TARGET_ENV_STEPS,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"evprice grid benchmark ({report['machine']}; pandapower with numba: {report['pandapower_numba']})")
    print(f"median of {r} runs of {s:g} s; case33bw, loads x U(0.5, 1.5) per bus\n")
    print(f"pandapower.runpp, defaults (flat start)   {runpp['auto'] * 1e3:9.3f} ms/scenario")
    print(f"pandapower.runpp, init='results' (warm)   {runpp['results'] * 1e3:9.3f} ms/scenario\n")
    print(f"{'fast solver':<26}{'us/scenario':>12}{'x runpp':>10}{'x runpp warm':>14}")
    for (b, warm), v in fast.items():
        vs_warm = f"{runpp['results'] / v:14,.0f}" if warm else f"{'':14}"
        print(f"{f'B = {b:,}' + (', warm' if warm else ''):<26}{v * 1e6:12.2f}{runpp['auto'] / v:10,.0f}{vs_warm}")
    met = "yes" if report["speedup_target_met"] else "NO"
    print(f"target: B = 1,024 at least {TARGET_SPEEDUP:,.0f}x faster per scenario than runpp: {met}\n")
    print(f"{'make_vec, B = 1,024':<30}{'env-steps/s':>14}{'x market':>10}")
    for name, v in env.items():
        print(f"{name:<30}{v:14,.0f}{v / env['same market, no grid']:10.3f}")
    met = "yes" if report["env_target_met"] else "NO"
    print(f"target: GridCharging-v0 with a power flow every period at least {TARGET_ENV_STEPS:,.0f}: {met}\n")
    print("the grid scenarios on the compiled world and on the interpreted reference (numpy draws and dynamics):")
    print(f"{'make_vec':<30}{'compiled':>12}{'interpreted':>13}{'x interp.':>11}{'target':>12}  met")
    for name, (_, target) in WORLDS.items():
        c, i = worlds[name], interpreted[name]
        print(f"{name:<30}{c:12,.0f}{i:13,.0f}{c / i:11.2f}{target:12,.0f}  {'yes' if c >= target else 'NO'}")
    print()
    print(f"{'PettingZoo, B = 1':<30}{'steps/s':>14}{'x market':>10}")
    for name, v in pettingzoo.items():
        print(f"{name:<30}{v:14,.0f}{v / pettingzoo['same market, no grid']:10.3f}")


if __name__ == "__main__":
    main()
